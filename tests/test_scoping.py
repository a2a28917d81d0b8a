"""Department scoping is a security boundary: every path, web and API.

An outsider (a Clerk or DeptHead of 市场部 MKT) must not see or change a record
of 财务部 FIN through any path: the record is simply not there (404, not in
lists, not counted). The same path works for FIN's own Clerk/DeptHead, so every
refusal is shown to come from scoping and not from a broken path.
"""
import hashlib

import pytest
from sqlalchemy import or_, select

from app.audit.models import Audit, AuditFinding, SupervisionCheck
from app.base import Attachment
from app.data.models import BackupRecord, DataAsset, DataQualityCheck, DataSharingRequest
from app.infosec.models import (
    RiskAssessment,
    TrainingAttendance,
    Vulnerability,
    VulnerabilityScan,
)
from app.infosec.models import SecurityEvent
from app.operations.models import (
    ChangeRequest,
    Incident,
    InspectionChecklist,
    MaintenancePlan,
    MaintenanceRecord,
    OperationLog,
    Severity,
)
from app.organisation.models import InformationSystem
from app.planning.models import ProjectRequest, ProjectStatus
from app.procurement.models import Bid, ChangeOrder, Contract, Milestone, ProgressReport, Tender
from webhelpers import count, flashes, form_token, list_page, row

pytestmark = pytest.mark.matrix  # sampled in a normal run: tests/sampling.py

OUTSIDERS = ["clerk_mkt", "head_mkt"]
INSIDERS = ["clerk_fin", "head_fin"]

# kind -> (model, web view, API resource, unique text column)
KINDS = {
    "project": (ProjectRequest, "ProjectRequestView", "project_request", "name"),
    "contract": (Contract, "ContractView", "contract", "number"),
    "tender": (Tender, "TenderView", "tender", "title"),
    "bid": (Bid, "BidView", "bid", "remarks"),
    "milestone": (Milestone, "MilestoneView", "milestone", "name"),
    "progress_report": (ProgressReport, "ProgressReportView", "progress_report", "summary"),
    "incident": (Incident, "IncidentView", "incident", "title"),
    "operation_log": (OperationLog, "OperationLogView", "operation_log", "content"),
    "checklist": (InspectionChecklist, "InspectionChecklistView", "inspection_checklist",
                  "items"),
    "maintenance_plan": (MaintenancePlan, "MaintenancePlanView", "maintenance_plan", "title"),
    "maintenance_record": (MaintenanceRecord, "MaintenanceRecordView", "maintenance_record",
                           "result"),
    "audit": (Audit, "AuditView", "audit", "title"),
    "finding": (AuditFinding, "AuditFindingView", "audit_finding", "title"),
    "supervision": (SupervisionCheck, "SupervisionCheckView", "supervision_check", "title"),
    "data_asset": (DataAsset, "DataAssetView", "data_asset", "name"),
    "quality_check": (DataQualityCheck, "DataQualityCheckView", "data_quality_check",
                      "title"),
    "backup": (BackupRecord, "BackupRecordView", "backup_record", "medium"),
    "vulnerability_scan": (VulnerabilityScan, "VulnerabilityScanView", "vulnerability_scan",
                           "tool"),
    "vulnerability": (Vulnerability, "VulnerabilityView", "vulnerability", "title"),
    "risk_assessment": (RiskAssessment, "RiskAssessmentView", "risk_assessment", "risks"),
    "training_attendance": (TrainingAttendance, "TrainingAttendanceView",
                            "training_attendance", "remarks"),
    "change_request": (ChangeRequest, "ChangeRequestView", "change_request", "change_number"),
    "change_order": (ChangeOrder, "ChangeOrderView", "change_order", "change_number"),
    "sharing": (DataSharingRequest, "DataSharingRequestView", "data_sharing_request",
                "title"),
    "security_event": (SecurityEvent, "SecurityEventView", "security_event", "title"),
}
# Kinds a department's Clerk/DeptHead may write (config.FAB_ROLE_DEFINITIONS).
WRITABLE = ["project", "incident", "data_asset", "security_event"]
# Record types of the menu these kinds do not cover: reference data (readable by all, the
# owner writes: test_other_departments_system_is_readable_but_not_writable; the published
# development plan), the personal and the expert's (test_expert_sees_only_requests_
# assigned_to_them), and a department's feedback on the plan (tests/test_workflows.py).
# A new record type joins KINDS, with its visible_criteria, or this list. The change
# requests, change orders and data sharing requests are here for reading; writing them is
# their workflows' (tests/test_workflows.py, per state and actor).
NOT_IN_KINDS = frozenset({"Department", "InformationSystem", "Vendor", "DevelopmentPlan",
                          "Delegation", "ExpertReview", "PlanFeedback", "SecurityPolicy",
                          "Training",
                          # read by every department (tests/test_permissions.py READ_BY_ALL)
                          "EmergencyPlan", "Drill",
                          # no Clerk reads them; a department head those of the
                          # department's people: tests/test_infosec_continuity.py
                          "PersonnelClearance"})
