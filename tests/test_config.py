"""Configuration reads the environment and fails fast; login is rate limited."""
import pytest

import config
from conftest import PASSWORD, build_app, login


@pytest.mark.parametrize("secret", [None, "", "changeme", "short-key"])
def test_production_refuses_to_start_without_a_real_secret_key(monkeypatch, secret):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/isgov")
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.ProductionConfig.init()


def test_production_accepts_a_long_random_secret_key(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/isgov")
    monkeypatch.setenv("SECRET_KEY", "f" * 64)
    config.ProductionConfig.init()
    assert config.ProductionConfig.SECRET_KEY == "f" * 64
    assert config.ProductionConfig.SESSION_COOKIE_SECURE is True


def test_no_literal_secret_key_in_the_default_configuration():
    assert config.Config.SECRET_KEY in (None, "") or config.Config.SECRET_KEY == \
        __import__("os").environ.get("SECRET_KEY")


def test_session_cookie_is_http_only_and_same_site(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["FAB_PASSWORD_COMPLEXITY_ENABLED"] is True


@pytest.fixture
def limited_app(app):
    """The session database, served by an app whose login limit is 3 a minute."""
    return build_app(app.config["SQLALCHEMY_DATABASE_URI"], AUTH_RATE_LIMIT="3 per minute")


def test_web_login_is_rate_limited(limited_app):
    client = limited_app.test_client()
    statuses = [login(client, "clerk_fin", "wrong-Pass-99").status_code for _ in range(5)]
    assert statuses[:3] == [302, 302, 302]
    assert statuses[3:] == [429, 429]
    assert login(client, "clerk_fin").status_code == 429


def test_api_login_is_rate_limited(limited_app):
    client = limited_app.test_client()
    body = {"username": "clerk_fin", "password": "wrong", "provider": "db"}
    statuses = [client.post("/api/v1/security/login", json=body).status_code for _ in range(5)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]
    # the right password is refused too while the limit holds
    ok = client.post("/api/v1/security/login",
                     json={**body, "password": PASSWORD})
    assert ok.status_code == 429
