"""People from the company directory: accounts, roles and departments (6.2.1, 6.3.3).

Every way of signing in with the company directory (LDAP / Active Directory in
app/ldap_directory.py; an OpenID Connect provider) ends in ONE function,
``apply_directory_identity``: it creates or updates the account, sets its roles from
``AUTH_ROLES_MAPPING`` at every sign-in, its department from the directory, and keeps
what the directory said in ``DirectoryIdentity`` (a governed record: its changes are in
the change history, by DN or subject).

A person whose department cannot be determined signs in with the ``Unassigned`` role
only (reads the shared reference data, writes nothing) and is listed for the
administrator (用户权限 → 待分配部门).

Leavers: a source that can look a person up again registers a checker
(``register_checker``); ``still_in_directory`` asks it at most every
``DIRECTORY_RECHECK_MINUTES`` per person, on every web request and API call, and
deactivates the account of a person the directory no longer lists (which ends their
sessions and tokens, app/sessions.py). ``flask users sync`` does the same for everyone.
"""
import datetime as dt
import logging
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from .base import AppUser, DirectoryIdentity, department_model, utcnow
from .extensions import db

log = logging.getLogger(__name__)

UNASSIGNED_ROLE = "Unassigned"
# DirectoryIdentity.status
ACTIVE, NO_DEPARTMENT, NO_GROUP = "active", "no_department", "no_group"
REMOVED, DISABLED = "removed", "disabled"
STATUSES = {
    ACTIVE: _l("In the directory"),
    NO_DEPARTMENT: _l("Department unknown"),
    NO_GROUP: _l("In no group with access"),
    REMOVED: _l("Removed from the directory"),
    DISABLED: _l("Disabled in the directory"),
}


class DirectoryUnavailable(Exception):
    """The directory cannot be reached (or refuses the service account)."""


class DirectoryRefused(Exception):
    """The directory knows the person, but this product does not let them in; the message
    says why (shown to the person)."""


@dataclass
class DirectoryPerson:
    """One person as a directory lookup found them (checkers and ``flask users sync``)."""

    user_info: dict
    groups: list = field(default_factory=list)
    # False: listed, but disabled (Active Directory's userAccountControl, a filter).
    enabled: bool = True


# source -> function(identity) -> DirectoryPerson, or None when the person is gone;
# raises DirectoryUnavailable. Registered by each source that can look a person up.
_CHECKERS = {}


def register_checker(source, checker):
    """Let ``still_in_directory`` and ``flask users sync`` look up people of ``source``."""
    _CHECKERS[source] = checker


def checker_for(source):
    return _CHECKERS.get(source)


# ------------------------------------------------------------------ sign-in


