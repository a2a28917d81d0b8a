"""The permission model, role by role, record type by record type, web and REST.

One table (``EXPECTED``) states what each role may read and write; every matrix
below is generated from it, and every case checks the data side effect (the
record is listed, shown, created, changed or deleted -- or it is not), never a
status code alone.

Records used by a case are fresh (``make``) and lie in the department of the
role's demo user, so a refusal is the role's doing, not department scoping
(tests/test_scoping.py checks that; here only: reference data is read in full).
"""
import re
import uuid

import prison
import pytest

from conftest import CSRF_RE, ROLE_USERS
from seeds.demo import DEMO_ACCOUNTS
from webhelpers import flashes

pytestmark = pytest.mark.matrix  # sampled in a normal run: tests/sampling.py

# ----------------------------------------------------------------- the spec

RECORD_TYPES = ("Department", "InformationSystem", "Vendor", "DevelopmentPlan",
                "ProjectRequest", "Tender", "Bid", "Contract", "Milestone", "ProgressReport",
                "ChangeOrder", "Incident", "ChangeRequest", "OperationLog",
                "InspectionChecklist", "MaintenancePlan",
                "MaintenanceRecord", "Audit", "AuditFinding", "DataAsset", "DataQualityCheck",
                "BackupRecord", "SupervisionCheck", "SecurityPolicy", "VulnerabilityScan",
                "Vulnerability", "RiskAssessment", "Training", "TrainingAttendance")
# Chapter 6.3.3-6.4.
CONTINUITY = ("PersonnelClearance", "EmergencyPlan", "Drill", "SecurityEvent")
RECORD_TYPES += CONTINUITY
ALL = frozenset(RECORD_TYPES)
REFERENCE = frozenset({"Department", "InformationSystem", "Vendor", "DevelopmentPlan"})
# Company-wide records every department reads: security policies and training (6.1, 6.3.1).
COMPANY_WIDE = frozenset({"SecurityPolicy", "Training"})
SECURITY = frozenset({"SecurityPolicy", "VulnerabilityScan", "Vulnerability",
                      "RiskAssessment", "Training", "TrainingAttendance"})
DEPARTMENT_WRITES = frozenset({"InformationSystem", "ProjectRequest", "Incident",
                               "ChangeRequest", "DataAsset"})
# A department reports the security events of its systems (6.4.3); only its head reads
# the clearances of its people (6.3.3).
DEPARTMENT_WRITES |= {"SecurityEvent"}
NOT_FOR_CLERKS = frozenset({"PersonnelClearance"})

# role -> (record types it may read, record types it may write)
EXPECTED = {
    "Admin": (ALL, ALL),
    "Clerk": (ALL - NOT_FOR_CLERKS, DEPARTMENT_WRITES),
    "DeptHead": (ALL, DEPARTMENT_WRITES),
    # IT writes a project request only in its own steps (opinion, feasibility and
    # acceptance reports): tests/test_approval_integrity.py. Here the records are drafts.
    "ITStaff": (ALL, frozenset({"Department", "InformationSystem", "Vendor", "DevelopmentPlan",
                                "Tender", "Bid", "Contract", "Milestone", "ProgressReport",
                                "ChangeOrder", "Incident", "ChangeRequest", "OperationLog",
                                "InspectionChecklist", "MaintenancePlan", "MaintenanceRecord",
                                "DataAsset", "DataQualityCheck", "BackupRecord"}) | SECURITY
                | set(CONTINUITY)),
    # Experts read the project requests they are assigned to review (and no other:
    # tests/test_scoping.py); the records made for the Expert here are assigned to them.
    "Expert": (REFERENCE | {"ProjectRequest", "SecurityPolicy"}, frozenset()),
    "Management": (ALL, frozenset()),
    "Auditor": (ALL, frozenset({"Audit", "AuditFinding", "SupervisionCheck"})),
}
ROLES = tuple(EXPECTED)
# Beyond the spec above (regulation 8.2.1, app/audit/models.py ``__department_columns__``):
# a department's Clerk/DeptHead writes the rectification of its own audit findings,
# and nothing else of them. So they open the edit form, but adding, deleting and
# changing any other column stay refused (the write cases below change the title).
RECTIFIERS = {"Clerk": {"AuditFinding"}, "DeptHead": {"AuditFinding"}}
DEPARTMENT_ROLES = ("Clerk", "DeptHead")
# Submitted on creation, so never deleted (a workflow step ends them): regulation 5.1.3.
NEVER_DELETED = frozenset({"Incident", "ChangeRequest", "ChangeOrder", "SecurityEvent"})
ADMIN_ONLY_PAGES = ("/users/list/", "/roles/list/", "/swagger/v1", "/api/v1/_openapi",
                    "/directoryaccounts/list/")
