"""Signing in with LDAP / Active Directory, against a real OpenLDAP server (Debian's
slapd, started by the fixture below on a free loopback port with a test tree).

People of the test tree, one per behaviour (the tests change the directory):
alice (Clerk, FIN by departmentNumber), carol (DeptHead, MKT by her department group),
dave (Clerk, no department anywhere), gina (in no mapped group), henry (group change),
ivan (department change), erin and frank (removed, disabled), kim (re-check time),
leo and mia (``flask users sync``), lock (wrong passwords), nina (history), olga (taken
out of every mapped group).
"""
import datetime as dt
import os
import shutil
import tempfile

import pytest

import ldap_server
from conftest import PASSWORD, dispose, login, scratch_database_url, seeded_app

# CI installs slapd and python-ldap (.ci/run): there a missing one fails the tests.
IN_CI = os.environ.get("CI") == "true"
pytestmark = pytest.mark.skipif(
    not ldap_server.available() and not IN_CI,
    reason="slapd is not installed (apt-get install slapd ldap-utils; .ci/run does)")

G = ldap_server.GROUPS
MAPPING = {f"cn=clerks,{G}": ["Clerk"], f"cn=heads,{G}": ["DeptHead"],
           f"cn=itstaff,{G}": ["ITStaff"]}
FILTER = "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))"


def _tree():
    p = ldap_server.person
    people = [
        p("alice", "丽", "王", "pw-alice", "FIN", ["clerks"]),
        p("carol", "娜", "陈", "pw-carol", None, ["heads", "dept-mkt"]),
        p("dave", "伟", "赵", "pw-dave", None, ["clerks"]),
        p("gina", "静", "孙", "pw-gina", "FIN", ["visitors"]),
        p("henry", "军", "周", "pw-henry", "FIN", ["clerks"]),
        p("ivan", "磊", "吴", "pw-ivan", "FIN", ["clerks"]),
        p("erin", "敏", "郑", "pw-erin", "FIN", ["clerks"]),
        p("frank", "勇", "冯", "pw-frank", "IT", ["itstaff"]),
        p("kim", "芳", "林", "pw-kim", "FIN", ["clerks"]),
        p("leo", "杰", "何", "pw-leo", "FIN", ["clerks"]),
        p("mia", "霞", "高", "pw-mia", "FIN", ["clerks"]),
        p("lock", "涛", "罗", "pw-lock", "FIN", ["clerks"]),
        p("nina", "艳", "梁", "pw-nina", "FIN", ["clerks"]),
        p("olga", "红", "谢", "pw-olga", "FIN", ["clerks"]),
    ]
    members = {"clerks": ["alice", "dave", "henry", "ivan", "erin", "kim", "leo", "mia",
                          "lock", "nina", "olga"],
               "heads": ["carol"], "itstaff": ["frank"], "dept-mkt": ["carol"],
               "visitors": ["gina"]}
    groups = [ldap_server.group(cn, uids) for cn, uids in members.items()]
    return "\n\n".join(people + groups)


@pytest.fixture(scope="session")
def slapd():
    if not IN_CI:
        pytest.importorskip("ldap", reason="python-ldap is not installed "
                                           "(make ldap; .ci/run does)")
    server = ldap_server.Slapd(tempfile.mkdtemp(prefix="isgov-slapd-"), _tree()).start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def ldap_app(slapd):
    tmp_dir = tempfile.mkdtemp(prefix="isgov-ldap-")
    application = seeded_app(
        scratch_database_url(tmp_dir, "ldap"),
        AUTH_TYPE=2,  # AUTH_LDAP
        AUTH_LDAP_SERVER=slapd.url,
        AUTH_LDAP_BIND_USER=ldap_server.READER_DN,
        AUTH_LDAP_BIND_PASSWORD=ldap_server.READER_PASSWORD,
        AUTH_LDAP_SEARCH=ldap_server.PEOPLE,
        AUTH_LDAP_SEARCH_FILTER=FILTER,
        AUTH_LDAP_UID_FIELD="uid",
        AUTH_LDAP_GROUP_FIELD="memberOf",
        AUTH_ROLES_MAPPING=MAPPING,
        AUTH_ROLES_SYNC_AT_LOGIN=True,
        DIRECTORY_DEPARTMENT_ATTRIBUTE="departmentNumber",
        DIRECTORY_DEPARTMENT_GROUPS={f"cn=dept-mkt,{G}": "MKT"},
        DIRECTORY_RECHECK_MINUTES=0,
        DIRECTORY_LOCAL_ACCOUNTS=["admin"],
        LDAP_TIMEOUT=2,
    )
    yield application
    dispose(application)
    shutil.rmtree(tmp_dir, ignore_errors=True)