# Deleted only as drafts (an incident is submitted on creation): the chapters' ``Delete``.
DELETABLE = ["project"]


def test_every_record_type_of_the_menu_is_a_kind_here_or_named_as_not_one():
    from app.chapters import record_views

    menu = {view.datamodel.obj.__name__ for view in record_views()}
    kinds = {model.__name__ for model, *_rest in KINDS.values()}
    assert not kinds & NOT_IN_KINDS
    assert menu == kinds | NOT_IN_KINDS, "add the new record type to KINDS"


def visible_criteria(kind, dept_id):
    """What a department may see, written out independently of app/security.py."""
    own_systems = select(InformationSystem.id).where(
        InformationSystem.owning_department_id == dept_id)
    return {
        "project": [ProjectRequest.applicant_department_id == dept_id],
        "contract": [or_(Contract.department_id == dept_id,
                         Contract.system_id.in_(own_systems))],
        # A tender, its bids, milestones and progress reports: the project's department.
        "tender": [Tender.department_id == dept_id],
        "bid": [Bid.department_id == dept_id],
        "milestone": [Milestone.department_id == dept_id],
        "progress_report": [ProgressReport.department_id == dept_id],
        "incident": [or_(Incident.reporting_department_id == dept_id,
                         Incident.system_id.in_(own_systems))],
        "operation_log": [OperationLog.department_id == dept_id],
        "checklist": [InspectionChecklist.department_id == dept_id],
        "maintenance_plan": [MaintenancePlan.department_id == dept_id],
        "maintenance_record": [MaintenanceRecord.department_id == dept_id],
        "audit": [Audit.department_id == dept_id],
        "finding": [AuditFinding.responsible_department_id == dept_id],
        "supervision": [SupervisionCheck.department_id == dept_id],
        "data_asset": [or_(DataAsset.owner_department_id == dept_id,
                           DataAsset.system_id.in_(own_systems))],
        "quality_check": [or_(DataQualityCheck.department_id == dept_id,
                              DataQualityCheck.system_id.in_(own_systems))],
        # A backup belongs to the department owning the backed-up system.
        "backup": [BackupRecord.system_id.in_(own_systems)],
        # Scans, vulnerabilities and risk assessments belong to the system's department;
        # attendance to the person's.
        "vulnerability_scan": [VulnerabilityScan.system_id.in_(own_systems)],
        "vulnerability": [Vulnerability.system_id.in_(own_systems)],
        "risk_assessment": [RiskAssessment.system_id.in_(own_systems)],
        "training_attendance": [TrainingAttendance.department_id == dept_id],
        "change_request": [ChangeRequest.department_id == dept_id],
        "change_order": [ChangeOrder.department_id == dept_id],
        # Both sides of a sharing request see it.
        "sharing": [or_(DataSharingRequest.requesting_department_id == dept_id,
                        DataSharingRequest.providing_department_id == dept_id)],
        # The department owning the system.
        "security_event": [SecurityEvent.system_id.in_(own_systems)],
    }[kind]


def unique_value(app, kind, pk):
    model, _view, _resource, column = KINDS[kind]
    return row(app, model, pk)[column]


def web_form(kind, ids, dept, **changes):
    """A complete, valid add/edit form for a writable kind, owned by ``dept``."""
    if kind == "project":
        data = {"name": "表单项目", "applicant_department": ids.dept(dept), "background": "b",
                "goals": "g", "content": "c", "budget": "1000", "implementation_plan": "p"}
    elif kind == "incident":
        data = {"title": "表单故障", "system": ids.system("FIN-GL"), "severity": "p3",
                "description": "d", "reporting_department": ids.dept(dept),
                "occurred_at": "2026-03-01 10:00:00"}
    elif kind == "data_asset":
        data = {"name": "表单数据", "system": ids.system("FIN-GL"),
                "owner_department": ids.dept(dept), "classification": "internal"}
    elif kind == "security_event":
        # The system decides the department.
        data = {"title": "表单安全事件", "system": ids.system(DEPT_SYSTEM[dept]),
                "category": "malware", "severity": "p3", "description": "d",
                "occurred_at": "2026-03-01 10:00:00"}
    else:
        raise AssertionError(kind)
    data.update(changes)
    return data


DEPT_SYSTEM = {"FIN": "FIN-GL", "MKT": "CRM"}  # a system each department owns


