"""The workflow engine (app/workflow.py) on plain Python records: no Flask, no database.

One small workflow (``DOC``) has every kind of rule the real tables use: a
department rule, a department-kind rule, a reviewer rule, separation of
duties, ``when`` routing, guards and required comments. The tests read it as
the specification and check fire(), available() and invalidated() against it.
"""
import datetime as dt
import enum
import itertools
from decimal import Decimal
from types import SimpleNamespace

import pytest

from app.workflow import (
    Actor,
    CommentRequired,
    Guard,
    GuardFailed,
    Identity,
    NotAllowed,
    Transition,
    UnknownTransition,
    Workflow,
    WorkflowError,
    WrongState,
    available,
    content_hash,
    filled,
    fire,
    invalidated,
)


class Doc(enum.Enum):
    draft = "Draft"
    review = "Department review"
    it_review = "IT review"
    expert_review = "Expert review"
    mgmt_review = "Management review"
    approved = "Approved"
    returned = "Returned"


LIMIT = Decimal("100000")  # above it, the department head's approval goes to management
NO_REPORT = "Attach the report first."
LOCKED = "The record is locked."
NO_OPINION = "Give an opinion first."

DOC = Workflow(
    states=Doc,
    covered=("title", "amount", "report", "unit", "tags", "due"),
    frozen=frozenset({Doc.it_review, Doc.expert_review, Doc.mgmt_review, Doc.approved}),
    reapproval=Doc.review,
    transitions=(
        Transition("submit", "Submit", (Doc.draft, Doc.returned), Doc.review,
                   frozenset({"Clerk", "DeptHead"}), department="department_id", submits=True,
                   guards=(filled("report", message=NO_REPORT),)),
        Transition("approve", "Approve (small)", (Doc.review,), Doc.it_review,
                   frozenset({"DeptHead"}), department="department_id", approves=True,
                   when=lambda r: r.amount <= LIMIT),
        Transition("approve", "Approve (large)", (Doc.review,), Doc.mgmt_review,
                   frozenset({"DeptHead"}), department="department_id", approves=True,
                   when=lambda r: r.amount > LIMIT),
        Transition("approve", "Approve for management", (Doc.mgmt_review,), Doc.it_review,
                   frozenset({"Management"}), approves=True),
        Transition("confirm", "Confirm for IT", (Doc.it_review,), Doc.expert_review,
                   frozenset({"DeptHead"}), department_kind="it", approves=True),
        Transition("opinion", "Give an opinion", (Doc.expert_review,), Doc.approved,
                   frozenset({"Expert"}), reviewer=True,
                   guards=(filled("opinion", message=NO_OPINION),)),
        Transition("return", "Return", (Doc.review,), Doc.returned, frozenset({"DeptHead"}),
                   department="department_id", needs_comment=True,
                   guards=(Guard(lambda r: not r.locked, LOCKED),)),
    ),
)

# ------------------------------------------------------------------- people

FIN, MKT, IT, OPS = 1, 2, 3, 4


def person(user_id, name, role, department_id, kind="business"):
    return Identity(user_id=user_id, name=name, roles=frozenset({role}),
                    department_id=department_id, department_kind=kind)


CLERK = person(1, "clerk_fin", "Clerk", FIN)
HEAD = person(2, "head_fin", "DeptHead", FIN)
DEPUTY = person(3, "deputy_fin", "DeptHead", FIN)
MKT_HEAD = person(4, "head_mkt", "DeptHead", MKT)
IT_HEAD = person(5, "it_head", "DeptHead", IT, kind="it")
IT_STAFF = person(6, "it_staff", "ITStaff", IT, kind="it")
MANAGER = person(7, "manager", "Management", IT, kind="it")
EXPERT = person(8, "expert", "Expert", OPS)
OUTSIDER = person(9, "auditor", "Auditor", OPS)
PEOPLE = (CLERK, HEAD, DEPUTY, MKT_HEAD, IT_HEAD, IT_STAFF, MANAGER, EXPERT, OUTSIDER)


def alone(identity):
    return Actor(identity)


def standing_in(substitute, *principals):
    return Actor(substitute, tuple(principals))


# ------------------------------------------------------------------ records


