"""Sessions and tokens that end: one security stamp per user.

Every web session (Flask session key ``_stamp``) and every JWT, access and refresh
(claim ``stamp``), carries the user's stamp at the time of login. Each request
compares it with the stored one (AppSecurityManager.load_user / load_user_jwt).
The stamp changes, ending every session and token of that user at once, when the
password changes (own form, an administrator's reset, any other path), when the
user is deactivated or reactivated, and when the user logs out.
"""
from flask import has_request_context, session
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from .base import AppUser, new_security_stamp

SESSION_KEY = "_stamp"
CLAIM = "stamp"
# A change of any of these ends the user's sessions and tokens.
ENDING_FIELDS = ("password", "active")


def end_sessions(user):
    """End every session and token of ``user`` (the caller commits)."""
    user.security_stamp = new_security_stamp()


def remember_stamp(user):
    """Bind this web session to the user's current stamp (at login, after own changes)."""
    if has_request_context():
        session[SESSION_KEY] = user.security_stamp


def session_is_current(user):
    return has_request_context() and session.get(SESSION_KEY) == user.security_stamp


@event.listens_for(Session, "before_flush")
def rotate_stamps(session_, flush_context, instances):
    for obj in session_.dirty:
        if not isinstance(obj, AppUser):
            continue
        state = inspect(obj)
        for name in ENDING_FIELDS:
            history = state.attrs[name].history
            if history.added and list(history.added) != list(history.deleted or ()):
                end_sessions(obj)
                break
