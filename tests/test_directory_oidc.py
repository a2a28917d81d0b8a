"""Sign-in with an OpenID Connect provider, against a real one (tests/oidc/provider.mjs,
panva's oidc-provider on node) started here on a free port.

The Flask test client plays the browser on the app's side; a requests session plays it
on the provider's side (its login form), and hands the provider's redirect back to the
app's callback, as a browser would.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import pytest
import requests

from conftest import PASSWORD, build_app, csrf_token

PROVIDER_DIR = Path(__file__).parent / "oidc"
CLIENT_ID, CLIENT_SECRET = "isgov", "test-client-secret"
CALLBACK = "http://localhost/oauth-authorized/oidc"
GROUP_ROLES = {"it-staff": ["ITStaff"], "finance": ["Clerk"], "finance-heads": ["DeptHead"],
               "auditors": ["Auditor"], "managers": ["Management"]}
PERSON_PASSWORD = "provider-pass-1"


class Provider:
    """The provider's process and its accounts file (read again at every look-up)."""

    def __init__(self, tmp_dir, redirect_uris=CALLBACK):
        self.accounts_file = Path(tmp_dir) / "accounts.json"
        self.accounts = {}
        self._write()
        node = shutil.which("node")
        if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").exists():
            if os.environ.get("CI") == "true":
                raise RuntimeError("the OpenID Connect test provider is not installed")
            pytest.skip("the OpenID Connect test provider is not installed (make oidc-provider)")
        env = dict(os.environ, OIDC_ACCOUNTS=str(self.accounts_file), OIDC_CLIENT_ID=CLIENT_ID,
                   OIDC_CLIENT_SECRET=CLIENT_SECRET, OIDC_REDIRECT_URIS=redirect_uris)
        started = time.monotonic()
        self.process = subprocess.Popen([node, "provider.mjs", "0"], cwd=PROVIDER_DIR, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True)
        line = self.process.stdout.readline()
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"the test provider did not start: {line!r}")
        self.url = line.split()[1]
        self.start_seconds = time.monotonic() - started

    def _write(self):
        self.accounts_file.write_text(json.dumps(self.accounts))

    def person(self, login, groups=(), department=None, **claims):
        """A person at the provider (replaced if present): ``login`` is their ``sub``."""
        claims = {"preferred_username": login, "given_name": "三", "family_name": "张",
                  "email": f"{login}@example.com", "groups": list(groups), **claims}
        if department is not None:
            claims["department"] = department
        self.accounts[login] = {"password": PERSON_PASSWORD, "claims": claims}
        self._write()

    def disable(self, login):
        self.accounts[login]["disabled"] = True
        self._write()

    def remove(self, login):
        del self.accounts[login]
        self._write()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    started = Provider(tmp_path_factory.mktemp("oidc"))
    yield started
    started.stop()


def oidc_config(discovery_url, **overrides):
    from config import oidc_settings

    settings = oidc_settings({"OIDC_DISCOVERY_URL": discovery_url, "OIDC_CLIENT_ID": CLIENT_ID,
                              "OIDC_CLIENT_SECRET": CLIENT_SECRET})
    return {**settings, "AUTH_ROLES_MAPPING": GROUP_ROLES,
            "DIRECTORY_DEPARTMENT_ATTRIBUTE": "department",
            "DIRECTORY_DEPARTMENT_VALUES": {"Finance": "FIN", "Marketing": "MKT"},
            "DIRECTORY_DEPARTMENT_GROUPS": {"dept-fin": "FIN", "dept-mkt": "MKT"},
            "DIRECTORY_LOCAL_ACCOUNTS": ["admin"], **overrides}


@pytest.fixture(scope="module")
def oidc_app(app, provider):
    """The session's database, signing in through the provider; the provider is asked
    again at every request (DIRECTORY_RECHECK_MINUTES=0)."""
    return build_app(app.config["SQLALCHEMY_DATABASE_URI"], **oidc_config(
        f"{provider.url}/.well-known/openid-configuration", DIRECTORY_RECHECK_MINUTES=0))


