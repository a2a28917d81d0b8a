"""The workflow engine: one small engine for every approval step of the regulation.

A workflow is data declared next to its model (``__workflow__``): states (a
LabelledEnum), transitions (name, from-states, to-state, who may fire it,
guards, whether a comment is required) and the fields an approval covers.
``fire()`` is the only code that assigns a status. It checks, in this order:
permission, current state, guards, comment; then changes the state and adds
one immutable Approval in the same transaction. Optimistic locking (the
model's version column) makes a transition happen exactly once.

No Flask here: actors are plain data, so the engine is unit-testable.
"""
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Optional

def N_(message):
    """Marks an English msgid for extraction; translated where it is shown."""
    return message


# ---------------------------------------------------------------- outcomes


class WorkflowError(Exception):
    """A refused transition; ``status`` is the HTTP answer, ``str()`` the reason."""

    status = 400


class UnknownTransition(WorkflowError):
    status = 404


class NotAllowed(WorkflowError):
    status = 403


class WrongState(WorkflowError):
    status = 409


class GuardFailed(WorkflowError):
    """``fields``: the record's fields the guard found missing, when it names them."""

    status = 422

    def __init__(self, message, fields=()):
        super().__init__(message)
        self.fields = tuple(fields)


class CommentRequired(WorkflowError):
    status = 422


class StaleRequest(WorkflowError):
    """The request was made on an older version of the record (a second click, an old tab)."""

    status = 409


# ----------------------------------------------------------- declarations


@dataclass(frozen=True)
class Guard:
    """A question about the record (no side effects); ``message`` when it says no."""

    check: Callable[[object], bool]
    message: str
    fields: tuple = ()  # the fields it asks for, when it is about fields
    # The message for this record, when it names what is missing (the open milestones);
    # returns a translated text. ``message`` stays the generic one.
    explain: Optional[Callable[[object], str]] = None

    def message_for(self, record):
        return self.explain(record) if self.explain is not None else self.message


@dataclass(frozen=True)
class Condition:
    """A routing condition on the record (``Transition.when``): ``check(record)`` in Python,
    and optionally the same condition as SQL, ``sql(model)``, so that the database can
    find the records it holds for (the inbox, app/workflow_sql.py). ``~condition`` is its
    negation, in both forms. ``message``: why the step is refused when the condition does
    not hold (else the engine's "moved on" answer)."""

    check: Callable[[object], bool]
    sql: Optional[Callable[[type], object]] = None
    message: Optional[str] = None

    def __call__(self, record):
        return self.check(record)

    def __invert__(self):
        check, sql = self.check, self.sql
        return Condition(lambda record: not check(record),
                         None if sql is None else (lambda model: ~sql(model)))


def filled(*fields, message):
    """Guard: every field has a value (text not blank)."""

    def check(record):
        for name in fields:
            value = getattr(record, name)
            if value is None or (isinstance(value, str) and not value.strip()):
                return False
        return True

    return Guard(check, message, fields)


