"""Every workflow over HTTP, generated from the workflow tables.

The matrices are built from ``app.approvals.workflow_models()`` and each model's
``__workflow__``: a new workflow is covered without new test code. Records are
made by a generic factory (``build``): every column filled, related rows
created, the record put straight into the state under test (test setup only)
and submitted by ``OTHER``, who is none of the accounts under test.

The expected answer of each case is computed here, from the table and a plain
statement of the access rules (``expect``), never from the application's own
scoping or permission code.
"""
import datetime as dt
import enum
import html as htmllib
import itertools
import json
import re
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import Boolean, Date, DateTime, Integer, LargeBinary, Numeric, String, Text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import update
from sqlalchemy.orm import RelationshipDirection

from app.approvals import workflow_models
from app.workflow import (
    Actor,
    CommentRequired,
    Identity,
    NotAllowed,
    Transition,
    Workflow,
    WorkflowError,
    WrongState,
    content_hash,
    fire,
    resolve,
)
from config import FAB_ROLE_DEFINITIONS
from conftest import PASSWORD, dispose, login, scratch_database_url, seeded_app
from seeds.demo import DEMO_ACCOUNTS, DEPARTMENTS
from webhelpers import flashes, form_token

pytestmark = pytest.mark.matrix  # sampled in a normal run: tests/sampling.py

# ------------------------------------------------------------------ the rules

USERS = ("clerk_fin", "head_fin", "it_staff", "it_head", "expert", "manager", "auditor",
         "admin")
OTHER = "clerk_mkt"  # submits the records under test: none of USERS
HOME, AWAY = "FIN", "MKT"  # records live in FIN, so clerk_fin and head_fin are insiders
REVIEWER = "expert"
ACCOUNTS = {username: (role, dept) for username, role, dept, _name in DEMO_ACCOUNTS}
# Who sees what (the regulation's scoping, stated independently of app/security.py).
UNSCOPED = frozenset({"Admin", "ITStaff", "Management", "Auditor"})
DEPARTMENT_ROLES = frozenset({"Clerk", "DeptHead"})

MODELS = {model.__name__: model for model in workflow_models()}


@dataclass(frozen=True)
class Step:
    """One step of a workflow from one state (``route``: the ``when`` branch to take;
    ``own``: the account under test submitted the record itself)."""

    model: str
    name: str
    state: str
    route: int = None
    own: bool = False

    def __str__(self):
        route = f"-route{self.route}" if self.route is not None else ""
        return f"{self.model}-{self.name}-from-{self.state}{route}{'-own' if self.own else ''}"

    @property
    def cls(self):
        return MODELS[self.model]

    @property
    def state_member(self):
        return self.cls.__workflow__.states[self.state]

    def group(self, record=None):
        """The transitions of this name that leave this state (on ``record``'s route)."""
        state = self.state_member
        return [t for t in self.cls.__workflow__.transitions
                if t.name == self.name and state in t.source
                and (record is None or t.when is None or t.when(record))]


def steps(model, sod=True):
    found = []
    transitions = model.__workflow__.transitions
    for index, t in enumerate(transitions):
        for state in t.source:
            step = Step(model.__name__, t.name, state.name,
                        index if t.when is not None else None)
            if step not in found:
                found.append(step)
            if sod and t.approves:
                own = Step(model.__name__, t.name, state.name, step.route, own=True)
                if own not in found:
                    found.append(own)
    return found


def _concerns(step, username):
    """Whether the account is one the step's roles name (else SoD cannot change a thing)."""
    return any(ACCOUNTS[username][0] in t.roles for t in step.group())


ALL_STEPS = [step for model in MODELS.values() for step in steps(model)]
PLAIN_STEPS = [step for step in ALL_STEPS if not step.own]
# Every step x every account; the "submitted it myself" variant of approving steps for the
# accounts whose role could approve.
MATRIX = [pytest.param(step, username, id=f"{step}-{username}")
          for step in ALL_STEPS for username in USERS
          if not step.own or _concerns(step, username)]


def _web_step(model, username):
    """A step the account's role takes part in, else the model's first step."""
    role = ACCOUNTS[username][0]
    candidates = steps(model, sod=False)
    for step in candidates:
        if any(role in t.roles for t in step.group()):
            return step
    return candidates[0]


WEB_SAMPLE = [pytest.param(_web_step(model, username), username,
                           id=f"{_web_step(model, username)}-{username}")
              for model in MODELS.values() for username in USERS]


def may_read(role, model):
    """The role's read permission on the record type, from the role table in config.py."""
    return any(re.match(view, model.__name__) and re.match(perm, "can_read")
               for view, perm in FAB_ROLE_DEFINITIONS.get(role, ()))


# ------------------------------------------------------------ people, lookups

_ids = {}


def person(username):
    from app.base import AppUser
    from app.extensions import db

    return db.session.query(AppUser).filter_by(username=username).one()


def uid(username):
    if username not in _ids:
        _ids[username] = person(username).id
    return _ids[username]


def department(code):
    from app.extensions import db
    from app.organisation.models import Department

    return db.session.query(Department).filter_by(code=code).one()


def dept_id(code):
    key = ("dept", code)
    if key not in _ids:
        _ids[key] = department(code).id
    return _ids[key]


@dataclass(frozen=True)
class Who:
    """An account as the access rules see it."""

    id: int
    roles: frozenset
    dept: int
    kind: str


def _who(user):
    department = user.department
    return Who(user.id, frozenset(role.name for role in user.roles), user.department_id,
               department.kind.name if department is not None else None)


_facts = {}


def facts(username):
    if username not in _facts:
        _facts[username] = _who(person(username))
    return _facts[username]


def principals_today(username):
    """Everyone (active) who has named the account their substitute for today, whoever
    made the delegation: the rules hold with whatever data other tests left behind."""
    from app.base import AppUser, Delegation
    from app.extensions import db

    today = dt.date.today()
    return [_who(user) for user in db.session.query(AppUser)
            .join(Delegation, Delegation.principal_id == AppUser.id)
            .filter(Delegation.substitute_id == uid(username), Delegation.start_date <= today,
                    Delegation.end_date >= today, AppUser.active.is_(True))]


def sees(record, who):
    """Whether someone may see the record (the scoping rule, restated)."""
    from app.extensions import db

    model = type(record)
    if who.roles & UNSCOPED or getattr(model, "__reference__", False):
        return True
    paths = getattr(model, "__scope__", None) or ()
    personal = getattr(model, "__personal__", None)
    if not paths and not personal:
        return True
    if personal and getattr(record, personal) == who.id:
        return True
    if who.roles & DEPARTMENT_ROLES and who.dept:
        if who.kind == "it" and getattr(model, "__it_managed__", False):
            return True
        return any(resolve(record, path) == who.dept for path in paths)
    if "Expert" in who.roles and hasattr(model, "expert_clause"):
        return db.session.query(model.id).filter(
            model.id == record.id, model.expert_clause(who.id)).first() is not None
    return False


def may_fire(t, record, who, actor_id):
    """Whether the table lets ``who`` take transition ``t`` on the record (any state),
    ``actor_id`` pressing the button (themself, or as their substitute)."""
    if not who.roles & t.roles:
        return False
    if t.department and resolve(record, t.department) != who.dept:
        return False
    if t.department_kind and who.kind != t.department_kind:
        return False
    if t.reviewer:
        if who.id not in record.reviewer_ids():
            return False
        conflict = getattr(record, "review_department_id", None)
        if conflict is not None and conflict == who.dept:
            return False  # no expert reviews their own department's record
    if t.approves:
        people = {who.id, actor_id}
        excluded, approved = duties_restated(record)
        if people & excluded:
            return False
        state = getattr(record, type(record).__workflow__.state_field)
        step = {state.name} if state in t.source else {s.name for s in t.source}
        if any(approved.get(p, set()) - step for p in people):
            return False
    return True