def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_without_provider(app):
    """Configured with a provider that does not answer (nothing listens on its port)."""
    return build_app(app.config["SQLALCHEMY_DATABASE_URI"], **oidc_config(
        f"http://127.0.0.1:{unused_port()}/.well-known/openid-configuration"))


def to_provider(client):
    """Start the sign-in on the app: the URL of the provider it redirects to."""
    response = client.get("/login/oidc")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def provider_login(provider, authorize_url, login, password=PERSON_PASSWORD):
    """Sign in on the provider's page; the app's callback URL it sends the browser to, or
    the provider's refusal (a response)."""
    browser = requests.Session()
    page = browser.get(authorize_url, timeout=10)
    assert page.status_code == 200 and "/interaction/" in page.url, page.text[:300]
    response = browser.post(page.url, data={"login": login, "password": password},
                            allow_redirects=False, timeout=10)
    while response.status_code in (302, 303):
        location = urljoin(response.url, response.headers["Location"])
        if not location.startswith(provider.url):
            return location
        response = browser.get(location, allow_redirects=False, timeout=10)
    return response


def callback(client, url):
    split = urlsplit(url)
    return client.get(f"{split.path}?{split.query}")


def sign_in(oidc_app, provider, login):
    """A test client signed in as ``login`` through the provider, and the final response."""
    client = oidc_app.test_client()
    url = provider_login(provider, to_provider(client), login)
    assert isinstance(url, str), f"the provider refused {login}: {url.text[:300]}"
    return client, callback(client, url)


def signed_in(client):
    """Whether the client's session is signed in (the user menu offers to log out)."""
    response = client.get("/inbox/")
    return response.status_code == 200 and "/logout/" in response.get_data(as_text=True)


def account(oidc_app, username):
    from app.base import AppUser
    from app.extensions import db

    with oidc_app.app_context():
        user = db.session.query(AppUser).filter_by(username=username).one_or_none()
        if user is None:
            return None
        identity = user.directory_identity
        return {"active": user.active, "roles": sorted(r.name for r in user.roles),
                "department": user.department.code if user.department else None,
                "subject": identity.subject if identity else None,
                "source": identity.source if identity else None,
                "status": identity.status if identity else None}


# ------------------------------------------------------------------ the login page


def test_login_page_offers_the_provider_button_in_chinese_and_a_local_form(oidc_app):
    page = oidc_app.test_client().get("/login/").get_data(as_text=True)
    assert "使用公司统一账号登录" in page
    assert 'href="/login/oidc"' in page
    assert 'name="password"' in page and "本地账号" in page


def test_provider_button_keeps_where_the_person_was_going(oidc_app, provider):
    page = oidc_app.test_client().get("/login/?next=/inbox/").get_data(as_text=True)
    assert 'href="/login/oidc?next=/inbox/"' in page


# ------------------------------------------------------------ first sign-in, mapping


def test_first_sign_in_creates_the_account_with_roles_and_department_from_the_provider(
        oidc_app, provider):
    provider.person("oidc_ann", groups=["finance"], department="Finance")
    client, response = sign_in(oidc_app, provider, "oidc_ann")
    assert response.status_code == 302
    assert signed_in(client)
    assert account(oidc_app, "oidc_ann") == {
        "active": True, "roles": ["Clerk"], "department": "FIN", "subject": "oidc_ann",
        "source": "oidc", "status": "active"}
    # A Clerk writes for the department: the incident form opens.
    assert client.get("/incidentview/add").status_code == 200
    # Of the provider's tokens the session cookie keeps the refresh token only.
    with client.session_transaction() as session:
        assert session["oauth"][0] == "" and session["oauth"][1]


@pytest.mark.parametrize("groups, roles", [
    (["it-staff"], ["ITStaff"]),
    (["auditors"], ["Auditor"]),
    (["finance", "finance-heads"], ["Clerk", "DeptHead"]),
    (["managers", "unmapped-group"], ["Management"]),
])
def test_groups_map_to_roles(oidc_app, provider, groups, roles):
    login = "oidc_map_" + "_".join(groups).replace("-", "")
    provider.person(login, groups=groups, department="MKT")
    client, _ = sign_in(oidc_app, provider, login)
    assert signed_in(client)
    assert account(oidc_app, login)["roles"] == roles
    assert account(oidc_app, login)["department"] == "MKT"