class _Stamp:
    """A value the engine fills in when a step fires (see ``Transition.sets``)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


ACTOR = _Stamp("ACTOR")  # the user id of whoever fires the step
NOW = _Stamp("NOW")  # the time of the decision (UTC, naive)


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    source: tuple
    target: object
    roles: frozenset
    # The actor must belong to the department at this attribute path of the record.
    department: Optional[str] = None
    # The actor's department must be of this kind ("it") - e.g. the IT DeptHead.
    department_kind: Optional[str] = None
    # The actor must be one of the record's assigned reviewers (``reviewer_ids``).
    reviewer: bool = False
    guards: tuple = ()
    needs_comment: bool = False
    # An approval step: whoever submitted the record may not fire it.
    approves: bool = False
    # Marks the submitter (for separation of duties).
    submits: bool = False
    # Routing condition between transitions of the same name (e.g. amount thresholds): a
    # Condition (Python and SQL), or a plain function (then the inbox checks it in Python).
    when: Optional[Callable[[object], bool]] = None
    style: str = "primary"
    # Fields the step needs, written with the step in one request (declaration, score,
    # opinion, report ...): forms show them beside the step's button, the API takes them
    # in the step's body; they are written under the record's per-state write rules.
    fields: tuple = ()
    # Effects of the step on the record: attribute -> value, ACTOR or NOW.
    sets: tuple = ()

    def __post_init__(self):
        if isinstance(self.sets, dict):
            object.__setattr__(self, "sets", tuple(self.sets.items()))

    def applies(self, record, state):
        return state in self.source and (self.when is None or self.when(record))


def review_exits(reviews, returned, rejected, return_label, rule="department"):
    """Return (退回, back to the applicant) and reject (驳回, terminal) at every review step,
    both with a required comment. ``reviews``: (state, roles, rule value) per step; the
    rule value fills ``department`` or ``department_kind``."""
    exits = []
    for name, target, label, style in (("return", returned, return_label, "warning"),
                                       ("reject", rejected, N_("Reject"), "danger")):
        exits += [Transition(name, label, (state,), target, roles, needs_comment=True,
                             style=style, **{rule: value})
                  for state, roles, value in reviews]
    return tuple(exits)


@dataclass(frozen=True)
class Edit:
    """Who may write which fields of the record in which states (the rest is read-only).

    ``who`` is stated like a transition's: roles, and optionally the department at a path
    of the record, the kind of the actor's department, or being an assigned reviewer.
    """

    states: tuple
    roles: frozenset
    fields: tuple
    department: Optional[str] = None
    department_kind: Optional[str] = None
    reviewer: bool = False


@dataclass(frozen=True)
class Delete:
    """Who may delete the record, and in which (draft) states. After submission a record
    leaves by a transition (return, reject), never by deletion."""

    states: tuple
    roles: frozenset
    department: Optional[str] = None
    department_kind: Optional[str] = None


@dataclass(frozen=True)
class Workflow:
    states: type
    transitions: tuple
    state_field: str = "status"
    # Fields an approval covers: their hash is stored with each decision (the content
    # and the documents and opinions the steps decided on).
    covered: tuple = ()
    # When one of these (default: the covered fields) changes in one of the ``frozen``
    # states, the record returns to ``reapproval`` to be approved again, and the editor
    # may not approve it.
    content: tuple = ()
    frozen: frozenset = frozenset()
    reapproval: object = None
    # Who may write what in which state (``Edit``), and delete in which state (``Delete``).
    # A workflow without ``editable`` keeps the record type's general write rules.
    editable: tuple = ()
    deletable: tuple = ()
    # Opinions and reports of a review round: cleared when the record is submitted again,
    # so the previous round's decisions never satisfy the next round's guards.
    round_outputs: tuple = ()

    def content_fields(self):
        return self.content or self.covered

    def by_name(self, name):
        return [t for t in self.transitions if t.name == name]

    def final_states(self):
        sources = {s for t in self.transitions for s in t.source}
        return {s for s in self.states if s not in sources}

    def main_path(self):
        """The states a record passes on its way when every step goes forward: from the
        initial state along steps that neither return, reject nor end early; then the end
        states reached that way. Used to draw the step tracker."""
        states = list(self.states)
        if not states:
            return []
        def aside(t):
            return t.needs_comment or t.style in ("danger", "warning")

        side = ({t.target for t in self.transitions if aside(t)}
                - {t.target for t in self.transitions if not aside(t)})
        path, current = [states[0]], states[0]
        while True:
            nexts = [t.target for t in self.transitions if current in t.source
                     and t.target not in side and t.target not in path]
            if not nexts:
                break
            # the declared order of states decides between forward steps
            current = min(nexts, key=states.index)
            path.append(current)
        return path

    def terminal(self, transition):
        """Whether ``transition`` ends the record's way (its target has no way out)."""
        return transition.target in self.final_states()


@dataclass(frozen=True)
class Identity:
    """Someone who may act: a user, or the principal a substitute acts for."""

    user_id: int
    name: str
    roles: frozenset
    department_id: Optional[int]
    department_kind: Optional[str] = None


@dataclass(frozen=True)
class Actor:
    """The person pressing the button, and whom they may act for (delegations)."""

    me: Identity
    principals: tuple = ()

    def identities(self):
        yield self.me, None
        for principal in self.principals:
            yield principal, principal


