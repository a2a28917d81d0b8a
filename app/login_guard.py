"""Login protection that never locks out an office.

Only FAILED logins count, per account and per client address, in the storage of
``LOGIN_GUARD_STORAGE_URI`` (Redis in production, shared by every worker; the
``limits`` library that Flask-Limiter uses). After ``LOGIN_ACCOUNT_FAILURES``
failures one account waits, whatever address the attempts come from; colleagues
behind the same address are not affected. A much higher
``LOGIN_ADDRESS_FAILURES`` stops one address from trying password after password
across many accounts. Web and API logins share the counters (both authenticate
through ``AppSecurityManager.auth_user_db``); logout is never counted or throttled.

The client address is ``request.remote_addr``: behind ``PROXY_COUNT`` trusted
proxies ProxyFix takes it from ``X-Forwarded-For`` (config.py, create_app).
"""
import hashlib
import math
import time
from contextlib import contextmanager

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

NAMESPACE = "login-failures"


class LoginLocked(Exception):
    """Logins are refused for a while; ``wait`` seconds until the next attempt."""

    def __init__(self, wait, account):
        super().__init__(wait)
        self.wait = wait
        self.account = account

    @property
    def minutes(self):
        return max(1, math.ceil(self.wait / 60))

    def message(self):
        if self.account:
            return str(_l("Too many failed logins for this account. Please wait "
                          "%(minutes)s minute(s) and try again, or ask the administrator "
                          "to reset your password.", minutes=self.minutes))
        return str(_l("Too many failed logins from your network address. Please wait "
                      "%(minutes)s minute(s) and try again.", minutes=self.minutes))


class LoginGuard:
    """Counters of failed logins; one per app (``app.extensions["login_guard"]``)."""

    def __init__(self, app):
        uri = app.config.get("LOGIN_GUARD_STORAGE_URI") or app.config["RATELIMIT_STORAGE_URI"]
        self.limiter = MovingWindowRateLimiter(storage_from_string(uri))
        self.account_limit = parse(app.config["LOGIN_ACCOUNT_FAILURES"])
        self.address_limit = parse(app.config["LOGIN_ADDRESS_FAILURES"])
        app.extensions["login_guard"] = self

    @staticmethod
    def _account(username):
        # Hashed: any string a visitor types becomes a short, safe storage key.
        name = (username or "").strip().lower()
        return hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:32]

    def _counters(self, username):
        return [(self.account_limit, (NAMESPACE, "account", self._account(username)), True),
                (self.address_limit, (NAMESPACE, "address", request.remote_addr or "-"), False)]

    def check(self, username):
        """Raise LoginLocked while the account or this address must wait."""
        with _storage_outage():
            for limit, key, account in self._counters(username):
                if not self.limiter.test(limit, *key):
                    reset_time, _ = self.limiter.get_window_stats(limit, *key)
                    raise LoginLocked(max(1, math.ceil(reset_time - time.time())), account)

    def failed(self, username):
        with _storage_outage():
            for limit, key, _ in self._counters(username):
                self.limiter.hit(limit, *key)

    def succeeded(self, username):
        """A successful login forgets the account's earlier failures (not the address's)."""
        with _storage_outage():
            self.limiter.clear(self.account_limit, NAMESPACE, "account",
                               self._account(username))


@contextmanager
def _storage_outage():
    """While the counters' storage (Redis) is unreachable, logins go on uncounted and the
    outage is logged: refusing every login would lock out the whole company (like
    Flask-Limiter's RATELIMIT_SWALLOW_ERRORS)."""
    try:
        yield
    except LoginLocked:
        raise
    except Exception:
        current_app.logger.exception("Failed-login counters unavailable; login not counted")


def login_guard():
    return current_app.extensions["login_guard"]
