"""Configuration reads the environment and fails fast: production refuses weak secret
keys and per-process login counters."""
import secrets

import pytest

import config

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def production_env(monkeypatch):
    """Everything production needs, so each test varies one thing."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/isgov")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", REDIS)
    return monkeypatch


@pytest.mark.parametrize("secret", [None, "", "changeme", "short-key"])
def test_production_refuses_to_start_without_a_real_secret_key(production_env, secret):
    monkeypatch = production_env
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.ProductionConfig.init()


WEAK_KEYS = {
    "one letter": "a" * 32,
    "two letters": "ab" * 32,
    "a repeated word": "s3cr3t-k3y!" * 4,
    "a repeated long half": "0123456789abcdefghij" * 2,
    "few characters": "aabbaabbccddccdd" + "abcdeabcdeabcdeaa",
    "a known default": "ThisIsMySecretKey",
    "too short": secrets.token_hex(15),
}


@pytest.mark.parametrize("secret", WEAK_KEYS.values(), ids=WEAK_KEYS.keys())
def test_production_refuses_a_low_entropy_secret_key(production_env, secret):
    production_env.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not acceptable"):
        config.ProductionConfig.init()


@pytest.mark.parametrize("make_key", [lambda: secrets.token_hex(32),
                                      lambda: secrets.token_urlsafe(32),
                                      lambda: secrets.token_hex(16)],
                         ids=["token_hex(32)", "token_urlsafe(32)", "token_hex(16)"])
def test_production_accepts_a_random_secret_key(production_env, make_key):
    key = make_key()
    while len(set(key)) < config.SECRET_KEY_MIN_DISTINCT:  # about once in 8000 draws
        key = make_key()
    production_env.setenv("SECRET_KEY", key)
    config.ProductionConfig.init()
    assert config.ProductionConfig.SECRET_KEY == key
    assert config.ProductionConfig.SESSION_COOKIE_SECURE is True


@pytest.mark.parametrize("storage", [None, "", "memory://", "memcached://127.0.0.1:11211"])
def test_production_refuses_login_counters_that_workers_do_not_share(production_env, storage):
    if storage is None:
        production_env.delenv("RATELIMIT_STORAGE_URI", raising=False)
    else:
        production_env.setenv("RATELIMIT_STORAGE_URI", storage)
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
        config.ProductionConfig.init()


@pytest.mark.parametrize("storage", [REDIS, "rediss://cache.example:6380/1"])
def test_production_keeps_login_counters_in_redis(production_env, storage):
    production_env.setenv("RATELIMIT_STORAGE_URI", storage)
    config.ProductionConfig.init()
    assert config.ProductionConfig.LOGIN_GUARD_STORAGE_URI == storage
    assert config.ProductionConfig.RATELIMIT_STORAGE_URI == storage


def test_the_embedded_setup_keeps_its_counters_in_memory():
    assert config.Config.RATELIMIT_STORAGE_URI == "memory://" or \
        __import__("os").environ.get("RATELIMIT_STORAGE_URI")
    assert config.Config.LOGIN_ACCOUNT_FAILURES == "5 per 15 minutes"
    assert config.Config.LOGIN_ADDRESS_FAILURES == "100 per 15 minutes"
    # FAB's throttle of every login POST per address (successes included) is off.
    assert config.Config.AUTH_RATE_LIMITED is False


def test_no_literal_secret_key_in_the_default_configuration():
    assert config.Config.SECRET_KEY in (None, "") or config.Config.SECRET_KEY == \
        __import__("os").environ.get("SECRET_KEY")


def test_session_cookie_is_http_only_and_same_site(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["FAB_PASSWORD_COMPLEXITY_ENABLED"] is True


def test_a_production_worker_keeps_its_start_up_objects_out_of_full_collections():
    """A full garbage collection walks only what requests made, not the app itself."""
    import gc

    from app import create_app

    assert config.Config.FREEZE_STARTUP_OBJECTS is True
    frozen_config = type("Frozen", (config.TestConfig,), {"FREEZE_STARTUP_OBJECTS": True})
    before = gc.get_freeze_count()
    try:
        create_app(frozen_config)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
    create_app(config.TestConfig)
    assert gc.get_freeze_count() == 0


def test_a_production_worker_freezes_what_its_first_requests_added_once_they_are_answered():
    """Compiled templates and statements of the first requests join the frozen objects
    after the response of the configured request is sent, not before (no one waits)."""
    import gc

    from app import create_app

    assert config.Config.GC_FREEZE_AFTER_REQUESTS
    assert not config.TestConfig.GC_FREEZE_AFTER_REQUESTS
    warm_config = type("Warm", (config.TestConfig,), {"GC_FREEZE_AFTER_REQUESTS": (3,)})
    app = create_app(warm_config)
    app.add_url_rule("/ping", "ping", lambda: "pong")  # a page without a database
    client = app.test_client()
    try:
        for _ in range(2):
            client.get("/ping").close()
        assert gc.get_freeze_count() == 0
        response = client.get("/ping")
        assert response.status_code == 200
        assert gc.get_freeze_count() == 0  # not while the response is still being sent
        response.close()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        client.get("/ping").close()
        assert gc.get_freeze_count() <= frozen  # once per configured request only
    finally:
        gc.unfreeze()


def test_a_production_worker_runs_full_collections_after_sending_a_response_not_inside_one():
    import gc

    from app import create_app, memory

    assert config.Config.GC_FULL_BETWEEN_REQUESTS and not config.TestConfig.GC_FULL_BETWEEN_REQUESTS
    threshold = gc.get_threshold()
    between = type("Between", (config.TestConfig,), {"GC_FULL_BETWEEN_REQUESTS": True})
    app = create_app(between)
    assert gc.get_threshold() == threshold  # a command of the app keeps Python's rule
    app.add_url_rule("/ping", "ping", lambda: "pong")
    client = app.test_client()
    try:
        client.get("/ping").close()
        assert gc.get_threshold()[2] == memory.NEVER  # no full pass starts by itself
        while gc.get_count()[2] < memory.FULL_AFTER:  # younger collections pile up
            gc.collect(1)
        response = client.get("/ping")
        assert gc.get_count()[2] >= memory.FULL_AFTER  # not inside the request
        response.close()
        assert gc.get_count()[2] == 0  # a full pass ran once the response was sent
    finally:
        gc.set_threshold(*threshold)