@dataclass(frozen=True)
class Duties:
    """What the record's history says about separation of duties (computed by the caller).

    ``excluded``: people who may approve no step of the record: those who stand behind a
    submission (the submitter and whom they acted for), their substitutes, and whoever
    changed the content under review in this round. ``approved``: person -> the review
    steps (state names) they have approved; nobody approves two different steps.
    """

    excluded: frozenset = frozenset()
    approved: tuple = ()  # ((user id, frozenset of state names), ...)

    def steps_of(self, user_id):
        for person, steps in self.approved:
            if person == user_id:
                return steps
        return frozenset()


NO_DUTIES = Duties()


@dataclass
class Decision:
    """What fire() did: for the caller to persist (the Approval row) and report."""

    transition: Transition
    from_state: object
    to_state: object
    actor: Identity
    acting_for: Optional[Identity]
    comment: str
    content_hash: str
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc)
                            .replace(tzinfo=None))


# ----------------------------------------------------------------- helpers


def resolve(record, path):
    value = record
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _plain(value):
    if hasattr(value, "name") and hasattr(value, "value") and not isinstance(value, str):
        return value.name  # enum member
    if hasattr(value, "sha256"):
        return value.sha256  # attachment
    if isinstance(value, (list, tuple)):
        return sorted(_plain(v) for v in value)
    if hasattr(value, "id") and not isinstance(value, (int, str)):
        return value.id
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 5000 typed in = 5000.00 read back
    return value if value is None or isinstance(value, (int, bool)) else str(value)


def content_hash(workflow, record):
    """SHA-256 of the fields the decision covers."""
    data = {name: _plain(resolve(record, name)) for name in workflow.covered}
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def state_of(workflow, record):
    return getattr(record, workflow.state_field)


def submitter_id(record):
    """Who submitted the record (recorded by the model's approvals), or its creator."""
    return getattr(record, "submitted_by_fk", None) or getattr(record, "created_by_fk", None)


def _qualifies(rule, record, who):
    """Whether ``who`` is the kind of person ``rule`` (a Transition, Edit or Delete) names."""
    if not (who.roles & rule.roles):
        return False
    if rule.department and resolve(record, rule.department) != who.department_id:
        return False
    if rule.department_kind and who.department_kind != rule.department_kind:
        return False
    if getattr(rule, "reviewer", False):
        if who.user_id not in set(getattr(record, "reviewer_ids", lambda: ())()):
            return False
        conflict = getattr(record, "review_department_id", None)
        if conflict is not None and conflict == who.department_id:
            return False  # an expert does not review their own department's project
    return True


def _permitted(transition, record, who, actor_user_id, duties=NO_DUTIES, state=None):
    if not _qualifies(transition, record, who):
        return False
    if transition.approves:
        people = {who.user_id, actor_user_id}
        submitted = submitter_id(record)
        if submitted is not None and submitted in people:
            return False  # separation of duties: nobody approves what they submitted
        if people & duties.excluded:
            return False  # ... nor what they stand behind, or changed under review
        # The review step this transition decides (the record's state, when it applies).
        step = {state.name} if state in transition.source else {s.name for s in transition.source}
        for person in people:
            if duties.steps_of(person) - step:
                return False  # nobody approves two different review steps
    return True


def who_may_fire(transition, record, actor, duties=NO_DUTIES, state=None):
    """The identity the actor would fire ``transition`` as, or None."""
    for who, acting_for in actor.identities():
        if _permitted(transition, record, who, actor.me.user_id, duties, state):
            return who, acting_for
    return None


def available(workflow, record, actor, duties=NO_DUTIES):
    """Transitions the actor may fire on the record now (state and permission)."""
    state = state_of(workflow, record)
    seen, result = set(), []
    for transition in workflow.transitions:
        if transition.name in seen or not transition.applies(record, state):
            continue
        if who_may_fire(transition, record, actor, duties, state) is not None:
            seen.add(transition.name)
            result.append(transition)
    return result


def writable(workflow, record, who, state=None):
    """The fields ``who`` (an Identity) may write on the record in ``state`` (default: its
    current state)."""
    state = state_of(workflow, record) if state is None else state
    fields = set()
    for rule in workflow.editable:
        if state in rule.states and _qualifies(rule, record, who):
            fields.update(rule.fields)
    return fields


def all_writable(workflow, state):
    """Every field somebody may write in ``state`` (what an administrator may correct)."""
    return {f for rule in workflow.editable if state in rule.states for f in rule.fields}