def duties_restated(record):
    """Separation of duties, restated from the approvals table: who stands behind a
    submission (submitter, whom they acted for, their substitutes today), who changed the
    content in this round, and which review steps each person approved."""
    from app.base import Approval, Delegation
    from app.extensions import db

    rows = (db.session.query(Approval).filter_by(record_type=type(record).__name__,
                                                 record_id=record.id)
            .order_by(Approval.id).all())
    behind = {record.submitted_by_fk or record.created_by_fk} - {None}
    editors, approved = set(), {}
    for row in rows:
        people = {row.actor_id, row.acting_for_id} - {None}
        if row.submits:
            behind |= people
            editors = set()
        elif row.transition == "reapproval":
            editors |= people
        if row.approves:
            for p in people:
                approved.setdefault(p, set()).add(row.from_state)
    today = dt.date.today()
    substitutes = {d.substitute_id for d in db.session.query(Delegation).filter(
        Delegation.principal_id.in_(behind or {-1}), Delegation.start_date <= today,
        Delegation.end_date >= today)}
    return behind | substitutes | editors, approved


@dataclass
class Expected:
    status: int
    transition: Transition = None
    message: str = None
    by_engine: bool = False  # refused by the workflow (show page re-rendered), not by access
    acting_for: frozenset = frozenset({None})  # ids it may be done for (None: oneself)

    @property
    def target(self):
        return self.transition.target


def expect(record, name, username, comment="", guards=True):
    """What firing ``name`` on ``record`` as ``username`` must answer."""
    model = type(record)
    workflow = model.__workflow__
    me, principals = facts(username), principals_today(username)
    if not any(may_read(role, model) for role in me.roles):
        return Expected(403)  # the screen's permission is one's own, never delegated
    if not any(sees(record, who) for who in (me, *principals)):
        return Expected(404)

    def done_for(t):
        if may_fire(t, record, me, me.id):
            return frozenset({None})
        return frozenset(p.id for p in principals if may_fire(t, record, p, me.id))

    permitted = [(t, done_for(t)) for t in workflow.transitions if t.name == name]
    permitted = [(t, whom) for t, whom in permitted if whom]
    if not permitted:
        return Expected(403, message=MESSAGES[NotAllowed], by_engine=True)
    state = getattr(record, workflow.state_field)
    applicable = [(t, whom) for t, whom in permitted
                  if state in t.source and (t.when is None or t.when(record))]
    if not applicable:
        # A condition that says why it does not hold answers with its own reason.
        reasons = [t.when.message for t, _whom in permitted
                   if state in t.source and getattr(t.when, "message", None)]
        return Expected(409, message=(reasons or [MESSAGES[WrongState]])[0], by_engine=True)
    transition, whom = applicable[0]
    for guard in transition.guards if guards else ():
        if not guard.check(record):
            return Expected(422, transition, guard.message, by_engine=True)
    if guards and transition.needs_comment and not comment.strip():
        return Expected(422, transition, MESSAGES[CommentRequired], by_engine=True)
    return Expected(200, transition, acting_for=whom)


def offered(record, username):
    """Names of the steps the account may take now (guards and comment aside)."""
    names = {t.name for t in type(record).__workflow__.transitions}
    return sorted(n for n in names
                  if expect(record, n, username, guards=False).status == 200)


class _Toy(enum.Enum):
    a = 1
    b = 2


def _engine_messages():
    """The engine's own refusal texts, provoked on a toy workflow (not copied here)."""
    toy = Workflow(states=_Toy, transitions=(
        Transition("go", "Go", (_Toy.a,), _Toy.b, frozenset({"R"}), needs_comment=True),))
    found = {}
    cases = {NotAllowed: (_Toy.a, frozenset()), WrongState: (_Toy.b, frozenset({"R"})),
             CommentRequired: (_Toy.a, frozenset({"R"}))}
    for error, (state, roles) in cases.items():
        record = SimpleNamespace(status=state, submitted_by_fk=None, created_by_fk=None)
        try:
            fire(toy, record, "go", Actor(Identity(1, "toy", roles, None)), "")
        except error as exc:
            found[error] = str(exc)
    assert set(found) == set(cases), f"the engine no longer refuses: {set(cases) - set(found)}"
    return found


MESSAGES = _engine_messages()


# ------------------------------------------------------------------ the factory

BOOKKEEPING = frozenset({"version", "submitted_by_fk", "created_on", "changed_on",
                         "created_by_fk", "changed_by_fk"})
NOW = dt.datetime(2026, 3, 2, 9, 30)
_serial = itertools.count(1)


def _pdf():
    import hashlib

    from app.base import Attachment

    body = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    return Attachment(filename="工作流测试.pdf", content_type="application/pdf",
                      size=len(body), sha256=hashlib.sha256(body).hexdigest(), data=body)


def _scalar(column):
    kind = column.type
    enum_class = getattr(kind, "enum_class", None)
    if enum_class is not None:
        return next(iter(enum_class))
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, Numeric):
        return Decimal("1000")
    if isinstance(kind, Integer):
        return 3
    if isinstance(kind, DateTime):
        return NOW
    if isinstance(kind, Date):
        return NOW.date()
    if isinstance(kind, Text):
        return "工作流测试内容"
    if isinstance(kind, String):
        return f"wf{next(_serial)}-{uuid.uuid4().hex}"[:kind.length or 40]
    if isinstance(kind, LargeBinary):
        return b"x"
    return None


def _model_of_table(name):
    from flask_appbuilder import Model

    for mapper in Model.registry.mappers:
        if mapper.local_table is not None and mapper.local_table.name == name:
            return mapper.class_
    raise LookupError(name)


def _many_to_one(model):
    found = {}
    for rel in sa_inspect(model).relationships:
        if rel.direction is RelationshipDirection.MANYTOONE:
            for column in rel.local_columns:
                found.setdefault(column.key, rel)
    return found


def _fill(session, model, depth, departments, bare=False, skip=()):
    """A new ``model`` with every column given a valid value (related rows created).

    The record itself gets every column (``bare``: only required ones); related rows
    only their required ones; of the columns a rule wants exactly one of, the first.
    """
    from app.validation import OneOf

    one_of = [rule.keys for rule in getattr(model, "__rules__", ()) if isinstance(rule, OneOf)]
    skip = tuple(skip) + tuple(key for keys in one_of for key in keys[1:])
    wanted = {keys[0] for keys in one_of}
    record = model()
    relations = _many_to_one(model)
    for prop in sa_inspect(model).column_attrs:
        column, key = prop.columns[0], prop.key
        if column.primary_key or key in BOOKKEEPING or key in skip:
            continue
        if column.nullable and (depth or bare) and key not in wanted:
            continue
        foreign = next(iter(column.foreign_keys), None)
        if foreign is None:
            value = _scalar(column)
            if value is not None:
                setattr(record, key, value)
            continue
        table = foreign.column.table.name
        if table == "department":
            target = department(departments.get(key, departments[None]))
        elif table == "ab_user":
            target = person(OTHER)
        elif table == "attachment":
            target = _pdf()
        elif table == model.__tablename__ or depth >= 3:
            continue  # no chains of versions, no endless recursion
        else:
            target = _fill(session, _model_of_table(table), depth + 1,
                           {None: departments[None]})
        relation = relations.get(key)
        if relation is not None:
            setattr(record, relation.key, target)
        else:
            session.add(target)
            session.flush()
            setattr(record, key, target.id)
    session.add(record)
    return record