def doc(state=Doc.draft, **overrides):
    """A complete FIN record in ``state``, submitted by nobody in PEOPLE."""
    values = dict(
        status=state, department_id=FIN, title="Ledger upgrade", amount=Decimal("5000"),
        report=SimpleNamespace(id=70, sha256="a" * 64, filename="report.pdf"),
        unit=SimpleNamespace(id=11), tags=[3, 1, 2], due=dt.date(2026, 6, 30),
        remark="not covered", opinion="sound", locked=False,
        submitted_by_fk=99, created_by_fk=98, review_department_id=FIN,
        reviewer_ids=lambda: [EXPERT.user_id],
    )
    values.update(overrides)
    return SimpleNamespace(**values)


def case_id(value):
    return getattr(value, "name", None) or getattr(value, "__name__", str(value))


def outcome(record, name, actor, comment=""):
    """The exception class fire() raised, or the state it moved the record to."""
    try:
        return fire(DOC, record, name, actor, comment).to_state
    except WorkflowError as exc:
        return type(exc)


# ------------------------------------------------ outcomes and their statuses


def test_each_refusal_carries_its_http_status():
    assert {cls: cls.status for cls in (UnknownTransition, NotAllowed, WrongState, GuardFailed,
                                        CommentRequired)} == {
        UnknownTransition: 404, NotAllowed: 403, WrongState: 409, GuardFailed: 422,
        CommentRequired: 422}


def test_unknown_step_is_refused_before_anything_else():
    assert outcome(doc(Doc.review), "publish", alone(OUTSIDER)) is UnknownTransition


# --------------------------------------------------------- order of the checks

# "return": DeptHead of the record's department, from review, guard "not locked",
# comment required. Each flag breaks one check; the first broken one in the order
# permission -> state -> guard -> comment must be the answer.
ORDER = [
    pytest.param(permitted, right_state, guard_ok, commented,
                 id=f"{'permitted' if permitted else 'forbidden'}-"
                    f"{'in-state' if right_state else 'wrong-state'}-"
                    f"{'guard-ok' if guard_ok else 'guard-fails'}-"
                    f"{'comment' if commented else 'no-comment'}")
    for permitted, right_state, guard_ok, commented in itertools.product((True, False), repeat=4)
]


@pytest.mark.parametrize("permitted,right_state,guard_ok,commented", ORDER)
def test_checks_run_in_order_permission_state_guard_comment(permitted, right_state, guard_ok,
                                                           commented):
    record = doc(Doc.review if right_state else Doc.approved, locked=not guard_ok)
    actor = alone(HEAD if permitted else CLERK)
    expected = (NotAllowed if not permitted else WrongState if not right_state
                else GuardFailed if not guard_ok else CommentRequired if not commented
                else Doc.returned)
    before = record.status
    assert outcome(record, "return", actor, "why" if commented else "") is expected
    if expected is not Doc.returned:
        assert record.status is before  # a refusal never moves the record


def test_forbidden_actor_on_wrong_state_record_is_not_allowed_rather_than_wrong_state():
    assert outcome(doc(Doc.draft), "approve", alone(CLERK)) is NotAllowed


def test_permitted_actor_on_wrong_state_record_gets_wrong_state():
    assert outcome(doc(Doc.draft), "approve", alone(HEAD)) is WrongState


def test_guard_message_is_the_refusal_text():
    with pytest.raises(GuardFailed, match=NO_REPORT):
        fire(DOC, doc(Doc.draft, report=None), "submit", alone(CLERK))


def test_blank_comment_counts_as_missing_and_comment_is_stored_trimmed():
    assert outcome(doc(Doc.review), "return", alone(HEAD), "   \n") is CommentRequired
    decision = fire(DOC, doc(Doc.review), "return", alone(HEAD), "  budget unclear \n")
    assert decision.comment == "budget unclear"


def test_decision_records_step_states_actor_and_naive_utc_time():
    record = doc(Doc.draft)
    decision = fire(DOC, record, "submit", alone(CLERK), "")
    assert (decision.transition.name, decision.from_state, decision.to_state) == (
        "submit", Doc.draft, Doc.review)
    assert record.status is Doc.review
    assert decision.actor == CLERK and decision.acting_for is None
    assert decision.at.tzinfo is None
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    assert abs((now - decision.at).total_seconds()) < 5
    assert decision.content_hash == content_hash(DOC, record)


# -------------------------------------------------------- separation of duties


