"""In-app notifications: a record entered your inbox (待我处理), or your submission was
approved, returned or rejected.

Every workflow step writes one Approval row (app/approvals.py). When such a row is
flushed, the notifications it causes are inserted in the same flush, so they are committed
with the step or not at all:

* ``waiting``: to everyone who may take a step of the record's new state: the people the
  step names (roles, the record's department, the kind of their department, the assigned
  reviewers) and whoever stands in for one of them today (delegations), with separation of
  duties on approving steps (nobody behind the submission, nobody who changed the content
  this round, nobody who approved another review step). These are the rules of the engine
  (app/workflow.py ``_permitted``), stated here once more, as SQL over the users: the
  database finds the recipients among 5,000 users in one INSERT ... SELECT. When a state
  offers a step forward, only that step counts: the submitter of a record is never told to
  "act" on it because they may still return or reject it.
* ``approved`` (the final approval of a review), ``returned``, ``rejected``: to the
  submitter of the record, and to whom they submitted it for, with the step's comment.

Whoever took the step is not told about it, and the submitter told of a decision is not
also told that the record waits for them.
"""
import datetime as dt

from flask import g
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import and_, event, false, func, insert, literal, or_, select, true, union, \
    update
from sqlalchemy.orm import Session, aliased

from .base import AppUser, Approval, Delegation, Notification, NotificationKind, utcnow
from .workflow import resolve, submitter_id

# What the bell shows at most ("99+"): its count stops there, so it stays cheap however
# many notifications someone leaves unread.
BELL_MAX = 99

_COLUMNS = ("user_id", "kind", "approval_id", "record_type", "record_id", "title",
            "created_on")


# ---------------------------------------------------------------- who is told what


def decision_kind(workflow, transition):
    """The kind of notification the submitter gets for ``transition``, or None: a return
    (退回) or a rejection (驳回), or the final approval (no review step follows it)."""
    if transition.name == "reject":
        return NotificationKind.rejected
    if transition.name == "return":
        return NotificationKind.returned
    if transition.approves and not any(t.approves and transition.target in t.source
                                       for t in workflow.transitions):
        return NotificationKind.approved
    return None


def open_steps(record):
    """The record's state and the steps that put it in someone's inbox: the steps forward
    when there are any (approve, implement ...), else every step open in its state."""
    workflow = type(record).__workflow__
    state = getattr(record, workflow.state_field)
    steps = [t for t in workflow.transitions if t.applies(record, state)]
    forward = [t for t in steps if not t.needs_comment]
    return state, forward or steps


def _barred(record, duties, state):
    """Who may approve no step of the record in ``state`` (app/workflow.py ``_permitted``):
    whoever stands behind the submission or changed the content this round, and whoever
    approved another review step of it."""
    barred = set(duties.excluded) | ({submitter_id(record)} - {None})
    for person, steps in duties.approved:
        if steps - {state.name}:
            barred.add(person)
    return barred


def _may_take(transition, record, user, barred):
    """SQL over ``user`` (an alias of the users): the person the step names (app/workflow.py
    ``_qualifies``), not barred from it when it approves."""
    clauses = [user.active.is_(True), user.roles.any(Role.name.in_(sorted(transition.roles)))]
    if transition.department:
        value = resolve(record, transition.department)
        clauses.append(user.department_id.is_(None) if value is None
                       else user.department_id == value)
    if transition.department_kind:
        clauses.append(user.department.has(kind=transition.department_kind))
    if transition.reviewer:
        reviewers = sorted({i for i in getattr(record, "reviewer_ids", lambda: ())()
                            if i is not None})
        clauses.append(user.id.in_(reviewers) if reviewers else false())
        conflict = getattr(record, "review_department_id", None)
        if conflict is not None:
            clauses.append(or_(user.department_id.is_(None), user.department_id != conflict))
    if transition.approves and barred:
        clauses.append(user.id.notin_(sorted(barred)))
    return and_(*clauses)


def waiting_for(record, duties, today=None):
    """SQL selecting the ids (column ``id``) of everyone who may take one of the record's
    open steps now, themselves or standing in for someone (a delegation in force today)."""
    state, steps = open_steps(record)
    if not steps:
        return None
    today = today or dt.date.today()
    barred = _barred(record, duties, state)
    person = aliased(AppUser, name="person")
    themselves = select(person.id.label("id")).where(
        or_(*(_may_take(t, record, person, barred) for t in steps)))
    principal = aliased(AppUser, name="principal")
    substitute = aliased(AppUser, name="substitute")
    standing_in = (
        select(Delegation.substitute_id.label("id"))
        .join(principal, principal.id == Delegation.principal_id)
        .join(substitute, substitute.id == Delegation.substitute_id)
        .where(Delegation.start_date <= today, Delegation.end_date >= today,
               substitute.active.is_(True),
               or_(*(and_(_may_take(t, record, principal, barred),
                          substitute.id.notin_(sorted(barred)) if t.approves and barred
                          else true())
                     for t in steps))))
    return union(themselves, standing_in)


