"""Sign-in with an OpenID Connect provider (AUTH_METHOD=oidc, README "OpenID Connect").

Flask-AppBuilder's AUTH_OAUTH and Authlib speak the protocol (discovery, the
authorization-code flow with PKCE, state, nonce, the ID token's signature); this module
turns what the provider says about a person into the shared directory layer's terms
(app/directory.py maps groups to roles and names the department), gives the login page
its button and the local break-glass form, and asks the provider again every
DIRECTORY_RECHECK_MINUTES whether a signed-in person may still sign in.
"""
import logging
import secrets
import time

import jwt
import requests
from authlib.common.errors import AuthlibBaseError
from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask_appbuilder import expose
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.security.views import AuthOAuthView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext
from flask_login import login_user
from joserfc.errors import JoseError

from .directory import DirectoryRefused
from .login_guard import LoginLocked

log = logging.getLogger(__name__)

# Flask session keys: when the provider last confirmed the person (epoch seconds).
CHECKED_KEY = "_oidc_checked"
# What can go wrong talking to the provider: it refuses (OAuth errors, a bad ID token) or
# it cannot be reached.
REFUSED = (AuthlibBaseError, JoseError, ValueError, KeyError)
UNREACHABLE = (requests.RequestException,)


def provider_unreachable_message():
    return gettext("The company sign-in service (OpenID Connect) cannot be reached now. "
                   "Please try again later; an administrator can sign in with a local "
                   "account below.")


def _claim(claims, name):
    value = claims.get(name) if name else None
    return value if value not in ("", None) else None


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def oidc_person(claims, config, issuer):
    """What the provider says about a person, as Flask-AppBuilder's user info: the
    account name, names, e-mail, the groups (``role_keys`` for AUTH_ROLES_MAPPING), the
    department claim, and the directory identity (issuer and ``sub``)."""
    subject = _claim(claims, "sub")
    if subject is None:
        raise ValueError("the provider named no subject (sub)")
    username = _claim(claims, config["OIDC_USERNAME_CLAIM"]) or subject
    department = _claim(claims, config.get("DIRECTORY_DEPARTMENT_ATTRIBUTE"))
    return {
        "username": str(username),
        "first_name": str(_claim(claims, "given_name") or ""),
        "last_name": str(_claim(claims, "family_name") or _claim(claims, "name") or ""),
        "email": str(_claim(claims, "email") or ""),
        "role_keys": _as_list(_claim(claims, config["OIDC_GROUPS_CLAIM"])),
        "department": _as_list(department),
        "subject": str(subject),
        "issuer": issuer,
    }


def oidc_claims(remote, token):
    """The person's claims: the verified ID token (Authlib checked its signature, issuer,
    audience and nonce), completed by the userinfo endpoint, whose ``sub`` must match."""
    claims = dict(token.get("userinfo") or {})
    if not claims:
        raise ValueError("the provider sent no ID token")
    if remote.load_server_metadata().get("userinfo_endpoint"):
        extra = remote.userinfo(token=token)
        if extra.get("sub") != claims.get("sub"):
            raise ValueError("the userinfo endpoint named another subject")
        claims.update(extra)
    return claims


def recheck_due(config):
    checked = session.get(CHECKED_KEY)
    minutes = config.get("DIRECTORY_RECHECK_MINUTES", 5)
    return checked is None or time.time() - checked >= minutes * 60


def oidc_still_allowed(sm):
    """Ask the provider (refresh-token grant) whether this session's person may still
    sign in. False when it refuses: the person was disabled or removed, or their session
    at the provider ended. A provider that cannot be reached is not a refusal: the
    session lasts until the next check answers, or until PERMANENT_SESSION_LIFETIME."""
    provider = session.get("oauth_provider")
    remote = sm.oauth_remotes.get(provider) if sm.oauth_remotes else None
    tokens = session.get("oauth") or ()
    refresh_token = tokens[1] if len(tokens) > 1 else None
    if remote is None or not refresh_token:
        return False
    try:
        token = remote.fetch_access_token(grant_type="refresh_token",
                                          refresh_token=refresh_token)
    except UNREACHABLE as error:
        log.warning("OpenID Connect re-check: provider unreachable (%s)", error)
        return True
    except REFUSED as error:
        log.info("OpenID Connect re-check refused: %s", error)
        return False
    keep_refresh_token(provider, token.get("refresh_token") or refresh_token)
    return True


def keep_refresh_token(provider, refresh_token):
    """What the session keeps of the provider's tokens: the refresh token only (access
    and ID tokens of some providers fill most of a cookie's 4 kB), and when it last
    answered."""
    session["oauth"] = ("", refresh_token or "")
    session["oauth_provider"] = provider
    session[CHECKED_KEY] = time.time()


def provider_reachable(sm):
    """Whether the provider answers its discovery document now (recorded with each
    break-glass sign-in); None when no provider is configured."""
    for provider in sm.oauth_providers or ():
        url = provider["remote_app"].get("server_metadata_url")
        try:
            return requests.get(url, timeout=3).ok
        except UNREACHABLE:
            return False
    return None


def is_oidc_person(sm, user):
    """Whether ``user`` signs in through the OpenID Connect provider."""
    identity = getattr(user, "directory_identity", None)
    return identity is not None and identity.source in (sm.oauth_remotes or {})