def test_submitter_cannot_approve_own_record():
    record = doc(Doc.review, submitted_by_fk=HEAD.user_id)
    assert outcome(record, "approve", alone(HEAD)) is NotAllowed
    assert record.status is Doc.review


def test_another_head_of_the_department_can_approve_what_the_head_submitted():
    record = doc(Doc.review, submitted_by_fk=HEAD.user_id)
    assert outcome(record, "approve", alone(DEPUTY)) is Doc.it_review


def test_creator_counts_as_submitter_when_nobody_submitted():
    record = doc(Doc.review, submitted_by_fk=None, created_by_fk=HEAD.user_id)
    assert outcome(record, "approve", alone(HEAD)) is NotAllowed
    assert outcome(doc(Doc.review, submitted_by_fk=None, created_by_fk=None), "approve",
                   alone(HEAD)) is Doc.it_review


def test_submitter_cannot_approve_as_substitute_for_someone_else():
    # The head submitted; standing in for the deputy does not make it someone else's approval.
    record = doc(Doc.review, submitted_by_fk=HEAD.user_id)
    assert outcome(record, "approve", standing_in(HEAD, DEPUTY)) is NotAllowed


def test_substitute_cannot_approve_for_the_submitter():
    record = doc(Doc.review, submitted_by_fk=HEAD.user_id)
    assert outcome(record, "approve", standing_in(CLERK, HEAD)) is NotAllowed


def test_separation_of_duties_only_binds_approving_steps():
    record = doc(Doc.review, submitted_by_fk=HEAD.user_id)
    assert outcome(record, "return", alone(HEAD), "rework") is Doc.returned
    assert outcome(doc(Doc.returned, submitted_by_fk=HEAD.user_id), "submit",
                   alone(HEAD)) is Doc.review


# ------------------------------------------------------------ department rules


@pytest.mark.parametrize("who,expected", [
    (HEAD, Doc.it_review),          # head of the record's department
    (MKT_HEAD, NotAllowed),         # a head, of another department
    (IT_HEAD, NotAllowed),          # the IT head is no head of FIN
    (CLERK, NotAllowed),            # right department, wrong role
    (MANAGER, WrongState),          # may approve, but only in management review
], ids=case_id)
def test_department_rule_needs_role_and_the_records_department(who, expected):
    assert outcome(doc(Doc.review), "approve", alone(who)) == expected


def test_department_rule_follows_a_dotted_path():
    workflow = Workflow(states=Doc, transitions=(
        Transition("approve", "Approve", (Doc.review,), Doc.approved, frozenset({"DeptHead"}),
                   department="project.department_id"),))
    record = doc(Doc.review, department_id=None, project=SimpleNamespace(department_id=MKT))
    with pytest.raises(NotAllowed):
        fire(workflow, record, "approve", alone(HEAD))
    assert fire(workflow, record, "approve", alone(MKT_HEAD)).to_state is Doc.approved
    orphan = doc(Doc.review, project=None)
    with pytest.raises(NotAllowed):
        fire(workflow, orphan, "approve", alone(MKT_HEAD))


@pytest.mark.parametrize("who,expected", [
    (IT_HEAD, Doc.expert_review),   # DeptHead of an IT-kind department
    (HEAD, NotAllowed),             # DeptHead of a business department
    (MKT_HEAD, NotAllowed),
    (IT_STAFF, NotAllowed),         # IT department, but not a DeptHead
], ids=case_id)
def test_department_kind_rule(who, expected):
    assert outcome(doc(Doc.it_review), "confirm", alone(who)) == expected


# -------------------------------------------------------------- reviewer rule


def test_assigned_expert_may_give_an_opinion():
    assert outcome(doc(Doc.expert_review), "opinion", alone(EXPERT)) is Doc.approved


def test_expert_not_assigned_to_the_record_may_not():
    record = doc(Doc.expert_review, reviewer_ids=lambda: [123])
    assert outcome(record, "opinion", alone(EXPERT)) is NotAllowed


def test_assigned_non_expert_may_not():
    record = doc(Doc.expert_review, reviewer_ids=lambda: [IT_STAFF.user_id])
    assert outcome(record, "opinion", alone(IT_STAFF)) is NotAllowed


def test_expert_does_not_review_their_own_departments_record():
    record = doc(Doc.expert_review, review_department_id=EXPERT.department_id)
    assert outcome(record, "opinion", alone(EXPERT)) is NotAllowed


