"""Who may see and change what: the security manager and department scoping.

Roles and their permissions are data (``FAB_ROLES`` in config.py). FAB's
per-method permissions are collapsed to ``can_read`` / ``can_write`` per record
type (``PERMISSIONS`` below). Department scoping is ONE rule, ``read_clause``
and ``check_write``, applied by ``ScopedInterface`` (the data layer under every
list, show, edit, delete, action, REST call and attachment download).
"""
import datetime as dt
from contextvars import ContextVar
from dataclasses import dataclass, replace

from flask import (
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    make_response,
    request,
    session,
)
from flask_appbuilder import ModelView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.const import AUTH_DB, AUTH_LDAP, AUTH_OAUTH
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import (
    AuthDBView,
    AuthLDAPView,
    PermissionModelView,
    PermissionViewModelView,
    RoleModelView,
    UserDBModelView,
    UserGroupModelView,
    UserLDAPModelView,
    UserOAuthModelView,
    ViewMenuModelView,
)
from flask_appbuilder.widgets import ListWidget
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import user_logged_in
from sqlalchemy import Boolean, any_, false, func, inspect, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import RelationshipDirection, joinedload
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from . import ldap_directory
from .base import AppUser, Delegation, DirectoryIdentity
from .directory import (
    STATUSES,
    DirectoryRefused,
    DirectoryUnavailable,
    apply_directory_identity,
    is_local_account,
    still_in_directory,
)
from .export import ExportMixin
from .extensions import db
from .filters import SafeFilters, typed_filters
from .labels import LABELS
from .login_guard import LoginLocked, login_guard
from .oidc import (
    AppAuthOIDCView,
    end_oidc_session,
    is_oidc_person,
    oidc_claims,
    oidc_person,
    oidc_still_allowed,
    provider_reachable,
    recheck_due,
)
from .sessions import CLAIM, end_sessions, remember_stamp, session_is_current

UNSCOPED_ROLES = frozenset({"Admin", "ITStaff", "Management", "Auditor"})
DEPARTMENT_ROLES = frozenset({"Clerk", "DeptHead"})

# FAB method name -> collapsed permission, shared by ModelViews and ModelRestApis.
PERMISSIONS = {
    # ModelView
    "list": "read", "show": "read", "download": "read",
    # An export reads what the list shows, as the list's reader (app/export.py).
    "export": "read",
    "add": "write", "edit": "write", "delete": "write", "action": "write",
    "action_post": "write", "muldelete": "write",
    # Workflow steps: whoever may read a record may try; the workflow decides.
    "transition": "read",
    # The printable approval form (审批单): whoever may read the record.
    "approval_form": "read",
    # ModelRestApi
    "get": "read", "get_list": "read", "info": "read",
    "post": "write", "put": "write",
}


class ScopeError(Exception):
    """The record lies outside the user's department (shown to the user as is)."""


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    department_id: int | None = None
    expert: bool = False
    user_id: int | None = None
    # What the people one stands in for today see (delegations): read, never write.
    delegated: tuple = ()
    # A Clerk/DeptHead of the IT department: also sees the records the IT department
    # runs for everyone (``__it_managed__``).
    it_department: bool = False


NOTHING = Scope()
EVERYTHING = Scope(everything=True)


