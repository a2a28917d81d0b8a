"""The thin layer between the workflow engine and the application: actors from users
and delegations, Approval rows, exactly-once commits, re-approval on content change,
and the inbox (待我处理)."""
import datetime as dt
import logging
import time
from dataclasses import dataclass

from flask import current_app, g, has_request_context
from sqlalchemy import and_, event, func, literal, or_, select, union_all
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from .base import Approval, Delegation, Model
from .extensions import db
from .security import current_actor, principals_of, read_clause, scope_for
from .workflow import (
    N_,
    Actor,
    Duties,
    Identity,
    WorkflowError,
    available,
    fire,
    invalidated,
    resolve,
    step,
    submitter_id,
    who_acts_next,
)


log = logging.getLogger(__name__)


class AlreadyMoved(WorkflowError):
    status = 409


def workflow_models():
    """Every model that declares a workflow, in a stable order."""
    from .chapters import load_models

    load_models()
    found = [m.class_ for m in Model.registry.mappers if hasattr(m.class_, "__workflow__")]
    return sorted(found, key=lambda m: m.__name__)


def model_named(name):
    return next((m for m in workflow_models() if m.__name__ == name), None)


def identity(user):
    department = user.department
    return Identity(user_id=user.id, name=str(user), roles=frozenset(r.name for r in user.roles),
                    department_id=user.department_id,
                    department_kind=department.kind.name if department else None)


def actor_for(user, today=None):
    """The user, plus everyone who has named them substitute for today (looked up once
    per request)."""
    principals = principals_of(user, today)
    return Actor(identity(user), tuple(identity(p) for p in principals))


def duties_for_many(model, records, today=None):
    """Separation-of-duties facts of each record (by id), from its approvals: two queries
    for any number of records of one type."""
    records = [r for r in records if r.id is not None]
    if not records:
        return {}
    today = today or dt.date.today()
    rows = (db.session.query(Approval.record_id, Approval.id, Approval.transition,
                             Approval.from_state, Approval.actor_id, Approval.acting_for_id,
                             Approval.submits, Approval.approves)
            .filter(Approval.record_type == model.__name__,
                    Approval.record_id.in_([r.id for r in records]))
            .order_by(Approval.id).all())
    by_record = {}
    for row in rows:
        by_record.setdefault(row.record_id, []).append(row)
    behind = {}
    for record in records:
        people = {submitter_id(record)} - {None}
        for row in by_record.get(record.id, ()):
            if row.submits:
                people |= {row.actor_id, row.acting_for_id} - {None}
        behind[record.id] = people
    everyone = set().union(*behind.values()) if behind else set()
    substitutes = {}
    if everyone:
        for principal, substitute in (db.session.query(Delegation.principal_id,
                                                       Delegation.substitute_id)
                                      .filter(Delegation.principal_id.in_(everyone),
                                              Delegation.start_date <= today,
                                              Delegation.end_date >= today)):
            substitutes.setdefault(principal, set()).add(substitute)
    result = {}
    for record in records:
        excluded = set(behind[record.id])
        for person in behind[record.id]:
            excluded |= substitutes.get(person, set())
        approved, editors = {}, set()
        for row in by_record.get(record.id, ()):
            if row.submits:
                editors = set()  # a new round
            elif row.transition == "reapproval":
                editors |= {row.actor_id, row.acting_for_id} - {None}
            if row.approves:
                for person in {row.actor_id, row.acting_for_id} - {None}:
                    approved.setdefault(person, set()).add(row.from_state)
        result[record.id] = Duties(
            excluded=frozenset(excluded | editors),
            approved=tuple((person, frozenset(steps)) for person, steps in approved.items()))
    return result


def duties_for(record):
    return duties_for_many(type(record), [record]).get(record.id, Duties())


def _store(record, decision):
    transition = decision.transition
    approval = Approval(
        record_type=type(record).__name__, record_id=record.id, transition=transition.name,
        label=transition.label, from_state=decision.from_state.name,
        to_state=decision.to_state.name, actor_id=decision.actor.user_id,
        acting_for_id=decision.acting_for.user_id if decision.acting_for else None,
        at=decision.at, comment=decision.comment or None,
        content_hash=decision.content_hash, approves=transition.approves,
        submits=transition.submits)
    db.session.add(approval)
    return approval


def step_of(record, name, user, version=None):
    """The transition ``name`` that ``user`` would fire on ``record`` now (permission,
    version and state checked, not guards); raises WorkflowError when refused."""
    workflow = type(record).__workflow__
    with db.session.no_autoflush:
        transition, _who = step(workflow, record, name, actor_for(user), duties_for(record),
                                version=version)
    return transition


