"""Sessions and tokens end when they should: logout, a password change (own form or an
administrator's reset) and a deactivation end the user's web sessions, copies of the
session cookie, and JWTs (access and refresh)."""
import itertools

import pytest

from app.base import AppUser, ChangeEntry
from conftest import PASSWORD, login
from webhelpers import flashes, form_token, remove_users

NEW_PASSWORD = "Fresh-Pass-2027"
_numbers = itertools.count(1)


@pytest.fixture
def person(app):
    """A new finance clerk of this test alone (ending their sessions disturbs no one)."""
    from app.extensions import db
    from app.organisation.models import Department

    name = f"stamp{next(_numbers):03d}"
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(username=name, first_name=name, last_name="测试",
                           email=f"{name}@example.com", role=sm.find_role("Clerk"),
                           password=PASSWORD)
        stored = db.session.get(AppUser, user.id)
        stored.department_id = db.session.query(Department.id).filter_by(code="FIN").scalar()
        db.session.commit()
        user_id = user.id
    yield name, user_id
    remove_users(app, [name])


def web_session(app, username, password=PASSWORD):
    client = app.test_client()
    assert login(client, username, password).status_code == 302
    assert signed_in(client)
    return client


def signed_in(client):
    """The session reaches a protected list (a signed-out one is sent to the login page)."""
    response = client.get("/projectrequestview/list/")
    if response.status_code == 302:
        assert "/login/" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def copy_of(app, client):
    """A second client carrying the first one's session cookie (a stolen cookie)."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie("session", cookie.value, domain=cookie.domain)
    return thief


def tokens(app, username, password=PASSWORD):
    response = app.test_client().post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db", "refresh": True})
    assert response.status_code == 200
    body = response.get_json()
    return body["access_token"], body["refresh_token"]


def api_works(app, access):
    response = app.test_client().get("/api/v1/project_request/",
                                     headers={"Authorization": f"Bearer {access}"})
    assert response.status_code in (200, 401)
    return response.status_code == 200


def refresh_works(app, refresh):
    response = app.test_client().post("/api/v1/security/refresh",
                                      headers={"Authorization": f"Bearer {refresh}"})
    assert response.status_code in (200, 401)
    if response.status_code == 401:
        assert "重新登录" in response.get_json()["message"]
    return response.status_code == 200


def logout(client):
    response = client.post("/logout/", data={"csrf_token": form_token(client)})
    assert response.status_code == 302


def test_logging_out_ends_a_copied_session_cookie(app, person):
    name, _ = person
    client = web_session(app, name)
    stolen = copy_of(app, client)
    assert signed_in(stolen)

    logout(client)
    assert not signed_in(client)
    assert not signed_in(stolen)
    # logging in again works, and the old copy stays dead
    again = web_session(app, name)
    assert signed_in(again)
    assert not signed_in(stolen)


def test_logging_out_ends_the_users_jwts(app, person):
    name, _ = person
    access, refresh = tokens(app, name)
    assert api_works(app, access) and refresh_works(app, refresh)
    logout(web_session(app, name))
    assert not api_works(app, access)
    assert not refresh_works(app, refresh)


def change_own_password(app, client, name):
    response = client.post("/resetmypassword/form", data={
        "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD,
        "csrf_token": form_token(client)})
    assert response.status_code == 302


def admin_resets_password(app, client, user_id):
    admin = web_session(app, "admin")
    response = admin.post(f"/resetpassword/form?pk={user_id}", data={
        "password": NEW_PASSWORD, "conf_password": NEW_PASSWORD,
        "csrf_token": form_token(admin)})
    assert response.status_code == 302


@pytest.mark.parametrize("how", ["own form", "administrator"])
def test_a_password_change_ends_other_sessions_and_old_tokens(app, person, how):
    name, user_id = person
    changer = web_session(app, name)
    other_session = web_session(app, name)
    stolen = copy_of(app, other_session)
    access, refresh = tokens(app, name)
    assert signed_in(stolen) and api_works(app, access) and refresh_works(app, refresh)

    if how == "own form":
        change_own_password(app, changer, name)
        assert signed_in(changer)  # whoever changed it stays signed in here
    else:
        admin_resets_password(app, changer, user_id)
        assert not signed_in(changer)

    assert not signed_in(other_session)
    assert not signed_in(stolen)
    assert not api_works(app, access)
    assert not refresh_works(app, refresh)
    # the new password gives working sessions and tokens
    assert signed_in(web_session(app, name, NEW_PASSWORD))
    new_access, new_refresh = tokens(app, name, NEW_PASSWORD)
    assert api_works(app, new_access) and refresh_works(app, new_refresh)


def set_active(app, user_id, active):
    from app.extensions import db
    from app.organisation.models import Department

    admin = web_session(app, "admin")
    with app.app_context():
        user = db.session.get(AppUser, user_id)
        data = {"first_name": user.first_name, "last_name": user.last_name,
                "username": user.username, "email": user.email,
                "department": db.session.query(Department.id).filter_by(code="FIN").scalar(),
                "roles": [role.id for role in user.roles], "csrf_token": form_token(admin)}
    if active:
        data["active"] = "y"
    response = admin.post(f"/users/edit/{user_id}", data=data)
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(AppUser, user_id).active is active


def test_deactivation_ends_sessions_and_tokens_for_good(app, person):
    name, user_id = person
    session = web_session(app, name)
    access, refresh = tokens(app, name)

    set_active(app, user_id, False)
    assert not signed_in(session)
    assert not api_works(app, access) and not refresh_works(app, refresh)
    assert login(app.test_client(), name).status_code == 302  # back to the login form
    assert app.test_client().post("/api/v1/security/login", json={
        "username": name, "password": PASSWORD, "provider": "db"}).status_code == 401

    # reactivated: the old session and tokens stay ended; a new login works
    set_active(app, user_id, True)
    assert not signed_in(session)
    assert not api_works(app, access) and not refresh_works(app, refresh)
    assert signed_in(web_session(app, name))


def test_editing_a_user_without_touching_password_or_active_ends_nothing(app, person):
    name, user_id = person
    session = web_session(app, name)
    access, _ = tokens(app, name)
    set_active(app, user_id, True)
    assert signed_in(session) and api_works(app, access)


def test_a_token_without_the_current_stamp_is_refused(app, person):
    """A JWT signed with the right key but lacking the stamp (e.g. from before this
    check) is refused."""
    from flask_jwt_extended import create_access_token

    name, user_id = person
    with app.app_context():
        bare = create_access_token(identity=str(user_id), additional_claims={"stamp": "old"})
    assert not api_works(app, bare)
    assert api_works(app, tokens(app, name)[0])


def test_change_history_never_shows_the_security_stamp(app, person):
    from app.extensions import db

    name, user_id = person
    admin_resets_password(app, None, user_id)
    with app.app_context():
        stamp = db.session.get(AppUser, user_id).security_stamp
        entries = (db.session.query(ChangeEntry)
                   .filter_by(record_type="AppUser", record_id=str(user_id)).all())
        assert entries, "the user's changes are recorded"
        for entry in entries:
            assert stamp not in entry.changes
            assert "security_stamp" not in entry.changes


@pytest.mark.parametrize("method", ["get", "head"])
def test_logout_by_get_or_head_keeps_the_session(app, person, method):
    """Flask answers HEAD with the GET view: neither ends the session (a link or a
    prefetch cannot log anyone out); only the POST with its token does."""
    name, _ = person
    client = web_session(app, name)
    assert getattr(client, method)("/logout/").status_code == 200
    assert signed_in(client)