def current_actor():
    """The logged-in user of this request (web session or JWT), or None (CLI, seeds)."""
    if not has_request_context():
        return None
    user = getattr(g, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    return None


def principals_of(user, today=None):
    """Everyone (active) who has named ``user`` their substitute for ``today``; for today,
    looked up once per request (scoping and every workflow check of a page ask)."""
    if today is not None or not has_request_context():
        return _principals_of(user, today or dt.date.today())
    cache = g.setdefault("principals_today", {})
    key = (user.id, dt.date.today())
    if key not in cache:
        cache[key] = _principals_of(user, key[1])
    return list(cache[key])


def _principals_of(user, today):
    return (db.session.query(AppUser).join(Delegation, Delegation.principal_id == AppUser.id)
            .filter(Delegation.substitute_id == user.id, Delegation.start_date <= today,
                    Delegation.end_date >= today, AppUser.active.is_(True))
            .all())


def scope_for(user):
    """The part of the governed records a user may see: their own, and for reading also
    that of everyone they stand in for today (to act for them, 代办).

    Computed once per request and user (roles, department, delegations): a page asks
    for it in every query it runs (a list, its count, every card of the home page)."""
    if user is None or not has_request_context():
        return _scope_for(user)
    cache = g.setdefault("scopes", {})
    key = (user.id, dt.date.today())
    if key not in cache:
        cache[key] = _scope_for(user)
    return cache[key]


def _scope_for(user):
    scope = _own_scope(user)
    if user is None or scope.everything:
        return scope
    principals = principals_of(user)
    if not principals:
        return scope
    return replace(scope, delegated=tuple(_own_scope(p) for p in principals))


def _own_scope(user):
    if user is None:
        # No request: CLI, seeds and migrations act for the system itself.
        return EVERYTHING if not has_request_context() else NOTHING
    names = {role.name for role in user.roles}
    if names & UNSCOPED_ROLES:
        return EVERYTHING
    if names & DEPARTMENT_ROLES and user.department_id:
        department = user.department
        return Scope(department_id=user.department_id, user_id=user.id,
                     it_department=department is not None and department.kind.name == "it")
    if "Expert" in names:
        return Scope(expert=True, user_id=user.id)
    return Scope(user_id=user.id)


class InSelect(ColumnElement):
    """``column IN (SELECT ...)`` of an uncorrelated subquery, as each planner uses it
    inside an OR: SQLite as it is (a multi-index OR); PostgreSQL as
    ``column = ANY (ARRAY(SELECT ...))``, whose subquery runs once (an InitPlan) and stays
    an index condition, so ``a = 1 OR b = ANY (...)`` is a BitmapOr of two index scans.
    ``IN (SELECT ...)`` inside an OR is a hashed SubPlan there: a filter over a scan of
    the whole table."""

    __visit_name__ = "in_select"
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("subquery", InternalTraversal.dp_clauseelement)]
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition (never ``... = 1`` on SQLite)

    def __init__(self, column, subquery):
        self.column = column
        self.subquery = subquery


@compiles(InSelect)
def _in_select(element, compiler, **kw):
    return compiler.process(element.column.in_(element.subquery), **kw)


@compiles(InSelect, "postgresql")
def _any_array(element, compiler, **kw):
    array = func.array(element.subquery.scalar_subquery())
    return compiler.process(element.column == any_(array), **kw)


class Unindexed(ColumnElement):
    """A column that SQLite must not look up by its own index here (``+column``): a long
    list is paged on its sort index, which carries the scoping columns, instead of
    collecting every visible row by the scoping indexes and sorting them all
    (app/records.py ``ListInterface``). Other databases choose by cost themselves."""

    __visit_name__ = "unindexed"
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]
    inherit_cache = True

    def __init__(self, column):
        self.column = column
        self.type = column.type


@compiles(Unindexed)
def _as_is(element, compiler, **kw):
    return compiler.process(element.column, **kw)


@compiles(Unindexed, "sqlite")
def _unary_plus(element, compiler, **kw):
    return "+" + compiler.process(element.column, **kw)


# Set while a list pages a long list on its sort index (see Unindexed).
SORT_INDEX_WALK = ContextVar("sort_index_walk", default=False)


def _path_clause(model, path, department_id):
    head, _, rest = path.partition(".")
    attr = getattr(model, head)
    if not rest:
        return (Unindexed(attr) if SORT_INDEX_WALK.get() else attr) == department_id
    # ``system_id IN (SELECT id FROM information_system WHERE ...)``: an indexed, sargable
    # condition, never a correlated EXISTS (which scans the table inside an OR).
    rel = attr.property
    (local, remote), = rel.local_remote_pairs
    target = rel.mapper.class_
    subquery = select(remote).where(_path_clause_indexed(target, rest, department_id))
    return InSelect(Unindexed(local) if SORT_INDEX_WALK.get() else local, subquery)