def _department_columns(model, step, home=HOME):
    """Department columns: the ones the step's rules name are ``home``, the others not
    (some records name two departments that must differ)."""
    away = AWAY if home != AWAY else HOME
    columns = [c.key for c in model.__table__.columns
               if any(fk.column.table.name == "department" for fk in c.foreign_keys)]
    named = {t.department.split(".")[0] for t in (step.group() if step else ())
             if t.department}
    ours = [c for c in columns if c in named]
    if not ours and columns:
        owner = (getattr(model, "__scope__", None) or (columns[0],))[0]
        ours = [owner if owner in columns else columns[0]]
    return {**{c: (home if c in ours else away) for c in columns}, None: home}


def _route(record, transition):
    """Make ``transition.when`` hold by trying the states of the records it refers to, the
    record's own kinds, then amounts in its number columns."""
    if transition.when is None or transition.when(record):
        return
    for related in _many_to_one(type(record)).values():
        other = getattr(record, related.key)
        field = _state_column(type(other)) if other is not None else None
        if field is None:
            continue
        original = getattr(other, field)
        for member in type(other).__table__.columns[field].type.enum_class:
            setattr(other, field, member)
            if transition.when(record):
                return
        setattr(other, field, original)
    state_field = type(record).__workflow__.state_field
    for prop in sa_inspect(type(record)).column_attrs:
        # The record's own kinds (a tender's method: single source goes to management).
        enum_class = getattr(prop.columns[0].type, "enum_class", None)
        if enum_class is None or prop.key == state_field:
            continue
        original = getattr(record, prop.key)
        for member in enum_class:
            setattr(record, prop.key, member)
            if transition.when(record):
                return
        setattr(record, prop.key, original)
    for prop in sa_inspect(type(record)).column_attrs:
        column = prop.columns[0]
        if (column.primary_key or column.foreign_keys or prop.key in BOOKKEEPING
                or not isinstance(column.type, (Numeric, Integer))):
            continue
        original = getattr(record, prop.key)
        for value in (0, 1, 10**3, 10**5, 10**6, 10**7, 10**9):
            setattr(record, prop.key, Decimal(value) if isinstance(column.type, Numeric)
                    else value)
            if transition.when(record):
                return
        setattr(record, prop.key, original)
    raise AssertionError(f"cannot make {transition.label!r} apply to {record!r}")


def _assign_reviewer(session, record):
    """Make REVIEWER one of the record's reviewers, trying its user columns in turn."""
    expert = person(REVIEWER)
    if expert.id in record.reviewer_ids():
        return
    relations = _many_to_one(type(record))
    for column in type(record).__table__.columns:
        if column.key in BOOKKEEPING or not any(
                fk.column.table.name == "ab_user" for fk in column.foreign_keys):
            continue
        relation = relations.get(column.key)
        if relation is not None:
            setattr(record, relation.key, expert)
        else:
            setattr(record, column.key, expert.id)
        session.flush()
        if expert.id in record.reviewer_ids():
            return
    raise AssertionError(f"cannot make {REVIEWER} a reviewer of {type(record).__name__}")


def _state_column(model):
    workflow = getattr(model, "__workflow__", None)
    if workflow is not None:
        return workflow.state_field
    column = model.__table__.columns.get("status")
    return "status" if column is not None and hasattr(column.type, "enum_class") else None


def _satisfy_guards(session, record, guards, home=HOME):
    """Add related rows (in whatever state helps) until the guards hold, if they can."""
    def failing():
        return sum(1 for guard in guards if not guard.check(record))

    left = failing()
    for rel in sa_inspect(type(record)).relationships:
        # An empty list of related rows (the systems an emergency plan covers): one
        # existing row, kept if it helps.
        if not left or rel.direction is not RelationshipDirection.MANYTOMANY \
                or getattr(record, rel.key):
            continue
        other = session.query(rel.mapper.class_).order_by(
            sa_inspect(rel.mapper.class_).primary_key[0]).first()
        if other is None:
            continue
        getattr(record, rel.key).append(other)
        if failing() < left:
            left = failing()
        else:
            getattr(record, rel.key).remove(other)
    for rel in sa_inspect(type(record)).relationships:
        if not left:
            return
        if rel.direction is not RelationshipDirection.ONETOMANY or not rel.uselist:
            continue
        child_model = rel.mapper.class_
        state_field = _state_column(child_model)
        # A record of its own type too: a newer version of a policy (6.1.1).
        if state_field is None:
            continue
        child = _fill(session, child_model, 1, {None: home},
                      skip={c.key for c in rel.remote_side})
        getattr(record, rel.key).append(child)
        enum_class = child_model.__table__.columns[state_field].type.enum_class
        for member in enum_class:
            setattr(child, state_field, member)
            if failing() < left:
                left = failing()
                break
        else:
            getattr(record, rel.key).remove(child)
            session.expunge(child)


def build(model, state, step=None, submitter=OTHER, bare=False, home=HOME):
    """A committed record of ``model`` in ``state`` (a member or its name), ready for
    ``step``: in department ``home``, its route and reviewer set, its guards satisfied
    unless ``bare``. Call inside an app context."""
    from app.extensions import db

    session = db.session
    workflow = model.__workflow__
    with session.no_autoflush:  # half-built rows must not be flushed by a lookup
        record = _fill(session, model, 0, _department_columns(model, step, home),
                       bare=bare)
        setattr(record, workflow.state_field,
                workflow.states[state] if isinstance(state, str) else state)
        record.submitted_by_fk = uid(submitter) if submitter else None
        if step is not None and step.route is not None:
            _route(record, workflow.transitions[step.route])
        session.flush()
        if any(t.reviewer for t in workflow.transitions):
            _assign_reviewer(session, record)
        if step is not None and not bare:
            _satisfy_guards(session, record,
                            [g for t in step.group(record) for g in t.guards], home)
    session.commit()
    return record


_UNTOUCHED = {}  # step -> id of a record that only ever sees refused attempts


def untouched(step):
    """The step's shared record, in the step's state, submitted by OTHER."""
    from app.extensions import db

    record = db.session.get(step.cls, _UNTOUCHED[step]) if step in _UNTOUCHED else None
    if record is None or getattr(record, step.cls.__workflow__.state_field) \
            is not step.state_member:  # a refusal moved it: that case failed; start afresh
        record = build(step.cls, step.state, step)
        _UNTOUCHED[step] = record.id
    return record


def record_for(step, username, comment):
    """(record, expected) for one case: refusals share one untouched record per step
    (they change nothing, which every case asserts); a move gets a record of its own."""
    model = step.cls
    submitter = username if step.own else OTHER
    if step.own:
        record = build(model, step.state, step, submitter=submitter)
    else:
        record = untouched(step)
    expected = expect(record, step.name, username, comment)
    if expected.status == 200 and not step.own:
        # This case moves ``record``; a fresh one waits for the next refusals.
        _UNTOUCHED[step] = build(model, step.state, step, submitter=submitter).id
    return record, expected


# --------------------------------------------------------------- observation


@dataclass(frozen=True)
class Snapshot:
    state: object
    version: int
    approvals: tuple
    submitted_by: int
    history: tuple  # seq of its change-history entries


def approvals_of(model, pk):
    from app.base import Approval
    from app.extensions import db

    return (db.session.query(Approval)
            .filter_by(record_type=model.__name__, record_id=pk).order_by(Approval.id).all())


def history_of(model, pk):
    from app.base import ChangeEntry
    from app.extensions import db

    return (db.session.query(ChangeEntry)
            .filter_by(record_type=model.__name__, record_id=str(pk)).order_by(ChangeEntry.seq)
            .all())


def snapshot_of(model, pk):
    from app.extensions import db

    record = db.session.get(model, pk)
    db.session.refresh(record)
    return Snapshot(getattr(record, model.__workflow__.state_field), record.version,
                    tuple(a.id for a in approvals_of(model, pk)), record.submitted_by_fk,
                    tuple(e.seq for e in history_of(model, pk)))


def snapshot(app, model, pk):
    with app.app_context():
        return snapshot_of(model, pk)