# ------------------------------------------------------------------ helpers


def web_login(app, username, password):
    client = app.test_client()
    return client, login(client, username, password)


def signed_in(client):
    """Whether the client's session still opens a page that needs a signed-in user."""
    response = client.get("/inbox/")
    return response.status_code == 200


def api_login(app, username, password):
    client = app.test_client()
    response = client.post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "ldap"})
    return client, response


def api_headers(app, username, password):
    client, response = api_login(app, username, password)
    assert response.status_code == 200, response.get_json()
    return client, {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def account(app, username):
    """(active, role names, department code, directory status) as stored."""
    from app.base import AppUser
    from app.extensions import db

    with app.app_context():
        user = db.session.query(AppUser).filter_by(username=username).one_or_none()
        if user is None:
            return None
        identity = user.directory_identity
        return (user.active, sorted(role.name for role in user.roles),
                user.department.code if user.department else None,
                identity.status if identity is not None else None)


def entries(app, **filter_by):
    from app.base import ChangeEntry
    from app.extensions import db

    with app.app_context():
        return [(e.username, e.record_type, e.record_id, e.changes)
                for e in db.session.query(ChangeEntry).filter_by(**filter_by)
                .order_by(ChangeEntry.seq)]


def message(app, function):
    with app.test_request_context():
        return function()


def new_incident(app, client, headers, department="FIN"):
    from app.extensions import db
    from app.organisation.models import Department, InformationSystem

    with app.app_context():
        system = db.session.query(InformationSystem.id).filter_by(code="FIN-GL").scalar()
        dept = db.session.query(Department.id).filter_by(code=department).scalar()
    return client.post("/api/v1/incident/", headers=headers, json={
        "title": "目录用户登记的故障", "system": system, "description": "d",
        "reporting_department": dept, "severity": "p3"})


# ---------------------------------------------------------------- sign-in


def test_first_sign_in_creates_the_account_with_mapped_role_and_department(ldap_app):
    assert account(ldap_app, "alice") is None
    client, response = web_login(ldap_app, "alice", "pw-alice")
    assert response.status_code == 302
    assert signed_in(client)
    assert account(ldap_app, "alice") == (True, ["Clerk"], "FIN", "active")
    # A second sign-in finds the same account.
    _, again = web_login(ldap_app, "alice", "pw-alice")
    assert again.status_code == 302
    from app.base import AppUser
    from app.extensions import db

    with ldap_app.app_context():
        user = db.session.query(AppUser).filter_by(username="alice").one()
        assert user.get_full_name() == "王丽"
        assert user.email == "alice@example.com"
        assert user.directory_identity.subject == f"uid=alice,{ldap_server.PEOPLE}"
        assert user.password is None  # no local password to fall back on


def test_department_from_a_group_when_the_person_has_no_department_attribute(ldap_app):
    client, response = web_login(ldap_app, "carol", "pw-carol")
    assert response.status_code == 302
    assert account(ldap_app, "carol") == (True, ["DeptHead"], "MKT", "active")


@pytest.mark.parametrize("password", ["wrong", "", "pw-alice "])
def test_wrong_or_empty_password_is_refused(ldap_app, password):
    client, response = web_login(ldap_app, "alice", password)
    assert not signed_in(client)
    _, api = api_login(ldap_app, "alice", password)
    assert api.status_code in (400, 401)  # FAB answers an empty password with 400
    assert "access_token" not in (api.get_json() or {})


def test_unknown_person_is_refused_and_no_account_is_made(ldap_app):
    client, _ = web_login(ldap_app, "nobody", "pw-nobody")
    assert not signed_in(client)
    assert account(ldap_app, "nobody") is None


def test_wrong_passwords_count_towards_the_account_lock(ldap_app):
    for _ in range(5):  # LOGIN_ACCOUNT_FAILURES of the tests: 5 per 15 minutes
        client, response = web_login(ldap_app, "lock", "wrong")
        assert response.status_code == 302 and not signed_in(client)
    client, response = web_login(ldap_app, "lock", "pw-lock")
    assert response.status_code == 429
    assert not signed_in(client)
    _, api = api_login(ldap_app, "lock", "pw-lock")
    assert api.status_code == 429


def test_person_in_no_mapped_group_is_refused_with_a_reason(ldap_app):
    from app.directory import DirectoryRefused  # noqa: F401  (the message's source)

    client, response = web_login(ldap_app, "gina", "pw-gina")
    assert response.status_code == 403
    assert not signed_in(client)
    assert account(ldap_app, "gina") is None
    _, api = api_login(ldap_app, "gina", "pw-gina")
    assert api.status_code == 403 and api.get_json()["message"]


def test_local_accounts_other_than_break_glass_do_not_sign_in(ldap_app):
    # clerk_fin has a local password (demo data) but is no directory person.
    client, response = web_login(ldap_app, "clerk_fin", PASSWORD)
    assert not signed_in(client)
    _, api = api_login(ldap_app, "clerk_fin", PASSWORD)
    assert api.status_code == 401


def test_group_change_takes_effect_at_next_sign_in(ldap_app, slapd):
    web_login(ldap_app, "henry", "pw-henry")
    assert account(ldap_app, "henry")[1] == ["Clerk"]
    slapd.move_member("henry", "clerks", "heads")
    client, response = web_login(ldap_app, "henry", "pw-henry")
    assert response.status_code == 302
    assert account(ldap_app, "henry") == (True, ["DeptHead"], "FIN", "active")


def test_department_change_takes_effect(ldap_app, slapd):
    web_login(ldap_app, "ivan", "pw-ivan")
    assert account(ldap_app, "ivan")[2] == "FIN"
    slapd.set_attribute("ivan", "departmentNumber", ["MKT"])
    web_login(ldap_app, "ivan", "pw-ivan")
    assert account(ldap_app, "ivan") == (True, ["Clerk"], "MKT", "active")


# ----------------------------------------------------------------- leavers


def test_removed_person_loses_access_at_next_request_web_and_api(ldap_app, slapd):
    web, _ = web_login(ldap_app, "erin", "pw-erin")
    api, headers = api_headers(ldap_app, "erin", "pw-erin")
    assert signed_in(web)
    assert api.get("/api/v1/incident/", headers=headers).status_code == 200
    slapd.remove_person("erin")
    assert api.get("/api/v1/incident/", headers=headers).status_code == 401
    assert not signed_in(web)
    assert account(ldap_app, "erin") == (False, ["Clerk"], "FIN", "removed")
    again, response = web_login(ldap_app, "erin", "pw-erin")
    assert not signed_in(again)


def test_disabled_person_loses_access_at_next_request(ldap_app, slapd):
    api, headers = api_headers(ldap_app, "frank", "pw-frank")
    assert account(ldap_app, "frank") == (True, ["ITStaff"], "IT", "active")
    slapd.set_attribute("frank", "employeeType", ["disabled"])
    assert api.get("/api/v1/incident/", headers=headers).status_code == 401
    assert account(ldap_app, "frank")[0::3] == (False, "disabled")
    _, response = api_login(ldap_app, "frank", "pw-frank")
    assert response.status_code == 401


def test_person_taken_out_of_every_mapped_group_loses_access_at_next_request(ldap_app,
                                                                              slapd):
    web, _ = web_login(ldap_app, "olga", "pw-olga")
    assert signed_in(web)
    slapd.move_member("olga", "clerks", None)
    assert not signed_in(web)
    assert account(ldap_app, "olga")[0::3] == (False, "no_group")
    again, response = web_login(ldap_app, "olga", "pw-olga")
    assert response.status_code == 403 and not signed_in(again)


def test_a_leaver_is_found_within_the_configured_minutes(ldap_app, slapd, monkeypatch):
    from app.base import AppUser
    from app.extensions import db

    monkeypatch.setitem(ldap_app.config, "DIRECTORY_RECHECK_MINUTES", 30)
    web, _ = web_login(ldap_app, "kim", "pw-kim")
    slapd.remove_person("kim")
    assert signed_in(web)  # checked at sign-in, less than 30 minutes ago
    with ldap_app.app_context():
        identity = db.session.query(AppUser).filter_by(username="kim").one().directory_identity
        identity.checked_at -= dt.timedelta(minutes=31)
        db.session.commit()
    assert not signed_in(web)
    assert account(ldap_app, "kim")[0::3] == (False, "removed")


def test_users_sync_deactivates_leavers_updates_the_rest_and_is_idempotent(ldap_app, slapd):
    web_login(ldap_app, "leo", "pw-leo")
    web_login(ldap_app, "mia", "pw-mia")
    slapd.remove_person("leo")
    slapd.set_attribute("mia", "departmentNumber", ["MKT"])
    runner = ldap_app.test_cli_runner()
    first = runner.invoke(args=["users", "sync"])
    assert first.exit_code == 0, first.output
    assert "leo: deactivated (removed)" in first.output
    assert "mia: department: FIN -> MKT" in first.output
    assert account(ldap_app, "leo")[0::3] == (False, "removed")
    assert account(ldap_app, "mia") == (True, ["Clerk"], "MKT", "active")
    second = runner.invoke(args=["users", "sync"])
    assert second.exit_code == 0, second.output
    assert second.output.strip().endswith(", 0 changed.")


def test_users_sync_changes_nothing_while_the_directory_is_down(ldap_app, monkeypatch):
    web_login(ldap_app, "alice", "pw-alice")
    monkeypatch.setitem(ldap_app.config, "AUTH_LDAP_SERVER",
                        f"ldap://127.0.0.1:{ldap_server.free_port()}")
    result = ldap_app.test_cli_runner().invoke(args=["users", "sync"])
    assert result.exit_code == 1
    assert "cannot be reached" in result.output
    assert account(ldap_app, "alice")[0] is True


# ------------------------------------------------- directory down, break-glass


def test_directory_down_refuses_directory_people_and_break_glass_works(ldap_app,
                                                                       monkeypatch):
    from app.security import directory_down_message

    web_login(ldap_app, "alice", "pw-alice")  # an account that exists here already
    before = len(entries(ldap_app, record_type="LocalSignIn"))
    monkeypatch.setitem(ldap_app.config, "AUTH_LDAP_SERVER",
                        f"ldap://127.0.0.1:{ldap_server.free_port()}")
    client, response = web_login(ldap_app, "alice", "pw-alice")
    assert response.status_code == 503
    assert message(ldap_app, directory_down_message) in response.get_data(as_text=True)
    assert not signed_in(client)
    _, api = api_login(ldap_app, "alice", "pw-alice")
    assert api.status_code == 503
    assert api.get_json()["message"] == message(ldap_app, directory_down_message)
    # The local administrator signs in with the local password, and it is recorded.
    admin, response = web_login(ldap_app, "admin", PASSWORD)
    assert response.status_code == 302 and signed_in(admin)
    _, admin_api = api_login(ldap_app, "admin", PASSWORD)
    assert admin_api.status_code == 200
    uses = entries(ldap_app, record_type="LocalSignIn")[before:]
    assert len(uses) == 2
    assert all(user == "admin" and record == "admin" and '"unreachable"' in changes
               for user, _kind, record, changes in uses)
    # A wrong local password is still refused.
    refused, _ = web_login(ldap_app, "admin", "wrong")
    assert not signed_in(refused)


def test_break_glass_use_is_recorded_when_the_directory_is_up_too(ldap_app):
    before = len(entries(ldap_app, record_type="LocalSignIn"))
    admin, response = web_login(ldap_app, "admin", PASSWORD)
    assert response.status_code == 302
    uses = entries(ldap_app, record_type="LocalSignIn")[before:]
    assert len(uses) == 1 and '"reachable"' in uses[0][3]
    # The change log shows it to the administrator.
    log = admin.get("/changelog/list/?_flt_0_record_type=LocalSignIn")
    assert log.status_code == 200
    page = log.get_data(as_text=True)
    assert "admin" in page and "version-link" not in page  # an event, no record versions
    from app.base import ChangeEntry
    from app.extensions import db

    with ldap_app.app_context():
        pk = db.session.query(ChangeEntry.id).filter_by(record_type="LocalSignIn").order_by(
            ChangeEntry.id.desc()).limit(1).scalar()
    shown = admin.get(f"/changelog/show/{pk}")
    assert shown.status_code == 200 and "reachable" in shown.get_data(as_text=True)


# ------------------------------------------------------ no department, history


def test_person_without_department_has_no_write_rights_and_is_listed(ldap_app):
    client, response = web_login(ldap_app, "dave", "pw-dave")
    assert response.status_code == 302
    assert account(ldap_app, "dave") == (True, ["Unassigned"], None, "no_department")
    assert client.get("/informationsystemview/list/").status_code == 200  # reads
    assert "home-unassigned" in client.get("/").get_data(as_text=True)  # is told why
    assert client.get("/incidentview/add").status_code != 200
    api, headers = api_headers(ldap_app, "dave", "pw-dave")
    created = new_incident(ldap_app, api, headers)
    assert created.status_code in (401, 403), created.get_json()
    # The administrator finds the person on the directory accounts' screen.
    admin, _ = web_login(ldap_app, "admin", PASSWORD)
    listed = admin.get("/directoryaccounts/list/?_flt_0_status=no_department")
    assert listed.status_code == 200
    html = listed.get_data(as_text=True)
    assert "uid=dave," in html and "uid=alice," not in html
    # ... which nobody else sees.
    alice, _ = web_login(ldap_app, "alice", "pw-alice")
    assert "home-unassigned" not in alice.get("/").get_data(as_text=True)
    assert alice.get("/directoryaccounts/list/").status_code != 200


def test_history_names_the_directory_identity(ldap_app):
    api, headers = api_headers(ldap_app, "nina", "pw-nina")
    created = new_incident(ldap_app, api, headers)
    assert created.status_code == 201, created.get_json()
    made = entries(ldap_app, record_type="Incident", record_id=str(created.get_json()["id"]))
    assert made and made[0][0] == "nina"
    identity = [e for e in entries(ldap_app, record_type="DirectoryIdentity")
                if f"uid=nina,{ldap_server.PEOPLE}" in e[3]]
    assert identity, "the directory identity (DN) is in the change history"
    # ... as the change log shows it, with the entry's details.
    admin, _ = web_login(ldap_app, "admin", PASSWORD)
    log = admin.get("/changelog/list/?_flt_0_record_type=DirectoryIdentity")
    assert log.status_code == 200
    from app.base import ChangeEntry
    from app.extensions import db

    with ldap_app.app_context():
        pk = db.session.query(ChangeEntry.id).filter(
            ChangeEntry.record_type == "DirectoryIdentity",
            ChangeEntry.changes.contains(f"uid=nina,{ldap_server.PEOPLE}")).scalar()
    entry = admin.get(f"/changelog/show/{pk}")
    assert entry.status_code == 200
    assert f"uid=nina,{ldap_server.PEOPLE}" in entry.get_data(as_text=True)


def _uid(app, username):
    from app.base import AppUser
    from app.extensions import db

    with app.app_context():
        return db.session.query(AppUser.id).filter_by(username=username).scalar()


def test_directory_people_name_substitutes_as_local_ones_do_but_the_unassigned_cannot(
        ldap_app):
    web_login(ldap_app, "alice", "pw-alice")
    today = dt.date.today().isoformat()
    for username, expected in (("nina", (201,)), ("dave", (401, 403))):
        api, headers = api_headers(ldap_app, username, f"pw-{username}")
        made = api.post("/api/v1/delegation/", headers=headers, json={
            "principal": _uid(ldap_app, username), "substitute": _uid(ldap_app, "alice"),
            "start_date": today, "end_date": today, "reason": "出差"})
        assert made.status_code in expected, (username, made.get_json())


@pytest.mark.parametrize("username", ["*", "alic*", "alice)(uid=*", "*)(|(uid=*",
                                      "alice\\", "x" * 300])
def test_filter_characters_in_a_user_name_find_nobody(ldap_app, username):
    client, response = web_login(ldap_app, username, "pw-alice")
    assert response.status_code in (302, 200)
    assert not signed_in(client)


def test_ldaps_checks_the_directory_certificate(ldap_app, slapd, monkeypatch):
    from app.security import directory_down_message

    monkeypatch.setitem(ldap_app.config, "AUTH_LDAP_SERVER", slapd.tls_url)
    monkeypatch.setitem(ldap_app.config, "AUTH_LDAP_TLS_CACERTFILE", slapd.cafile)
    client, response = web_login(ldap_app, "alice", "pw-alice")
    assert response.status_code == 302 and signed_in(client)
    # A certificate from a CA that is not the configured one: the directory is not trusted.
    monkeypatch.setitem(ldap_app.config, "AUTH_LDAP_TLS_CACERTFILE",
                        "/etc/ssl/certs/ca-certificates.crt")
    client, response = web_login(ldap_app, "alice", "pw-alice")
    assert response.status_code == 503
    assert message(ldap_app, directory_down_message) in response.get_data(as_text=True)


@pytest.mark.parametrize("overrides, problem", [
    ({"AUTH_LDAP_SERVER": ""}, "LDAP_SERVER"),
    ({"AUTH_LDAP_BIND_USER": ""}, "LDAP_BIND_USER"),
    ({"AUTH_ROLES_MAPPING": {"cn=x": ["Clerks"]}}, "unknown roles ['Clerks']"),
    ({"AUTH_ROLES_MAPPING": {"cn=x": "Clerk"}}, "must be a list"),
])
def test_ldap_settings_that_cannot_work_stop_the_start(ldap_app, overrides, problem):
    from app.ldap_directory import settings_problem

    assert settings_problem(dict(ldap_app.config)) is None
    assert problem in settings_problem({**ldap_app.config, **overrides})