def end_oidc_session():
    """Sign this session out (the provider no longer vouches for its person); the chosen
    language stays."""
    for key in [key for key in session if key != "locale"]:
        session.pop(key)


class AppAuthOIDCView(AuthOAuthView):
    """The login page of an OpenID Connect deployment: the provider's button, and a local
    form for the break-glass accounts (DIRECTORY_LOCAL_ACCOUNTS)."""

    login_template = "login_oidc.html"

    def _page(self, status=200, form=None):
        config = current_app.config
        label = config.get("OIDC_BUTTON_LABEL") or gettext("Sign in with the company account")
        page = self.render_template(
            self.login_template, title=self.title, appbuilder=self.appbuilder,
            providers=self.appbuilder.sm.oauth_providers, button_label=label,
            form=form or LoginForm_db(), next_url=request.args.get("next", ""),
            # Opened after a failed local sign-in, or when the provider cannot help.
            local_open=status != 200)
        response = make_response(page, status)
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/login/", methods=["GET", "POST"])
    @expose("/login/<provider>")
    def login(self, provider=None):
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        if request.method == "POST":
            return self._local_login()
        if provider is None:
            return self._page()
        if provider not in self.appbuilder.sm.oauth_remotes:
            abort(404)
        # FAB's state: a JWT carrying the request's arguments (next=), signed with a key
        # kept in the session; Authlib adds its own state, nonce and PKCE verifier.
        random_state = secrets.token_urlsafe(24)
        state = jwt.encode(request.args.to_dict(flat=False), random_state, algorithm="HS256")
        session["oauth_state"] = random_state
        remote = self.appbuilder.sm.oauth_remotes[provider]
        # The provider's address is known from an earlier sign-in even when it is down now:
        # ask first, so that the person reads why here, not a browser error there.
        if not provider_reachable(self.appbuilder.sm):
            flash(provider_unreachable_message(), "danger")
            return self._page(503)
        try:
            return remote.authorize_redirect(
                redirect_uri=self._callback_url(provider), state=state)
        except UNREACHABLE + REFUSED as error:
            log.warning("OpenID Connect: cannot start the sign-in (%s)", error)
            flash(provider_unreachable_message(), "danger")
            return self._page(503)

    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        """By POST only, as on the local login page (a GET shows a confirmation)."""
        if request.method != "POST":  # GET and HEAD (Flask answers HEAD with this view)
            return self.render_template("logout.html", appbuilder=self.appbuilder)
        return super().logout()

    def _callback_url(self, provider):
        return url_for(".oauth_authorized", provider=provider, _external=True)

    def _local_login(self):
        """Break-glass: the local password of the accounts DIRECTORY_LOCAL_ACCOUNTS names
        (the login guard counts failures as on the local login page)."""
        form = LoginForm_db()
        if not form.validate_on_submit():
            flash(gettext("Invalid login. Please try again."), "warning")
            return self._page(400, form)
        sm = self.appbuilder.sm
        try:
            user = sm.auth_user_db(form.username.data, form.password.data)
        except LoginLocked as locked:
            flash(locked.message(), "danger")
            response = self._page(429, form)
            response.headers["Retry-After"] = str(locked.wait)
            return response
        if user is None:
            flash(gettext("Invalid login. Please try again."), "warning")
            return self._page(401, form)
        login_user(user, remember=False)
        return redirect(self._get_safe_next_url())

    def _refused(self, message, status=401):
        flash(message, "danger")
        return self._page(status)

    @expose("/oauth-authorized/<provider>")
    def oauth_authorized(self, provider):
        sm = self.appbuilder.sm
        remote = sm.oauth_remotes.get(provider)
        if remote is None:
            abort(404)
        if request.args.get("error"):
            return self._refused(gettext("The company sign-in service refused the sign-in."))
        try:
            token = remote.authorize_access_token()
            next_state = jwt.decode(request.args["state"], session.pop("oauth_state"),
                                    algorithms=["HS256"])
            person = sm.oauth_user_info(provider, token)
        except UNREACHABLE as error:
            log.warning("OpenID Connect callback: provider unreachable (%s)", error)
            return self._refused(provider_unreachable_message(), 503)
        except REFUSED + (jwt.InvalidTokenError,) as error:
            # A replayed or forged callback: unknown state, wrong nonce, code refused.
            log.warning("OpenID Connect callback refused: %r", error)
            return self._refused(gettext(
                "The sign-in could not be completed: it was refused, had expired or was "
                "altered. Please sign in again."), 400)
        try:
            user = sm.auth_user_oauth(dict(person, source=provider))
        except DirectoryRefused as refused:
            self.appbuilder.sm.session.rollback()
            return self._refused(str(refused), 403)
        if user is None:
            return self._refused(gettext(
                "Your account is deactivated in this system. Please ask the "
                "administrator."), 403)
        if not token.get("refresh_token"):
            log.warning("OpenID Connect: the provider issued no refresh token; the session "
                        "ends at its first re-check (DIRECTORY_RECHECK_MINUTES)")
        keep_refresh_token(provider, token.get("refresh_token"))
        login_user(user, remember=False)
        next_url = (next_state.get("next") or [None])[0]
        return redirect(get_safe_redirect(next_url) if next_url
                        else self.appbuilder.get_url_for_index)
