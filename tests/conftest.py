"""Shared fixtures: one migrated, demo-seeded database per test session.

SQLite by default (a temporary file); PostgreSQL when TEST_DATABASE_URL is set.
Tests that change data make their own records with the ``make`` factory, so
they never depend on each other's leftovers.
"""
import itertools
import os
import re
import tempfile
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from config import TestConfig

PASSWORD = "Demo-Pass-2026"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

# One demo account per role (seeds/demo.py).
ROLE_USERS = {
    "Admin": "admin",
    "Clerk": "clerk_fin",
    "DeptHead": "head_fin",
    "ITStaff": "it_staff",
    "Expert": "expert",
    "Management": "manager",
    "Auditor": "auditor",
}


def reset_database(url):
    """Empty the target database so migrations start from nothing."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def fresh_database_url(tmp_dir, name):
    """A database nobody else uses: a new SQLite file, or the emptied PostgreSQL one."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        reset_database(url)
        return url
    return f"sqlite:///{os.path.join(tmp_dir, name)}"


def scratch_database_url(tmp_dir, name):
    """A second, empty database for tests that need one of their own.

    On PostgreSQL it is a sibling of TEST_DATABASE_URL, created when missing.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{os.path.join(tmp_dir, name)}.db"
    from sqlalchemy.engine import make_url

    base = make_url(url)
    target = base.set(database=f"{base.database}_{name}")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": target.database}).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    target_url = target.render_as_string(hide_password=False)
    reset_database(target_url)
    return target_url


def build_app(url, **overrides):
    from app import create_app

    config = type("SessionConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, **overrides})
    return create_app(config)


def seeded_app(url, **overrides):
    """An app on ``url``, migrated and loaded with the demo data."""
    application = build_app(url, **overrides)
    with application.app_context():
        from flask_migrate import upgrade

        from seeds import load_reference
        from seeds.demo import load_demo

        upgrade()
        load_reference()
        load_demo()
    return application


def dispose(application):
    """Close the app's database connections (before its database is dropped)."""
    with application.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def app():
    tmp_dir = tempfile.mkdtemp(prefix="isgov-test-")
    application = seeded_app(fresh_database_url(tmp_dir, "test.db"))
    yield application
    dispose(application)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="session")
def live_server(app):
    """The session app served over HTTP on a free loopback port (for the browser tests)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    import shutil

    if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A Chinese-language browser tab at 1366×900 on the live app (``page.base``)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.base = live_server
    yield page
    context.close()


@pytest.fixture
def db(app):
    from app.extensions import db as _db

    with app.app_context():
        yield _db
        _db.session.rollback()


def csrf_token(client, path="/login/"):
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username, password=PASSWORD):
    token = csrf_token(client)
    response = client.post("/login/", data={"username": username, "password": password,
                                            "csrf_token": token})
    return response


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login_as(app):
    """login_as("clerk_fin") -> a test client with that user's session."""

    def _login_as(username):
        client = app.test_client()
        response = login(client, username)
        assert response.status_code == 302, f"login of {username} failed"
        return client

    return _login_as


@pytest.fixture
def api_as(app):
    """api_as("clerk_fin") -> (client, headers with a JWT bearer token)."""

    def _api_as(username):
        client = app.test_client()
        response = client.post("/api/v1/security/login", json={
            "username": username, "password": PASSWORD, "provider": "db"})
        assert response.status_code == 200, response.get_json()
        token = response.get_json()["access_token"]
        return client, {"Authorization": f"Bearer {token}"}

    return _api_as


@pytest.fixture
def ids(app):
    """Ids of demo rows by natural key: ids.dept("FIN"), ids.user("clerk_fin") ..."""
    from app.base import AppUser
    from app.extensions import db as _db
    from app.organisation.models import Department, InformationSystem
    from app.procurement.models import Vendor

    class Ids:
        def _one(self, model, **keys):
            with app.app_context():
                return _db.session.query(model.id).filter_by(**keys).scalar()

        def dept(self, code):
            return self._one(Department, code=code)

        def user(self, username):
            return self._one(AppUser, username=username)

        def system(self, code):
            return self._one(InformationSystem, code=code)

        def vendor(self, index=0):
            with app.app_context():
                return (_db.session.query(Vendor.id).order_by(Vendor.id).offset(index)
                        .limit(1).scalar())

    return Ids()


_counter = itertools.count(1)
# A demo account of each department (training attendance).
DEPARTMENT_PERSON = {"FIN": "clerk_fin", "MKT": "clerk_mkt", "IT": "it_staff",
                     "OPS": "expert", "HR": "auditor"}