def _path_clause_indexed(model, path, department_id):
    """The subquery's own condition keeps its index (a few systems of a department)."""
    token = SORT_INDEX_WALK.set(False)
    try:
        return _path_clause(model, path, department_id)
    finally:
        SORT_INDEX_WALK.reset(token)


def read_clause(model, scope):
    """SQL condition limiting ``model`` to ``scope``; None when nothing is hidden."""
    if scope.everything or getattr(model, "__reference__", False):
        return None
    if scope.it_department and getattr(model, "__it_managed__", False):
        return None
    paths = getattr(model, "__scope__", None)
    personal = getattr(model, "__personal__", None)
    if paths is None and personal is None:
        return None
    clauses = []
    if scope.department_id and paths:
        clauses += [_path_clause(model, p, scope.department_id) for p in paths]
    if scope.expert and scope.user_id and hasattr(model, "expert_clause"):
        clauses.append(model.expert_clause(scope.user_id))
    if personal and scope.user_id:
        # Records that are one's own (an expert's review, one's delegations).
        clauses.append(getattr(model, personal) == scope.user_id)
    for other in scope.delegated:
        clause = read_clause(model, other)
        if clause is None:
            return None
        clauses.append(clause)
    return or_(*clauses) if clauses else false()


def owner_relationship(model):
    """The relationship to the owning department (the first ``__scope__`` path), whose
    choices a form or API resource restricts to the user's own; or None."""
    paths = getattr(model, "__scope__", None)
    if not paths:
        return None
    column = inspect(model).columns[paths[0]]
    for rel in inspect(model).relationships:
        if column in rel.local_columns:
            return rel.key
    return None


def _owner_value(record, attr, before):
    """The owning department id of ``record``, as now or as last stored."""
    state = inspect(record)
    if before:
        if state.transient or state.pending:
            return None
        history = state.attrs[attr].history
        values = history.deleted or history.unchanged or [None]
        return values[0]
    column = state.mapper.columns[attr]
    for rel in state.mapper.relationships:
        if rel.direction is RelationshipDirection.MANYTOONE and column in rel.local_columns:
            if rel.key in state.dict:  # set through the relationship (forms, API)
                target = state.dict[rel.key]
                return target.id if target is not None else None
    return getattr(record, attr)


_BOOKKEEPING = frozenset({"id", "version", "round", "submitted_by_fk", "created_on",
                          "changed_on", "created_by_fk", "changed_by_fk", "created_by",
                          "changed_by", "submitted_by"})


def _blank(value):
    return value is None or value == "" or value == []


def _plain_value(value):
    if _blank(value):
        return None
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def _touched(record, deleting):
    """Attributes this write sets: changed ones, or every one with a value when the record
    is new or being deleted. Forms write unchanged values back: those do not count."""
    state = inspect(record)
    whole = deleting or state.transient or state.pending
    touched = set()
    for attr in state.attrs:
        if attr.key in _BOOKKEEPING:
            continue
        if whole:
            if not _blank(state.dict.get(attr.key)):
                touched.add(attr.key)
            continue
        history = attr.history
        if history.has_changes() and ([_plain_value(v) for v in history.deleted or ()]
                                      != [_plain_value(v) for v in history.added or ()]):
            touched.add(attr.key)
    return touched


def check_write(record, user=None, deleting=False):
    """Raise ScopeError unless ``user`` may write ``record`` where it is and where it goes."""
    # The queries of the check (delegations, refusal rules) must not flush the change
    # under review: after a flush the new owner would look like the stored one.
    with db.session.no_autoflush:
        _check_write(record, user, deleting)


def _field_names(model, names):
    """Declared field names with their foreign-key columns (``vendor`` -> ``vendor_id``)."""
    mapper = inspect(model)
    found = set(names)
    for rel in mapper.relationships:
        if rel.key in found:
            found |= {column.key for column in rel.local_columns}
    return found


def _derived(model):
    """Attributes the model sets itself from others (``@validates``): never typed in."""
    mapper = inspect(model)
    keys = set(getattr(model, "__derived__", ()))
    for rel in mapper.relationships:
        if rel.key in keys:
            keys |= {column.key for column in rel.local_columns}
    return keys