# Record types of the menu this spec does not state: who writes them depends on more than
# role and department, so a role's can_write does not say it. Delegation: one's own, as
# principal (tests/test_inbox.py, test_sod.py); PlanFeedback: a department's own, only
# while the plan is in consultation (its write rule; tests/test_demo_walk.py);
# ExpertReview: IT assigns, the assigned expert writes (tests/test_conflict_of_interest.py);
# DataSharingRequest: the requesting department writes the content, IT only the granted
# period in its review (tests/test_workflows.py walks every step for every account). A
# new record type joins RECORD_TYPES, with its line in each table below, or this list.
NOT_IN_THIS_SPEC = frozenset({"Delegation", "PlanFeedback", "ExpertReview",
                              "DataSharingRequest"})

# ------------------------------------------------------ how each type is reached

VIEW = {t: f"/{t.lower()}view" for t in RECORD_TYPES}
RESOURCE = {
    "Department": "department", "InformationSystem": "information_system",
    "Vendor": "vendor", "DevelopmentPlan": "development_plan",
    "ProjectRequest": "project_request", "Contract": "contract",
    "Tender": "tender", "Bid": "bid", "Milestone": "milestone",
    "ProgressReport": "progress_report",
    "Incident": "incident", "ChangeRequest": "change_request", "ChangeOrder": "change_order",
    "Audit": "audit", "AuditFinding": "audit_finding",
    "OperationLog": "operation_log", "InspectionChecklist": "inspection_checklist",
    "MaintenancePlan": "maintenance_plan", "MaintenanceRecord": "maintenance_record",
    "DataAsset": "data_asset", "DataQualityCheck": "data_quality_check",
    "BackupRecord": "backup_record", "SupervisionCheck": "supervision_check",
    "SecurityPolicy": "security_policy", "VulnerabilityScan": "vulnerability_scan",
    "Vulnerability": "vulnerability", "RiskAssessment": "risk_assessment",
    "Training": "training", "TrainingAttendance": "training_attendance",
    "PersonnelClearance": "personnel_clearance", "EmergencyPlan": "emergency_plan",
    "Drill": "drill", "SecurityEvent": "security_event",
}
# A unique text column per type: searchable, shown on list and show pages.
MARKER = {"Department": "name", "InformationSystem": "name", "Vendor": "name",
          "DevelopmentPlan": "title",
          "ProjectRequest": "name", "Contract": "name", "Tender": "title", "Bid": "remarks",
          "Milestone": "name", "ProgressReport": "summary", "Incident": "title",
          "ChangeRequest": "title", "ChangeOrder": "title",
          "Audit": "title", "AuditFinding": "title", "OperationLog": "content",
          "InspectionChecklist": "items", "MaintenancePlan": "title",
          "MaintenanceRecord": "result", "DataAsset": "name", "DataQualityCheck": "title",
          "BackupRecord": "medium", "SupervisionCheck": "title", "SecurityPolicy": "title",
          "VulnerabilityScan": "tool", "Vulnerability": "title", "RiskAssessment": "risks",
          "Training": "title", "TrainingAttendance": "remarks", "PersonnelClearance": "post",
          "EmergencyPlan": "title", "Drill": "participants", "SecurityEvent": "title"}
# kind for the ``make`` factory (Department has none: made here).
FACTORY = {"InformationSystem": "system", "Vendor": "vendor",
           "DevelopmentPlan": "development_plan", "ProjectRequest": "project",
           "Contract": "contract", "Tender": "tender", "Bid": "bid",
           "Milestone": "milestone", "ProgressReport": "progress_report",
           "Incident": "incident", "ChangeRequest": "change_request",
           "ChangeOrder": "change_order",
           "Audit": "audit",
           "AuditFinding": "finding", "OperationLog": "operation_log",
           "InspectionChecklist": "checklist", "MaintenancePlan": "maintenance_plan",
           "MaintenanceRecord": "maintenance_record", "DataAsset": "data_asset",
           "DataQualityCheck": "quality_check", "BackupRecord": "backup",
           "SupervisionCheck": "supervision", "SecurityPolicy": "security_policy",
           "VulnerabilityScan": "vulnerability_scan", "Vulnerability": "vulnerability",
           "RiskAssessment": "risk_assessment", "Training": "training",
           "TrainingAttendance": "training_attendance", "PersonnelClearance": "clearance",
           "EmergencyPlan": "emergency_plan", "Drill": "drill",
           "SecurityEvent": "security_event"}

# Valid input per type. Keys are the web form field names, which are also the
# REST column names; relationships take the related id, enums the member name.
# Placeholders are filled per user: MARK (a fresh unique text), CREDIT (a fresh
# credit code), DEPT (the user's department), SYSTEM / VENDOR / AUDIT (a record
# of that kind in the user's department).
MARK, CREDIT, DEPT, SYSTEM, VENDOR, AUDIT, PLAN, PROJECT = (
    "<mark>", "<credit>", "<dept>", "<system>", "<vendor>", "<audit>", "<plan>", "<project>")
# A vulnerability scan and a training of the user's department.
SCAN, TRAINING = "<scan>", "<training>"
# PERSON: a user of the department; APPROVED_PLAN: an approved emergency plan.
PERSON, APPROVED_PLAN = "<person>", "<approved plan>"
# An approved project (立项), a tender open for bids, a project in implementation, and an
# IT officer (of the user's department's records: the department's own project).
APPROVED, OPEN_TENDER, IMPLEMENTING, IT_OFFICER = (
    "<approved>", "<open tender>", "<implementing>", "<it officer>")