def apply_directory_identity(user_info: dict, groups: list, source: str):
    """The account of a person the directory has just vouched for, created or brought up
    to date, and committed; None when the account is deactivated here.

    ``user_info``: ``username`` (required; the account name, unique), ``subject`` (the
    person's stable id in the directory: the DN for LDAP, the ``sub`` claim for OIDC;
    defaults to the username), ``first_name``, ``last_name``, ``email``, and
    ``department``: the value (or list of values) of the department attribute, if the
    source has one (``DIRECTORY_DEPARTMENT_ATTRIBUTE`` names it for LDAP).
    ``groups``: the person's group keys, as ``AUTH_ROLES_MAPPING`` and
    ``DIRECTORY_DEPARTMENT_GROUPS`` name them (LDAP group DNs, OIDC group names).
    ``source``: "ldap" or the OIDC provider's name.

    * Roles: those ``AUTH_ROLES_MAPPING`` gives the groups, replacing the previous ones at
      every sign-in (``AUTH_ROLES_SYNC_AT_LOGIN``); none mapped: the
      ``AUTH_USER_REGISTRATION_ROLE`` if set, else DirectoryRefused.
    * Department: the attribute's value (through ``DIRECTORY_DEPARTMENT_VALUES``, then as
      a department code or name), else the one department the groups map to
      (``DIRECTORY_DEPARTMENT_GROUPS``). Not determined: the account has no department and
      the ``Unassigned`` role only (no write rights), and is listed for the administrator.
    * A local break-glass account (``DIRECTORY_LOCAL_ACCOUNTS``) is never taken over:
      DirectoryRefused.
    * An account deactivated because the person had left the directory is reactivated;
      one an administrator deactivated stays so (None).

    Does not count the sign-in itself (FAB's ``update_user_auth_stat`` does) and does not
    log the user in.
    """
    username = (user_info.get("username") or "").strip()
    if not username:
        raise DirectoryRefused(str(_l("The directory gave no user name.")))
    if is_local_account(username):
        raise DirectoryRefused(str(_l("This account signs in with its local password only.")))
    subject = (user_info.get("subject") or username).strip()
    session = db.session
    identity = session.query(DirectoryIdentity).filter_by(source=source,
                                                          subject=subject).one_or_none()
    user = identity.user if identity is not None else _find_user(username)
    if user is not None and identity is None:
        identity = user.directory_identity  # the same person under a new DN (moved)
    if user is not None and not user.active and not (
            identity is not None and identity.deactivated_by_directory):
        return None
    roles, mapped = _roles_for(groups)
    department, value = _department_for(user_info.get("department"), groups)
    if user is None:
        user = AppUser(username=username, active=True, email=_email(user_info, username),
                       first_name="", last_name="")
        session.add(user)
    _apply_names(user, user_info)
    user.active = True
    user.department = department
    user.roles = roles if department is not None else [_role(UNASSIGNED_ROLE)]
    if identity is None:
        identity = DirectoryIdentity(user=user, source=source)
        session.add(identity)
        user.password = None  # a local account taken over: the directory's password only
    identity.source = source
    identity.subject = subject
    identity.groups = "\n".join(sorted(set(groups)))[:20000]
    identity.department_value = value
    identity.directory_roles = ",".join(sorted(role.name for role in mapped))
    identity.status = ACTIVE if department is not None else NO_DEPARTMENT
    identity.deactivated_by_directory = False
    identity.checked_at = utcnow()
    session.commit()
    return user


def _find_user(username):
    return (db.session.query(AppUser)
            .filter(func.lower(AppUser.username) == username.lower()).one_or_none())


def _email(user_info, username):
    email = (user_info.get("email") or "").strip()
    if not email or db.session.query(AppUser.id).filter(
            func.lower(AppUser.email) == email.lower(),
            func.lower(AppUser.username) != username.lower()).first() is not None:
        return f"{username}@directory.invalid"  # FAB needs a unique address
    return email


def _apply_names(user, user_info):
    for attr in ("first_name", "last_name"):
        value = (user_info.get(attr) or "").strip()[:64]
        if value or not getattr(user, attr):
            setattr(user, attr, value)
    email = (user_info.get("email") or "").strip()
    if email and email.lower() != (user.email or "").lower():
        user.email = _email(user_info, user.username)


def _role(name):
    role = current_app.appbuilder.sm.find_role(name)
    if role is None:
        raise DirectoryRefused(str(_l("Role %(role)s is missing: run flask seed.", role=name)))
    return role


def _roles_for(groups):
    """(roles the account gets, roles the groups map to)."""
    sm = current_app.appbuilder.sm
    mapped = sorted(sm.get_roles_from_keys(list(groups)), key=lambda role: role.name)
    if mapped:
        return mapped, mapped
    fallback = current_app.config.get("AUTH_USER_REGISTRATION_ROLE")
    if fallback:
        return [_role(fallback)], []
    raise DirectoryRefused(str(_l(
        "Your directory account is in no group that gives access to this system. Ask the "
        "administrator to add you to one.")))


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value).strip()] if str(value).strip() else []


def _department_for(attribute_values, groups):
    """(department or None, the directory's own words for it, to show the administrator)."""
    config = current_app.config
    Department = department_model()
    values = _as_list(attribute_values)
    translate = config.get("DIRECTORY_DEPARTMENT_VALUES") or {}
    for value in values:
        key = translate.get(value, value)
        found = (db.session.query(Department)
                 .filter((Department.code == key) | (Department.name == key)).first())
        if found is not None:
            return found, value[:200]
    by_group = config.get("DIRECTORY_DEPARTMENT_GROUPS") or {}
    codes = {by_group[group] for group in groups if group in by_group}
    if len(codes) == 1:
        found = db.session.query(Department).filter_by(code=codes.pop()).one_or_none()
        if found is not None:
            group = next(g for g in groups if g in by_group)
            return found, group[:200]
    said = ", ".join(values) or ", ".join(sorted(g for g in groups if g in by_group))
    return None, said[:200] or None