def stored_state(record):
    """The workflow state as stored (a new record: its initial state)."""
    workflow = type(record).__workflow__
    state = inspect(record)
    if state.transient or state.pending:
        column = type(record).__table__.c[workflow.state_field]
        return getattr(record, workflow.state_field) or column.default.arg
    history = state.attrs[workflow.state_field].history
    return (history.deleted or history.unchanged or [getattr(record, workflow.state_field)])[0]


def _sync_keys(record):
    """A new record's foreign keys from the related rows set on it (forms and the API set
    relationships; the keys follow only at flush), so rules can read its departments."""
    state = inspect(record)
    if not (state.transient or state.pending):
        return
    for rel in state.mapper.relationships:
        if rel.direction is RelationshipDirection.MANYTOONE and rel.key in state.dict:
            target = state.dict[rel.key]
            for local, remote in rel.local_remote_pairs:
                value = getattr(target, remote.key) if target is not None else None
                if getattr(record, local.key) != value:
                    setattr(record, local.key, value)


def writable_fields(record, user):
    """The fields ``user`` may write on a workflow record in its stored state; None when the
    record type declares no per-state rules."""
    from .approvals import identity
    from .workflow import all_writable, writable

    workflow = getattr(type(record), "__workflow__", None)
    if workflow is None or not workflow.editable or user is None:
        return None
    _sync_keys(record)
    state = stored_state(record)
    if "Admin" in {role.name for role in user.roles}:
        fields = all_writable(workflow, state)
    else:
        fields = writable(workflow, record, identity(user), state)
    return _field_names(type(record), fields) | _derived(type(record))


def _check_workflow_rules(record, user, deleting):
    """Per-state write and delete rules of approvable records (``Edit``/``Delete``)."""
    from .approvals import identity
    from .workflow import may_delete

    workflow = type(record).__workflow__
    state = stored_state(record)
    if deleting:
        is_admin = "Admin" in {role.name for role in user.roles}
        allowed = any(state in rule.states for rule in workflow.deletable) if is_admin else \
            may_delete(workflow, record, identity(user), state)
        if not allowed:
            raise ScopeError(str(_l("This record can no longer be deleted: only a draft can "
                                    "be deleted, by its department. Use the workflow's "
                                    "steps (return, reject) instead.")))
        return
    allowed = writable_fields(record, user)
    refused = _touched(record, False) - allowed - {workflow.state_field}
    if getattr(record, workflow.state_field) not in (None, state):
        refused.add(workflow.state_field)  # only the workflow's steps move a record
    if refused:
        names = sorted({LABELS.get(name.removesuffix("_id"), LABELS.get(name, name))
                        for name in refused}, key=str)
        raise ScopeError(str(_l("You may not change these fields in the record's current "
                                "state (%(state)s): %(fields)s.", state=str(state),
                                fields="、".join(str(n) for n in names))))


def _check_write(record, user, deleting):
    refusal = getattr(record, "write_refusal", None)
    reason = refusal() if refusal is not None else None
    if reason:
        raise ScopeError(gettext(reason))
    user = user if user is not None else current_actor()
    workflow = getattr(type(record), "__workflow__", None)
    if user is not None and workflow is not None and (workflow.editable
                                                      or workflow.deletable):
        _check_workflow_rules(record, user, deleting)
    scope = scope_for(user)
    if scope.everything:
        return
    personal = getattr(type(record), "__personal__", None)
    if personal and scope.user_id:
        now = _owner_value(record, personal, before=False)
        before = _owner_value(record, personal, before=True)
        if now == scope.user_id and before in (None, scope.user_id):
            return
    paths = getattr(type(record), "__scope__", None)
    if not paths or not scope.department_id:
        raise ScopeError(str(_l("You may not change records of this kind.")))
    owner = paths[0]
    now = _owner_value(record, owner, before=False)
    before = _owner_value(record, owner, before=True)
    if now != scope.department_id or (before is not None and before != scope.department_id):
        raise ScopeError(str(_l("You may only change records of your own department.")))
    allowed = getattr(type(record), "__department_columns__", None)
    if allowed is not None and _touched(record, deleting) - set(allowed):
        fields = "、".join(str(LABELS[name]) for name in allowed if name in LABELS)
        raise ScopeError(str(_l("Your department may change only: %(fields)s.",
                                fields=fields)))