def translated(app, message):
    """The text the user reads (the default language, as the API and pages answer)."""
    with app.test_request_context():
        with force_locale(app.config["BABEL_DEFAULT_LOCALE"]):
            return gettext(message)


def buttons(response):
    """The workflow steps a page offers, by name, sorted."""
    return sorted(re.findall(r'data-transition="([^"]+)"', response.get_data(as_text=True)))


def page_messages(response):
    return [htmllib.unescape(text) for text in flashes(response.get_data(as_text=True))]


def check_effect(app, model, pk, before, expected, username, comment):
    """The stored consequence of one attempt: the move and one Approval, or nothing."""
    from app.extensions import db

    after = snapshot(app, model, pk)
    if expected.status != 200:
        assert after == before, "a refused step changed the record"
        return
    t = expected.transition
    assert after.state == t.target
    assert after.version == before.version + 1, "one step, one UPDATE"
    assert len(after.history) == len(before.history) + 1, "one step, one history entry"
    new = [a_id for a_id in after.approvals if a_id not in before.approvals]
    assert len(new) == 1, f"expected one new Approval, got {len(new)}"
    with app.app_context():
        from app.base import Approval

        approval = db.session.get(Approval, new[0])
        record = db.session.get(model, pk)
        assert (approval.transition, approval.from_state, approval.to_state) == (
            t.name, before.state.name, t.target.name)
        assert approval.actor_id == uid(username)
        assert approval.acting_for_id in expected.acting_for
        assert (approval.approves, approval.submits) == (t.approves, t.submits)
        assert approval.comment == comment
        assert approval.content_hash == content_hash(model.__workflow__, record)
        assert record.submitted_by_fk == (uid(username) if t.submits else before.submitted_by)
        entry = history_of(model, pk)[-1]
        assert entry.username == username
        assert json.loads(entry.changes)[model.__workflow__.state_field] == [
            before.state.name, t.target.name]


# ------------------------------------------------------------------ clients


def _views(app, model):
    """(web route base, API resource name) serving the model's records."""
    from flask_appbuilder import ModelRestApi, ModelView

    web = api = None
    for view in app.appbuilder.baseviews:
        if getattr(getattr(view, "datamodel", None), "obj", None) is not model:
            continue
        if isinstance(view, ModelRestApi):
            api = view.resource_name
        elif isinstance(view, ModelView) and hasattr(view, "transition"):
            web = view.route_base
    assert web and api, f"{model.__name__} needs a screen and an API with workflow steps"
    return web, api


def api_url(app, model, pk, name):
    return f"/api/v1/{_views(app, model)[1]}/{pk}/transition/{name}"


def web_url(app, model, pk, name):
    return f"{_views(app, model)[0]}/transition/{pk}/{name}"


def show_url(app, model, pk):
    return f"{_views(app, model)[0]}/show/{pk}"


@pytest.fixture(scope="module")
def api(app):
    """api("head_fin") -> (client, headers); one login per account for the module."""
    cache = {}

    def _api(username):
        if username not in cache:
            client = app.test_client()
            response = client.post("/api/v1/security/login", json={
                "username": username, "password": PASSWORD, "provider": "db"})
            assert response.status_code == 200, response.get_json()
            cache[username] = (client, {
                "Authorization": f"Bearer {response.get_json()['access_token']}"})
        return cache[username]

    return _api


@pytest.fixture(scope="module")
def web(app):
    """web("head_fin") -> (client with a session, its CSRF token)."""
    cache = {}

    def _web(username):
        if username not in cache:
            client = app.test_client()
            assert login(client, username).status_code == 302, f"login of {username}"
            cache[username] = (client, form_token(client))
        return cache[username]

    return _web


@pytest.fixture(scope="module", autouse=True)
def known_ids(app):
    """Ids of the demo accounts and departments, so tests can name them anywhere."""
    with app.app_context():
        for username, _role, _dept, _name in DEMO_ACCOUNTS:
            uid(username)
        for code, _name, _kind in DEPARTMENTS:
            dept_id(code)


# ================================================================ a) matrices


def test_the_matrix_covers_every_transition_state_and_account():
    assert {"ProjectRequest", "ExpertReview"} <= set(MODELS)
    cases = {(p.values[0], p.values[1]) for p in MATRIX}
    for model in MODELS.values():
        for index, t in enumerate(model.__workflow__.transitions):
            route = index if t.when is not None else None
            for state in t.source:
                step = Step(model.__name__, t.name, state.name, route)
                assert {u for s, u in cases if s == step} == set(USERS), step
                if t.approves:
                    own = Step(model.__name__, t.name, state.name, route, own=True)
                    assert {u for s, u in cases if s == own} >= {
                        u for u in USERS if ACCOUNTS[u][0] in t.roles}, own


@pytest.mark.parametrize("step", PLAIN_STEPS, ids=str)
def test_every_step_can_be_taken_by_some_demo_account(app, step):
    with app.app_context():
        record = untouched(step)
        able = [u for u in USERS if expect(record, step.name, u, "ok").status == 200]
    assert able, f"no demo account can take {step} on a {HOME} record"


@pytest.mark.parametrize("step,username", MATRIX)
def test_api_step_matrix(app, api, step, username):
    model = step.cls
    comment = f"matrix {step} {username}"
    with app.app_context():
        record, expected = record_for(step, username, comment)
        pk = record.id
        before = snapshot_of(model, pk)
    client, headers = api(username)

    response = client.post(api_url(app, model, pk, step.name), json={"comment": comment},
                           headers=headers)

    body = response.get_json()
    assert response.status_code == expected.status, (body, expected)
    check_effect(app, model, pk, before, expected, username, comment)
    if expected.status == 200:
        assert body["state"] == expected.target.name
        from app.extensions import db

        with app.app_context():
            assert sorted(t["name"] for t in body["transitions"]) == offered(
                db.session.get(model, pk), username)
    elif expected.status == 422:
        assert body["message"] == translated(app, expected.message)


@pytest.mark.parametrize("step,username", WEB_SAMPLE)
def test_web_step_sample(app, web, api, step, username):
    model = step.cls
    comment = f"web {step} {username}"
    with app.app_context():
        record, expected = record_for(step, username, comment)
        pk = record.id
        steps_offered = offered(record, username)
        before = snapshot_of(model, pk)
    client, token = web(username)
    if expected.status == 200 or expected.by_engine:  # the account sees the record
        api_client, headers = api(username)
        shown = api_client.get(f"/api/v1/{_views(app, model)[1]}/{pk}",
                               headers=headers).get_json()
        assert shown["state"] == step.state
        assert sorted(t["name"] for t in shown["transitions"]) == steps_offered
    if expected.status == 200:
        page = client.get(show_url(app, model, pk))
        assert page.status_code == 200 and buttons(page) == steps_offered

    response = client.post(web_url(app, model, pk, step.name),
                           data={"csrf_token": token, "comment": comment})

    if expected.status == 200:
        assert response.status_code == 302
        assert response.location.endswith(show_url(app, model, pk))
    elif expected.by_engine:  # the show page again, with the reason and the same buttons
        assert response.status_code == expected.status
        assert "workflow-state" in response.get_data(as_text=True)
        assert buttons(response) == steps_offered
        assert translated(app, expected.message) in page_messages(response)
    else:  # may not even look at it
        assert response.status_code == expected.status
        assert client.get(show_url(app, model, pk)).status_code == expected.status
    check_effect(app, model, pk, before, expected, username, comment)


# ================================================ b) separation of duties