def api_payload(kind, ids, dept, **changes):
    if kind == "project":
        data = {"name": "接口项目", "applicant_department": ids.dept(dept), "background": "b",
                "goals": "g", "content": "c", "budget": 1000, "implementation_plan": "p"}
    elif kind == "incident":
        data = {"title": "接口故障", "system": ids.system("FIN-GL"),
                "severity": Severity.p3.name,
                "description": "d", "reporting_department": ids.dept(dept)}
    elif kind == "data_asset":
        data = {"name": "接口数据", "system": ids.system("FIN-GL"),
                "owner_department": ids.dept(dept), "classification": "internal"}
    elif kind == "security_event":
        data = {"title": "接口安全事件", "system": ids.system(DEPT_SYSTEM[dept]),
                "category": "malware", "severity": "p3", "description": "d"}
    else:
        raise AssertionError(kind)
    data.update(changes)
    return data


def text_column(kind):
    return KINDS[kind][3]


# --------------------------------------------------------------- web: reading

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("username", OUTSIDERS)
def test_outsider_list_neither_shows_nor_counts_another_departments_record(
        app, login_as, make, ids, kind, username):
    model, view, _resource, column = KINDS[kind]
    pk = make(kind, dept="FIN")
    client = login_as(username)

    shown, listed = list_page(client, view, "psize_%s=100" % view)
    assert pk not in listed
    assert shown == count(app, model, *visible_criteria(kind, ids.dept("MKT")))
    # Searching for it by its exact text finds nothing either.
    found, listed = list_page(client, view, f"_flt_3_{column}={unique_value(app, kind, pk)}")
    assert (found, listed) == (0, set())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("username", INSIDERS)
def test_own_department_list_shows_and_counts_the_record(
        app, login_as, make, ids, kind, username):
    model, view, _resource, column = KINDS[kind]
    pk = make(kind, dept="FIN")
    client = login_as(username)

    shown, _listed = list_page(client, view)
    assert shown == count(app, model, *visible_criteria(kind, ids.dept("FIN")))
    found, listed = list_page(client, view, f"_flt_3_{column}={unique_value(app, kind, pk)}")
    assert (found, listed) == (1, {pk})


@pytest.mark.parametrize("kind", KINDS)
def test_show_page_is_404_for_outsiders_and_200_for_the_department(
        app, login_as, make, kind):
    _model, view, _resource, _column = KINDS[kind]
    pk = make(kind, dept="FIN")
    text = unique_value(app, kind, pk)
    for username in OUTSIDERS:
        response = login_as(username).get(f"/{view.lower()}/show/{pk}")
        assert response.status_code == 404, username
        assert text not in response.get_data(as_text=True)
    for username in INSIDERS:
        response = login_as(username).get(f"/{view.lower()}/show/{pk}")
        assert response.status_code == 200, username
        assert text in response.get_data(as_text=True)


def test_incident_is_visible_to_the_department_owning_its_system(app, login_as, make, ids):
    # Reported by MKT about FIN's general ledger: FIN sees it, HR does not.
    pk = make("incident", dept="MKT", system_id=ids.system("FIN-GL"))
    title = unique_value(app, "incident", pk)
    for username in ("clerk_fin", "clerk_mkt"):
        response = login_as(username).get(f"/incidentview/show/{pk}")
        assert response.status_code == 200, username
        assert title in response.get_data(as_text=True)
    foreign = make("incident", dept="MKT")  # about CRM, owned by MKT
    assert login_as("clerk_fin").get(f"/incidentview/show/{foreign}").status_code == 404


def test_contract_is_visible_to_the_department_owning_its_system(app, login_as, make, ids):
    pk = make("contract", dept="MKT", system_id=ids.system("FIN-GL"))
    number = unique_value(app, "contract", pk)
    client = login_as("clerk_fin")
    response = client.get(f"/contractview/show/{pk}")
    assert response.status_code == 200
    assert number in response.get_data(as_text=True)
    assert list_page(client, "ContractView", f"_flt_3_number={number}") == (1, {pk})
    foreign = make("contract", dept="MKT", system_id=ids.system("CRM"))
    assert client.get(f"/contractview/show/{foreign}").status_code == 404


def test_seeing_an_incident_through_the_system_does_not_allow_changing_it(
        app, login_as, api_as, make, ids):
    pk = make("incident", dept="MKT", system_id=ids.system("FIN-GL"))
    before = row(app, Incident, pk)
    client = login_as("head_fin")
    token = form_token(client)
    response = client.post(f"/incidentview/edit/{pk}", follow_redirects=True, data={
        **web_form("incident", ids, "FIN", title="改由财务部上报"), "csrf_token": token})
    assert row(app, Incident, pk) == before
    assert response.status_code in (200, 403)
    assert flashes(response.get_data(as_text=True)), "no message explains the refusal"

    api, headers = api_as("head_fin")
    for payload in ({"title": "改由财务部上报"},
                    {"title": "改由财务部上报", "reporting_department": ids.dept("FIN")}):
        response = api.put(f"/api/v1/incident/{pk}", headers=headers, json=payload)
        assert response.status_code == 403, response.get_json()
    assert api.delete(f"/api/v1/incident/{pk}", headers=headers).status_code == 403
    assert row(app, Incident, pk) == before