class ScopedInterface(SQLAInterface):
    """FAB's data interface with department scoping on every read and write.

    Every FAB read path (list, count, show, edit, delete, actions, REST) goes
    through ``apply_filters``; every write through add/edit/delete. Filter
    values are typed first, so junk input finds nothing (app/filters.py).
    """

    def apply_filters(self, query, filters):
        query = super().apply_filters(query, typed_filters(filters))
        clause = read_clause(self.obj, scope_for(current_actor()))
        return query if clause is None else query.filter(clause)

    def get_filters(self, search_columns=None, search_filters=None):
        return SafeFilters(self.filter_converter_class, self,
                           search_columns=search_columns or [], search_filters=search_filters)

    def get(self, id, filters=None, select_columns=None, outer_default_load=False):
        """A malformed key (``/show/abc``) is simply no record: 404, not a database error."""
        try:
            id = int(id)
        except (TypeError, ValueError):
            return None
        if not -2**31 <= id < 2**31:
            return None  # beyond any key: no record (and no driver overflow)
        return super().get(id, filters, select_columns, outer_default_load)

    def _get_base_query(self, query, filters=None, order_column="", order_direction=""):
        clause = read_clause(self.obj, scope_for(current_actor()))
        if clause is not None:
            query = query.filter(clause)
        return super()._get_base_query(query, filters, order_column, order_direction)

    def _guard(self, item, deleting=False):
        try:
            check_write(item, deleting=deleting)
        except ScopeError:
            self.session.rollback()
            raise

    def add(self, item, commit=True):
        self._guard(item)
        super().add(item, commit)

    def edit(self, item, commit=True):
        self._guard(item)
        super().edit(item, commit)

    def delete(self, item, commit=True):
        self._guard(item, deleting=True)
        super().delete(item, commit)

    def delete_all(self, items):
        for item in items:
            self._guard(item, deleting=True)
        super().delete_all(items)


class FabRouteGuard:
    """FAB's generic CRUD routes that fail with a 500 in this app, made 404.

    * ``/download/<filename>`` serves files from UPLOAD_FOLDER, which this app has
      not (attachments live in the database);
    * ``/action/<name>/<pk>`` looks up an unknown action name before any check,
      even for a signed-out visitor.
    """

    @expose("/download/<string:filename>")
    def download(self, filename):
        abort(404)

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        if name not in self.actions:
            abort(404)
        return super().action(name, pk)


class ExportListWidget(ListWidget):
    """FAB's list with 导出 in its header."""

    template = "export_list.html"


def _guarded(view):
    """``view`` with FabRouteGuard, under its own name (same endpoints, permissions)."""
    return type(view.__name__, (FabRouteGuard, view), {})


class UserList(FabRouteGuard, ExportMixin):
    """The user screens whatever the sign-in method: every user with their department
    (each belongs to exactly one); the list exports like every record list (CSV, XLSX)
    and imports back (组织机构 → 数据导入); a user others' records point to is kept."""

    datamodel = SQLAInterface(AppUser)
    list_widget = ExportListWidget
    list_columns = ["first_name", "last_name", "username", "department", "roles", "active"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", "department",
                                      "login_count"]}),
        (_l("Personal Info"), {"fields": ["first_name", "last_name", "email"],
                               "expanded": True}),
        (_l("Audit Info"), {"fields": ["last_login", "fail_login_count", "created_on",
                                       "created_by", "changed_on", "changed_by"],
                            "expanded": False}),
    ]
    user_show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", "department",
                                      "login_count"]}),
        (_l("Personal Info"), {"fields": ["first_name", "last_name", "email"],
                               "expanded": True}),
    ]
    edit_columns = ["first_name", "last_name", "username", "department", "active", "email",
                    "roles"]
    add_columns = edit_columns
    search_columns = ["first_name", "last_name", "username", "email", "active", "department"]
    label_columns = {**UserDBModelView.label_columns, "department": _l("Department")}
    validators_columns = {}

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="",
                         **kwargs):
        widgets = super()._get_list_widget(filters, actions, order_column, order_direction,
                                           **kwargs)
        widgets["list"].template_args["export_urls"] = self.export_urls()
        return widgets

    def pre_add(self, item):
        super().pre_add(item)
        _require_department(item)

    def pre_update(self, item):
        super().pre_update(item)
        _require_department(item)

    def pre_delete(self, item):
        from .validation import check_delete

        super().pre_delete(item)
        check_delete(item, db.session)