def test_a_group_change_at_the_provider_takes_effect_at_the_next_sign_in(oidc_app, provider):
    provider.person("oidc_bob", groups=["finance"], department="Finance")
    client, _ = sign_in(oidc_app, provider, "oidc_bob")
    assert client.get("/incidentview/add").status_code == 200
    provider.person("oidc_bob", groups=["auditors"], department="Marketing")
    client, _ = sign_in(oidc_app, provider, "oidc_bob")
    assert account(oidc_app, "oidc_bob")["roles"] == ["Auditor"]
    assert account(oidc_app, "oidc_bob")["department"] == "MKT"
    # An Auditor no longer reports incidents for a department.
    assert client.get("/incidentview/add").status_code in (302, 403)


def test_department_from_a_group_when_the_provider_sends_no_department_claim(
        oidc_app, provider):
    provider.person("oidc_deptgroup", groups=["finance", "dept-mkt"])
    client, _ = sign_in(oidc_app, provider, "oidc_deptgroup")
    assert signed_in(client)
    assert account(oidc_app, "oidc_deptgroup")["department"] == "MKT"
    assert account(oidc_app, "oidc_deptgroup")["roles"] == ["Clerk"]


def test_person_without_a_department_signs_in_without_write_rights(oidc_app, provider):
    provider.person("oidc_nodept", groups=["finance"])
    client, _ = sign_in(oidc_app, provider, "oidc_nodept")
    assert signed_in(client)
    assert account(oidc_app, "oidc_nodept")["roles"] == ["Unassigned"]
    assert account(oidc_app, "oidc_nodept")["status"] == "no_department"
    assert client.get("/incidentview/add").status_code in (302, 403)


def test_person_in_no_mapped_group_is_refused_with_the_reason(oidc_app, provider):
    provider.person("oidc_nogroup", groups=["canteen"], department="FIN")
    client, response = sign_in(oidc_app, provider, "oidc_nogroup")
    assert response.status_code == 403
    assert "不在任何可访问本系统的组中" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_the_provider_cannot_take_over_the_local_admin_account(oidc_app, provider):
    provider.person("admin", groups=["auditors"], department="FIN")
    client, response = sign_in(oidc_app, provider, "admin")
    assert response.status_code == 403
    assert not signed_in(client)
    assert "Admin" in account(oidc_app, "admin")["roles"]
    provider.remove("admin")


def test_history_names_the_directory_identity(oidc_app, provider):
    from app.base import ChangeEntry
    from app.extensions import db

    import datetime as dt

    from app.base import AppUser, Delegation

    provider.person("oidc_hist", groups=["finance"], department="FIN")
    client, _ = sign_in(oidc_app, provider, "oidc_hist")
    with oidc_app.app_context():
        entries = (db.session.query(ChangeEntry)
                   .filter_by(record_type="DirectoryIdentity", action="insert").all())
        assert any('"oidc_hist"' in entry.changes and '"oidc"' in entry.changes
                   for entry in entries)
        me, substitute = (db.session.query(AppUser.id).filter_by(username=name).scalar()
                          for name in ("oidc_hist", "head_fin"))
    # What the person does is recorded under the account the provider named.
    page = client.get("/delegationview/add").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    today = dt.date.today().isoformat()
    response = client.post("/delegationview/add", data={
        "principal": me, "substitute": substitute, "start_date": today, "end_date": today,
        "reason": "出差", "csrf_token": token})
    assert response.status_code == 302
    with oidc_app.app_context():
        delegation = db.session.query(Delegation).filter_by(principal_id=me).one()
        # The newest insert of that id (SQLite reuses the id of a deleted last row).
        entry = db.session.query(ChangeEntry).filter_by(
            record_type="Delegation", record_id=str(delegation.id), action="insert",
        ).order_by(ChangeEntry.seq.desc()).first()
        assert entry.username == "oidc_hist"


# ----------------------------------------------------------------------- leavers