def test_related_lists_on_reference_pages_hide_other_departments_records(
        app, login_as, make, ids):
    """Show pages of reference data embed related lists: they are scoped too."""
    fin_incident = make("incident", dept="FIN")  # about FIN-GL
    mkt_incident = make("incident", dept="MKT", system_id=ids.system("FIN-GL"))
    fin_contract = make("contract", dept="FIN", vendor_id=ids.vendor(1))
    mkt_audit = make("audit", dept="MKT")
    fin_finding = make("finding", dept="FIN", audit_id=mkt_audit)
    mkt_finding = make("finding", dept="MKT", audit_id=mkt_audit)
    client = login_as("clerk_mkt")

    system_page = client.get(f"/informationsystemview/show/{ids.system('FIN-GL')}")
    assert system_page.status_code == 200
    html = system_page.get_data(as_text=True)
    assert unique_value(app, "incident", mkt_incident) in html
    assert unique_value(app, "incident", fin_incident) not in html
    assert f"/incidentview/show/{fin_incident}\"" not in html

    vendor_page = client.get(f"/vendorview/show/{ids.vendor(1)}").get_data(as_text=True)
    assert unique_value(app, "contract", fin_contract) not in vendor_page

    audit_page = client.get(f"/auditview/show/{mkt_audit}")
    assert audit_page.status_code == 200
    html = audit_page.get_data(as_text=True)
    assert unique_value(app, "finding", mkt_finding) in html
    assert unique_value(app, "finding", fin_finding) not in html


# --------------------------------------------------------------- web: writing

@pytest.mark.parametrize("kind", WRITABLE)
@pytest.mark.parametrize("username", OUTSIDERS)
def test_outsider_cannot_open_or_post_the_edit_form(app, login_as, make, ids, kind, username):
    model, view, _resource, column = KINDS[kind]
    pk = make(kind, dept="FIN")
    before = row(app, model, pk)
    client = login_as(username)
    token = form_token(client)

    assert client.get(f"/{view.lower()}/edit/{pk}").status_code == 404
    # Even a form that names the outsider's own department is refused.
    for dept in ("FIN", "MKT"):
        response = client.post(f"/{view.lower()}/edit/{pk}", data={
            **web_form(kind, ids, dept, **{column: "越权修改"}), "csrf_token": token})
        assert response.status_code == 404
    assert row(app, model, pk) == before


@pytest.mark.parametrize("kind", WRITABLE)
@pytest.mark.parametrize("username", INSIDERS)
def test_department_edits_its_own_record(app, login_as, make, ids, kind, username):
    model, view, _resource, column = KINDS[kind]
    pk = make(kind, dept="FIN")
    client = login_as(username)
    token = form_token(client)

    assert client.get(f"/{view.lower()}/edit/{pk}").status_code == 200
    new_text = f"已修改-{kind}-{pk}"
    response = client.post(f"/{view.lower()}/edit/{pk}", data={
        **web_form(kind, ids, "FIN", **{column: new_text}), "csrf_token": token})
    assert response.status_code == 302
    assert row(app, model, pk)[column] == new_text


@pytest.mark.parametrize("kind", DELETABLE)
def test_delete_by_post_is_404_for_outsiders_and_works_for_the_department(
        app, login_as, make, kind):
    model, view, _resource, _column = KINDS[kind]
    pk = make(kind, dept="FIN")
    for username in OUTSIDERS:
        client = login_as(username)
        response = client.post(f"/{view.lower()}/delete/{pk}",
                               data={"csrf_token": form_token(client)})
        assert response.status_code == 404, username
        assert row(app, model, pk) is not None
    client = login_as("clerk_fin")
    response = client.post(f"/{view.lower()}/delete/{pk}", data={"csrf_token": form_token(client)})
    assert response.status_code == 302
    assert row(app, model, pk) is None


@pytest.mark.parametrize("kind", DELETABLE)
def test_muldelete_action_is_refused_for_outsiders_and_works_for_the_department(
        app, login_as, make, kind):
    model, view, _resource, _column = KINDS[kind]
    pk = make(kind, dept="FIN")
    mkt_pk = make(kind, dept="MKT")
    for username in OUTSIDERS:
        client = login_as(username)
        token = form_token(client)
        # Alone, and hidden among the outsider's own records.
        for rowids in ([pk], [mkt_pk, pk]):
            response = client.post(f"/{view.lower()}/action_post", data={
                "action": "muldelete", "rowid": rowids, "csrf_token": token})
            assert response.status_code in (302, 403, 404), username
        assert row(app, model, pk) is not None
        assert row(app, model, mkt_pk) is not None
    client = login_as("clerk_fin")
    response = client.post(f"/{view.lower()}/action_post", data={
        "action": "muldelete", "rowid": [pk], "csrf_token": form_token(client)})
    assert response.status_code == 302
    assert row(app, model, pk) is None