class AppUserView(UserList, UserDBModelView):
    """Users with local passwords (the local database sign-in)."""

    add_columns = ["first_name", "last_name", "username", "department", "active", "email",
                   "roles", "password", "conf_password"]


class AppUserLDAPView(UserList, UserLDAPModelView):
    """Users when people sign in with LDAP / Active Directory: no local passwords; the
    directory sets roles and departments at every sign-in (app/directory.py)."""


class AppUserOIDCView(UserList, UserOAuthModelView):
    """Users when people sign in with OpenID Connect: no local passwords; the provider's
    claims set roles and departments at every sign-in (app/directory.py)."""


class DirectoryAccountView(FabRouteGuard, ModelView):
    """The accounts the company directory vouches for, with what it said at the last
    sign-in or check: those whose department it does not tell (no write rights until it
    does), those gone or disabled there (deactivated here). Read-only: the directory is
    the place to change them."""

    route_base = "/directoryaccounts"
    datamodel = SQLAInterface(DirectoryIdentity)
    class_permission_name = "DirectoryAccount"
    method_permission_name = {"list": "read", "show": "read"}
    base_permissions = ["can_read"]
    list_title = _l("Directory accounts")
    show_title = _l("Directory account")
    list_columns = ["user", "subject", "status", "department_value", "directory_roles",
                    "checked_at"]
    show_columns = ["user", "source", "subject", "status", "department_value",
                    "directory_roles", "groups", "deactivated_by_directory", "checked_at",
                    "created_on", "changed_on"]
    search_columns = ["status", "subject", "source", "department_value"]
    order_columns = ["subject", "status", "checked_at"]
    base_order = ("id", "asc")
    label_columns = {
        "user": _l("User"), "source": _l("Directory"), "subject": _l("Directory identity"),
        "status": _l("Status"), "department_value": _l("Department in the directory"),
        "directory_roles": _l("Roles from groups"), "groups": _l("Groups"),
        "deactivated_by_directory": _l("Deactivated by the directory"),
        "checked_at": _l("Last checked (UTC)"), "created_on": _l("Created on"),
        "changed_on": _l("Changed on"),
    }
    formatters_columns = {
        "status": lambda value: str(STATUSES.get(value, value)),
        "department_value": lambda value: value or "—",
        "checked_at": lambda value: value.strftime("%Y-%m-%d %H:%M:%S") if value else "—",
    }


def _require_department(user):
    if user.department is None and user.department_id is None:
        raise ValueError(str(_l("Every user must belong to a department.")))


def directory_down_message():
    return gettext("The company directory cannot be reached just now, so you cannot sign "
                   "in. Please try again in a few minutes; if it persists, tell the IT "
                   "department.")


class GuardedLogin:
    """FAB's login view: a locked account or address gets the wait time (429); a directory
    that cannot be reached (503) or refuses the person (403) says so; logout is by POST
    only (a GET shows a confirmation)."""

    @expose("/login/", methods=["GET", "POST"])
    def login(self):
        try:
            return super().login()
        except LoginLocked as locked:
            return self._refused(locked.message(), 429, {"Retry-After": str(locked.wait)})
        except DirectoryUnavailable:
            return self._refused(directory_down_message(), 503, {"Retry-After": "60"})
        except DirectoryRefused as refused:
            return self._refused(str(refused), 403)

    def _refused(self, message, status, headers=()):
        db.session.rollback()
        flash(message, "danger")
        page = self.render_template(self.login_template, title=self.title,
                                    form=LoginForm_db(), appbuilder=self.appbuilder)
        response = make_response(page, status)
        response.headers.update(dict(headers))
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        if request.method != "POST":  # GET and HEAD (Flask answers HEAD with this view)
            return self.render_template("logout.html", appbuilder=self.appbuilder)
        return super().logout()


