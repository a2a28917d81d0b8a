"""The demo data walks the workflows: every demo record was created by a demo account and
reached its state through the workflow engine, as the accounts whose steps those are, so
its approvals (审批记录) and change history (变更记录) tell how it got there."""
import pytest

from conftest import dispose, login, scratch_database_url, seeded_app
from seeds import demo

USERNAMES = {username for username, _role, _dept, _name in demo.DEMO_ACCOUNTS}


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """A fresh database with nothing but the demo seeds (no other test's steps)."""
    application = seeded_app(
        scratch_database_url(str(tmp_path_factory.mktemp("walk")), "walk"))
    yield application
    dispose(application)


def _declared():
    """(model, natural key, declared state, expected creator) of every seeded record."""
    from app.audit.models import AuditFinding
    from app.data.models import DataSharingRequest
    from app.operations.models import ChangeRequest, Incident
    from app.planning.models import DevelopmentPlan, ProjectRequest
    from app.procurement.models import ChangeOrder, Contract, Tender

    rows = []
    for name, dept, _budget, state, _systems, _exit in demo.PROJECTS:
        rows.append((ProjectRequest, {"name": name}, state, demo.SUBMITTERS[dept]))
    for period, version, _title, state in demo.PLANS:
        rows.append((DevelopmentPlan, {"period": period, "plan_version": version}, state,
                     "it_staff"))
    for number, *_rest, state, _bids, _winner in demo.TENDERS:
        rows.append((Tender, {"tender_number": number}, state, "it_staff"))
    for number, *_rest, state, _start, _end in demo.CONTRACTS:
        rows.append((Contract, {"number": number}, state, "it_staff"))
    for number, *_rest, state in demo.CHANGE_ORDERS:
        rows.append((ChangeOrder, {"change_number": number}, state, "it_staff"))
    for number, _title, _system, _kind, state, submitter, _start, _hours in \
            demo.CHANGE_REQUESTS:
        rows.append((ChangeRequest, {"change_number": number}, state, submitter))
    for title, _system, _severity, dept, state, _occurred, _hours in demo.INCIDENTS:
        rows.append((Incident, {"title": title}, state,
                     demo.SUBMITTERS[dept] if dept in ("FIN", "MKT") else "it_staff"))
    for title, requesting, *_rest, state in demo.DATA_SHARING:
        rows.append((DataSharingRequest, {"title": title}, state,
                     demo.SUBMITTERS[requesting]))
    for _audit, title, *_rest, state in demo.FINDINGS:
        rows.append((AuditFinding, {"title": title}, state, "auditor"))
    return rows


def _records(db):
    """Every seeded approvable record with its declared state and creator, and the expert
    reviews of the demo's projects."""
    from app.planning.models import ExpertReview

    found = []
    for model, keys, state, creator in _declared():
        found.append((db.session.query(model).filter_by(**keys).one(), state, creator))
    projects = [record.id for record, _state, _creator in found
                if type(record).__name__ == "ProjectRequest"]
    for review in db.session.query(ExpertReview).filter(ExpertReview.project_id.in_(projects)):
        found.append((review, review.status, "it_staff"))
    return found


def _initial(model):
    workflow = model.__workflow__
    return model.__table__.c[workflow.state_field].default.arg


def test_every_demo_record_stands_in_its_declared_state(demo_app):
    from app.extensions import db

    with demo_app.app_context():
        wrong = {str(record): (record.status.name, state.name)
                 for record, state, _creator in _records(db) if record.status is not state}
    assert not wrong


def test_the_demo_shows_every_state_it_declares_for_each_workflow(demo_app):
    """Variety: returned and rejected records, every review step, closed ones."""
    from app.planning.models import ProjectStatus
    from app.procurement.models import ContractStatus

    shown = {}
    for model, _keys, state, _creator in _declared():
        shown.setdefault(model.__name__, set()).add(state)
    assert {ProjectStatus.draft, ProjectStatus.dept_review, ProjectStatus.it_review,
            ProjectStatus.expert_review, ProjectStatus.implementation, ProjectStatus.approved,
            ProjectStatus.closed, ProjectStatus.returned,
            ProjectStatus.rejected} <= shown["ProjectRequest"]
    assert {ContractStatus.review, ContractStatus.mgmt_review, ContractStatus.signed,
            ContractStatus.in_force, ContractStatus.closed} <= shown["Contract"]