VALID_INPUT = {
    "Department": {"code": MARK, "name": MARK, "kind": "business", "description": "d"},
    "InformationSystem": {"code": MARK, "name": MARK, "category": "business",
                          "owning_department": DEPT, "lifecycle": "planned",
                          "protection_level": 2, "go_live_date": "2026-01-01"},
    "Vendor": {"name": MARK, "credit_code": CREDIT, "rating": "b",
               "contact_person": "p"},
    "DevelopmentPlan": {"title": MARK, "period": MARK, "goals": "g", "tasks": "t",
                        "priorities": "p", "schedule": "s"},
    "ProjectRequest": {"name": MARK, "applicant_department": DEPT, "background": "b",
                       "goals": "g", "content": "c", "budget": 1000,
                       "implementation_plan": "p"},
    "Contract": {"number": MARK, "name": MARK, "department": DEPT, "vendor": VENDOR,
                 "system": SYSTEM, "amount": 100, "start_date": "2026-01-01",
                 "end_date": "2026-12-31"},
    "Tender": {"tender_number": MARK, "title": MARK, "project": APPROVED, "method": "public",
               "announcement_date": "2026-01-01", "opening_date": "2026-02-01"},
    "Bid": {"tender": OPEN_TENDER, "vendor": VENDOR, "amount": 100, "technical_score": 80,
            "commercial_score": 70, "remarks": MARK},
    "Milestone": {"project": IMPLEMENTING, "name": MARK, "kind": "testing",
                  "responsible": IT_OFFICER, "due_on": "2026-12-31", "description": "d"},
    "ProgressReport": {"project": IMPLEMENTING, "report_date": "2026-03-01",
                       "report_period": "2026年3月", "percent_complete": 50, "summary": MARK,
                       "reporter": IT_OFFICER},
    "Incident": {"title": MARK, "system": SYSTEM, "severity": "p3", "description": "d",
                 "reporting_department": DEPT, "occurred_at": "2026-01-01 10:00:00"},
    "ChangeOrder": {"change_number": MARK, "title": MARK, "project": PROJECT, "reason": "r",
                    "change_content": "c", "cost_impact": 0, "schedule_impact": "s"},
    "ChangeRequest": {"change_number": MARK, "title": MARK, "system": SYSTEM,
                      "kind": "configuration", "change_plan": "p", "rollback_plan": "r",
                      "risk": "low", "window_start": "2026-03-01 10:00:00",
                      "window_end": "2026-03-01 12:00:00"},
    "OperationLog": {"system": SYSTEM, "kind": "inspection", "content": MARK,
                     "result": "normal", "performed_at": "2026-01-01 10:00:00"},
    "InspectionChecklist": {"system": SYSTEM, "items": MARK},
    "MaintenancePlan": {"title": MARK, "system": SYSTEM, "kind": "periodic", "content": "c",
                        "cycle_days": 30, "start_date": "2026-01-01"},
    "MaintenanceRecord": {"maintenance_plan": PLAN, "category": "backup", "result": MARK,
                          "performed_at": "2026-01-01 10:00:00"},
    "Audit": {"title": MARK, "kind": "compliance", "department": DEPT, "scope": "s",
              "period_start": "2026-01-01", "period_end": "2026-06-30"},
    "AuditFinding": {"audit": AUDIT, "title": MARK, "description": "d",
                     "severity": "medium", "responsible_department": DEPT,
                     "due_date": "2026-12-31"},
    "DataAsset": {"name": MARK, "system": SYSTEM, "owner_department": DEPT,
                  "classification": "internal", "retention_months": 60},
    "DataQualityCheck": {"title": MARK, "department": DEPT, "system": SYSTEM,
                         "checked_on": "2026-03-01", "dimension": "completeness",
                         "score": 85, "issues": "i", "rectification_due": "2026-12-31"},
    "BackupRecord": {"system": SYSTEM, "taken_at": "2026-03-01 02:00:00", "kind": "full",
                     "medium": MARK, "offsite_location": "异地机房",
                     "restore_tested_on": "2026-03-02", "restore_result": "passed"},
    "SupervisionCheck": {"title": MARK, "department": DEPT, "checked_on": "2026-03-01",
                         "checked_duties": True, "checked_data": True,
                         "result": "satisfactory", "issues": "i"},
    "SecurityPolicy": {"title": MARK, "category": "data", "policy_version": 1,
                       "objectives": "o", "principles": "p", "measures": "m",
                       "effective_date": "2026-01-01"},
    "VulnerabilityScan": {"system": SYSTEM, "scanned_on": "2026-03-01", "tool": MARK,
                          "scan_scope": "s", "summary": "r"},
    "Vulnerability": {"scan": SCAN, "title": MARK, "identifier": "CVE-2026-0001",
                      "severity": "high", "status": "open", "found_on": "2026-03-01"},
    "RiskAssessment": {"system": SYSTEM, "assessed_on": "2026-03-01", "assessment_scope": "s",
                       "method": "m", "risks": MARK, "risk_level": "medium",
                       "residual_risk": "low",
                       "next_assessment_on": "2027-03-01"},
    "Training": {"title": MARK, "held_on": "2026-03-01", "trainer": "t", "topic_law": True,
                 "audience": "a"},
    "TrainingAttendance": {"training": TRAINING, "person": PERSON, "attended": True,
                           "score": 90, "remarks": MARK},
    "PersonnelClearance": {"person": PERSON, "post": MARK, "background_result": "passed",
                           "background_checked_on": "2026-01-05",
                           "agreement_signed_on": "2026-01-10",
                           "agreement_expires_on": "2028-01-09"},
    "EmergencyPlan": {"title": MARK, "edition": "1.0", "department": DEPT, "scenario": "s",
                      "procedure": "p", "responsibilities": "r", "resources": "x"},
    "Drill": {"emergency_plan": APPROVED_PLAN, "held_on": "2026-03-01", "scenario": "s",
              "participants": MARK, "result": "partly", "issues": "i"},
    "SecurityEvent": {"title": MARK, "system": SYSTEM, "category": "malware",
                      "severity": "p2", "description": "d",
                      "occurred_at": "2026-03-01 10:00:00"},
}

