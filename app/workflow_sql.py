"""The workflow engine's permission rules as SQL: which records an actor may act on now,
decided by the database (the inbox, 待我处理).

``available()`` (app/workflow.py) answers record by record, in Python. The inbox needs the
same answer for every record at once, so this module states the same rules, read from the
same declarations, as one condition over a model's table and the approval and delegation
tables:

* the state: the transition's source states and its routing condition ``when``, by the
  condition's SQL form (``Condition.sql``);
* who: the transition's roles and department kind (facts of the actor, settled here), the
  department at the declared path of the record (the scoping rule's path clause), being
  an assigned reviewer (the model's ``reviewer_clause``) from another department than
  the record's (``review_department_id``, a column in SQL too);
* separation of duties on approving steps, from the approvals (``NOT EXISTS``): nobody
  approves what they, or whom they acted for, submitted (or created), nor what someone who
  named them substitute today stands behind, nor what they changed under review in this
  round, nor a second review step of the same record.

A rule declared without an SQL form (a ``when`` given as a plain function, a reviewer
rule on a model without ``reviewer_clause``) is left to Python: the condition is then wider
than the engine's answer and ``Actionable.exact`` is False, so callers confirm in Python.
"""
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, exists, false, func, or_
from sqlalchemy.orm import aliased

from .base import Approval, Delegation
from .extensions import db
from .security import _path_clause


# A later approval of the same record (one alias: building an alias is not cheap).
_LATER = aliased(Approval, name="later")


@dataclass(frozen=True)
class Actionable:
    """Where the actor may act on a model's records: a condition on its table."""

    clause: object
    exact: bool  # False: a rule without an SQL form was left out (the clause is wider)


def substituted_for(user_ids, today=None):
    """person -> everyone who named them substitute for ``today`` (one query)."""
    today = today or dt.date.today()
    found = {}
    rows = (db.session.query(Delegation.substitute_id, Delegation.principal_id)
            .filter(Delegation.substitute_id.in_(sorted(user_ids)),
                    Delegation.start_date <= today, Delegation.end_date >= today))
    for substitute, principal in rows:
        found.setdefault(substitute, set()).add(principal)
    return found


def actionable(model, actor, substitutes, transitions=None):
    """Where ``actor`` (app/workflow.py Actor) may take a step of the model's workflow now
    (or one of ``transitions``), or None when no step names any of the actor's identities.

    ``substitutes``: substituted_for() of the actor and their principals.
    """
    workflow = model.__workflow__
    column = getattr(model, workflow.state_field)
    identities = [who for who, _acting_for in actor.identities()]
    exact, by_state = True, {}
    for transition in workflow.transitions if transitions is None else transitions:
        when = getattr(transition.when, "sql", None)
        if transition.when is not None and when is None:
            exact = False
        for who in identities:
            if not _may_be(transition, who):
                continue
            clause, known = _qualifies(transition, model, who)
            exact = exact and known
            if when is not None:
                clause = when(model) if clause is None else and_(when(model), clause)
            key = (id(transition.when), *_qualifies_key(transition, who))
            people = frozenset({who.user_id, actor.me.user_id})
            for state in transition.source:
                # The same people on the same records by another step of this state: one
                # alternative; separation of duties counts only if every such step is an
                # approval (a review's return and reject need none).
                found = by_state.setdefault(state, {})
                _clause, approving = found.get(key, (None, set()))
                if approving is not None:
                    approving = approving | {people} if transition.approves else None
                found[key] = (clause, approving)
    if not by_state:
        return None
    states = sorted(by_state, key=list(workflow.states).index)
    rules = {}  # state -> condition, None where the state alone decides
    for state in states:
        alternatives = [_alternative(model, state, clause, approving, substitutes)
                        for clause, approving in by_state[state].values()]
        rules[state] = (None if any(a is None for a in alternatives)
                        else or_(*alternatives))
    # The state list first: the index on the state column finds the candidates.
    if len(states) == 1:
        rule = rules[states[0]]
        clause = column == states[0] if rule is None else and_(column == states[0], rule)
    else:
        clause = column.in_(states)
        if any(rule is not None for rule in rules.values()):
            plain = [state for state in states if rules[state] is None]
            clause = and_(clause, or_(*([column.in_(plain)] if plain else []),
                                      *(and_(column == state, rule)
                                        for state, rule in rules.items() if rule is not None)))
    return Actionable(clause, exact)


