"""Sign-in and look-ups against LDAP / Active Directory (``AUTH_METHOD=ldap``).

Flask-AppBuilder's LDAP settings (``AUTH_LDAP_*`` in config.py) and its helpers
(``_ldap_bind``, ``ldap_extract``, ``ldap_extract_list``) over python-ldap, in the
"search then bind" flow: the service account (``AUTH_LDAP_BIND_USER``) finds the person
under ``AUTH_LDAP_SEARCH`` by ``AUTH_LDAP_UID_FIELD`` (within
``AUTH_LDAP_SEARCH_FILTER``: who may sign in at all), then the person's own password is
checked by binding as them. What FAB's ``auth_user_ldap`` does not tell apart is told
apart here: a directory that cannot be reached (DirectoryUnavailable, a clear message
to the person) from a wrong password, and a person disabled (outside the filter) from
one removed. The account itself is made by app/directory.py.

python-ldap compiles against libldap2-dev and libsasl2-dev: it is pinned in
requirements-ldap.txt, installed by CI and by deployments that sign in with LDAP; the
embedded default (``make run``) never imports it.
"""
from flask import current_app

from .directory import DirectoryPerson, DirectoryUnavailable, apply_directory_identity, \
    register_checker

SOURCE = "ldap"


def ldap_module():
    try:
        import ldap
        import ldap.filter  # noqa: F401
    except ImportError:  # pragma: no cover - configuration error, refused at start-up
        raise DirectoryUnavailable("python-ldap is not installed "
                                   "(pip install -r requirements-ldap.txt)") from None
    return ldap


def settings_problem(config):
    """Why the LDAP settings cannot work, or None (checked when the app starts)."""
    try:
        import ldap  # noqa: F401
    except ImportError:
        return ("AUTH_METHOD=ldap needs python-ldap: apt-get install libldap2-dev "
                "libsasl2-dev, then pip install -r requirements-ldap.txt")
    missing = [env for key, env in (("AUTH_LDAP_SERVER", "LDAP_SERVER"),
                                    ("AUTH_LDAP_SEARCH", "LDAP_SEARCH"),
                                    ("AUTH_LDAP_BIND_USER", "LDAP_BIND_USER"))
               if not config.get(key)]
    if missing:
        return f"AUTH_METHOD=ldap needs {', '.join(missing)}"
    return mapping_problem(config)


def mapping_problem(config):
    """Why AUTH_ROLES_MAPPING names a role that does not exist, or None."""
    roles = set(config.get("FAB_ROLES") or ()) | {config.get("AUTH_ROLE_ADMIN"),
                                                   config.get("AUTH_ROLE_PUBLIC")}
    for group, names in (config.get("AUTH_ROLES_MAPPING") or {}).items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return f"AUTH_ROLES_MAPPING[{group!r}] must be a list of role names"
        unknown = sorted(set(names) - roles)
        if unknown:
            return (f"AUTH_ROLES_MAPPING[{group!r}] names unknown roles {unknown}; "
                    f"roles: {', '.join(sorted(r for r in roles if r))}")
    return None


def _connect():
    """A connection bound as the service account; DirectoryUnavailable when it fails."""
    ldap = ldap_module()
    config = current_app.config
    timeout = config.get("LDAP_TIMEOUT", 5)
    try:
        con = ldap.initialize(config["AUTH_LDAP_SERVER"])
        con.set_option(ldap.OPT_REFERRALS, 0)
        con.set_option(ldap.OPT_NETWORK_TIMEOUT, timeout)
        con.set_option(ldap.OPT_TIMEOUT, timeout)
        # TLS settings of this connection (not the process-wide ones FAB sets), then a
        # TLS context made from them.
        if config.get("AUTH_LDAP_TLS_CACERTFILE"):
            con.set_option(ldap.OPT_X_TLS_CACERTFILE, config["AUTH_LDAP_TLS_CACERTFILE"])
        if config.get("AUTH_LDAP_ALLOW_SELF_SIGNED"):
            con.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_ALLOW)
        else:
            con.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        con.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        if config.get("AUTH_LDAP_USE_TLS"):
            con.start_tls_s()
        con.simple_bind_s(config["AUTH_LDAP_BIND_USER"], config["AUTH_LDAP_BIND_PASSWORD"])
    except ldap.LDAPError as error:
        raise DirectoryUnavailable(_describe(error)) from None
    return con