DEPT_OF_USER = {username: dept for username, _role, dept, _name in DEMO_ACCOUNTS}
OTHER_DEPT = "MKT"  # no role user of the matrix belongs to it

WEB_REFUSED = "refused"
API_REFUSED = (401, 403)


def matrix(operation):
    """(role, record type, allowed) for every role and type, from EXPECTED.

    ``operation``: "read", "write", or "edit form" (writers and RECTIFIERS) or
    "add form" (writers only; RECTIFIERS are refused the add form).
    """
    cases = []
    for role in ROLES:
        for record_type in RECORD_TYPES:
            allowed = record_type in EXPECTED[role][0 if operation == "read" else 1]
            rectifier = record_type in RECTIFIERS.get(role, ())
            marks = ()
            if operation == "edit form":
                allowed = allowed or rectifier
            if operation == "delete":
                allowed = allowed and record_type not in NEVER_DELETED
            cases.append(pytest.param(
                role, record_type, allowed, marks=marks,
                id=f"{role}-{record_type}-{'allowed' if allowed else 'refused'}"))
    return cases


# ---------------------------------------------------------------- helpers

def new_marker():
    return f"pm-{uuid.uuid4().hex[:12]}"


def test_every_record_type_of_the_menu_is_in_this_spec_or_named_as_not_in_it():
    from app.chapters import record_views

    menu = {view.datamodel.obj.__name__ for view in record_views()}
    assert not ALL & NOT_IN_THIS_SPEC
    assert menu == ALL | NOT_IN_THIS_SPEC, "add the new record type to the spec above"


def model_of(record_type):
    from app.chapters import record_models

    return next(model for model in record_models() if model.__name__ == record_type)


def stored_marker(app, record_type, pk):
    """The marker column of a record as stored now, or None when it is gone."""
    from app.extensions import db

    model = model_of(record_type)
    with app.app_context():
        return db.session.query(getattr(model, MARKER[record_type])).filter(
            model.id == pk).scalar()


def stored_id(app, record_type, marker):
    """Id of the record carrying ``marker``, or None."""
    from app.extensions import db

    model = model_of(record_type)
    with app.app_context():
        return db.session.query(model.id).filter(
            getattr(model, MARKER[record_type]) == marker).scalar()


