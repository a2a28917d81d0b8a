"""The compliance scorecard (合规评分): rules computed set-based for every system, with the
failing evidence one click away, clause texts, levels by thresholds, daily snapshots."""
import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import event

from webhelpers import count


@pytest.fixture
def system(make):
    """A fresh system of the finance department with every owner set (passes 1.3.2)."""
    return make("system", dept="FIN")


def _set(app, model, pk, **values):
    from app.extensions import db

    with app.app_context():
        record = db.session.get(model, pk)
        for key, value in values.items():
            setattr(record, key, value)
        db.session.commit()


def _failing(app, system_id):
    from app.compliance import scorecard

    with app.test_request_context():
        card = scorecard()
    return next(s for s in card["systems"] if s["id"] == system_id)["failing"]


def _owners(app, ids, system_id):
    from app.organisation.models import InformationSystem

    _set(app, InformationSystem, system_id, it_custodian_id=ids.user("it_staff"),
         business_owner_id=ids.user("clerk_fin"))


def test_a_system_without_its_business_owner_fails_1_3_2_and_passes_once_set(app, ids, system):
    assert "owners" in _failing(app, system)
    _owners(app, ids, system)
    assert "owners" not in _failing(app, system)


def test_an_initiated_project_without_its_feasibility_report_fails_its_systems(app, make, system):
    from app.extensions import db
    from app.organisation.models import InformationSystem
    from app.planning.models import ProjectRequest, ProjectStatus

    project = make("project", dept="FIN", status=ProjectStatus.approved)
    with app.app_context():
        record = db.session.get(ProjectRequest, project)
        record.systems.append(db.session.get(InformationSystem, system))
        db.session.commit()
    assert _failing(app, system)["project_documents"] == 1


def test_a_configuration_change_implemented_without_approval_fails_5_1_4(app, ids, system):
    from app.extensions import db
    from app.operations.models import ChangeKind, ChangeRequest
    from app.procurement.models import ChangeStatus

    with app.app_context():
        db.session.add(ChangeRequest(
            change_number=f"CR-{uuid.uuid4().hex[:8]}", title="未经审批的配置变更",
            system_id=system, department_id=ids.dept("FIN"), kind=ChangeKind.configuration,
            change_plan="p",
            rollback_plan="r", status=ChangeStatus.implemented))
        db.session.commit()
    assert _failing(app, system)["changes_approved"] == 1


def test_a_data_sharing_grant_past_its_end_date_fails_7_4_2(app, ids, system):
    from app.data.models import DataSharingRequest, SharingStatus
    from app.extensions import db

    with app.app_context():
        db.session.add(DataSharingRequest(
            title="过期共享", requesting_department_id=ids.dept("MKT"),
            providing_department_id=ids.dept("FIN"), system_id=system, data_scope="s",
            purpose="p", start_date=dt.date(2020, 1, 1), end_date=dt.date(2020, 12, 31),
            status=SharingStatus.granted))
        db.session.commit()
    assert _failing(app, system)["sharing_expired"] == 1


def test_an_overdue_rectification_fails_8_1(app, make, system):
    make("finding", dept="FIN", system_id=system, due_date=dt.date(2020, 1, 1))
    assert _failing(app, system)["rectification_overdue"] == 1


def test_p1_incidents_count_when_not_closed_in_time(app, make, system):
    from app.operations.models import Severity

    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    make("incident", dept="FIN", system_id=system, severity=Severity.p4,
         occurred_at=now - dt.timedelta(days=10))
    assert "incident_handling" not in _failing(app, system)  # P4: not this rule's
    make("incident", dept="FIN", system_id=system, severity=Severity.p1,
         occurred_at=now - dt.timedelta(hours=2))
    assert "incident_handling" not in _failing(app, system)  # still within the time
    make("incident", dept="FIN", system_id=system, severity=Severity.p1,
         occurred_at=now - dt.timedelta(days=5), closed_at=now - dt.timedelta(days=4, hours=23),
         resolved_at=now - dt.timedelta(days=4, hours=23), root_cause="电源")
    assert "incident_handling" not in _failing(app, system)  # closed in an hour
    make("incident", dept="FIN", system_id=system, severity=Severity.p2,
         occurred_at=now - dt.timedelta(days=5))
    assert _failing(app, system)["incident_handling"] == 1


def test_the_scorecard_runs_one_query_per_rule_whatever_the_number_of_systems(app, make):
    from app.compliance import RULES, scorecard
    from app.extensions import db

    def statements():
        seen = []
        with app.test_request_context():
            listener = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                scorecard()
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    before = statements()
    for _ in range(5):
        make("system", dept="MKT")
    assert statements() == before <= len(RULES) + 3