def test_record_without_a_review_department_has_no_conflict_check():
    record = doc(Doc.expert_review)
    del record.review_department_id
    assert outcome(record, "opinion", alone(EXPERT)) is Doc.approved


def test_record_without_reviewers_has_nobody_to_review_it():
    record = doc(Doc.expert_review)
    del record.reviewer_ids
    assert outcome(record, "opinion", alone(EXPERT)) is NotAllowed


# ------------------------------------------------------------------ delegation


def test_substitute_acts_for_the_principal_and_both_are_recorded():
    decision = fire(DOC, doc(Doc.review), "approve", standing_in(CLERK, HEAD))
    assert decision.to_state is Doc.it_review
    assert decision.actor == CLERK
    assert decision.acting_for == HEAD


def test_own_right_comes_before_a_delegation():
    decision = fire(DOC, doc(Doc.review), "approve", standing_in(DEPUTY, HEAD))
    assert decision.actor == DEPUTY and decision.acting_for is None


def test_the_first_principal_who_may_fire_is_the_one_acted_for():
    decision = fire(DOC, doc(Doc.review), "approve", standing_in(CLERK, MKT_HEAD, HEAD))
    assert decision.acting_for == HEAD


def test_delegation_from_someone_who_may_not_fire_gives_nothing():
    assert outcome(doc(Doc.review), "approve", standing_in(CLERK, MKT_HEAD)) is NotAllowed


def test_substitute_in_another_department_gains_the_principals_department():
    decision = fire(DOC, doc(Doc.review), "approve", standing_in(MKT_HEAD, HEAD))
    assert (decision.actor, decision.acting_for) == (MKT_HEAD, HEAD)


# --------------------------------------------------------------- when routing


@pytest.mark.parametrize("amount,target", [
    (Decimal("1"), Doc.it_review),
    (LIMIT, Doc.it_review),
    (LIMIT + Decimal("0.01"), Doc.mgmt_review),
])
def test_when_routes_a_step_by_the_records_content(amount, target):
    decision = fire(DOC, doc(Doc.review, amount=amount), "approve", alone(HEAD))
    assert decision.to_state is target
    assert decision.transition.label == ("Approve (small)" if target is Doc.it_review
                                         else "Approve (large)")


def test_routed_step_is_offered_once():
    names = [t.name for t in available(DOC, doc(Doc.review), alone(HEAD))]
    assert names.count("approve") == 1


def test_when_that_matches_no_branch_is_a_wrong_state():
    workflow = Workflow(states=Doc, transitions=(
        Transition("approve", "Approve", (Doc.review,), Doc.approved, frozenset({"DeptHead"}),
                   when=lambda r: r.amount > LIMIT),))
    with pytest.raises(WrongState):
        fire(workflow, doc(Doc.review), "approve", alone(HEAD))
    assert available(workflow, doc(Doc.review), alone(HEAD)) == []


# ---------------------------------------------------------------- content hash

COVERED_CHANGES = {
    "title": "Ledger upgrade, phase 2",
    "amount": Decimal("5000.01"),
    "report": SimpleNamespace(id=70, sha256="b" * 64, filename="report.pdf"),
    "unit": SimpleNamespace(id=12),
    "tags": [1, 2, 4],
    "due": dt.date(2026, 7, 1),
}
SAME_CONTENT_CHANGES = {
    "remark": "something else",
    "status": Doc.approved,
    "opinion": "changed",
    "report": SimpleNamespace(id=71, sha256="a" * 64, filename="renamed.pdf"),  # same file
    "tags": [2, 3, 1],  # same set, another order
    "amount": Decimal("5000.00"),  # the same amount, as the database returns it
}


def test_every_covered_field_is_in_the_hash():
    assert set(COVERED_CHANGES) == set(DOC.covered)


@pytest.mark.parametrize("field", sorted(COVERED_CHANGES))
def test_content_hash_changes_when_a_covered_field_changes(field):
    record = doc()
    before = content_hash(DOC, record)
    setattr(record, field, COVERED_CHANGES[field])
    assert content_hash(DOC, record) != before


@pytest.mark.parametrize("field", sorted(SAME_CONTENT_CHANGES))
def test_content_hash_ignores_uncovered_fields_and_same_content(field):
    record = doc()
    before = content_hash(DOC, record)
    setattr(record, field, SAME_CONTENT_CHANGES[field])
    assert content_hash(DOC, record) == before