@pytest.mark.parametrize("how", ["disable", "remove"])
def test_a_person_disabled_or_removed_at_the_provider_loses_access(oidc_app, provider, how):
    login = f"oidc_leaver_{how}"
    provider.person(login, groups=["finance"], department="FIN")
    client, _ = sign_in(oidc_app, provider, login)
    assert signed_in(client)
    assert signed_in(client)  # asked again (refresh token) and still allowed
    getattr(provider, how)(login)
    response = client.get("/inbox/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert not signed_in(client)
    # ... and cannot sign in again.
    refused = provider_login(provider, to_provider(oidc_app.test_client()), login)
    assert not isinstance(refused, str) and refused.status_code == 401


@pytest.fixture
def own_provider(tmp_path):
    """A provider of the test's own, which the test may stop."""
    started = Provider(tmp_path)
    yield started
    if started.process.poll() is None:
        started.stop()


def throttled_app(app, provider):
    return build_app(app.config["SQLALCHEMY_DATABASE_URI"], **oidc_config(
        f"{provider.url}/.well-known/openid-configuration", DIRECTORY_RECHECK_MINUTES=5))


def test_a_leaver_loses_access_once_the_configured_time_has_passed(app, own_provider):
    """DIRECTORY_RECHECK_MINUTES=5: the provider is asked again 5 minutes after the last
    answer; until then the session goes on, then it ends."""
    oidc_app = throttled_app(app, own_provider)
    own_provider.person("oidc_later", groups=["finance"], department="FIN")
    client, _ = sign_in(oidc_app, own_provider, "oidc_later")
    own_provider.disable("oidc_later")
    assert signed_in(client)  # checked less than 5 minutes ago
    with client.session_transaction() as session:
        session["_oidc_checked"] -= 5 * 60
    assert not signed_in(client)


def test_a_session_goes_on_while_the_provider_is_unreachable(app, own_provider):
    """The provider down is no verdict on the person: their session lasts until it
    answers again (or the session's own lifetime ends)."""
    oidc_app = throttled_app(app, own_provider)
    own_provider.person("oidc_outage", groups=["finance"], department="FIN")
    client, _ = sign_in(oidc_app, own_provider, "oidc_outage")
    own_provider.stop()
    with client.session_transaction() as session:
        session["_oidc_checked"] -= 5 * 60
    assert signed_in(client)
    assert client.get("/incidentview/add").status_code == 200


def test_provider_down_after_earlier_sign_ins_gives_the_clear_message(app, own_provider):
    oidc_app = throttled_app(app, own_provider)
    own_provider.person("oidc_before_outage", groups=["finance"], department="FIN")
    sign_in(oidc_app, own_provider, "oidc_before_outage")  # the provider's address is known
    own_provider.stop()
    response = oidc_app.test_client().get("/login/oidc")
    assert response.status_code == 503
    assert "无法访问" in response.get_data(as_text=True)


def test_logout_is_by_post_only(oidc_app, provider):
    provider.person("oidc_logout", groups=["finance"], department="FIN")
    client, _ = sign_in(oidc_app, provider, "oidc_logout")
    for method in ("get", "head"):
        getattr(client, method)("/logout/")
        assert signed_in(client)
    assert client.post("/logout/").status_code == 400  # no CSRF token
    assert signed_in(client)


def test_users_sync_says_the_provider_lists_no_one_and_changes_nothing(oidc_app, provider):
    provider.person("oidc_sync", groups=["finance"], department="FIN")
    sign_in(oidc_app, provider, "oidc_sync")
    provider.remove("oidc_sync")
    result = oidc_app.test_cli_runner().invoke(args=["users", "sync"])
    assert result.exit_code == 0, result.output
    assert "accounts of oidc not checked" in result.output
    assert result.output.strip().endswith(", 0 changed.")
    assert account(oidc_app, "oidc_sync")["active"] is True  # ends at the next request


def test_an_old_local_password_opens_nothing_under_openid_connect(oidc_app):
    client = oidc_app.test_client()
    response = client.post("/login/", data={"username": "clerk_fin", "password": PASSWORD,
                                            "csrf_token": csrf_token(client)})
    assert response.status_code == 401
    assert not signed_in(client)
    api = client.post("/api/v1/security/login", json={
        "username": "clerk_fin", "password": PASSWORD, "provider": "db"})
    assert api.status_code == 401


# ------------------------------------------------- the provider down; break-glass


def test_provider_down_gives_a_clear_message(app_without_provider):
    response = app_without_provider.test_client().get("/login/oidc")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "无法访问" in page and 'name="password"' in page


def break_glass_uses(oidc_app):
    from app.base import ChangeEntry
    from app.extensions import db

    with oidc_app.app_context():
        return [(entry.username, entry.changes) for entry in db.session.query(ChangeEntry)
                .filter_by(record_type="LocalSignIn").order_by(ChangeEntry.seq)]


def test_local_admin_signs_in_while_the_provider_is_down_and_it_is_recorded(
        app_without_provider):
    before = len(break_glass_uses(app_without_provider))
    client = app_without_provider.test_client()
    response = client.post("/login/", data={"username": "admin", "password": PASSWORD,
                                            "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert signed_in(client)
    api = client.post("/api/v1/security/login", json={
        "username": "admin", "password": PASSWORD, "provider": "db"})
    assert api.status_code == 200
    uses = break_glass_uses(app_without_provider)[before:]
    assert len(uses) == 2
    assert all(user == "admin" and '"unreachable"' in changes for user, changes in uses)


def test_break_glass_use_is_recorded_while_the_provider_answers(oidc_app):
    before = len(break_glass_uses(oidc_app))
    client = oidc_app.test_client()
    response = client.post("/login/", data={"username": "admin", "password": PASSWORD,
                                            "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and signed_in(client)
    uses = break_glass_uses(oidc_app)[before:]
    assert len(uses) == 1 and '"reachable"' in uses[0][1]


def test_local_sign_in_with_a_wrong_password_is_refused(app_without_provider):
    client = app_without_provider.test_client()
    response = client.post("/login/", data={"username": "admin", "password": "wrong",
                                            "csrf_token": csrf_token(client)})
    assert response.status_code == 401
    assert not signed_in(client)


def test_failed_local_sign_ins_are_throttled_as_on_the_local_login(app_without_provider):
    client = app_without_provider.test_client()
    statuses = [client.post("/login/", data={
        "username": "oidc_guessed", "password": "wrong", "csrf_token": csrf_token(client)},
    ).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_local_sign_in_without_csrf_token_is_refused(app_without_provider):
    client = app_without_provider.test_client()
    response = client.post("/login/", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400
    assert not signed_in(client)


# ------------------------------------------------------- tampered or replayed flows


def _with_query(url, **changes):
    split = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(split.query).items()}
    query.update(changes)
    return urlunsplit(split._replace(query=urlencode(query)))


def test_a_callback_with_an_altered_state_is_refused(oidc_app, provider):
    provider.person("oidc_state", groups=["finance"], department="FIN")
    client = oidc_app.test_client()
    url = provider_login(provider, to_provider(client), "oidc_state")
    response = callback(client, _with_query(url, state="forged-state"))
    assert response.status_code == 400
    assert "请重新登录" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_a_callback_is_refused_in_another_browser(oidc_app, provider):
    """Login CSRF: a callback made for one browser, delivered to another."""
    provider.person("oidc_csrf", groups=["finance"], department="FIN")
    url = provider_login(provider, to_provider(oidc_app.test_client()), "oidc_csrf")
    victim = oidc_app.test_client()
    victim.get("/login/")
    assert callback(victim, url).status_code == 400
    assert not signed_in(victim)


def test_a_callback_replayed_is_refused(oidc_app, provider):
    provider.person("oidc_replay", groups=["finance"], department="FIN")
    client = oidc_app.test_client()
    url = provider_login(provider, to_provider(client), "oidc_replay")
    assert callback(client, url).status_code == 302
    page = client.get("/logout/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/logout/", data={"csrf_token": token}).status_code == 302
    assert not signed_in(client)
    assert callback(client, url).status_code == 400
    assert not signed_in(client)


def test_an_id_token_with_another_nonce_is_refused(oidc_app, provider):
    provider.person("oidc_nonce", groups=["finance"], department="FIN")
    client = oidc_app.test_client()
    url = provider_login(provider, to_provider(client), "oidc_nonce")
    state = parse_qs(urlsplit(url).query)["state"][0]
    with client.session_transaction() as session:
        key = f"_state_oidc_{state}"
        data = session[key]
        data["data"]["nonce"] = "not-the-nonce-sent"
        session[key] = data
    response = callback(client, url)
    assert response.status_code == 400
    assert not signed_in(client)


def test_the_provider_refusing_the_request_is_shown(oidc_app, provider):
    client = oidc_app.test_client()
    to_provider(client)
    response = client.get("/oauth-authorized/oidc?error=access_denied&state=x")
    assert response.status_code == 401
    assert not signed_in(client)


def test_callback_of_an_unknown_provider_is_not_found(oidc_app):
    assert oidc_app.test_client().get("/oauth-authorized/nowhere?code=x").status_code == 404
    assert oidc_app.test_client().get("/login/nowhere").status_code == 404


# ----------------------------------------------------------------- configuration


@pytest.mark.parametrize("missing", ["OIDC_DISCOVERY_URL", "OIDC_CLIENT_ID",
                                     "OIDC_CLIENT_SECRET"])
def test_openid_connect_settings_name_what_is_missing(missing):
    from config import oidc_settings

    environ = {"OIDC_DISCOVERY_URL": "https://sso.example.com/.well-known/openid-configuration",
               "OIDC_CLIENT_ID": "isgov", "OIDC_CLIENT_SECRET": "s3cret"}
    del environ[missing]
    with pytest.raises(RuntimeError, match=missing):
        oidc_settings(environ)


def test_openid_connect_settings_refuse_a_scope_without_openid():
    from config import oidc_settings

    with pytest.raises(RuntimeError, match="openid"):
        oidc_settings({"OIDC_DISCOVERY_URL": "https://x", "OIDC_CLIENT_ID": "a",
                       "OIDC_CLIENT_SECRET": "b", "OIDC_SCOPE": "profile groups"})


def test_openid_connect_settings_from_the_environment():
    from config import oidc_settings

    settings = oidc_settings({
        "OIDC_DISCOVERY_URL": "https://sso.example.com/.well-known/openid-configuration",
        "OIDC_CLIENT_ID": "isgov", "OIDC_CLIENT_SECRET": "s3cret",
        "OIDC_SCOPE": "openid profile email roles", "OIDC_GROUPS_CLAIM": "roles"})
    remote = settings["OAUTH_PROVIDERS"][0]["remote_app"]
    assert settings["AUTH_TYPE"] == 4 and settings["OIDC_GROUPS_CLAIM"] == "roles"
    assert remote["client_id"] == "isgov" and remote["client_secret"] == "s3cret"
    assert remote["client_kwargs"]["scope"] == "openid profile email roles"
    assert remote["client_kwargs"]["code_challenge_method"] == "S256"


# ------------------------------------------------------------------ in a browser


def test_a_person_signs_in_with_the_button_in_a_browser(app, browser, tmp_path):
    """Chromium clicks 使用公司统一账号登录, signs in on the provider's page and comes back
    signed in, with the department and role the provider's claims map to."""
    import threading

    from werkzeug.serving import make_server

    port = unused_port()
    base = f"http://127.0.0.1:{port}"
    provider = Provider(tmp_path, redirect_uris=f"{base}/oauth-authorized/oidc")
    server = make_server("127.0.0.1", port, build_app(
        app.config["SQLALCHEMY_DATABASE_URI"],
        **oidc_config(f"{provider.url}/.well-known/openid-configuration")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        provider.person("oidc_browser", groups=["finance"], department="Finance",
                        given_name="芳", family_name="王")
        page = browser.new_page()
        page.goto(f"{base}/login/")
        page.click("text=使用公司统一账号登录")
        page.fill("input[name=login]", "oidc_browser")
        page.fill("input[name=password]", PERSON_PASSWORD)
        page.click("button")
        page.wait_for_url(f"{base}/")
        body = page.locator("body").inner_text()
        assert "王芳" in body and "财务部" in body and "业务录入员" in body
        page.close()
    finally:
        server.shutdown()
        provider.stop()