class Actor:
    """The demo user of a role, able to make records in its own department."""

    def __init__(self, app, ids, make, role):
        self.app, self.ids, self.make, self.role = app, ids, make, role
        self.username = ROLE_USERS[role]
        self.dept = DEPT_OF_USER[self.username]

    def record(self, record_type, dept=None, **overrides):
        """A fresh record visible to this user (unless ``dept``/overrides say otherwise).

        Returns (id, marker).
        """
        dept = dept or self.dept
        marker = new_marker()
        if record_type == "Department":
            return self._department(marker), marker
        overrides.setdefault(MARKER[record_type], marker)
        if record_type == "ProjectRequest" and self.role == "Expert":
            from app.planning.models import ProjectStatus

            overrides.setdefault("status", ProjectStatus.expert_review)
            pk = self.make(FACTORY[record_type], dept=dept, **overrides)
            self._assign_to_me(pk)
            return pk, marker
        return self.make(FACTORY[record_type], dept=dept, **overrides), marker

    def _assign_to_me(self, project_id):
        from app.base import AppUser
        from app.extensions import db
        from app.planning.models import ExpertReview, ProjectRequest

        with self.app.app_context():
            me = db.session.query(AppUser).filter_by(username=self.username).one()
            db.session.add(ExpertReview(project=db.session.get(ProjectRequest, project_id),
                                        expert=me))
            db.session.commit()

    def _department(self, marker):
        from app.extensions import db
        from app.organisation.models import Department

        with self.app.app_context():
            row = Department(code=marker, name=marker)
            db.session.add(row)
            db.session.commit()
            return row.id

    def valid_input(self, record_type, dept=None):
        """VALID_INPUT of the type with its placeholders filled; returns (data, marker)."""
        dept = dept or self.dept
        marker = new_marker()
        fill = {
            MARK: lambda: marker,
            CREDIT: lambda: f"91{uuid.uuid4().hex[:16].upper()}",
            DEPT: lambda: self.ids.dept(dept),
            SYSTEM: lambda: self.make("system", dept=dept),
            VENDOR: lambda: self.ids.vendor(),
            AUDIT: lambda: self.make("audit", dept=dept),
            PLAN: lambda: self.make("maintenance_plan", dept=dept),
            SCAN: lambda: self.make("vulnerability_scan", dept=dept),
            TRAINING: lambda: self.make("training", dept=dept),
            PROJECT: lambda: self.make("project", dept=dept),
            PERSON: lambda: self.ids.user({"FIN": "clerk_fin", "MKT": "clerk_mkt",
                                           "IT": "it_staff2", "HR": "auditor",
                                           "OPS": "expert"}[dept]),
            APPROVED_PLAN: lambda: self.make("emergency_plan", dept=dept, status="approved"),
            APPROVED: lambda: self.make("project", dept=dept, status=_project_status("approved")),
            OPEN_TENDER: lambda: self.make("tender", dept=dept,
                                           status=_tender_status("approved")),
            IMPLEMENTING: lambda: self.make("project", dept=dept,
                                            status=_project_status("implementation")),
            IT_OFFICER: lambda: self.ids.user("it_staff"),
        }
        data = {key: fill[value]() if isinstance(value, str) and value in fill else value
                for key, value in VALID_INPUT[record_type].items()}
        return data, marker


def _project_status(name):
    from app.planning.models import ProjectStatus

    return ProjectStatus[name]


def _tender_status(name):
    from app.procurement.models import TenderStatus

    return TenderStatus[name]


@pytest.fixture
def actor(app, ids, make):
    return lambda role: Actor(app, ids, make, role)


def page(response):
    return response.get_data(as_text=True)


def form_token(client, *paths):
    """A CSRF token of the session, from the first of ``paths`` that carries one.

    Refused roles cannot open the add form, so their token comes from their own
    user-info form: the refusal must then be the permission, not the token.
    """
    for path in (*paths, "/userinfoeditview/form"):
        match = CSRF_RE.search(page(client.get(path)))
        if match:
            return match.group(1)
    raise AssertionError(f"no CSRF token on {paths}")


def as_form(data):
    return {key: str(value) for key, value in data.items()}


def as_json(record_type, data):
    """The same input for the REST API (enums by member name, as in the forms)."""
    return dict(data)


def messages(response):
    """Flash messages and form field errors of a page, for assertion messages."""
    html = page(response)
    return flashes(html) + re.findall(r'class="help-block">\s*([^<]+)', html)


def assert_web_refused(response, marker):
    assert response.status_code < 500, f"server error {response.status_code}"
    assert response.status_code != 200, "the page was served to a role that may not have it"
    assert marker not in page(response)


def web_show_path(record_type, pk):
    return f"{VIEW[record_type]}/show/{pk}"


def list_filter_path(record_type, marker):
    return f"{VIEW[record_type]}/list/?_flt_0_{MARKER[record_type]}={marker}"


def row_link(record_type, pk):
    """The list row's link to the record (the marker itself is echoed by the filter)."""
    return f'href="{web_show_path(record_type, pk)}"'


def in_form(marker, html):
    """The marker is a field's value in the form (an input, or a text area's text)."""
    return f'value="{marker}"' in html or re.search(rf">\s*{marker}</textarea>", html)


def api_filter_query(record_type, marker):
    return prison.dumps({"filters": [
        {"col": MARKER[record_type], "opr": "eq", "value": marker}]})


# ============================================================ 1. web matrix

@pytest.mark.parametrize("role, record_type, allowed", matrix("read"))
def test_list_page_shows_the_record_only_to_roles_that_may_read(
        login_as, actor, role, record_type, allowed):
    who = actor(role)
    pk, marker = who.record(record_type)
    response = login_as(who.username).get(list_filter_path(record_type, marker))
    if allowed:
        assert response.status_code == 200
        assert row_link(record_type, pk) in page(response)
    else:
        assert_web_refused(response, row_link(record_type, pk))


@pytest.mark.parametrize("role, record_type, allowed", matrix("read"))
def test_show_page_shows_the_record_only_to_roles_that_may_read(
        login_as, actor, role, record_type, allowed):
    who = actor(role)
    pk, marker = who.record(record_type)
    response = login_as(who.username).get(web_show_path(record_type, pk))
    if allowed:
        assert response.status_code == 200
        assert marker in page(response)
    else:
        assert_web_refused(response, marker)