def test_head_who_submitted_a_project_cannot_approve_it(app, api, web):
    from app.planning.models import ProjectRequest

    with app.app_context():
        pk = build(ProjectRequest, "draft", submitter=None).id
    client, headers = api("head_fin")
    submitted = client.post(api_url(app, ProjectRequest, pk, "submit"), json={},
                            headers=headers)
    assert submitted.status_code == 200, submitted.get_json()
    assert [t["name"] for t in submitted.get_json()["transitions"]] == ["return", "reject"]
    before = snapshot(app, ProjectRequest, pk)
    assert before.submitted_by == uid("head_fin") and before.state.name == "dept_review"

    refused = client.post(api_url(app, ProjectRequest, pk, "approve"), json={},
                          headers=headers)

    assert refused.status_code == 403
    assert refused.get_json()["message"] == translated(app, MESSAGES[NotAllowed])
    assert snapshot(app, ProjectRequest, pk) == before
    browser, token = web("head_fin")
    page = browser.get(show_url(app, ProjectRequest, pk)).get_data(as_text=True)
    assert 'data-transition="approve"' not in page and 'data-transition="return"' in page
    response = browser.post(web_url(app, ProjectRequest, pk, "approve"),
                            data={"csrf_token": token})
    assert response.status_code == 403
    assert snapshot(app, ProjectRequest, pk) == before


def test_project_submitted_by_the_clerk_is_approved_by_the_head(app, api):
    """The counterpart of the SoD test above: the head's refusal was SoD, not the role."""
    from app.planning.models import ProjectRequest

    with app.app_context():
        pk = build(ProjectRequest, "draft", submitter=None).id
    clerk, clerk_headers = api("clerk_fin")
    head, head_headers = api("head_fin")
    assert clerk.post(api_url(app, ProjectRequest, pk, "submit"), json={},
                      headers=clerk_headers).status_code == 200
    approved = head.post(api_url(app, ProjectRequest, pk, "approve"), json={},
                         headers=head_headers)
    assert approved.status_code == 200 and approved.get_json()["state"] == "it_review"


# ================================================== c) content-hash re-approval


def _edit_form(app, model, pk, **changes):
    """The record's edit form as the screen would post it back, with ``changes``."""
    from app.extensions import db

    route = _views(app, model)[0]
    view = next(v for v in app.appbuilder.baseviews if getattr(v, "route_base", None) == route)
    with app.app_context():
        record = db.session.get(model, pk)
        form = {}
        for name in view.edit_columns:
            if name.endswith("_upload"):
                continue
            value = changes.get(name, getattr(record, name))
            if isinstance(value, list):
                value = [item.id for item in value]
            elif hasattr(value, "id"):
                value = value.id
            form[name] = "" if value is None else value
    return form


def _project_in_it_review(app, api):
    from app.planning.models import ProjectRequest

    with app.app_context():
        pk = build(ProjectRequest, "draft", submitter=None).id
    for username, name in (("clerk_fin", "submit"), ("head_fin", "approve")):
        client, headers = api(username)
        response = client.post(api_url(app, ProjectRequest, pk, name), json={},
                               headers=headers)
        assert response.status_code == 200, response.get_json()
    return pk


def test_editing_the_approved_budget_sends_the_project_back_for_approval(app, api, web):
    from app.base import ChangeEntry
    from app.extensions import db
    from app.planning.models import ProjectRequest

    pk = _project_in_it_review(app, api)
    first = snapshot(app, ProjectRequest, pk)
    assert first.state.name == "it_review"
    client, token = web("clerk_fin")

    response = client.post(f"{_views(app, ProjectRequest)[0]}/edit/{pk}",
                           data={**_edit_form(app, ProjectRequest, pk, budget="2500"),
                                 "csrf_token": token})

    assert response.status_code == 302
    after = snapshot(app, ProjectRequest, pk)
    assert after.state.name == "dept_review"
    with app.app_context():
        record = db.session.get(ProjectRequest, pk)
        assert record.budget == Decimal("2500")
        approvals = approvals_of(ProjectRequest, pk)
        reapproval = approvals[-1]
        assert [a.transition for a in approvals] == ["submit", "approve", "reapproval"]
        assert (reapproval.from_state, reapproval.to_state) == ("it_review", "dept_review")
        # The editor is named: they may not approve this round (separation of duties).
        assert reapproval.actor_id == uid("clerk_fin")
        assert reapproval.comment == "Changed: budget"
        assert reapproval.content_hash == content_hash(ProjectRequest.__workflow__, record)
        assert reapproval.content_hash != approvals[1].content_hash
        label = translated(app, reapproval.label)
        entry = (db.session.query(ChangeEntry)
                 .filter_by(record_type="ProjectRequest", record_id=str(pk))
                 .order_by(ChangeEntry.seq.desc()).first())
        changes, editor = json.loads(entry.changes), entry.username
    assert changes["status"] == ["it_review", "dept_review"]
    assert Decimal(changes["budget"][1]) == Decimal("2500")
    assert editor == "clerk_fin"
    head, head_token = web("head_fin")
    page = head.get(show_url(app, ProjectRequest, pk)).get_data(as_text=True)
    approvals_tab = page.split('id="Approvals"')[1].split('id="History"')[0]
    assert label in approvals_tab and "Changed: budget" in approvals_tab
    api_client, headers = api("head_fin")
    shown = api_client.get(f"/api/v1/project_request/{pk}", headers=headers).get_json()
    assert shown["state"] == "dept_review"
    assert "approve" in [t["name"] for t in shown["transitions"]]


def test_saving_the_form_unchanged_or_writing_a_steps_own_opinion_keeps_the_approval(
        app, api, web):
    from app.extensions import db
    from app.planning.models import ProjectRequest, ProjectStatus

    pk = _project_in_it_review(app, api)
    before = snapshot(app, ProjectRequest, pk)
    client, token = web("clerk_fin")
    edit = f"{_views(app, ProjectRequest)[0]}/edit/{pk}"
    unchanged = _edit_form(app, ProjectRequest, pk)
    assert client.post(edit, data={**unchanged, "csrf_token": token}).status_code == 302
    after = snapshot(app, ProjectRequest, pk)
    assert after.state.name == "it_review" and after.approvals == before.approvals
    # IT's consolidated opinion is the expert-review step's own output, not content under
    # review: writing it keeps the state.
    with app.app_context():
        db.session.get(ProjectRequest, pk).status = ProjectStatus.expert_review
        db.session.commit()
    it, it_token = web("it_staff")
    form = _edit_form(app, ProjectRequest, pk, expert_opinion="专家意见汇总：同意。")
    assert it.post(edit, data={**form, "csrf_token": it_token}).status_code == 302
    final = snapshot(app, ProjectRequest, pk)
    assert final.state.name == "expert_review" and final.approvals == before.approvals
    with app.app_context():
        assert db.session.get(ProjectRequest, pk).expert_opinion == "专家意见汇总：同意。"


REAPPROVALS = [pytest.param(model, state, id=f"{name}-{state.name}")
               for name, model in MODELS.items()
               if model.__workflow__.reapproval is not None
               for state in model.__workflow__.states]


def _a_field(model, covered):
    """A plain text, number or date column of the model, covered by approvals or not."""
    workflow = model.__workflow__
    for prop in sa_inspect(model).column_attrs:
        column = prop.columns[0]
        if (prop.key in BOOKKEEPING or column.primary_key or column.foreign_keys
                or hasattr(column.type, "enum_class") or prop.key == workflow.state_field
                or not isinstance(column.type, (String, Numeric, Integer, Date))
                or column.unique or (prop.key in workflow.content_fields()) != covered):
            continue
        return prop.key
    return None


def _changed(value):
    if isinstance(value, str):
        return "改" + value[1:]  # same length: fits the column
    if isinstance(value, Decimal):
        return value + 1
    if isinstance(value, int):
        return value + 1
    return value - dt.timedelta(days=1)  # earlier: a start date stays before its end