@pytest.mark.parametrize("kind", WRITABLE)
def test_single_record_action_route_cannot_delete_another_departments_record(
        app, login_as, make, kind):
    """FAB's /action/<name>/<pk> is a second door to the same actions."""
    model, view, _resource, _column = KINDS[kind]
    pk = make(kind, dept="FIN")
    client = login_as("clerk_mkt")
    token = form_token(client)
    for name in ("muldelete", "nosuchaction"):
        response = client.post(f"/{view.lower()}/action/{name}/{pk}",
                               data={"csrf_token": token})
        assert response.status_code in (302, 403, 404), name
    assert row(app, model, pk) is not None


@pytest.mark.parametrize("kind", ["contract", "audit", "finding", "tender", "bid", "milestone",
                                  "progress_report"])
def test_records_a_department_may_not_change_stay_unchanged(app, login_as, make, kind):
    """Contracts and audits are read-only to departments; of a finding only the
    rectification is theirs. Outsiders are refused, insiders change nothing else."""
    model, view, _resource, column = KINDS[kind]
    pk = make(kind, dept="FIN")
    before = row(app, model, pk)
    for username in ("clerk_mkt", "clerk_fin"):
        client = login_as(username)
        token = form_token(client)
        responses = [
            client.post(f"/{view.lower()}/edit/{pk}",
                        data={column: "越权修改", "csrf_token": token}),
            client.post(f"/{view.lower()}/delete/{pk}", data={"csrf_token": token}),
            client.post(f"/{view.lower()}/action_post", data={
                "action": "muldelete", "rowid": [pk], "csrf_token": token}),
        ]
        allowed = (302, 403, 404) if username == "clerk_mkt" else (200, 302, 403, 404)
        for response in responses:
            assert response.status_code in allowed, (username, response.request.path)
    assert row(app, model, pk) == before


@pytest.mark.parametrize("kind", WRITABLE)
def test_adding_a_record_for_another_department_is_refused(app, login_as, ids, kind):
    model, view, _resource, column = KINDS[kind]
    client = login_as("clerk_mkt")
    text = f"越权新增-{kind}"
    response = client.post(f"/{view.lower()}/add", follow_redirects=True, data={
        **web_form(kind, ids, "FIN", **{column: text}), "csrf_token": form_token(client)})
    assert response.status_code == 200
    assert count(app, model, **{column: text}) == 0
    assert flashes(response.get_data(as_text=True)), "no message explains the refusal"

    # The same form for the user's own department is accepted.
    own = f"本部门新增-{kind}"
    response = client.post(f"/{view.lower()}/add", data={
        **web_form(kind, ids, "MKT", **{column: own}), "csrf_token": form_token(client)})
    assert response.status_code == 302
    assert count(app, model, **{column: own}) == 1


@pytest.mark.parametrize("kind", WRITABLE)
def test_moving_own_record_to_another_department_is_refused(app, login_as, make, ids, kind):
    model, view, _resource, column = KINDS[kind]
    pk = make(kind, dept="FIN")
    before = row(app, model, pk)
    client = login_as("clerk_fin")
    response = client.post(f"/{view.lower()}/edit/{pk}", follow_redirects=True, data={
        **web_form(kind, ids, "MKT", **{column: "移交市场部"}),
        "csrf_token": form_token(client)})
    assert response.status_code == 200
    assert row(app, model, pk) == before
    assert flashes(response.get_data(as_text=True)), "no message explains the refusal"


# ------------------------------------------------------- reference data: systems

def system_form(ids, dept, **changes):
    return {"code": "T-FORM", "name": "表单系统", "category": "finance",
            "owning_department": ids.dept(dept), "lifecycle": "running",
            "protection_level": "2", **changes}