@pytest.mark.parametrize("role, record_type, allowed", matrix("add form"))
def test_add_form_opens_only_for_roles_that_may_write(login_as, actor, role, record_type,
                                                      allowed):
    who = actor(role)
    response = login_as(who.username).get(f"{VIEW[record_type]}/add")
    fields = [re.compile(f'id="{field}"[^>]* name="{field}"')
              for field in VALID_INPUT[record_type]]
    if allowed:
        assert response.status_code == 200
        assert CSRF_RE.search(page(response))
        assert all(field.search(page(response)) for field in fields)
    else:
        assert response.status_code < 500
        assert response.status_code != 200
        assert not any(field.search(page(response)) for field in fields)


@pytest.mark.parametrize("role, record_type, allowed", matrix("edit form"))
def test_edit_form_opens_only_for_roles_that_may_write(login_as, actor, role, record_type,
                                                       allowed):
    who = actor(role)
    pk, marker = who.record(record_type)
    response = login_as(who.username).get(f"{VIEW[record_type]}/edit/{pk}")
    if allowed and record_type in RECTIFIERS.get(role, ()):
        # The form offers the rectification, and only that (app/audit/models.py ``Edit``).
        assert response.status_code == 200
        assert 'name="rectification"' in page(response)
        assert not in_form(marker, page(response))
    elif allowed:
        assert response.status_code == 200
        assert in_form(marker, page(response))
    else:
        assert_web_refused(response, marker)


@pytest.mark.parametrize("role, record_type, allowed", matrix("write"))
def test_posting_the_add_form_creates_the_record_only_for_roles_that_may_write(
        app, login_as, actor, role, record_type, allowed):
    who = actor(role)
    client = login_as(who.username)
    data, marker = who.valid_input(record_type)
    path = f"{VIEW[record_type]}/add"
    data = {**as_form(data), "csrf_token": form_token(client, path)}
    response = client.post(path, data=data)
    assert response.status_code < 500
    pk = stored_id(app, record_type, marker)
    if allowed:
        assert pk is not None, f"not created: {messages(response)}"
        assert response.status_code == 302
    else:
        assert pk is None, "a refused role created the record"


@pytest.mark.parametrize("role, record_type, allowed", matrix("write"))
def test_posting_the_edit_form_changes_the_record_only_for_roles_that_may_write(
        app, login_as, actor, role, record_type, allowed):
    who = actor(role)
    client = login_as(who.username)
    pk, old_marker = who.record(record_type)
    data, new = who.valid_input(record_type)
    path = f"{VIEW[record_type]}/edit/{pk}"
    data = {**as_form(data), "csrf_token": form_token(client, path)}
    response = client.post(path, data=data)
    assert response.status_code < 500
    if allowed:
        assert stored_marker(app, record_type, pk) == new, \
            f"not changed: {messages(response)}"
    else:
        assert stored_marker(app, record_type, pk) == old_marker, \
            "a refused role changed the record"


@pytest.mark.parametrize("role, record_type, allowed", matrix("delete"))
def test_posting_delete_removes_the_record_only_for_roles_that_may_write(
        app, login_as, actor, role, record_type, allowed):
    who = actor(role)
    client = login_as(who.username)
    pk, marker = who.record(record_type)
    token = form_token(client, f"{VIEW[record_type]}/list/")
    response = client.post(f"{VIEW[record_type]}/delete/{pk}", data={"csrf_token": token})
    assert response.status_code < 500
    if allowed:
        assert stored_marker(app, record_type, pk) is None, \
            f"not deleted: {messages(client.get('/'))}"
    else:
        assert stored_marker(app, record_type, pk) == marker, \
            "a refused role deleted the record"


# ============================================================ 2. REST matrix

@pytest.mark.parametrize("role, record_type, allowed", matrix("read"))
def test_api_list_returns_the_record_only_to_roles_that_may_read(
        api_as, actor, role, record_type, allowed):
    who = actor(role)
    pk, marker = who.record(record_type)
    client, headers = api_as(who.username)
    response = client.get(f"/api/v1/{RESOURCE[record_type]}/",
                          query_string={"q": api_filter_query(record_type, marker)},
                          headers=headers)
    if allowed:
        assert response.status_code == 200, response.get_json()
        assert [row["id"] for row in response.get_json()["result"]] == [pk]
    else:
        assert response.status_code in API_REFUSED
        assert marker not in page(response)


@pytest.mark.parametrize("role, record_type, allowed", matrix("read"))
def test_api_get_returns_the_record_only_to_roles_that_may_read(
        api_as, actor, role, record_type, allowed):
    who = actor(role)
    pk, marker = who.record(record_type)
    client, headers = api_as(who.username)
    response = client.get(f"/api/v1/{RESOURCE[record_type]}/{pk}", headers=headers)
    if allowed:
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["result"][MARKER[record_type]] == marker
    else:
        assert response.status_code in API_REFUSED
        assert marker not in page(response)