@pytest.mark.parametrize("model,state", REAPPROVALS)
def test_changing_covered_content_goes_back_for_approval_only_in_frozen_states(app, model,
                                                                             state):
    from app.extensions import db

    workflow = model.__workflow__
    field = _a_field(model, covered=True)
    if field is None:
        pytest.skip(f"{model.__name__} covers no plain column")
    with app.app_context():
        record = build(model, state)
        pk = record.id
        setattr(record, field, _changed(getattr(record, field)))
        db.session.commit()
    after = snapshot(app, model, pk)
    with app.app_context():
        last = approvals_of(model, pk)[-1:] or [None]
    if state in workflow.frozen:
        assert after.state == workflow.reapproval
        assert last[0].transition == "reapproval" and last[0].comment == f"Changed: {field}"
    else:
        assert after.state == state and last[0] is None


FROZEN = [model for model in MODELS.values()
          if model.__workflow__.reapproval is not None and model.__workflow__.frozen]


@pytest.mark.parametrize("model", FROZEN, ids=lambda m: m.__name__)
def test_changing_uncovered_fields_keeps_a_frozen_state(app, model):
    from app.extensions import db

    workflow = model.__workflow__
    field = _a_field(model, covered=False)
    if field is None:
        pytest.skip(f"every plain column of {model.__name__} is covered")
    state = sorted(workflow.frozen, key=lambda s: s.name)[0]
    with app.app_context():
        record = build(model, state)
        pk = record.id
        setattr(record, field, _changed(getattr(record, field)))
        db.session.commit()
    assert snapshot(app, model, pk).state == state


# ========================================================== d) delegation


@pytest.fixture
def delegate(app):
    """delegate(principal, substitute, first_day, last_day) -> a Delegation, removed after."""
    from app.base import Delegation
    from app.extensions import db

    made = []

    def _delegate(principal, substitute, first, last):
        with app.app_context():
            row = Delegation(principal_id=uid(principal), substitute_id=uid(substitute),
                             start_date=first, end_date=last, reason="测试代理")
            db.session.add(row)
            db.session.commit()
            made.append(row.id)
            return row.id

    yield _delegate
    with app.app_context():
        for pk in made:
            row = db.session.get(Delegation, pk)
            if row is not None:
                db.session.delete(row)
        db.session.commit()


def _pending_for_head_fin(app, submitter="clerk_fin"):
    from app.planning.models import ProjectRequest

    with app.app_context():
        return build(ProjectRequest, "dept_review",
                     Step("ProjectRequest", "approve", "dept_review"),
                     submitter=submitter).id


def answer(app, model, pk, name, username):
    """What the rules say ``username`` gets for step ``name`` on the record now."""
    from app.extensions import db

    with app.app_context():
        return expect(db.session.get(model, pk), name, username, "ok")


def test_substitute_from_another_department_approves_for_the_absent_head(app, api, web):
    from app.base import Approval, Delegation
    from app.extensions import db
    from app.planning.models import ProjectRequest

    pk = _pending_for_head_fin(app)
    waiting_since(app, ProjectRequest, pk, dt.datetime(2000, 1, 2))
    assert answer(app, ProjectRequest, pk, "approve", OTHER).status in (403, 404)
    today = dt.date.today()
    head, headers = api("head_fin")
    made = head.post("/api/v1/delegation/", headers=headers, json={
        "principal": uid("head_fin"), "substitute": uid(OTHER),
        "start_date": today.isoformat(), "end_date": today.isoformat(), "reason": "出差"})
    assert made.status_code == 201, made.get_json()
    try:
        client, token = web(OTHER)
        inbox = client.get("/inbox/").get_data(as_text=True)
        assert f'href="{show_url(app, ProjectRequest, pk)}"' in inbox

        response = client.post(web_url(app, ProjectRequest, pk, "approve"),
                               data={"csrf_token": token, "comment": "代为审批"})

        assert response.status_code == 302, page_messages(response)
        with app.app_context():
            approval = approvals_of(ProjectRequest, pk)[-1]
            assert (approval.transition, approval.to_state) == ("approve", "it_review")
            assert approval.actor_id == uid(OTHER)
            assert approval.acting_for_id == uid("head_fin")
            names = str(person(OTHER)), str(person("head_fin"))
        page = web("head_fin")[0].get(show_url(app, ProjectRequest, pk))
        assert page.status_code == 200
        approvals_tab = page.get_data(as_text=True).split('id="Approvals"')[1]
        row = next(r for r in approvals_tab.split("<tr>") if "代为审批" in r)
        assert names[0] in row and names[1] in row
    finally:
        with app.app_context():
            db.session.delete(db.session.get(Delegation, made.get_json()["id"]))
            db.session.commit()
    with app.app_context():
        assert db.session.query(Approval).filter_by(record_id=pk,
                                                    record_type="ProjectRequest").count() == 1


@pytest.mark.parametrize("first,last,allowed", [
    pytest.param(-3, -1, False, id="ended-yesterday"),
    pytest.param(1, 3, False, id="starts-tomorrow"),
    pytest.param(0, 0, True, id="today-only"),
    pytest.param(-1, 1, True, id="around-today"),
    pytest.param(-5, 0, True, id="ends-today"),
    pytest.param(0, 5, True, id="starts-today"),
])
def test_delegation_counts_only_within_its_dates(app, api, delegate, first, last, allowed):
    from app.planning.models import ProjectRequest

    pk = _pending_for_head_fin(app, submitter=OTHER)
    today = dt.date.today()
    # clerk_fin sees FIN records anyway: only the delegation can make the approval hers.
    assert answer(app, ProjectRequest, pk, "approve", "clerk_fin").status == 403
    delegate("head_fin", "clerk_fin", today + dt.timedelta(first), today + dt.timedelta(last))
    before = snapshot(app, ProjectRequest, pk)
    client, headers = api("clerk_fin")

    response = client.post(api_url(app, ProjectRequest, pk, "approve"), json={},
                           headers=headers)

    assert response.status_code == (200 if allowed else 403), response.get_json()
    if not allowed:
        assert snapshot(app, ProjectRequest, pk) == before
        return
    with app.app_context():
        approval = approvals_of(ProjectRequest, pk)[-1]
        assert (approval.actor_id, approval.acting_for_id) == (uid("clerk_fin"),
                                                               uid("head_fin"))


def test_substitute_acts_for_the_head_only_in_the_heads_department(app, api, delegate):
    """clerk_mkt sees MKT records herself; standing in for head_fin gives no say over them."""
    from app.planning.models import ProjectRequest

    with app.app_context():
        step = Step("ProjectRequest", "approve", "dept_review")
        record = build(ProjectRequest, "dept_review", step, submitter="head_mkt", home=AWAY)
        pk = record.id
        assert record.applicant_department_id == dept_id(AWAY)
    today = dt.date.today()
    delegate("head_fin", OTHER, today, today)
    before = snapshot(app, ProjectRequest, pk)
    client, headers = api(OTHER)
    response = client.post(api_url(app, ProjectRequest, pk, "approve"), json={},
                           headers=headers)
    assert response.status_code == 403
    assert snapshot(app, ProjectRequest, pk) == before


def test_substitute_cannot_approve_for_the_head_what_she_submitted(app, api, delegate):
    from app.planning.models import ProjectRequest

    pk = _pending_for_head_fin(app, submitter="clerk_fin")
    today = dt.date.today()
    delegate("head_fin", "clerk_fin", today, today)
    before = snapshot(app, ProjectRequest, pk)
    client, headers = api("clerk_fin")
    response = client.post(api_url(app, ProjectRequest, pk, "approve"), json={},
                           headers=headers)
    assert response.status_code == 403
    assert snapshot(app, ProjectRequest, pk) == before


def test_substitute_from_another_department_sees_nothing_outside_the_dates(app, api,
                                                                           delegate):
    from app.planning.models import ProjectRequest

    pk = _pending_for_head_fin(app)
    today = dt.date.today()
    delegate("head_fin", OTHER, today - dt.timedelta(5), today - dt.timedelta(1))
    # 404 unless something else (another test's delegation) lets her see FIN records
    expected = answer(app, ProjectRequest, pk, "approve", OTHER)
    assert expected.status in (403, 404)
    before = snapshot(app, ProjectRequest, pk)
    client, headers = api(OTHER)
    response = client.post(api_url(app, ProjectRequest, pk, "approve"), json={},
                           headers=headers)
    assert response.status_code == expected.status
    assert snapshot(app, ProjectRequest, pk) == before