def test_other_departments_system_is_readable_but_not_writable(app, login_as, api_as, make, ids):
    pk = make("system", dept="FIN")
    before = row(app, InformationSystem, pk)
    client = login_as("clerk_mkt")
    token = form_token(client)

    show = client.get(f"/informationsystemview/show/{pk}")
    assert show.status_code == 200
    assert before["name"] in show.get_data(as_text=True)
    _count, listed = list_page(client, "InformationSystemView",
                               f"_flt_3_code={before['code']}")
    assert listed == {pk}

    for dept in ("FIN", "MKT"):
        response = client.post(f"/informationsystemview/edit/{pk}", follow_redirects=True,
                               data={**system_form(ids, dept, code=before["code"],
                                                   name="被市场部改名"), "csrf_token": token})
        assert response.status_code in (200, 403, 404)
    response = client.post(f"/informationsystemview/delete/{pk}", follow_redirects=True,
                           data={"csrf_token": token})
    assert response.status_code in (200, 403, 404)
    assert flashes(response.get_data(as_text=True)), "no message explains the refusal"
    response = client.post("/informationsystemview/action_post", follow_redirects=True, data={
        "action": "muldelete", "rowid": [pk], "csrf_token": token})
    assert response.status_code in (200, 403, 404)
    assert row(app, InformationSystem, pk) == before

    api, headers = api_as("clerk_mkt")
    response = api.get(f"/api/v1/information_system/{pk}", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["result"]["code"] == before["code"]
    response = api.put(f"/api/v1/information_system/{pk}", headers=headers,
                       json={"name": "被市场部改名"})
    assert response.status_code == 403
    response = api.put(f"/api/v1/information_system/{pk}", headers=headers,
                       json={"owning_department": ids.dept("MKT")})
    assert response.status_code in (400, 403)
    assert api.delete(f"/api/v1/information_system/{pk}", headers=headers).status_code == 403
    assert row(app, InformationSystem, pk) == before


def test_owning_department_edits_its_system(app, login_as, make, ids):
    pk = make("system", dept="FIN")
    code = row(app, InformationSystem, pk)["code"]
    client = login_as("clerk_fin")
    response = client.post(f"/informationsystemview/edit/{pk}", data={
        **system_form(ids, "FIN", code=code, name="财务部改名"), "csrf_token": form_token(client)})
    assert response.status_code == 302
    assert row(app, InformationSystem, pk)["name"] == "财务部改名"


# ------------------------------------------------------------------ attachments

def _attached_project(app, make, dept="FIN", **overrides):
    from app.extensions import db

    data = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    with app.app_context():
        attachment = Attachment(filename="需求报告.pdf", content_type="application/pdf",
                                size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                data=data)
        db.session.add(attachment)
        db.session.commit()
        attachment_id = attachment.id
    return make("project", dept=dept, requirements_report_id=attachment_id,
                **overrides), attachment_id, data


def test_attachment_download_follows_the_owning_record(app, login_as, make):
    _pk, attachment_id, data = _attached_project(app, make, dept="FIN")
    for username in INSIDERS:
        response = login_as(username).get(f"/attachment/{attachment_id}")
        assert response.status_code == 200, username
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.data == data
    for username in OUTSIDERS + ["expert"]:
        response = login_as(username).get(f"/attachment/{attachment_id}")
        assert response.status_code == 404, username
        assert data not in response.data


def test_attachment_of_no_record_is_not_served(app, login_as):
    from app.extensions import db

    with app.app_context():
        orphan = Attachment(filename="孤立.pdf", content_type="application/pdf", size=5,
                            sha256="0" * 64, data=b"%PDF-")
        db.session.add(orphan)
        db.session.commit()
        orphan_id = orphan.id
    assert login_as("clerk_fin").get(f"/attachment/{orphan_id}").status_code == 404
    assert login_as("clerk_fin").get("/attachment/999999").status_code == 404


# -------------------------------------------------------------------- REST API

@pytest.mark.parametrize("kind", KINDS)
def test_api_get_and_list_are_scoped(app, api_as, make, ids, kind):
    model, _view, resource, column = KINDS[kind]
    pk = make(kind, dept="FIN")
    text = unique_value(app, kind, pk)
    query = f"?q=(filters:!((col:{column},opr:eq,value:'{text}')))"
    for username in OUTSIDERS:
        client, headers = api_as(username)
        assert client.get(f"/api/v1/{resource}/{pk}", headers=headers).status_code == 404
        found = client.get(f"/api/v1/{resource}/{query}", headers=headers).get_json()
        assert (found["count"], found["ids"]) == (0, [])
        everything = client.get(f"/api/v1/{resource}/", headers=headers).get_json()
        assert everything["count"] == count(app, model,
                                            *visible_criteria(kind, ids.dept("MKT")))
        assert pk not in everything["ids"]
    for username in INSIDERS:
        client, headers = api_as(username)
        response = client.get(f"/api/v1/{resource}/{pk}", headers=headers)
        assert response.status_code == 200
        assert response.get_json()["result"][column] == text
        found = client.get(f"/api/v1/{resource}/{query}", headers=headers).get_json()
        assert (found["count"], found["ids"]) == (1, [pk])


@pytest.mark.parametrize("kind", WRITABLE)
@pytest.mark.parametrize("username", OUTSIDERS)
def test_api_put_and_delete_are_404_for_outsiders(app, api_as, make, ids, kind, username):
    model, _view, resource, column = KINDS[kind]
    pk = make(kind, dept="FIN")
    before = row(app, model, pk)
    client, headers = api_as(username)
    response = client.put(f"/api/v1/{resource}/{pk}", headers=headers,
                          json={column: "越权修改"})
    assert response.status_code == 404
    response = client.put(f"/api/v1/{resource}/{pk}", headers=headers,
                          json=api_payload(kind, ids, "MKT", **{column: "越权修改"}))
    assert response.status_code == 404
    assert client.delete(f"/api/v1/{resource}/{pk}", headers=headers).status_code == 404
    assert row(app, model, pk) == before


@pytest.mark.parametrize("kind", DELETABLE)
def test_api_put_and_delete_work_for_the_department(app, api_as, make, kind):
    model, _view, resource, column = KINDS[kind]
    pk = make(kind, dept="FIN")
    client, headers = api_as("head_fin")
    response = client.put(f"/api/v1/{resource}/{pk}", headers=headers,
                          json={column: f"接口修改-{pk}"})
    assert response.status_code == 200, response.get_json()
    assert row(app, model, pk)[column] == f"接口修改-{pk}"
    assert client.delete(f"/api/v1/{resource}/{pk}", headers=headers).status_code == 200
    assert row(app, model, pk) is None


@pytest.mark.parametrize("kind", WRITABLE)
def test_api_post_for_another_department_is_refused(app, api_as, ids, kind):
    model, _view, resource, column = KINDS[kind]
    client, headers = api_as("clerk_mkt")
    text = f"接口越权新增-{kind}"
    response = client.post(f"/api/v1/{resource}/", headers=headers,
                           json=api_payload(kind, ids, "FIN", **{column: text}))
    assert 400 <= response.status_code < 500
    assert response.get_json().get("message")
    assert count(app, model, **{column: text}) == 0

    own = f"接口本部门新增-{kind}"
    response = client.post(f"/api/v1/{resource}/", headers=headers,
                           json=api_payload(kind, ids, "MKT", **{column: own}))
    assert response.status_code == 201, response.get_json()
    stored = row(app, model, response.get_json()["id"])
    assert stored[column] == own


@pytest.mark.parametrize("kind", WRITABLE)
def test_api_put_moving_own_record_to_another_department_is_refused(
        app, api_as, make, ids, kind):
    model, _view, resource, _column = KINDS[kind]
    owner = {"project": "applicant_department", "incident": "reporting_department",
             "data_asset": "owner_department", "security_event": "system"}[kind]
    value = ids.system("CRM") if owner == "system" else ids.dept("MKT")
    pk = make(kind, dept="FIN")
    before = row(app, model, pk)
    client, headers = api_as("clerk_fin")
    response = client.put(f"/api/v1/{resource}/{pk}", headers=headers,
                          json={owner: value})
    assert 400 <= response.status_code < 500
    assert row(app, model, pk) == before


NONEXISTENT = [999999, 2**70, -1, "1", 1.5, True, {"id": 1}, {"name": "新部门"}]


@pytest.mark.parametrize("value", NONEXISTENT, ids=repr)
@pytest.mark.parametrize("username,resource,field", [
    ("clerk_fin", "project_request", "applicant_department"),
    ("it_staff", "contract", "vendor"),
    ("it_staff", "contract", "project"),
    ("clerk_fin", "incident", "system"),
])
def test_api_post_with_a_missing_related_record_is_400_and_creates_nothing(
        app, api_as, ids, username, resource, field, value):
    from app.organisation.models import Department
    from app.procurement.models import Vendor

    payloads = {
        "project_request": api_payload("project", ids, "FIN", name="缺失关联项目"),
        "incident": api_payload("incident", ids, "FIN", title="缺失关联故障"),
        "contract": {"number": "T-MISSING-REL", "name": "缺失关联合同",
                     "department": ids.dept("FIN"), "vendor": ids.vendor(), "amount": 1},
    }
    model = {"project_request": ProjectRequest, "incident": Incident,
             "contract": Contract}[resource]
    totals = (count(app, model), count(app, Department), count(app, Vendor))
    client, headers = api_as(username)
    response = client.post(f"/api/v1/{resource}/", headers=headers,
                           json={**payloads[resource], field: value})
    assert response.status_code == 400, response.get_json()
    assert field in str(response.get_json()["message"])
    assert (count(app, model), count(app, Department), count(app, Vendor)) == totals


def test_api_put_with_a_missing_related_record_is_400_and_changes_nothing(app, api_as, make):
    pk = make("contract", dept="FIN")
    before = row(app, Contract, pk)
    client, headers = api_as("it_staff")
    for value in (999999, 2**70):
        response = client.put(f"/api/v1/contract/{pk}", headers=headers, json={"vendor": value})
        assert response.status_code == 400
    assert row(app, Contract, pk) == before


def test_filter_arguments_cannot_smuggle_another_department_into_a_form(
        app, login_as, make, ids):
    """FAB fills a form's relation from a ``_flt_`` argument and hides the field."""
    client = login_as("clerk_mkt")
    response = client.post(
        f"/projectrequestview/add?_flt_0_applicant_department={ids.dept('FIN')}",
        data={**web_form("project", ids, "MKT", name="过滤参数越权"),
              "csrf_token": form_token(client)})
    assert response.status_code in (200, 302, 403, 404)
    assert count(app, ProjectRequest, name="过滤参数越权") == 0

    pk = make("project", dept="FIN")
    before = row(app, ProjectRequest, pk)
    client = login_as("clerk_fin")
    response = client.post(
        f"/projectrequestview/edit/{pk}?_flt_0_applicant_department={ids.dept('MKT')}",
        data={**web_form("project", ids, "FIN", name="过滤参数移交"),
              "csrf_token": form_token(client)})
    assert response.status_code in (200, 302, 403, 404)
    assert row(app, ProjectRequest, pk) == before


def test_api_form_info_offers_only_the_users_own_department(api_as, ids):
    client, headers = api_as("clerk_mkt")
    response = client.get("/api/v1/project_request/_info?q=(keys:!(add_columns,edit_columns))",
                          headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    for key in ("add_columns", "edit_columns"):
        field = next(f for f in body[key] if f["name"] == "applicant_department")
        assert [value["id"] for value in field["values"]] == [ids.dept("MKT")]


# ---------------------------------------------------------------------- experts

def _assign(app, project_id, username="expert"):
    from app.base import AppUser
    from app.extensions import db
    from app.planning.models import ExpertReview

    with app.app_context():
        expert = db.session.query(AppUser).filter_by(username=username).one()
        project = db.session.get(ProjectRequest, project_id)
        db.session.add(ExpertReview(project=project, expert=expert))
        db.session.commit()


def test_expert_sees_only_requests_assigned_to_them(app, login_as, api_as, make):
    in_review = make("project", dept="FIN", status=ProjectStatus.expert_review)
    _assign(app, in_review)
    others = [make("project", dept="FIN", status=status)
              for status in (ProjectStatus.expert_review, ProjectStatus.draft,
                             ProjectStatus.it_review, ProjectStatus.approved)]
    client = login_as("expert")

    response = client.get(f"/projectrequestview/show/{in_review}")
    assert response.status_code == 200
    assert unique_value(app, "project", in_review) in response.get_data(as_text=True)
    shown, listed = list_page(client, "ProjectRequestView", "psize_ProjectRequestView=100")
    from app.base import AppUser
    from app.planning.models import ExpertReview

    with app.app_context():
        from app.extensions import db

        expert_id = db.session.query(AppUser.id).filter_by(username="expert").scalar()
        assigned = {pk for (pk,) in db.session.query(ExpertReview.project_id)
                    .filter_by(expert_id=expert_id)}
    assert shown == len(assigned)
    assert in_review in listed
    api, headers = api_as("expert")
    assert api.get(f"/api/v1/project_request/{in_review}", headers=headers).status_code == 200

    for pk in others:
        assert client.get(f"/projectrequestview/show/{pk}").status_code == 404
        assert pk not in listed
        assert api.get(f"/api/v1/project_request/{pk}", headers=headers).status_code == 404
    listing = api.get("/api/v1/project_request/?q=(page_size:100)", headers=headers).get_json()
    assert listing["count"] == shown
    assert not set(listing["ids"]) & set(others)


def test_expert_downloads_reports_only_of_requests_assigned_to_them(app, login_as, make):
    pk, in_review, _data = _attached_project(app, make, status=ProjectStatus.expert_review)
    _assign(app, pk)
    _pk, draft, _data = _attached_project(app, make, status=ProjectStatus.expert_review)
    client = login_as("expert")
    assert client.get(f"/attachment/{in_review}").status_code == 200
    assert client.get(f"/attachment/{draft}").status_code == 404


def test_expert_cannot_change_a_request_in_review(app, login_as, api_as, make):
    pk = make("project", dept="FIN", status=ProjectStatus.expert_review)
    before = row(app, ProjectRequest, pk)
    client = login_as("expert")
    token = form_token(client)
    client.post(f"/projectrequestview/edit/{pk}", data={"name": "专家改名", "csrf_token": token})
    client.post(f"/projectrequestview/delete/{pk}", data={"csrf_token": token})
    api, headers = api_as("expert")
    assert api.put(f"/api/v1/project_request/{pk}", headers=headers,
                   json={"name": "专家改名"}).status_code in (401, 403)
    assert api.delete(f"/api/v1/project_request/{pk}", headers=headers).status_code in (401, 403)
    assert row(app, ProjectRequest, pk) == before