@pytest.mark.parametrize("role, record_type, allowed", matrix("write"))
def test_api_post_creates_the_record_only_for_roles_that_may_write(
        app, api_as, actor, role, record_type, allowed):
    who = actor(role)
    client, headers = api_as(who.username)
    data, marker = who.valid_input(record_type)
    response = client.post(f"/api/v1/{RESOURCE[record_type]}/",
                           json=as_json(record_type, data), headers=headers)
    pk = stored_id(app, record_type, marker)
    if allowed:
        assert response.status_code == 201, response.get_json()
        assert pk is not None and response.get_json()["id"] == pk
    else:
        assert response.status_code in API_REFUSED, response.get_json()
        assert pk is None, "a refused role created the record"


@pytest.mark.parametrize("role, record_type, allowed", matrix("write"))
def test_api_put_changes_the_record_only_for_roles_that_may_write(
        app, api_as, actor, role, record_type, allowed):
    who = actor(role)
    pk, old_marker = who.record(record_type)
    client, headers = api_as(who.username)
    new = new_marker()
    response = client.put(f"/api/v1/{RESOURCE[record_type]}/{pk}",
                          json={MARKER[record_type]: new}, headers=headers)
    if allowed:
        assert response.status_code == 200, response.get_json()
        assert stored_marker(app, record_type, pk) == new
    else:
        assert response.status_code in API_REFUSED, response.get_json()
        assert stored_marker(app, record_type, pk) == old_marker


@pytest.mark.parametrize("role, record_type, allowed", matrix("delete"))
def test_api_delete_removes_the_record_only_for_roles_that_may_write(
        app, api_as, actor, role, record_type, allowed):
    who = actor(role)
    pk, marker = who.record(record_type)
    client, headers = api_as(who.username)
    response = client.delete(f"/api/v1/{RESOURCE[record_type]}/{pk}", headers=headers)
    if allowed:
        assert response.status_code == 200, response.get_json()
        assert stored_marker(app, record_type, pk) is None
    else:
        assert response.status_code in API_REFUSED, response.get_json()
        assert stored_marker(app, record_type, pk) == marker


# ============================================= department and expert scoping

# Read by every department whoever is responsible for them: everyone has duties in an
# emergency (6.4.1, 6.4.2).
READ_BY_ALL = REFERENCE | COMPANY_WIDE | {"EmergencyPlan", "Drill"}


def scope_cases():
    return [pytest.param(role, record_type, record_type in READ_BY_ALL,
                         id=f"{role}-{record_type}-"
                            f"{'visible' if record_type in READ_BY_ALL else 'hidden'}")
            for role in DEPARTMENT_ROLES for record_type in RECORD_TYPES
            if record_type in EXPECTED[role][0]]


@pytest.mark.parametrize("role, record_type, visible", scope_cases())
def test_department_roles_see_other_departments_records_only_for_reference_data(
        login_as, api_as, actor, role, record_type, visible):
    who = actor(role)
    pk, marker = who.record(record_type, dept=OTHER_DEPT)
    web = login_as(who.username)
    listed = web.get(list_filter_path(record_type, marker))
    shown = web.get(web_show_path(record_type, pk))
    client, headers = api_as(who.username)
    fetched = client.get(f"/api/v1/{RESOURCE[record_type]}/{pk}", headers=headers)
    assert listed.status_code == 200
    assert (row_link(record_type, pk) in page(listed)) is visible
    assert (shown.status_code == 200 and marker in page(shown)) is visible
    assert shown.status_code < 500
    assert (fetched.status_code == 200) is visible
    assert (marker in page(fetched)) is visible


# ================================================== 3. admin-only pages

# What only the admin's copy of each page contains.
ADMIN_CONTENT = {
    "/users/list/": "clerk_fin",
    "/roles/list/": "Auditor",
    "/swagger/v1": "/api/v1/_openapi",
    "/api/v1/_openapi": "/api/v1/project_request/",
    "/directoryaccounts/list/": "目录身份",  # a column of the directory accounts' list
}


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "anonymous"])
@pytest.mark.parametrize("path", ADMIN_ONLY_PAGES)
def test_security_pages_and_api_docs_open_only_for_admin(app, login_as, role, path):
    web = login_as(ROLE_USERS[role]) if role else app.test_client()
    response = web.get(path)
    if role == "Admin":
        assert response.status_code == 200
        assert ADMIN_CONTENT[path] in page(response)
    else:
        assert response.status_code < 500
        assert response.status_code != 200
        assert ADMIN_CONTENT[path] not in page(response)


@pytest.mark.parametrize("role", ROLES)
def test_openapi_spec_over_jwt_only_for_admin(api_as, role):
    client, headers = api_as(ROLE_USERS[role])
    response = client.get("/api/v1/_openapi", headers=headers)
    if role == "Admin":
        assert response.status_code == 200
        assert "/api/v1/project_request/" in response.get_json()["paths"]
    else:
        assert response.status_code in API_REFUSED
        assert "/api/v1/project_request/" not in page(response)


# ============================================================== 4. the menu

LIST_LINK_RE = re.compile(r'href="/(\w+)view/list/"')


def menu_html(html):
    """The navigation bar's left-hand menu (record and Security categories)."""
    start = html.index('class="nav navbar-nav"')
    return html[start:html.index("navbar-right", start)]