def perform(record, name, user, comment="", version=None, write=None):
    """Fire transition ``name`` on ``record`` as ``user`` and commit; exactly once.

    ``version``: the record's version the request was made on (stale: 409).
    ``write(transition)``: writes the fields the step needs (``Transition.fields``) onto
    the record before the step; they go through the per-state write rules and the input
    rules, and are committed with the step in one transaction, or not at all.
    Raises WorkflowError subclasses (with an HTTP status) when refused, ScopeError or
    RecordInvalid when the written fields are refused.
    """
    from .security import ScopeError, check_write
    from .validation import RecordInvalid, check_record

    workflow = type(record).__workflow__
    try:
        # The content hash reads related rows: an autoflush there would write the step
        # in two UPDATEs (and two history entries). One step, one write.
        with db.session.no_autoflush:
            if write is not None:
                transition = step_of(record, name, user, version)
                write(transition)
                check_write(record, user)
                check_record(record, db.session)
            decision = fire(workflow, record, name, actor_for(user), comment,
                            duties=duties_for(record), version=version)
            if decision.transition.submits:
                record.submitted_by_fk = user.id
            if decision.transition.sets:
                check_record(record, db.session)  # a stamp obeys the input rules too
        if decision.acting_for is not None and has_request_context():
            # The change history names the principal too (app/history.py).
            g.acting_for = (decision.acting_for.user_id, decision.acting_for.name)
        approval = _store(record, decision)
        db.session.commit()
    except (WorkflowError, ScopeError, RecordInvalid):
        db.session.rollback()
        raise
    except StaleDataError:
        db.session.rollback()
        raise AlreadyMoved(N_("Someone else has already moved this record on; "
                              "reload the page to see its current state.")) from None
    return approval


def transitions_for(record, user):
    return available(type(record).__workflow__, record, actor_for(user), duties_for(record))


def approvals_of(record):
    """A record's decisions, oldest first, with who took them (in the same query)."""
    return (db.session.query(Approval)
            .options(joinedload(Approval.actor), joinedload(Approval.acting_for))
            .filter_by(record_type=type(record).__name__, record_id=record.id)
            .order_by(Approval.id).all())


def _really_changed(history):
    """Forms write every field back; only a different value is a change."""
    if not history.has_changes():
        return False
    return list(history.deleted or []) != list(history.added or [])


@event.listens_for(Session, "before_flush")
def reapprove_changed_content(session, flush_context, instances):
    """Editing a field an approval covered sends the record back for approval."""
    for record in list(session.dirty):
        workflow = getattr(type(record), "__workflow__", None)
        if workflow is None or not workflow.covered:
            continue
        state = sa_inspect(record)
        if state.attrs[workflow.state_field].history.has_changes():
            continue  # the engine is moving it already
        changed = [name for name in workflow.covered
                   if name in state.attrs and _really_changed(state.attrs[name].history)]
        if not changed:
            continue
        editor = current_actor()
        decision = invalidated(workflow, record, changed,
                               identity(editor) if editor is not None else None)
        if decision is not None:
            acting_for = g.get("acting_for") if has_request_context() else None
            session.add(Approval(
                record_type=type(record).__name__, record_id=record.id,
                transition="reapproval", label=decision.transition.label,
                from_state=decision.from_state.name, to_state=decision.to_state.name,
                actor_id=decision.actor.user_id,
                acting_for_id=acting_for[0] if acting_for else None,
                at=decision.at, comment=decision.comment,
                content_hash=decision.content_hash))


@event.listens_for(Approval, "before_update")
@event.listens_for(Approval, "before_delete")
def refuse_approval_change(mapper, connection, target):
    raise WorkflowError("Approval records can never be changed or deleted.")


# ------------------------------------------------------------------ the inbox