def _alternative(model, state, clause, approving, substitutes):
    """Who qualifies (``clause``), and when every step open to them approves, separation
    of duties for the people (sets of ids) who would approve."""
    if approving is None:
        return clause
    duties = or_(*(_duties(model, people, state, substitutes)
                   for people in sorted(approving, key=sorted)))
    return duties if clause is None else and_(clause, duties)


def _qualifies_key(rule, who):
    """What ``_qualifies`` reads of the rule and the person: equal keys, equal clauses."""
    return (rule.department, rule.department and who.department_id,
            bool(getattr(rule, "reviewer", False)) and (who.user_id, who.department_id))


def _may_be(rule, who):
    """The facts of the person alone: a role the rule names, the kind of department."""
    return bool(who.roles & rule.roles) and (
        not rule.department_kind or who.department_kind == rule.department_kind)


def _qualifies(rule, model, who):
    """app/workflow.py ``_qualifies`` on the record's side: (clause or None when the
    person's facts alone decide, exact)."""
    clauses, exact = [], True
    if rule.department:
        if who.department_id is None and "." in rule.department:
            exact = False  # resolve() stops at a missing link: left to Python
        else:
            clauses.append(_path_clause(model, rule.department, who.department_id))
    if getattr(rule, "reviewer", False):
        if not hasattr(model, "reviewer_ids"):
            return false(), True
        reviewer = getattr(model, "reviewer_clause", None)
        if reviewer is None:
            exact = False
        else:
            clauses.append(reviewer(who.user_id))
        conflict = getattr(model, "review_department_id", None)
        if isinstance(conflict, property):
            exact = False  # a Python-only property
        elif conflict is not None and who.department_id is not None:
            clauses.append(or_(conflict.is_(None), conflict != who.department_id))
    return (and_(*clauses) if clauses else None), exact


def _submitter(model):
    """app/workflow.py ``submitter_id`` as SQL, or None."""
    columns = [getattr(model, name) for name in ("submitted_by_fk", "created_by_fk")
               if hasattr(model, name)]
    if not columns:
        return None
    return columns[0] if len(columns) == 1 else func.coalesce(*columns)


def _duties(model, people, state, substitutes):
    """Separation of duties (app/approvals.py ``duties_for_many``): none of ``people`` may
    approve the record in ``state``."""
    people = sorted(people)
    # Whoever stands behind a submission excludes themselves and their substitutes: so
    # ``people`` are excluded by anyone behind it who is one of them or named one of them.
    behind = sorted(set(people).union(*(substitutes.get(p, ()) for p in people)))
    this_record = and_(Approval.record_type == model.__name__, Approval.record_id == model.id)

    def by(ids):
        return or_(Approval.actor_id.in_(ids), Approval.acting_for_id.in_(ids))

    later = _LATER
    new_round = exists().where(later.record_type == Approval.record_type,
                               later.record_id == Approval.record_id,
                               later.submits.is_(True), later.id > Approval.id)
    clauses = [
        # a submission by someone behind (or the submitter as stored on the record)
        ~exists().where(this_record, Approval.submits.is_(True), by(behind)),
        # a re-approval caused by their edit, in this round
        ~exists().where(this_record, Approval.transition == "reapproval", by(people),
                        ~new_round),
        # an approval of another review step
        ~exists().where(this_record, Approval.approves.is_(True), by(people),
                        Approval.from_state != state.name),
    ]
    submitter = _submitter(model)
    if submitter is not None:
        clauses.insert(0, or_(submitter.is_(None), submitter.notin_(behind)))
    return and_(*clauses)