def list_links(html):
    """The record types of this spec whose list ``html`` links (the app may have more)."""
    spec = {VIEW[t].strip("/").removesuffix("view") for t in RECORD_TYPES}
    return set(LIST_LINK_RE.findall(html)) & spec


def readable_links(role):
    return {VIEW[t].strip("/").removesuffix("view") for t in EXPECTED[role][0]}


@pytest.mark.parametrize("role", ROLES)
def test_menu_lists_exactly_the_record_types_the_role_may_read(login_as, role):
    menu = menu_html(page(login_as(ROLE_USERS[role]).get("/")))
    assert list_links(menu) == readable_links(role)
    assert ('href="/users/list/"' in menu) is (role == "Admin")
    assert ('href="/roles/list/"' in menu) is (role == "Admin")


DROPDOWN_LABEL_RE = re.compile(r"</i>&nbsp;\s*(.*?)<b class=\"caret\">", re.S)


def menu_categories(menu):
    """{dropdown label: the list links under it} of a navigation bar's menu."""
    found = {}
    for part in menu.split('class="dropdown-toggle"')[1:]:
        label = DROPDOWN_LABEL_RE.search(part).group(1).strip()
        found[label] = set(re.findall(r'href="(/[^"]*)"', part))
    return found


@pytest.mark.parametrize("role", ROLES)
def test_each_chapter_s_screens_sit_under_its_own_menu_heading(app, login_as, role):
    """A chapter's menu category shows under its own Chinese heading with its screens,
    never merged into Flask-AppBuilder's own 用户权限 (Security) menu: a category named
    like one of FAB's would silently join it."""
    from flask_babel import force_locale

    from app.chapters import menu

    categories = menu_categories(menu_html(page(login_as(ROLE_USERS[role]).get("/"))))
    readable = readable_links(role)
    with app.test_request_context("/"), force_locale("zh"):
        expected = {str(label): {f"/{view.__name__.lower()}/list/" for view, *_ in items
                                 if view.__name__.lower().removesuffix("view") in readable}
                    for _name, label, _icon, items in menu()}
    for label, links in expected.items():
        if links:
            assert links <= categories.get(label, set()), label
    fab_security = next((links for links in categories.values()
                         if {"/users/list/", "/roles/list/"} & links), set())
    assert not any(link.endswith("view/list/") and link not in (
        "/users/list/", "/roles/list/") and link.removeprefix("/").removesuffix(
            "view/list/") in readable for link in fab_security)


@pytest.mark.parametrize("role", ROLES)
def test_home_page_links_only_lists_the_role_may_read(login_as, role):
    """The home page's charts link the lists behind their numbers: never one the role
    may not read."""
    html = page(login_as(ROLE_USERS[role]).get("/"))
    body = html[html.index("navbar-right"):]
    body = body[body.index('<div class="col-md-12">'):]
    assert list_links(body) <= readable_links(role)
    assert ("chart-json-" in body) is (role != "Expert")


# ===================================================== 5. smoke: every page

def parameterless_get_paths(app):
    paths = sorted({rule.rule for rule in app.url_map.iter_rules()
                    if not rule.arguments and "GET" in rule.methods})
    # Logging out last keeps the session for every other page.
    return sorted(paths, key=lambda path: path == "/logout/")


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "anonymous"])
def test_no_parameterless_page_answers_a_server_error(app, login_as, role):
    web = login_as(ROLE_USERS[role]) if role else app.test_client()
    paths = parameterless_get_paths(app)
    assert "/projectrequestview/list/" in paths and "/api/v1/vendor/" in paths
    errors = {path: status for path in paths
              if (status := web.get(path).status_code) >= 500}
    assert errors == {}


JUNK = "999999"  # as every argument (id, action, file name, version ...): names nothing


def junk_paths(app, method):
    """Every ``method`` route with arguments, the arguments naming nothing that exists."""
    return sorted({re.sub(r"<[^>]+>", JUNK, rule.rule) for rule in app.url_map.iter_rules()
                   if rule.arguments and method in rule.methods
                   and not rule.endpoint.endswith("static")})


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "anonymous"])
def test_no_page_answers_a_server_error_for_a_missing_record_or_file(app, login_as, role):
    web = login_as(ROLE_USERS[role]) if role else app.test_client()
    paths = junk_paths(app, "GET")
    assert "/vendorview/show/999999" in paths and "/vendorview/download/999999" in paths
    errors = {path: status for path in paths if (status := web.get(path).status_code) >= 500}
    assert errors == {}


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "anonymous"])
def test_no_form_post_answers_a_server_error_for_a_missing_record_or_action(
        app, login_as, role):
    web = login_as(ROLE_USERS[role]) if role else app.test_client()
    token = form_token(web, "/login/")
    paths = junk_paths(app, "POST")
    assert "/vendorview/action/999999/999999" in paths and "/roles/delete/999999" in paths
    errors = {path: status for path in paths
              if (status := web.post(path, data={"csrf_token": token}).status_code) >= 500}
    assert errors == {}