def test_every_walked_demo_record_has_approvals_forming_a_path_through_its_workflow(
        demo_app):
    from app.approvals import approvals_of
    from app.extensions import db

    problems = []
    with demo_app.app_context():
        for record, _state, _creator in _records(db):
            model = type(record)
            workflow = model.__workflow__
            steps = {(t.name, s.name, t.target.name) for t in workflow.transitions
                     for s in t.source}
            approvals = approvals_of(record)
            here = _initial(model).name
            if record.status.name != here and not approvals:
                problems.append(f"{record}: {record.status.name} without approvals")
                continue
            for approval in approvals:
                if approval.from_state != here:
                    problems.append(f"{record}: {approval.transition} from "
                                    f"{approval.from_state}, but it stood in {here}")
                if (approval.transition, approval.from_state, approval.to_state) not in steps:
                    problems.append(f"{record}: {approval.transition} "
                                    f"{approval.from_state}->{approval.to_state} is no step")
                if approval.actor_id is None:
                    problems.append(f"{record}: {approval.transition} by nobody")
                here = approval.to_state
            if here != record.status.name:
                problems.append(f"{record}: approvals end in {here}, "
                                f"it stands in {record.status.name}")
    assert not problems


def test_no_demo_approval_is_given_by_its_submitter_or_for_two_review_steps(demo_app):
    from app.approvals import approvals_of, separation_of_duties_violations
    from app.extensions import db

    problems = []
    approving_steps = 0
    with demo_app.app_context():
        for record, _state, _creator in _records(db):
            approvals = approvals_of(record)
            # The submitter: whoever submitted it; for records without a submit step, who
            # created it (app/workflow.py submitter_id).
            behind = {person for a in approvals if a.submits
                      for person in (a.actor_id, a.acting_for_id) if person} or {
                record.created_by_fk}
            steps_of = {}
            for approval in approvals:
                people = {approval.actor_id, approval.acting_for_id} - {None}
                if approval.approves:
                    approving_steps += 1
                    if people & behind:
                        problems.append(f"{record}: {approval.transition} at "
                                        f"{approval.from_state} by its submitter")
                    for person in people:
                        steps_of.setdefault(person, set()).add(approval.from_state)
            problems += [f"{record}: one person approved {sorted(steps)}"
                         for steps in steps_of.values() if len(steps) > 1]
        report = separation_of_duties_violations()
    assert approving_steps > 20
    assert not problems
    assert report == []


def test_change_history_names_the_demo_account_that_created_each_record(demo_app):
    from app.audit.models import Audit
    from app.base import ChangeEntry, Delegation
    from app.extensions import db
    from app.organisation.models import InformationSystem
    from app.planning.models import PlanFeedback
    from app.procurement.models import Vendor

    with demo_app.app_context():
        expected = [(record, creator) for record, _state, creator in _records(db)]
        expected += [(row, "it_staff") for model in (Vendor, InformationSystem)
                     for row in db.session.query(model)]
        expected += [(row, "auditor") for row in db.session.query(Audit)]
        expected += [(row, "it_head") for row in db.session.query(Delegation)]
        feedback = db.session.query(PlanFeedback).all()
        assert len(feedback) == len(demo.PLAN_FEEDBACK)
        expected += [(row, demo.HEADS[row.department.code]) for row in feedback]
        wrong = {}
        for record, creator in expected:
            entry = (db.session.query(ChangeEntry)
                     .filter_by(record_type=type(record).__name__, record_id=str(record.id),
                                action="insert").one())
            if entry.username != creator or record.created_by.username != creator:
                wrong[f"{type(record).__name__} {record}"] = (entry.username, creator)
        # Each later step is in the history too, under the account that took it.
        unnamed = (db.session.query(ChangeEntry)
                   .filter(ChangeEntry.record_type.in_(
                       ["ProjectRequest", "Contract", "Incident", "AuditFinding"]),
                           ChangeEntry.username.is_(None)).count())
    assert len(expected) > 60
    assert not wrong
    assert unnamed == 0


def test_history_verify_passes_on_the_demo_data(demo_app):
    result = demo_app.test_cli_runner().invoke(args=["history", "verify"])
    assert result.exit_code == 0, result.output
    assert "the chain is intact" in result.output


@pytest.mark.parametrize("username, project, reason", [
    ("clerk_fin", "差旅管理系统对接", "请补充后重新提交"),
    ("clerk_mkt", "营销短信群发平台", "不予立项"),
])
def test_the_applicant_reads_why_a_demo_project_came_back(demo_app, username, project,
                                                          reason):
    """A returned or rejected demo project shows the reviewer's reason on its page; another
    department does not see the project at all."""
    from app.extensions import db
    from app.planning.models import ProjectRequest

    with demo_app.app_context():
        pk = db.session.query(ProjectRequest.id).filter_by(name=project).scalar()
    client = demo_app.test_client()
    assert login(client, username).status_code == 302
    page = client.get(f"/projectrequestview/show/{pk}")
    assert page.status_code == 200
    assert reason in page.get_data(as_text=True)

    other = demo_app.test_client()
    assert login(other, "clerk_mkt" if username == "clerk_fin" else "clerk_fin") \
        .status_code == 302
    assert reason not in other.get(f"/projectrequestview/show/{pk}").get_data(as_text=True)