def is_local_account(username):
    """A break-glass account: signs in with its local password whatever the directory."""
    names = {name.lower() for name in current_app.config.get("DIRECTORY_LOCAL_ACCOUNTS", ())}
    return (username or "").strip().lower() in names


# ----------------------------------------------------------------- leavers


def deactivate(identity, status):
    """The person is gone from (or disabled in) the directory: the account is deactivated,
    which ends its sessions and tokens (app/sessions.py). The caller commits."""
    identity.status = status
    identity.user.active = False
    identity.deactivated_by_directory = True
    identity.checked_at = utcnow()


def refresh(identity, person):
    """Apply one lookup (``DirectoryPerson`` or None) to an identity; the caller commits.
    Returns a list of what changed, as words for a report."""
    user = identity.user
    if person is None or not person.enabled:
        status = REMOVED if person is None else DISABLED
        if user.active or identity.status != status:
            was_active = user.active
            deactivate(identity, status)
            return [f"deactivated ({status})" if was_active else f"status {status}"]
        identity.checked_at = utcnow()
        return []
    if not user.active and not identity.deactivated_by_directory:
        identity.checked_at = utcnow()
        return []  # an administrator's deactivation stands
    before = _describe(user, identity)
    try:
        roles, mapped = _roles_for(person.groups)
    except DirectoryRefused:
        roles, mapped = [], []
    department, value = _department_for(person.user_info.get("department"), person.groups)
    _apply_names(user, person.user_info)
    if not roles:
        if user.active or identity.status != NO_GROUP:
            deactivate(identity, NO_GROUP)
            return [f"deactivated ({NO_GROUP})"] if before["active"] else [f"status {NO_GROUP}"]
        identity.checked_at = utcnow()
        return []
    if not user.active and identity.deactivated_by_directory:
        # Back in the directory: the account waits for the person's own next sign-in.
        identity.checked_at = utcnow()
        return []
    user.department = department
    user.roles = roles if department is not None else [_role(UNASSIGNED_ROLE)]
    identity.groups = "\n".join(sorted(set(person.groups)))[:20000]
    identity.department_value = value
    identity.directory_roles = ",".join(sorted(role.name for role in mapped))
    identity.status = ACTIVE if department is not None else NO_DEPARTMENT
    identity.checked_at = utcnow()
    after = _describe(user, identity)
    return [f"{key}: {before[key]} -> {after[key]}" for key in before if before[key] != after[key]]


def _describe(user, identity):
    department = user.department
    return {"active": user.active,
            "roles": ",".join(sorted(role.name for role in user.roles)) or "-",
            "department": department.code if department is not None else "-"}


def still_in_directory(user):
    """Whether ``user`` may go on (this request): True for a local account and within
    ``DIRECTORY_RECHECK_MINUTES`` of the last check; else the directory is asked again.
    A person it no longer lists (or lists as disabled) is deactivated here, and False.
    While the directory cannot be reached, people already signed in go on (and it is
    asked again at their next request)."""
    identity = getattr(user, "directory_identity", None)
    if identity is None:
        return True
    if db.session()._flushing:
        # The user is first read inside a flush (the change history asks who acts): the
        # check, which commits, waits for the next request.
        return True
    checker = checker_for(identity.source)
    if checker is None:
        return True
    minutes = current_app.config.get("DIRECTORY_RECHECK_MINUTES", 5)
    if identity.checked_at and utcnow() - identity.checked_at < dt.timedelta(minutes=minutes):
        return True
    try:
        person = checker(identity)
    except DirectoryUnavailable as error:
        log.warning("Directory unavailable; %s not re-checked: %s", user.username, error)
        return True
    refresh(identity, person)
    db.session.commit()
    return bool(user.active)


def sync_all(sources=None):
    """Look up every account from the directory (``flask users sync``): deactivate those
    gone or disabled, bring roles and departments up to date. Commits; returns
    [(username, [changes])] of the accounts that changed. Idempotent."""
    query = db.session.query(DirectoryIdentity).order_by(DirectoryIdentity.id)
    report = []
    for identity in query.all():
        if sources and identity.source not in sources:
            continue
        checker = checker_for(identity.source)
        if checker is None:
            continue
        changes = refresh(identity, checker(identity))
        if changes:
            report.append((identity.user.username, changes))
    db.session.commit()
    return report