# ================================================ e) comments, guards, the doors


COMMENTED = [step for step in PLAIN_STEPS
             if any(t.needs_comment for t in step.group())]
GUARDED = [step for step in PLAIN_STEPS if any(t.guards for t in step.group())]


def _someone_who_may(record, step, comment="ok"):
    for username in USERS:
        if expect(record, step.name, username, comment).status in (200, 422):
            return username
    raise AssertionError(f"no demo account may take {step}")


@pytest.mark.parametrize("step", COMMENTED, ids=str)
def test_steps_that_need_a_comment_refuse_without_one_and_store_it(app, api, step):
    model = step.cls
    with app.app_context():
        record = build(model, step.state, step)
        pk = record.id
        username = _someone_who_may(record, step)
        assert expect(record, step.name, username, "").message == MESSAGES[CommentRequired]
    before = snapshot(app, model, pk)
    client, headers = api(username)
    url = api_url(app, model, pk, step.name)

    for blank in ({}, {"comment": "  \n "}):
        refused = client.post(url, json=blank, headers=headers)
        assert refused.status_code == 422
        assert refused.get_json()["message"] == translated(app, MESSAGES[CommentRequired])
        assert snapshot(app, model, pk) == before

    done = client.post(url, json={"comment": "  理由：材料不全  "}, headers=headers)
    assert done.status_code == 200, done.get_json()
    with app.app_context():
        assert approvals_of(model, pk)[-1].comment == "理由：材料不全"


@pytest.mark.parametrize("step", GUARDED, ids=str)
def test_a_guard_refuses_a_bare_record_with_its_message(app, api, step):
    model = step.cls
    with app.app_context():
        record = build(model, step.state, step, bare=True)
        pk = record.id
        username = _someone_who_may(record, step)
        expected = expect(record, step.name, username, "ok")
    if expected.status != 422:
        pytest.skip(f"a bare record already passes the guards of {step}")
    before = snapshot(app, model, pk)
    client, headers = api(username)
    response = client.post(api_url(app, model, pk, step.name), json={"comment": "ok"},
                           headers=headers)
    assert response.status_code == 422
    assert response.get_json()["message"] == translated(app, expected.message)
    assert snapshot(app, model, pk) == before


def test_submitting_a_project_without_requirements_report_is_refused_with_the_message(
        app, api, web):
    from app.planning.models import ProjectRequest

    with app.app_context():
        pk = build(ProjectRequest, "draft", submitter=None, bare=True).id
    before = snapshot(app, ProjectRequest, pk)
    message = translated(app, "Attach the requirements analysis report first.")
    client, headers = api("clerk_fin")
    response = client.post(api_url(app, ProjectRequest, pk, "submit"), json={},
                           headers=headers)
    assert response.status_code == 422 and response.get_json()["message"] == message
    browser, token = web("clerk_fin")
    page = browser.post(web_url(app, ProjectRequest, pk, "submit"),
                        data={"csrf_token": token})
    assert page.status_code == 422 and message in page_messages(page)
    assert snapshot(app, ProjectRequest, pk) == before


@pytest.mark.parametrize("model", list(MODELS.values()), ids=lambda m: m.__name__)
def test_get_on_a_step_url_changes_nothing(app, api, web, model):
    step = steps(model, sod=False)[0]
    with app.app_context():
        record = build(model, step.state, step)
        pk = record.id
        username = _someone_who_may(record, step)
    before = snapshot(app, model, pk)
    client, headers = api(username)
    browser, _token = web(username)
    assert client.get(api_url(app, model, pk, step.name), headers=headers).status_code == 405
    assert browser.get(web_url(app, model, pk, step.name)).status_code == 405
    assert snapshot(app, model, pk) == before


def test_web_step_without_csrf_token_is_refused(app, web):
    from app.planning.models import ProjectRequest

    pk = _pending_for_head_fin(app)
    before = snapshot(app, ProjectRequest, pk)
    browser, token = web("head_fin")
    for data in ({"comment": "x"}, {"comment": "x", "csrf_token": "forged"}):
        assert browser.post(web_url(app, ProjectRequest, pk, "approve"),
                            data=data).status_code == 400
    assert snapshot(app, ProjectRequest, pk) == before
    assert browser.post(web_url(app, ProjectRequest, pk, "approve"),
                        data={"csrf_token": token}).status_code == 302  # the token was all


def test_other_department_cannot_reach_a_record_to_step_it(app, api, web):
    from app.planning.models import ProjectRequest

    pk = _pending_for_head_fin(app)
    before = snapshot(app, ProjectRequest, pk)
    for username in ("clerk_mkt", "head_mkt"):
        # 404: they cannot see it (403 if another test made them someone's substitute)
        expected = answer(app, ProjectRequest, pk, "approve", username).status
        assert expected in (403, 404)
        client, headers = api(username)
        browser, token = web(username)
        assert client.post(api_url(app, ProjectRequest, pk, "approve"), json={},
                           headers=headers).status_code == expected
        assert browser.post(web_url(app, ProjectRequest, pk, "approve"),
                            data={"csrf_token": token}).status_code == expected
    assert snapshot(app, ProjectRequest, pk) == before


