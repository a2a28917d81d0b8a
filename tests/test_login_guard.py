"""Login protection that never locks out an office: only failed logins count, per account
and per client address; web and API share the counters; logout is never throttled.

Each test builds its own app on the session database, so its counters start at zero.
"""
import time
import uuid

import pytest

from conftest import PASSWORD, build_app, csrf_token, login
from webhelpers import flashes, form_token, remove_users

OFFICE = "198.51.100.20"  # one NAT address for a whole office
COLLEAGUES = 60
WRONG = "Wrong-Pass-2026"
LOCKED_ACCOUNT = "该账号登录失败次数过多"
LOCKED_ADDRESS = "您所在网络地址的登录失败次数过多"


@pytest.fixture(scope="module")
def colleagues(app):
    """Sixty clerks of the finance department (the demo has only a handful of accounts)."""
    from app.base import AppUser
    from app.extensions import db
    from app.organisation.models import Department

    names = [f"office{n:02d}" for n in range(1, COLLEAGUES + 1)]
    with app.app_context():
        sm = app.appbuilder.sm
        fin = db.session.query(Department).filter_by(code="FIN").one()
        for name in names:
            if sm.find_user(username=name) is None:
                user = sm.add_user(username=name, first_name=name, last_name="测试",
                                   email=f"{name}@example.com", role=sm.find_role("Clerk"),
                                   password=PASSWORD)
                db.session.get(AppUser, user.id).department_id = fin.id
        db.session.commit()
    yield names
    remove_users(app, names)


def guarded_app(app, **limits):
    """The session database behind a fresh app (fresh counters), production policy unless
    ``limits`` say otherwise."""
    config = {"LOGIN_ACCOUNT_FAILURES": "5 per 15 minutes",
              "LOGIN_ADDRESS_FAILURES": "100 per 15 minutes", **limits}
    return build_app(app.config["SQLALCHEMY_DATABASE_URI"], **config)


def client_from(application, address=OFFICE):
    client = application.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def web_login(client, username, password=PASSWORD):
    """(status, flashed messages of the page the login ends on)."""
    response = login(client, username, password)
    status = response.status_code
    if status == 302:
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    else:
        page = response.get_data(as_text=True)
    return status, " ".join(flashes(page))


def api_login(client, username, password=PASSWORD):
    response = client.post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db"})
    return response.status_code, (response.get_json() or {}).get("message", "")


def signed_in(status, channel, client):
    if channel == "api":
        return status == 200
    return status == 302 and client.get("/projectrequestview/list/").status_code == 200


ATTEMPT = {"web": web_login, "api": api_login}
REFUSED = {"web": 302, "api": 401}  # a wrong password, before any lock


@pytest.mark.parametrize("channel", ["web", "api"])
def test_sixty_colleagues_behind_one_address_all_log_in_and_out_within_a_minute(
        app, colleagues, channel):
    guarded = guarded_app(app)
    started = time.monotonic()
    for name in colleagues:
        client = client_from(guarded)
        status, _ = ATTEMPT[channel](client, name)
        assert signed_in(status, channel, client), (name, status)
        if channel == "web":
            response = client.post("/logout/", data={"csrf_token": form_token(client)})
            assert response.status_code == 302, name
            assert client.get("/projectrequestview/list/").status_code == 302
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("channel", ["web", "api"])
def test_six_wrong_passwords_lock_only_that_account(app, colleagues, channel):
    guarded = guarded_app(app)
    victim, colleague = colleagues[0], colleagues[1]
    attempt = ATTEMPT[channel]
    client = client_from(guarded)
    for _ in range(5):
        status, message = attempt(client, victim, WRONG)
        assert status == REFUSED[channel]
        assert LOCKED_ACCOUNT not in message
    status, message = attempt(client, victim, WRONG)
    assert status == 429
    assert LOCKED_ACCOUNT in message and "15 分钟" in message

    # the right password is refused too while the account waits, from any address
    for address in (OFFICE, "192.0.2.99"):
        status, message = attempt(client_from(guarded, address), victim)
        assert status == 429 and LOCKED_ACCOUNT in message

    # a colleague behind the same address is not affected
    other = client_from(guarded)
    status, _ = attempt(other, colleague)
    assert signed_in(status, channel, other)


def test_the_locked_web_login_page_says_how_long_to_wait(app, colleagues):
    guarded = guarded_app(app)
    client = client_from(guarded)
    for _ in range(5):
        login(client, colleagues[2], WRONG)
    response = login(client, colleagues[2])
    assert response.status_code == 429
    assert response.headers["Retry-After"].isdigit()
    assert int(response.headers["Retry-After"]) > 14 * 60
    html = response.get_data(as_text=True)
    assert 'id="username"' in html  # the login form, with the message above it
    assert any(LOCKED_ACCOUNT in text and "15 分钟" in text for text in flashes(html))


def test_web_and_api_logins_share_the_counters(app, colleagues):
    guarded = guarded_app(app)
    victim = colleagues[3]
    client = client_from(guarded)
    for _ in range(3):
        assert web_login(client, victim, WRONG)[0] == 302
    for _ in range(2):
        assert api_login(client, victim, WRONG)[0] == 401
    assert api_login(client, victim)[0] == 429
    assert web_login(client, victim)[0] == 429