def _describe(error):
    args = error.args[0] if error.args else {}
    if isinstance(args, dict):
        return args.get("desc", "") + (f" ({args['info']})" if args.get("info") else "")
    return str(error)


def _fields():
    config = current_app.config
    return [name for name in (config["AUTH_LDAP_UID_FIELD"], config["AUTH_LDAP_FIRSTNAME_FIELD"],
                              config["AUTH_LDAP_LASTNAME_FIELD"], config["AUTH_LDAP_EMAIL_FIELD"],
                              config["AUTH_LDAP_GROUP_FIELD"],
                              config.get("DIRECTORY_DEPARTMENT_ATTRIBUTE")) if name]


def _search(con, filter_str):
    """(dn, attributes) of the one entry matching, or None."""
    ldap = ldap_module()
    try:
        found = con.search_s(current_app.config["AUTH_LDAP_SEARCH"], ldap.SCOPE_SUBTREE,
                             filter_str, _fields())
    except ldap.NO_SUCH_OBJECT:
        return None
    except ldap.LDAPError as error:
        raise DirectoryUnavailable(_describe(error)) from None
    entries = [(dn, attrs) for dn, attrs in found if dn is not None and isinstance(attrs, dict)]
    return entries[0] if len(entries) == 1 else None


def _filter(username, with_policy=True):
    ldap = ldap_module()
    config = current_app.config
    own = f"({config['AUTH_LDAP_UID_FIELD']}={ldap.filter.escape_filter_chars(username)})"
    policy = config.get("AUTH_LDAP_SEARCH_FILTER") if with_policy else ""
    return f"(&{policy}{own})" if policy else own


def _person(dn, attrs, enabled=True):
    config = current_app.config
    sm = current_app.appbuilder.sm
    department = config.get("DIRECTORY_DEPARTMENT_ATTRIBUTE")
    user_info = {
        "username": sm.ldap_extract(attrs, config["AUTH_LDAP_UID_FIELD"], ""),
        "subject": dn,
        "first_name": sm.ldap_extract(attrs, config["AUTH_LDAP_FIRSTNAME_FIELD"], ""),
        "last_name": sm.ldap_extract(attrs, config["AUTH_LDAP_LASTNAME_FIELD"], ""),
        "email": sm.ldap_extract(attrs, config["AUTH_LDAP_EMAIL_FIELD"], ""),
        "department": sm.ldap_extract_list(attrs, department) if department else [],
    }
    groups = sm.ldap_extract_list(attrs, config["AUTH_LDAP_GROUP_FIELD"])
    return DirectoryPerson(user_info=user_info, groups=groups, enabled=enabled)


def sign_in(username, password):
    """The account of ``username`` if the directory accepts ``password``; None for a
    wrong password or a person the directory does not let in (unknown, disabled).
    Raises DirectoryUnavailable, and DirectoryRefused (app/directory.py)."""
    username = (username or "").strip()
    if not username or not password:
        return None  # an empty password would be an anonymous bind, which succeeds
    ldap = ldap_module()
    sm = current_app.appbuilder.sm
    con = _connect()
    try:
        found = _search(con, _filter(username))
        if found is None:
            return None
        dn, attrs = found
        try:
            if not sm._ldap_bind(ldap, con, dn, password):
                return None
        except ldap.LDAPError as error:
            raise DirectoryUnavailable(_describe(error)) from None
    finally:
        con.unbind_s()
    person = _person(dn, attrs)
    person.user_info["username"] = person.user_info["username"] or username
    return apply_directory_identity(person.user_info, person.groups, SOURCE)


def lookup(identity):
    """The person behind ``identity`` as the directory lists them now: a DirectoryPerson
    (``enabled`` False when outside ``AUTH_LDAP_SEARCH_FILTER``), or None when gone."""
    username = identity.user.username
    con = _connect()
    try:
        found = _search(con, _filter(username))
        if found is not None:
            return _person(*found)
        if current_app.config.get("AUTH_LDAP_SEARCH_FILTER"):
            found = _search(con, _filter(username, with_policy=False))
            if found is not None:
                return _person(*found, enabled=False)
        return None
    finally:
        con.unbind_s()


def reachable():
    """Whether the directory answers the service account now (break-glass records it)."""
    try:
        _connect().unbind_s()
    except DirectoryUnavailable:
        return False
    return True


register_checker(SOURCE, lookup)