@dataclass
class InboxPage:
    """One page of the inbox: ``items`` [(record, [transition, ...])], oldest first."""

    items: list
    page: int
    size: int
    total: int  # records the user may act on, on every page
    # Records the database listed for this page that the engine did not confirm (a rule
    # without an SQL form, or a record that moved meanwhile): left out of ``items``.
    dropped: int = 0

    @property
    def pages(self):
        return max(1, -(-self.total // self.size))


def _inbox_sources(user):
    """(actor, [(model, SQL condition, exact)]): per workflow, where the user may act now,
    within what they may see (the engine's rules as SQL, app/workflow_sql.py)."""
    from .workflow_sql import actionable, substituted_for

    actor = actor_for(user)
    substitutes = substituted_for({who.user_id for who, _ in actor.identities()})
    scope = scope_for(user)
    sources = []
    for model in workflow_models():
        found = actionable(model, actor, substitutes)
        if found is None:
            continue
        clause = read_clause(model, scope)
        condition = found.clause if clause is None else and_(found.clause, clause)
        sources.append((model, condition, found.exact))
    return actor, sources


def _confirmed(model, records, actor):
    """[(record, moves)] of ``records`` (one type) that the engine confirms."""
    duties = duties_for_many(model, records)
    workflow = model.__workflow__
    found = []
    for record in records:
        moves = available(workflow, record, actor, duties.get(record.id, Duties()))
        if moves:
            found.append((record, moves))
    return found


def _count(actor, sources):
    """Records the user may act on: one statement for every type whose rules are all in
    SQL; a type with a rule left to Python is counted by the engine, 500 rows at a time."""
    exact = [(model, condition) for model, condition, is_exact in sources if is_exact]
    total = 0
    if exact:
        counts = union_all(*(select(func.count()).select_from(model).where(condition)
                             for model, condition in exact))
        total = sum(n for (n,) in db.session.execute(counts))
    for model, condition, is_exact in sources:
        if is_exact:
            continue
        last = 0
        while True:
            batch = (db.session.query(model).filter(condition, model.id > last)
                     .order_by(model.id).limit(500).all())
            if not batch:
                break
            total += len(_confirmed(model, batch, actor))
            last = batch[-1].id
    return total


def _approval_mark():
    """Changes whenever anyone takes a step anywhere (the newest approval): cached counts
    older than it are stale, on every worker and app server alike."""
    return db.session.query(func.max(Approval.id)).scalar()


def _remember_count(user, mark, count):
    ttl = current_app.config.get("INBOX_COUNT_SECONDS", 30)
    cache = current_app.extensions.setdefault("inbox_counts", {})
    cache[user.id] = (time.monotonic() + ttl, mark, count)


def inbox_count(user):
    """How many records ``user`` can act on now (the menu badge). Cached per user for
    ``INBOX_COUNT_SECONDS``, and recounted as soon as anyone takes a step (a new approval),
    the user included; recounting costs one statement."""
    mark = _approval_mark()
    cached = current_app.extensions.get("inbox_counts", {}).get(user.id)
    if cached is not None and cached[0] > time.monotonic() and cached[1] == mark:
        return cached[2]
    actor, sources = _inbox_sources(user)
    count = _count(actor, sources)
    _remember_count(user, mark, count)
    return count


def inbox_page(user, page=1, size=50, waiting=False):
    """Page ``page`` (from 1) of the records ``user`` can act on now, oldest change first:
    the database finds, orders and pages them; the engine confirms the rows shown.
    ``waiting``: only those waiting longer than APPROVAL_WAIT_DAYS (the reminders')."""
    from .deadlines import WAITING

    mark = _approval_mark()
    actor, sources = _inbox_sources(user)
    if waiting:
        sources = [(model, and_(condition, WAITING.clause(model)), exact)
                   for model, condition, exact in sources]
    total = _count(actor, sources)
    if not waiting:
        _remember_count(user, mark, total)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    if not sources or not total:
        return InboxPage([], page, size, total)
    rows = union_all(*(select(literal(model.__name__).label("record_type"),
                              model.id.label("record_id"),
                              model.changed_on.label("changed_on")).where(condition)
                       for model, condition, _exact in sources)).subquery()
    shown = db.session.execute(
        select(rows.c.record_type, rows.c.record_id)
        .order_by(rows.c.changed_on, rows.c.record_type, rows.c.record_id)
        .limit(size).offset((page - 1) * size)).all()
    wanted = {}
    for record_type, record_id in shown:
        wanted.setdefault(record_type, []).append(record_id)
    confirmed = {}
    for model, _condition, _exact in sources:
        ids = wanted.get(model.__name__)
        if ids:
            loads = [joinedload(getattr(model, name))
                     for name in getattr(model, "__title_loads__", ())]
            records = db.session.query(model).options(*loads).filter(model.id.in_(ids)).all()
            for record, moves in _confirmed(model, records, actor):
                confirmed[(model.__name__, record.id)] = (record, moves)
    items = [confirmed[key] for key in map(tuple, shown) if key in confirmed]
    dropped = len(shown) - len(items)
    if dropped:
        log.warning("inbox of %s: %d of %d records on page %d not confirmed by the engine",
                    user.id, dropped, len(shown), page)
    return InboxPage(items, page, size, total, dropped)


def inbox(user, limit=200):
    """The first ``limit`` records ``user`` can act on now, oldest first:
    [(record, moves)]."""
    return inbox_page(user, 1, limit).items


def separation_of_duties_violations():
    """Records where one person filled two roles the rules keep apart:

    * someone behind a submission (the submitter, or whom they acted for) approved a step;
    * a substitute of such a person (delegation in force that day) approved a step;
    * whoever changed the content under review approved a step in the same round;
    * one person approved two different review steps of the record;
    * what the chapters declare (``sod_checks``): an expert reviewed a project of their own
      department.
    There should be none: the engine refuses each. The report proves it, and catches data
    that bypassed the engine (an import, a database edit).
    """
    from sqlalchemy import and_, exists, func, or_
    from sqlalchemy.orm import aliased

    first, approve, between = aliased(Approval), aliased(Approval), aliased(Approval)
    people = (first.actor_id, first.acting_for_id)
    deciders = (approve.actor_id, approve.acting_for_id)
    same_person = or_(*(and_(p.isnot(None), p == d) for p in people for d in deciders))
    later_approval = and_(approve.record_type == first.record_type,
                          approve.record_id == first.record_id,
                          approve.approves.is_(True), approve.id > first.id)

    def pairs(kind, *criteria, join=None):
        query = db.session.query(first, approve).join(approve, later_approval)
        if join is not None:
            query = query.join(*join)
        rows = query.filter(*criteria).order_by(first.record_type, first.record_id,
                                                approve.id).all()
        return [{"kind": kind, "record_type": a.record_type, "record_id": a.record_id,
                 "submitted": a, "approved": b} for a, b, *_ in rows]

    found = pairs("submit-approve", first.submits.is_(True), same_person)
    delegation = aliased(Delegation)
    found += pairs(
        "substitute-approve", first.submits.is_(True),
        or_(*(delegation.substitute_id == d for d in deciders)),
        join=(delegation, and_(or_(*(delegation.principal_id == p for p in people)),
                               delegation.start_date <= func.date(approve.at),
                               delegation.end_date >= func.date(approve.at))))
    new_round = exists().where(between.record_type == first.record_type,
                               between.record_id == first.record_id,
                               between.submits.is_(True), between.id > first.id,
                               between.id < approve.id)
    found += pairs("editor-approve", first.transition == "reapproval", same_person,
                   ~new_round)
    found += pairs("two-steps", first.approves.is_(True), same_person,
                   first.from_state != approve.from_state)
    for kind, (_label, check) in sod_checks().items():
        found += [{"kind": kind, "submitted": None, "approved": None, **row}
                  for row in check(db.session)]
    return found


def sod_checks():
    """The separation-of-duties checks the chapters declare beside their records
    (``__sod_checks__``: kind -> (label, check(session) -> rows with record_type,
    record_id and details)), e.g. an expert of the applicant department (app/planning)."""
    from .chapters import record_models

    return {kind: declared for model in record_models()
            for kind, declared in model.__dict__.get("__sod_checks__", {}).items()}


def _could_take(steps, record):
    """The people one of ``steps`` names, as SQL: its roles, and the record's department,
    the department's kind or the assigned reviewers where the step requires them (of
    5,000 users, the few who could act). The engine still decides, person by person."""
    from flask_appbuilder.security.sqla.models import Role

    from .base import AppUser

    alternatives = []
    for step in steps:
        clauses = [AppUser.roles.any(Role.name.in_(step.roles))]
        if step.department:
            clauses.append(AppUser.department_id == resolve(record, step.department))
        if step.department_kind:
            clauses.append(AppUser.department.has(kind=step.department_kind))
        if step.reviewer:
            clauses.append(AppUser.id.in_(
                list(getattr(record, "reviewer_ids", lambda: ())())))
        alternatives.append(and_(*clauses))
    return or_(*alternatives)


def next_steps(record):
    """Who acts next on the record: the steps open in its state, each with the people
    (active users) who may take it now, separation of duties honoured:
    [(transition, [user, ...])]. Computed from the workflow's transition table."""
    from .base import AppUser

    workflow = type(record).__workflow__
    state = getattr(record, workflow.state_field)
    open_steps = [t for t in workflow.transitions if t.applies(record, state)]
    roles = set().union(*(t.roles for t in open_steps)) if open_steps else set()
    if not roles:
        return []
    with db.session.no_autoflush:
        users = (db.session.query(AppUser)
                 .options(selectinload(AppUser.roles), joinedload(AppUser.department))
                 .filter(AppUser.active.is_(True), _could_take(open_steps, record))
                 .order_by(AppUser.username).all())
        by_id = {user.id: user for user in users}
        found = who_acts_next(workflow, record, [identity(u) for u in users],
                              duties_for(record))
    return [(t, [by_id[who.user_id] for who in able]) for t, able in found]