def test_unknown_step_is_404(app, api, web):
    from app.planning.models import ProjectRequest

    pk = _pending_for_head_fin(app)
    client, headers = api("head_fin")
    response = client.post(api_url(app, ProjectRequest, pk, "publish"), json={},
                           headers=headers)
    assert response.status_code == 404
    browser, token = web("head_fin")
    assert browser.post(web_url(app, ProjectRequest, pk, "publish"),
                        data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("door", ["api", "web"])
def test_replaying_a_step_is_409_the_second_time(app, api, web, door):
    from app.planning.models import ProjectRequest

    pk = _pending_for_head_fin(app)
    if door == "api":
        client, headers = api("head_fin")
        send = lambda: client.post(api_url(app, ProjectRequest, pk, "approve"),  # noqa: E731
                                   json={"comment": "同意"}, headers=headers)
        ok = 200
    else:
        browser, token = web("head_fin")
        send = lambda: browser.post(web_url(app, ProjectRequest, pk, "approve"),  # noqa: E731
                                    data={"csrf_token": token, "comment": "同意"})
        ok = 302
    assert send().status_code == ok
    moved = snapshot(app, ProjectRequest, pk)
    replay = send()
    assert replay.status_code == 409
    assert snapshot(app, ProjectRequest, pk) == moved
    assert len(moved.approvals) == 1


def test_approvals_cannot_be_changed_or_deleted_through_the_orm(app, api):
    from app.base import Approval
    from app.extensions import db

    model = MODELS["ProjectRequest"]
    pk = _pending_for_head_fin(app)
    client, headers = api("head_fin")
    assert client.post(api_url(app, model, pk, "approve"), json={"comment": "原意见"},
                       headers=headers).status_code == 200
    with app.app_context():
        approval = approvals_of(model, pk)[-1]
        approval_id = approval.id
        approval.comment = "篡改"
        with pytest.raises(WorkflowError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(Approval, approval_id))
        with pytest.raises(WorkflowError):
            db.session.commit()
        db.session.rollback()
    with app.app_context():
        assert db.session.get(Approval, approval_id).comment == "原意见"


def test_no_screen_or_api_edits_approvals(app):
    from app.base import Approval

    served = [view for view in app.appbuilder.baseviews
              if getattr(getattr(view, "datamodel", None), "obj", None) is Approval]
    assert served == []
    writers = [rule.rule for rule in app.url_map.iter_rules()
               if "approval" in rule.rule.lower()
               and rule.methods & {"POST", "PUT", "PATCH", "DELETE"}]
    assert writers == []


# =========================================================== f) concurrency

RACERS = 8


def _race(app, pk, attempt):
    """Run ``attempt(index)`` in RACERS threads released together; their outcomes."""
    barrier = threading.Barrier(RACERS)
    outcomes = [None] * RACERS

    def run(index):
        try:
            outcomes[index] = attempt(index, barrier)
        except Exception as exc:  # reported by the assertions below
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


@pytest.mark.parametrize("door", ["api", "engine"])
def test_concurrent_approvals_move_the_record_exactly_once(app, api, door):
    from app.base import AppUser
    from app.extensions import db
    from app.planning.models import ProjectRequest

    pk = _pending_for_head_fin(app)
    _client, headers = api("head_fin")  # one token, many clients
    head_id = uid("head_fin")

    def by_api(index, barrier):
        client = app.test_client()
        barrier.wait()
        return client.post(api_url(app, ProjectRequest, pk, "approve"),
                           json={"comment": f"并发{index}"}, headers=headers).status_code

    def by_engine(index, barrier):
        from app.approvals import perform

        with app.app_context():
            user = db.session.get(AppUser, head_id)
            record = db.session.get(ProjectRequest, pk)
            barrier.wait()
            try:
                perform(record, "approve", user, f"并发{index}")
                return 200
            except WorkflowError as exc:
                return exc.status
            finally:
                db.session.remove()

    outcomes = _race(app, pk, by_api if door == "api" else by_engine)

    assert sorted(outcomes, key=str) == sorted([200] + [409] * (RACERS - 1), key=str), outcomes
    after = snapshot(app, ProjectRequest, pk)
    assert after.state.name == "it_review" and after.version == 2
    assert len(after.approvals) == 1
    result = app.test_cli_runner().invoke(args=["history", "verify"])
    assert result.exit_code == 0, result.output


# ================================================================ g) inbox


def waiting_since(app, model, pk, when):
    """Backdate when the record last changed (test setup, straight in the database): the
    inbox lists the oldest first, a limited number per record type."""
    from app.extensions import db

    with app.app_context():
        table = model.__table__
        db.session.execute(update(table).where(table.c.id == pk).values(changed_on=when))
        db.session.commit()


def _inbox_rows(html):
    table = html.split('class="table table-hover table-condensed inbox"')
    if len(table) < 2:
        return []
    return re.findall(r'<tr>\s*<td[^>]*>.*?</tr>', table[1].split("</table>")[0], re.S)


def _inbox_total(html):
    """The number of records in the whole inbox, as its heading shows it."""
    return int(re.search(r'<span class="badge inbox-total">(\d+)</span>', html).group(1))


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """A fresh database with nothing but the demo seeds."""
    application = seeded_app(
        scratch_database_url(str(tmp_path_factory.mktemp("inbox")), "inbox"))
    yield application
    dispose(application)


def signed_in(application, username):
    """A client whose session carries the account, without the (slow) password check:
    what is tested here is the data, login is tested elsewhere."""
    from app.base import AppUser
    from app.extensions import db

    with application.app_context():
        user_id, stamp = (db.session.query(AppUser.id, AppUser.security_stamp)
                          .filter_by(username=username).one())
    client = application.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session["_stamp"] = stamp  # what a login stores (app/sessions.py)
    return client


def test_every_demo_account_finds_work_in_the_inbox(demo_app):
    """Admin holds no workflow role: the demo gives it a delegation from the IT head."""
    empty = {}
    for username, role, _dept, _name in DEMO_ACCOUNTS:
        client = signed_in(demo_app, username)
        assert client.get("/inbox/count").status_code == 200, f"{username} is not signed in"
        rows = _inbox_rows(client.get("/inbox/").get_data(as_text=True))
        count = client.get("/inbox/count").get_json()["count"]
        assert count == len(rows), username
        if not rows:
            empty[username] = role
    assert not empty, f"demo accounts with nothing to do: {empty}"


def test_inbox_lists_oldest_first_and_its_count_matches(app, web):
    from app.planning.models import ProjectRequest

    step = Step("ProjectRequest", "approve", "dept_review")
    with app.app_context():
        pks = [build(ProjectRequest, "dept_review", step, submitter="clerk_fin").id
               for _ in range(3)]
    for days, pk in zip((3, 1, 2), pks):  # the last made has waited longest
        waiting_since(app, ProjectRequest, pk, dt.datetime(2001, 1, days))
    client, token = web("head_fin")
    html = client.get("/inbox/").get_data(as_text=True)
    rows = _inbox_rows(html)
    view = _views(app, ProjectRequest)[0]
    order = [int(m) for row in rows for m in re.findall(rf'href="{view}/show/(\d+)"', row)]
    mine = [pk for pk in order if pk in pks]
    assert mine == [pks[1], pks[2], pks[0]]
    assert order[:3] == mine, "records waiting since 2001 come first"
    total = _inbox_total(html)
    assert client.get("/inbox/count").get_json()["count"] == total
    assert len(rows) == min(total, app.config["INBOX_PAGE_SIZE"])

    assert client.post(web_url(app, ProjectRequest, pks[1], "approve"),
                       data={"csrf_token": token}).status_code == 302
    html = client.get("/inbox/").get_data(as_text=True)
    after = _inbox_rows(html)
    assert client.get("/inbox/count").get_json()["count"] == _inbox_total(html) == total - 1
    assert f'href="{view}/show/{pks[1]}"' not in "".join(after)
    assert f'href="{view}/show/{pks[0]}"' in after[1]  # the next oldest moved up


def test_inbox_offers_only_what_the_account_may_do(app, web):
    from app.extensions import db
    from app.planning.models import ProjectRequest

    step = Step("ProjectRequest", "approve", "dept_review")
    with app.app_context():
        pk = build(ProjectRequest, "dept_review", step, submitter="clerk_fin").id
    waiting_since(app, ProjectRequest, pk, dt.datetime(2000, 1, 1))
    view = _views(app, ProjectRequest)[0]
    link = f'href="{view}/show/{pk}"'
    listed = {}
    for username in USERS:
        client, _token = web(username)
        listed[username] = link in client.get("/inbox/").get_data(as_text=True)
    with app.app_context():
        record = db.session.get(ProjectRequest, pk)
        assert listed == {u: bool(offered(record, u)) for u in USERS}
    assert listed["head_fin"] and not listed["clerk_fin"] and not listed["it_staff"]


# ================================================ the tables themselves


@pytest.mark.parametrize("model", list(MODELS.values()), ids=lambda m: m.__name__)
def test_workflow_table_is_consistent(model):
    workflow = model.__workflow__
    states = set(workflow.states)
    roles = set(FAB_ROLE_DEFINITIONS)
    columns = set(sa_inspect(model).attrs.keys())
    assert workflow.state_field in columns
    for t in workflow.transitions:
        assert set(t.source) <= states and t.target in states, t.label
        assert t.roles and t.roles <= roles, f"{t.label}: unknown role in {set(t.roles)}"
        if t.department:
            assert t.department.split(".")[0] in columns, t.department
    assert set(workflow.frozen) <= states
    assert workflow.reapproval is None or workflow.reapproval in states
    assert set(workflow.covered) <= columns, set(workflow.covered) - columns
    # Same name, same state, same people: only ``when`` or a different rule tells them apart.
    for a, b in itertools.combinations(workflow.transitions, 2):
        if a.name == b.name and set(a.source) & set(b.source) and a.roles & b.roles:
            routed = a.when is not None and b.when is not None
            rules = {(t.department, t.department_kind, t.reviewer) for t in (a, b)}
            assert routed or len(rules) == 2, f"{a.label} / {b.label} cannot both apply"