@pytest.fixture
def make(app, ids):
    """Factory: make("project", dept="FIN", **overrides) -> id of a new committed record."""
    import datetime as dt

    from app.audit.models import Audit, AuditFinding, SupervisionCheck
    from app.data.models import BackupRecord, DataAsset, DataQualityCheck, DataSharingRequest
    from app.extensions import db as _db
    from app.infosec.models import (
        RiskAssessment,
        SecurityPolicy,
        Training,
        TrainingAttendance,
        Vulnerability,
        VulnerabilityScan,
    )
    from app.operations.models import (
        ChangeRequest,
        Incident,
        InspectionChecklist,
        MaintenancePlan,
        MaintenanceRecord,
        OperationLog,
    )
    from app.organisation.models import InformationSystem
    from app.planning.models import DevelopmentPlan, ProjectRequest, ProjectStatus
    from app.procurement.models import (
        Bid,
        ChangeOrder,
        Contract,
        Milestone,
        ProgressReport,
        Tender,
        TenderStatus,
        Vendor,
    )

    def _make(kind, dept="FIN", **overrides):
        n = next(_counter)
        dept_id = ids.dept(dept)
        system_code = {"FIN": "FIN-GL", "MKT": "CRM", "IT": "OA", "OPS": "ERP",
                       "HR": "HR-EHR"}[dept]
        defaults = {
            "system": lambda: (InformationSystem, {
                "code": f"T-SYS-{n}", "name": f"测试系统{n}", "owning_department_id": dept_id,
                "protection_level": 2}),
            "vendor": lambda: (Vendor, {"name": f"测试供应商{n}",
                                        "credit_code": f"91{n:016d}"}),
            "project": lambda: (ProjectRequest, {
                "name": f"测试项目{n}", "applicant_department_id": dept_id, "background": "b",
                "goals": "g", "content": "c", "budget": Decimal("1000"),
                "implementation_plan": "p"}),
            "contract": lambda: (Contract, {
                "number": f"T-HT-{n}", "name": f"测试合同{n}", "department_id": dept_id,
                "vendor_id": ids.vendor(), "amount": Decimal("100")}),
            # A tender of an approved project (立项), still a draft.
            "tender": lambda: (Tender, {
                "tender_number": f"T-ZB-{n}", "title": f"测试招标{n}",
                "project_id": _make("project", dept=dept, status=ProjectStatus.approved),
                "department_id": dept_id}),
            # A bid in a tender open for bids.
            "bid": lambda: (Bid, {
                "tender_id": _make("tender", dept=dept, status=TenderStatus.approved),
                "department_id": dept_id, "vendor_id": ids.vendor(),
                "amount": Decimal("100"), "remarks": f"测试投标{n}"}),
            # Milestones and progress reports of a project in implementation.
            "milestone": lambda: (Milestone, {
                "project_id": _make("project", dept=dept,
                                    status=ProjectStatus.implementation),
                "department_id": dept_id, "name": f"测试里程碑{n}",
                "due_on": dt.date(2026, 12, 31), "responsible_id": ids.user("it_staff")}),
            "progress_report": lambda: (ProgressReport, {
                "project_id": _make("project", dept=dept,
                                    status=ProjectStatus.implementation),
                "department_id": dept_id, "report_date": dt.date(2026, 3, 1),
                "summary": f"测试进展{n}", "percent_complete": 50,
                "reporter_id": ids.user("it_staff")}),
            "incident": lambda: (Incident, {
                "title": f"测试故障{n}", "system_id": ids.system(system_code),
                "description": "d", "reporting_department_id": dept_id}),
            "operation_log": lambda: (OperationLog, {
                "system_id": ids.system(system_code), "department_id": dept_id,
                "content": f"测试运维{n}"}),
            "checklist": lambda: (InspectionChecklist, {
                "system_id": _make("system", dept=dept), "department_id": dept_id,
                "items": f"测试检查项{n}"}),
            "maintenance_plan": lambda: (MaintenancePlan, {
                "title": f"测试维护计划{n}", "system_id": ids.system(system_code),
                "department_id": dept_id, "content": "c", "cycle_days": 30,
                "start_date": dt.date(2026, 1, 1)}),
            "maintenance_record": lambda: (MaintenanceRecord, {
                "maintenance_plan_id": _make("maintenance_plan", dept=dept), "department_id": dept_id,
                "result": f"测试维护{n}"}),
            "audit": lambda: (Audit, {"title": f"测试审计{n}", "department_id": dept_id,
                                      "scope": "s", "period_start": dt.date(2026, 1, 1)}),
            "finding": lambda: (AuditFinding, {
                "audit_id": _make("audit", dept=dept), "title": f"测试发现{n}",
                "description": "d", "responsible_department_id": dept_id}),
            "supervision": lambda: (SupervisionCheck, {
                "title": f"测试监督检查{n}", "department_id": dept_id,
                "checked_on": dt.date(2026, 3, 1), "checked_duties": True}),
            "data_asset": lambda: (DataAsset, {
                "name": f"测试数据{n}", "system_id": ids.system(system_code),
                "owner_department_id": dept_id}),
            "quality_check": lambda: (DataQualityCheck, {
                "title": f"测试质量检查{n}", "department_id": dept_id,
                "checked_on": dt.date(2026, 3, 1), "score": 90}),
            "development_plan": lambda: (DevelopmentPlan, {
                "title": f"测试发展规划{n}", "period": f"T-{n}", "goals": "g", "tasks": "t"}),
            "change_request": lambda: (ChangeRequest, {
                "change_number": f"T-CR-{n}", "title": f"测试变更{n}",
                "system_id": ids.system(system_code), "department_id": dept_id,
                "change_plan": "p", "rollback_plan": "r"}),
            "change_order": lambda: (ChangeOrder, {
                "change_number": f"T-BG-{n}", "title": f"测试合同变更{n}",
                "project_id": _make("project", dept=dept), "department_id": dept_id,
                "reason": "r", "change_content": "c"}),
            "sharing": lambda: (DataSharingRequest, {
                "title": f"测试数据共享{n}", "requesting_department_id": dept_id,
                "providing_department_id": ids.dept("HR" if dept != "HR" else "IT"),
                "system_id": ids.system("HR-EHR" if dept != "HR" else "OA"),
                "data_scope": "s", "purpose": "p"}),
            "backup": lambda: (BackupRecord, {
                "system_id": ids.system(system_code), "department_id": dept_id,
                "medium": f"测试介质{n}", "offsite_location": "异地机房"}),
            "security_policy": lambda: (SecurityPolicy, {
                "title": f"测试安全策略{n}", "objectives": "o", "measures": "m"}),
            "vulnerability_scan": lambda: (VulnerabilityScan, {
                "system_id": ids.system(system_code), "department_id": dept_id,
                "tool": f"测试扫描工具{n}", "scanned_on": dt.date(2026, 3, 1)}),
            "vulnerability": lambda: (Vulnerability, {
                "scan_id": _make("vulnerability_scan", dept=dept),
                "system_id": ids.system(system_code), "department_id": dept_id,
                "title": f"测试漏洞{n}", "found_on": dt.date(2026, 3, 1)}),
            "risk_assessment": lambda: (RiskAssessment, {
                "system_id": ids.system(system_code), "department_id": dept_id,
                "assessed_on": dt.date(2026, 3, 1), "assessment_scope": "s",
                "risks": f"测试风险{n}"}),
            "training": lambda: (Training, {"title": f"测试培训{n}", "trainer": "t",
                                            "held_on": dt.date(2026, 3, 1)}),
            "training_attendance": lambda: (TrainingAttendance, {
                "training_id": _make("training", dept=dept),
                "person_id": ids.user(DEPARTMENT_PERSON[dept]), "department_id": dept_id,
                "remarks": f"测试参训{n}"}),
        }
        defaults.update(_continuity_kinds(ids, _make, n, dept, dept_id, system_code))
        model, values = defaults[kind]()
        values.update(overrides)
        with app.app_context():
            row = model(**values)
            _db.session.add(row)
            _db.session.commit()
            return row.id

    return _make