def _submitters(session, record):
    """Whoever stands behind the record's latest submission: who submitted it and for
    whom (a delegation); else its submitter as stored on the record (or its creator)."""
    row = session.execute(
        select(Approval.actor_id, Approval.acting_for_id)
        .where(Approval.record_type == type(record).__name__,
               Approval.record_id == record.id, Approval.submits.is_(True))
        .order_by(Approval.id.desc()).limit(1)).first()
    people = set(row) if row is not None else {submitter_id(record)}
    return people - {None}


def notify(session, approval, record):
    """Insert the notifications that ``approval`` (a step just flushed) causes."""
    from .approvals import duties_for

    workflow = type(record).__workflow__
    transition = next((t for t in workflow.transitions if t.name == approval.transition
                       and t.target.name == approval.to_state
                       and approval.from_state in {s.name for s in t.source}), None)
    deciders = {approval.actor_id, approval.acting_for_id} - {None}
    title = str(record)[:300]
    told = set()
    conn = session.connection()

    def send(kind, people):
        values = select(people.c.id, literal(kind.name), literal(approval.id),
                        literal(type(record).__name__), literal(record.id), literal(title),
                        literal(utcnow())).where(people.c.id.notin_(sorted(deciders | told)))
        conn.execute(insert(Notification.__table__).from_select(_COLUMNS, values))

    kind = decision_kind(workflow, transition) if transition is not None else None
    if kind is not None:
        submitters = _submitters(session, record) - deciders
        if submitters:
            send(kind, select(AppUser.id.label("id"))
                 .where(AppUser.id.in_(sorted(submitters)), AppUser.active.is_(True))
                 .subquery())
            told |= submitters
    with session.no_autoflush:
        people = waiting_for(record, duties_for(record))
    if people is not None:
        send(NotificationKind.waiting, people.subquery())


@event.listens_for(Session, "after_flush")
def notify_steps(session, flush_context):
    """The notifications of every step flushed now, in the same transaction."""
    steps = [obj for obj in session.new if isinstance(obj, Approval)]
    for approval in sorted(steps, key=lambda a: a.id):
        from .approvals import model_named

        model = model_named(approval.record_type)
        record = session.get(model, approval.record_id) if model is not None else None
        if record is not None:
            notify(session, approval, record)


# ------------------------------------------------------------------ reading them


def unread_count(session, user_id):
    """Unread notifications of the user, counted up to BELL_MAX + 1 (one index range)."""
    first = (select(Notification.id)
             .where(Notification.user_id == user_id, Notification.read_at.is_(None))
             .limit(BELL_MAX + 1).subquery())
    return session.execute(select(func.count()).select_from(first)).scalar()


def current_unread_count():
    """The bell's count for the signed-in user: one query per request, kept in ``g``."""
    from .extensions import db
    from .security import current_actor

    user = current_actor()
    if user is None:
        return None
    if "unread_notifications" not in g:
        g.unread_notifications = unread_count(db.session, user.id)
    return g.unread_notifications


def _of(user_id, unread=False):
    clauses = [Notification.user_id == user_id]
    if unread:
        clauses.append(Notification.read_at.is_(None))
    return clauses


def notifications_page(session, user_id, unread=False, page=1, size=20):
    """(rows, total): page ``page`` (from 1) of the user's notifications, newest first,
    each with its step (who took it, for whom, the comment)."""
    from sqlalchemy.orm import joinedload

    total = session.execute(select(func.count(Notification.id))
                            .where(*_of(user_id, unread))).scalar()
    rows = (session.query(Notification)
            .options(joinedload(Notification.approval).joinedload(Approval.actor),
                     joinedload(Notification.approval).joinedload(Approval.acting_for))
            .filter(*_of(user_id, unread))
            .order_by(Notification.id.desc())
            .limit(size).offset((page - 1) * size).all())
    return rows, total


def newest_id(session, user_id):
    """The id of the user's newest notification (0: none): "mark all read" marks what
    the page showed, not what arrived meanwhile."""
    return session.execute(select(func.max(Notification.id))
                           .where(Notification.user_id == user_id)).scalar() or 0


def own(session, user_id, notification_id):
    """The user's notification with this id, or None (someone else's is None too)."""
    return session.execute(select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user_id)).scalar()


def mark_read(session, user_id, notification_id):
    """Mark one of the user's notifications read; None when it is not theirs (nothing
    changes), else the notification (already read: left as it was)."""
    found = own(session, user_id, notification_id)
    if found is None:
        return None
    if found.read_at is None:
        found.read_at = utcnow()
    session.commit()
    return found


def mark_all_read(session, user_id, up_to=None):
    """Mark the user's unread notifications read (those up to id ``up_to``: what the page
    showed, not what arrived since); returns how many."""
    clauses = _of(user_id, unread=True)
    if up_to is not None:
        clauses.append(Notification.id <= up_to)
    marked = session.execute(update(Notification).where(*clauses)
                             .values(read_at=utcnow())
                             .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return marked