class AppAuthDBView(GuardedLogin, AuthDBView):
    """Sign-in with the local database's passwords (AUTH_METHOD=db)."""


class AppAuthLDAPView(GuardedLogin, AuthLDAPView):
    """Sign-in with LDAP / Active Directory (AUTH_METHOD=ldap); the local break-glass
    accounts sign in on the same form."""



class AppSecurityApi(SecurityApi):
    """FAB's JWT login, answering a locked account or address with 429 and the wait."""

    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        try:
            # FAB's login without its @safe wrapper, which would turn the lock into a 500.
            return SecurityApi.login.__wrapped__(self)
        except LoginLocked as locked:
            response = self.response(429, message=locked.message())
            response.headers["Retry-After"] = str(locked.wait)
            return response
        except DirectoryUnavailable:
            db.session.rollback()
            response = self.response(503, message=directory_down_message())
            response.headers["Retry-After"] = "60"
            return response
        except DirectoryRefused as refused:
            db.session.rollback()
            return self.response(403, message=str(refused))


def _remember_stamp_at_login(sender, user, **extra):
    remember_stamp(user)


class AppSecurityManager(SecurityManager):
    user_model = AppUser
    userdbmodelview = AppUserView
    authdbview = AppAuthDBView
    userldapmodelview = AppUserLDAPView
    useroauthmodelview = AppUserOIDCView
    authldapview = AppAuthLDAPView
    authoauthview = AppAuthOIDCView
    security_api = AppSecurityApi
    rolemodelview = _guarded(RoleModelView)
    groupmodelview = _guarded(UserGroupModelView)
    permissionmodelview = _guarded(PermissionModelView)
    viewmenumodelview = _guarded(ViewMenuModelView)
    permissionviewmodelview = _guarded(PermissionViewModelView)
    # FAB's user statistics chart fetches Google's chart code at run time.
    userstatschartview = None

    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        if self.auth_type == AUTH_LDAP:
            problem = ldap_directory.settings_problem(current_app.config)
            if problem:
                raise RuntimeError(problem)

    # -------------------------------------------------------------- login protection

    def auth_user_db(self, username, password):
        """FAB's password check, refused while the account or address waits; only
        failures count (app/login_guard.py). While the directory is in charge only the
        local break-glass accounts have a password here."""
        guard = login_guard()
        guard.check(username)
        if self.auth_type == AUTH_DB:
            user = super().auth_user_db(username, password)
        else:
            user = self._break_glass(username, password)
        if user is None:
            guard.failed(username)
        else:
            guard.succeeded(username)
        return user

    def auth_user_ldap(self, username, password):
        """LDAP / Active Directory sign-in (app/ldap_directory.py), with the same failed-login
        counters as the local one; a local break-glass account (DIRECTORY_LOCAL_ACCOUNTS)
        signs in with its own password, recorded in the change history."""
        guard = login_guard()
        guard.check(username)
        user = self._break_glass(username, password)
        if user is None and not is_local_account(username):
            user = ldap_directory.sign_in(username, password)  # raises when unreachable
            if user is not None:
                self.update_user_auth_stat(user, True)
            else:
                known = self.find_user(username=username)
                if known is not None:
                    self.update_user_auth_stat(known, False)
        if user is None:
            guard.failed(username)
        else:
            guard.succeeded(username)
        return user

    def _break_glass(self, username, password):
        """A local account's sign-in while the directory is in charge: FAB's password
        check, and one change-history entry per use (whether the directory answered)."""
        from .history import SIGN_IN, record_event

        if not is_local_account(username):
            return None
        user = SecurityManager.auth_user_db(self, username, password)
        if user is not None:
            reachable = (ldap_directory.reachable() if self.auth_type == AUTH_LDAP
                         else provider_reachable(self) if self.auth_type == AUTH_OAUTH
                         else None)
            g.user = user  # the entry names who signed in
            record_event(self.session, SIGN_IN, user.username, "login", {
                "method": "local password (break-glass)",
                "directory": {True: "reachable", False: "unreachable"}.get(reachable, "-"),
                "address": request.remote_addr if has_request_context() else None,
            })
        return user

    def get_user_by_id(self, pk):
        """The signed-in user with the roles, groups and department that every request
        reads (permissions, scoping), in one statement instead of four."""
        return self.session.get(AppUser, pk, options=[
            joinedload(AppUser.roles), joinedload(AppUser.groups),
            joinedload(AppUser.department), joinedload(AppUser.directory_identity)])

    # ------------------------------------------------- sessions and tokens that end

    def create_login_manager(self, app):
        manager = super().create_login_manager(app)
        # FAB passes current_app (a proxy); the signal's sender is the app itself.
        user_logged_in.connect(_remember_stamp_at_login, current_app._get_current_object())
        return manager

    def load_user(self, pk):
        """The session's user, if active and the session carries the current stamp; a
        person of the OpenID Connect provider also while the provider, asked again every
        DIRECTORY_RECHECK_MINUTES, still lets them sign in (app/oidc.py)."""
        user = super().load_user(pk)
        if user is None or not session_is_current(user):
            return None
        if is_oidc_person(self, user) and recheck_due(current_app.config) and \
                not oidc_still_allowed(self):
            end_oidc_session()
            return None
        return user if self._in_directory(user) else None

    # ------------------------------------------------------------- OpenID Connect

    @property
    def auth_type_provider_name(self):
        """The API's own login (/api/v1/security/login, provider "db") under OpenID
        Connect: the break-glass accounts' local password (auth_user_db)."""
        if self.auth_type == AUTH_OAUTH:
            return "db"
        return super().auth_type_provider_name

    def get_oauth_user_info(self, provider, resp):
        """Who the provider says signed in (FAB's user info, app/oidc.py)."""
        remote = self.oauth_remotes[provider]
        issuer = remote.load_server_metadata().get("issuer", provider)
        return oidc_person(oidc_claims(remote, resp), current_app.config, issuer)

    def auth_user_oauth(self, userinfo):
        """The account of the person the provider vouched for, through the shared directory
        mapping (roles from the groups at every sign-in, department); None when it is
        deactivated here. Raises DirectoryRefused with the reason to show."""
        user = apply_directory_identity(userinfo, userinfo.get("role_keys", []),
                                        userinfo.get("source", "oidc"))
        if user is not None:
            self.update_user_auth_stat(user)
        return user

    def _in_directory(self, user):
        """A directory person still listed there (re-checked every
        DIRECTORY_RECHECK_MINUTES, app/directory.py); a local account always."""
        return self.auth_type == AUTH_DB or still_in_directory(user)

    def create_jwt_manager(self, app):
        manager = super().create_jwt_manager(app)
        manager.additional_claims_loader(self._jwt_claims)
        manager.user_lookup_error_loader(self._jwt_ended)
        return manager

    def _jwt_claims(self, identity):
        user = self.get_user_by_id(int(identity))
        return {CLAIM: user.security_stamp} if user is not None else {}

    def _jwt_ended(self, _jwt_header, _jwt_data):
        response = make_response({"message": gettext(
            "Your login has ended (password changed, account deactivated or logged out). "
            "Please log in again.")}, 401)
        return response

    def load_user_jwt(self, _jwt_header, jwt_data):
        """The token's user, if active and the token carries the current stamp (access and
        refresh tokens alike)."""
        try:
            user = self.get_user_by_id(int(jwt_data["sub"]))
        except (KeyError, TypeError, ValueError):
            return None
        if user is None or not user.is_active or jwt_data.get(CLAIM) != user.security_stamp:
            return None
        if not self._in_directory(user):
            return None
        g.user = user
        return user

    def reset_password(self, userid, password):
        """Ends the user's sessions and tokens (the new password rotates the stamp), except
        the session of whoever changes their own password here."""
        super().reset_password(userid, password)
        actor = current_actor()
        if actor is not None and actor.id == int(userid):
            remember_stamp(self.get_user_by_id(userid))

    def on_user_logout(self, user):
        """Logging out ends every session and token of the user, including copies."""
        end_sessions(user)
        self.session.commit()