def may_delete(workflow, record, who, state=None):
    state = state_of(workflow, record) if state is None else state
    return any(state in rule.states and _qualifies(rule, record, who)
               for rule in workflow.deletable)


def step(workflow, record, name, actor, duties=NO_DUTIES, version=None):
    """The transition ``name`` the actor would fire now, and as whom: (transition, (who,
    acting_for)). Checks permission, version and state (in that order), not guards."""
    candidates = workflow.by_name(name)
    if not candidates:
        raise UnknownTransition(N_("No such step."))
    state = state_of(workflow, record)
    permitted = [(t, who_may_fire(t, record, actor, duties, state)) for t in candidates]
    permitted = [(t, w) for t, w in permitted if w is not None]
    if not permitted:
        raise NotAllowed(N_("You may not take this step on this record."))
    if version is not None and getattr(record, "version", version) != version:
        raise StaleRequest(N_("This page was out of date: the record has changed since it "
                              "was opened. Look at its current state and try again."))
    applicable = [(t, w) for t, w in permitted if t.applies(record, state)]
    if not applicable:
        for t, _w in permitted:
            if state in t.source and getattr(t.when, "message", None):
                raise WrongState(t.when.message)
        raise WrongState(N_("The record has already moved on: this step does not apply in "
                            "its current state."))
    return applicable[0]


def who_acts_next(workflow, record, people, duties=NO_DUTIES):
    """The steps open in the record's state, each with the people (Identities from
    ``people``) who may take it, honouring separation of duties: [(transition, [who])]."""
    state = state_of(workflow, record)
    result, seen = [], set()
    for transition in workflow.transitions:
        if not transition.applies(record, state):
            continue
        key = (transition.name, transition.target)
        able = [who for who in people
                if _permitted(transition, record, who, who.user_id, duties, state)]
        if key in seen:
            for entry in result:
                if (entry[0].name, entry[0].target) == key:
                    entry[1].extend(w for w in able if w not in entry[1])
            continue
        seen.add(key)
        result.append((transition, able))
    return result


def fire(workflow, record, name, actor, comment="", duties=NO_DUTIES, version=None):
    """Check permission, state, guards and comment (in that order); then move the record
    and apply the step's declared effects (``sets``).

    ``version``: the record version the request was made on; a stale one is refused.
    Returns a Decision; the caller stores it as an Approval in the same transaction.
    """
    transition, (who, acting_for) = step(workflow, record, name, actor, duties, version)
    state = state_of(workflow, record)
    for guard in transition.guards:
        if not guard.check(record):
            raise GuardFailed(guard.message_for(record), guard.fields)
    comment = (comment or "").strip()
    if transition.needs_comment and not comment:
        raise CommentRequired(N_("A comment is required for this step."))
    setattr(record, workflow.state_field, transition.target)
    if transition.submits:
        # A new round: the previous round's opinions and reports stay in the history only.
        if hasattr(record, "round"):
            record.round = (record.round or 0) + 1
        for field_name in workflow.round_outputs:
            setattr(record, field_name, None)
    decision = Decision(transition, state, transition.target, actor.me,
                        acting_for, comment, "")
    for attribute, value in transition.sets:
        if value is ACTOR:
            value = actor.me.user_id
        elif value is NOW:
            value = decision.at
        setattr(record, attribute, value)
    decision.content_hash = content_hash(workflow, record)
    return decision


def invalidated(workflow, record, changed, editor=None):
    """The re-approval step when content ``changed`` under review or after an approval,
    or None. ``editor`` (an Identity) is recorded: they may not approve this round.

    Like fire(), this is the engine moving the record: the caller stores the Decision.
    """
    state = state_of(workflow, record)
    if workflow.reapproval is None or state not in workflow.frozen:
        return None
    content = set(changed) & set(workflow.content_fields())
    if not content:
        return None
    setattr(record, workflow.state_field, workflow.reapproval)
    step = Transition("reapproval", N_("Approved content changed: approve again"), (state,),
                      workflow.reapproval, frozenset())
    system = Identity(user_id=None, name="", roles=frozenset(), department_id=None)
    return Decision(step, state, workflow.reapproval, editor or system, None,
                    "Changed: " + ", ".join(sorted(content)),
                    content_hash(workflow, record))