def _continuity_kinds(ids, _make, n, dept, dept_id, system_code):
    """``make`` kinds of chapter 6.3.3-6.4: a clearance of a person of the department, an
    emergency plan of the department (a draft unless told), a drill of an approved one, a security event
    of the department's system."""
    import datetime as dt

    from app.infosec.models import Drill, EmergencyPlan, PersonnelClearance, PlanState, \
        SecurityEvent

    person = {"FIN": "clerk_fin", "MKT": "clerk_mkt", "IT": "it_staff", "OPS": "expert",
              "HR": "auditor"}[dept]
    return {
        "clearance": lambda: (PersonnelClearance, {
            "person_id": ids.user(person), "department_id": dept_id,
            "post": f"测试岗位{n}", "background_result": "passed",
            "background_checked_on": dt.date(2026, 1, 5),
            "agreement_signed_on": dt.date(2026, 1, 10),
            "agreement_expires_on": dt.date(2029, 1, 9)}),
        "emergency_plan": lambda: (EmergencyPlan, {
            "title": f"测试应急预案{n}", "department_id": dept_id, "scenario": "s",
            "procedure": "p", "responsibilities": "r", "resources": "res"}),
        "drill": lambda: (Drill, {
            "emergency_plan_id": _make("emergency_plan", dept=dept, status=PlanState.approved),
            "department_id": dept_id,
            "held_on": dt.date(2026, 3, 1), "scenario": "s",
            "participants": f"测试参演人员{n}"}),
        "security_event": lambda: (SecurityEvent, {
            "title": f"测试安全事件{n}", "system_id": ids.system(system_code),
            "department_id": dept_id, "description": "d"}),
    }