def test_content_hash_is_a_sha256_and_stable():
    first, second = content_hash(DOC, doc()), content_hash(DOC, doc())
    assert first == second and len(first) == 64 and int(first, 16) >= 0


def test_empty_covered_field_hashes_differently_from_a_filled_one():
    assert content_hash(DOC, doc(report=None)) != content_hash(DOC, doc())


# ---------------------------------------------------------------- invalidation

INVALIDATION = [
    pytest.param(state, covered, id=f"{state.name}-{'covered' if covered else 'uncovered'}")
    for state in Doc for covered in (True, False)
]


@pytest.mark.parametrize("state,covered", INVALIDATION)
def test_invalidated_only_for_covered_changes_in_frozen_states(state, covered):
    record = doc(state)
    changed = ["amount", "remark"] if covered else ["remark", "opinion"]
    decision = invalidated(DOC, record, changed)
    if covered and state in DOC.frozen:
        assert decision is not None
        assert (decision.from_state, decision.to_state) == (state, Doc.review)
        assert record.status is Doc.review
        assert decision.transition.name == "reapproval"
        assert decision.actor.user_id is None and decision.acting_for is None
        assert decision.comment == "Changed: amount"
        assert decision.content_hash == content_hash(DOC, record)
    else:
        assert decision is None
        assert record.status is state


def test_frozen_states_of_the_example_are_what_the_test_expects():
    # The matrix above would pass vacuously if nothing were frozen.
    assert DOC.frozen and set(Doc) - DOC.frozen


def test_workflow_without_reapproval_state_never_invalidates():
    workflow = Workflow(states=Doc, transitions=DOC.transitions, covered=DOC.covered,
                        frozen=DOC.frozen)
    record = doc(Doc.approved)
    assert invalidated(workflow, record, ["amount"]) is None
    assert record.status is Doc.approved


# ------------------------------------------------------------------- available


def _fireable(record_state, name, actor):
    """Whether fire() gets past permission and state (guards and comment aside)."""
    record = doc(record_state, report=None, opinion=None, locked=True)
    try:
        fire(DOC, record, name, actor, "")
    except (NotAllowed, WrongState):
        return False
    except (GuardFailed, CommentRequired):
        return True
    return True


AVAILABILITY = [
    pytest.param(state, who, id=f"{state.name}-{who.name}") for state in Doc for who in PEOPLE
]


@pytest.mark.parametrize("state,who", AVAILABILITY)
def test_available_lists_exactly_the_steps_fire_would_take(state, who):
    record = doc(state)
    offered = [t.name for t in available(DOC, record, alone(who))]
    names = sorted({t.name for t in DOC.transitions})
    assert sorted(offered) == [n for n in names if _fireable(state, n, alone(who))]
    assert record.status is state  # asking changes nothing


def test_available_offers_something_somewhere():
    # Guard against the matrix above agreeing on "nothing, ever".
    offered = {(s, w.name): [t.name for t in available(DOC, doc(s), alone(w))]
               for s in Doc for w in PEOPLE}
    assert offered[(Doc.review, "head_fin")] == ["approve", "return"]
    assert offered[(Doc.draft, "clerk_fin")] == ["submit"]
    assert offered[(Doc.it_review, "it_head")] == ["confirm"]
    assert offered[(Doc.expert_review, "expert")] == ["opinion"]
    assert offered[(Doc.approved, "head_fin")] == []


def test_available_offers_steps_whose_guard_fails_so_the_user_learns_why():
    record = doc(Doc.draft, report=None)
    assert [t.name for t in available(DOC, record, alone(CLERK))] == ["submit"]


def test_available_includes_steps_permitted_only_through_a_principal():
    assert available(DOC, doc(Doc.review), alone(CLERK)) == []
    assert [t.name for t in available(DOC, doc(Doc.review), standing_in(CLERK, HEAD))] == [
        "approve", "return"]


def test_available_hides_approval_from_the_submitter():
    record = doc(Doc.review, submitted_by_fk=HEAD.user_id)
    assert [t.name for t in available(DOC, record, alone(HEAD))] == ["return"]


def test_final_states_are_the_ones_nothing_leaves():
    assert DOC.final_states() == {Doc.approved}