def test_levels_follow_the_configured_thresholds(app):
    from app.compliance import AMBER, GREEN, RED, level

    with app.app_context():
        assert level(100) == GREEN
        assert level(app.config["COMPLIANCE_AMBER_AT"]) == AMBER
        assert level(app.config["COMPLIANCE_AMBER_AT"] - 1) == RED


def test_the_scorecard_page_shows_rules_with_their_clause_text_and_evidence_links(
        app, login_as, ids, system):
    html = login_as("auditor").get("/compliance/").get_data(as_text=True)
    assert "合规评分" in html
    assert "归口管理原则" in html and "1.3.2" in html  # the clause text beside its rule
    assert f"/compliance/evidence/owners/{system}" in html
    evidence = login_as("auditor").get(f"/compliance/evidence/owners/{system}")
    assert evidence.status_code == 200
    assert f"/informationsystemview/show/{system}" in evidence.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/compliance/evidence/nope/1",
                                  "/compliance/evidence/owners/999999",
                                  "/compliance/evidence/owners/99999999999999"])
def test_unknown_evidence_is_404(login_as, path):
    assert login_as("auditor").get(path).status_code == 404


def test_a_junk_department_on_the_scorecard_is_a_clear_400(login_as):
    response = login_as("auditor").get("/compliance/?department=abc")
    assert response.status_code == 400
    assert "abc" in response.get_data(as_text=True)


@pytest.mark.parametrize("user,allowed", [("auditor", True), ("manager", True),
                                          ("it_staff", True), ("admin", True),
                                          ("clerk_fin", False), ("head_fin", False),
                                          ("expert", False)])
def test_who_may_open_the_scorecard(login_as, user, allowed):
    response = login_as(user).get("/compliance/")
    assert (response.status_code == 200) is allowed
    assert login_as(user).get("/compliance/evidence/owners/1").status_code != 500


def test_the_snapshot_command_is_idempotent_per_day_and_feeds_the_trend(app, login_as):
    from app.base import ComplianceSnapshot
    from app.organisation.models import InformationSystem

    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["compliance", "snapshot"])
        assert result.exit_code == 0, result.output
    today = dt.date.today()
    assert count(app, ComplianceSnapshot, ComplianceSnapshot.day == today) == \
        count(app, InformationSystem)
    html = login_as("manager").get("/dashboard/").get_data(as_text=True)
    assert "chart-json-compliance_trend" in html


def test_the_scorecard_pages_its_systems_lowest_scores_first(app, login_as, monkeypatch):
    import app.compliance as compliance

    monkeypatch.setattr(compliance, "SYSTEMS_PER_PAGE", 3)
    client = login_as("auditor")
    first = client.get("/compliance/").get_data(as_text=True)
    assert "page=2" in first
    scores = [int(n) for n in __import__("re").findall(
        r'<td class="text-right"><span class="label label-\w+">(\d+)</span>',
        first[first.index("compliance-systems"):])]
    assert scores == sorted(scores) and len(scores) == 3
    assert client.get("/compliance/?page=999").status_code == 200  # the last page
    assert client.get("/compliance/?page=abc").status_code == 400


def test_the_dashboard_lists_the_lowest_scoring_departments_and_links_every_one(
        app, login_as, monkeypatch):
    """At 500 departments the dashboard shows those needing attention, not a page-long
    table above its charts; the scorecard lists them all."""
    import re

    import app.compliance as compliance

    monkeypatch.setattr(compliance, "DASHBOARD_DEPARTMENTS", 2)
    client = login_as("auditor")
    html = client.get("/dashboard/").get_data(as_text=True)
    table = html[html.index("compliance-departments"):html.index("</table>",
                                                                 html.index("compliance-departments"))]
    scores = [int(n) for n in re.findall(r'<span class="label label-\w+">(\d+)</span>', table)]
    departments = [int(n) for n in re.findall(r"\?department=(\d+)", table)]
    assert len(scores) == len(departments) == 2 and scores == sorted(scores)
    every = client.get("/compliance/").get_data(as_text=True)
    listed = every[every.index("Compliance by department") if "Compliance by department"
                   in every else every.index("各部门合规情况"):every.index("compliance-systems")]
    everyone = [int(n) for n in re.findall(r"\?department=(\d+)", listed)]
    assert len(everyone) > 2 and departments == everyone[:2]
    assert "compliance-more" in html and 'href="/compliance/"' in html