def test_successful_logins_never_count_and_clear_the_accounts_failures(app, colleagues):
    guarded = guarded_app(app, LOGIN_ACCOUNT_FAILURES="2 per 15 minutes")
    name = colleagues[4]
    for _ in range(20):
        assert api_login(client_from(guarded), name)[0] == 200
    for _ in range(3):  # one failure, then success: the failure is forgotten
        assert api_login(client_from(guarded), name, WRONG)[0] == 401
        assert api_login(client_from(guarded), name)[0] == 200


def test_the_lock_ends_after_the_wait(app, colleagues):
    guarded = guarded_app(app, LOGIN_ACCOUNT_FAILURES="2 per 2 seconds")
    name = colleagues[5]
    client = client_from(guarded)
    for _ in range(2):
        assert api_login(client, name, WRONG)[0] == 401
    assert api_login(client, name)[0] == 429
    time.sleep(2.2)
    assert api_login(client, name)[0] == 200


@pytest.mark.parametrize("channel", ["web", "api"])
def test_one_address_trying_many_accounts_is_stopped_and_other_addresses_are_not(
        app, colleagues, channel):
    guarded = guarded_app(app, LOGIN_ADDRESS_FAILURES="20 per 15 minutes")
    attempt = ATTEMPT[channel]
    sprayer = client_from(guarded, "203.0.113.66")
    for name in colleagues[10:30]:  # one guess each: no account reaches its own limit
        assert attempt(sprayer, name, WRONG)[0] == REFUSED[channel]
    status, message = attempt(sprayer, colleagues[30], WRONG)
    assert status == 429 and LOCKED_ADDRESS in message
    # even a right password from that address waits ...
    assert attempt(client_from(guarded, "203.0.113.66"), colleagues[31])[0] == 429
    # ... but the same accounts log in from elsewhere
    client = client_from(guarded)
    status, _ = attempt(client, colleagues[10])
    assert signed_in(status, channel, client)


@pytest.mark.parametrize("proxies, trusted", [(1, True), (0, False)])
def test_x_forwarded_for_names_the_client_only_behind_configured_proxies(
        app, colleagues, proxies, trusted):
    guarded = guarded_app(app, LOGIN_ADDRESS_FAILURES="5 per 15 minutes", PROXY_COUNT=proxies)
    proxy = client_from(guarded, "10.0.0.1")  # every request arrives through the proxy

    def attempt(forwarded_for, name, password=WRONG):
        return proxy.post("/api/v1/security/login", headers={"X-Forwarded-For": forwarded_for},
                          json={"username": name, "password": password, "provider": "db"})

    for n, name in enumerate(colleagues[40:45]):
        # a sprayer that makes up a new forwarded address each time
        forged = "203.0.113.7" if trusted else f"203.0.113.{n + 1}"
        assert attempt(forged, name).status_code == 401
    blocked = attempt("203.0.113.7" if trusted else "203.0.113.99", colleagues[45], PASSWORD)
    assert blocked.status_code == 429
    # behind a trusted proxy, another office's address is unaffected
    other = attempt("198.51.100.77", colleagues[46], PASSWORD)
    assert other.status_code == (200 if trusted else 429)


def test_logout_is_never_throttled(app, colleagues):
    guarded = guarded_app(app, LOGIN_ADDRESS_FAILURES="2 per 15 minutes")
    client = client_from(guarded)
    for _ in range(2):
        login(client, "nobody-here", WRONG)
    assert login(client, "nobody-here", WRONG).status_code == 429  # the address waits
    for _ in range(15):
        assert client.get("/logout/").status_code == 200
        assert client.post("/logout/", data={"csrf_token": csrf_token(client)}
                           ).status_code == 302


def test_logins_go_on_while_the_counter_storage_is_down(app, colleagues):
    """Redis unreachable: no 500 and no company-wide lockout (the outage is logged)."""
    guarded = guarded_app(app, LOGIN_GUARD_STORAGE_URI="redis://127.0.0.1:1/0")
    client = client_from(guarded)
    assert api_login(client, colleagues[50], WRONG)[0] == 401
    assert api_login(client, colleagues[50])[0] == 200
    status, _ = web_login(client, colleagues[51])
    assert signed_in(status, "web", client)


def _redis_available():
    try:
        import redis

        return redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=1).ping()
    except Exception:
        return False


@pytest.mark.skipif(not _redis_available(), reason="no Redis at 127.0.0.1:6379")
def test_two_app_instances_share_the_counters_through_redis(app):
    """Two workers (two apps) with Redis storage: failures in one lock the account in the
    other. With memory:// each worker would count alone."""
    storage = {"LOGIN_GUARD_STORAGE_URI": "redis://127.0.0.1:6379/0"}
    first, second = guarded_app(app, **storage), guarded_app(app, **storage)
    account = f"nobody-{uuid.uuid4().hex[:12]}"  # fresh keys in the shared Redis
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    for n in range(5):
        worker = first if n % 2 else second
        assert api_login(client_from(worker, address), account, WRONG)[0] == 401
    assert api_login(client_from(first, address), account, WRONG)[0] == 429
    assert api_login(client_from(second, "192.0.2.1"), account, WRONG)[0] == 429

    separate = guarded_app(app), guarded_app(app)  # memory://: each counts alone
    for _ in range(5):
        assert api_login(client_from(separate[0], address), account, WRONG)[0] == 401
    assert api_login(client_from(separate[1], address), account, WRONG)[0] == 401
