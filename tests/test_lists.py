"""List screens and list API: junk input never answers 500, page size is capped,
and the number of SQL statements does not grow with the page size (no N+1)."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from conftest import ROLE_USERS
from sqlalchemy import event

from app.chapters import apis, record_views

pytestmark = pytest.mark.matrix  # sampled in a normal run: tests/sampling.py

# Every list screen of the menu and every record API.
VIEWS = record_views()
APIS = apis()
RESOURCES = [api.resource_name for api in APIS]
VIEW_IDS = [view.__name__ for view in VIEWS]
PAGE_SIZE_MAX = 100
HUGE = "99999999999999999999"  # beyond 64-bit integers


@pytest.fixture(scope="module")
def admin(app):
    from conftest import login

    client = app.test_client()
    assert login(client, "admin").status_code == 302
    return client


@pytest.fixture(scope="module")
def admin_api(app):
    from conftest import PASSWORD

    client = app.test_client()
    response = client.post("/api/v1/security/login", json={
        "username": "admin", "password": PASSWORD, "provider": "db"})
    return client, {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def get_final(client, path, **kwargs):
    """GET following redirects; the answer must never be a server error."""
    response = client.get(path, follow_redirects=True, **kwargs)
    assert response.status_code < 500, (path, response.status_code)
    return response


def rendered_rows(html, view):
    return len(set(re.findall(rf'href="/{view.__name__.lower()}/show/(\d+)"', html)))


# ------------------------------------------------------------- paging junk

def paging_junk(name):
    return [
        f"psize_{name}=abc", f"psize_{name}=-5", f"psize_{name}=0", f"psize_{name}=1.5",
        f"psize_{name}=1000000", f"psize_{name}={HUGE}",
        f"page_{name}=-3", f"page_{name}=abc", f"page_{name}={HUGE}", f"page_{name}=999999",
        f"_od_{name}=junk", f"_oc_{name}=nosuchcolumn", f"_oc_{name}=id&_od_{name}=asc",
        f"_oc_{name}=nosuchcolumn&_od_{name}=asc", f"_oc_{name}=__class__&_od_{name}=desc",
        f"_oc_{name}=created_by.nosuch&_od_{name}=asc", f"_oc_{name}=metadata&_od_{name}=asc",
        f"page_{name}=abc&psize_{name}=-1&_od_{name}=up&_oc_{name}=nosuchcolumn",
    ]


@pytest.mark.parametrize("view", VIEWS, ids=VIEW_IDS)
def test_junk_paging_and_ordering_arguments_never_fail(admin, view):
    name = view.__name__
    for query in paging_junk(name):
        response = get_final(admin, f"/{name.lower()}/list/?{query}")
        assert response.status_code == 200, query
        assert rendered_rows(response.get_data(as_text=True), view) <= PAGE_SIZE_MAX


@pytest.mark.parametrize("view", VIEWS, ids=VIEW_IDS)
def test_page_size_is_capped_by_a_redirect(admin, view):
    name = view.__name__
    for asked in ("1000000", HUGE, "101"):
        response = admin.get(f"/{name.lower()}/list/?psize_{name}={asked}")
        assert response.status_code == 302
        assert f"psize_{name}={PAGE_SIZE_MAX}" in response.headers["Location"]
    response = admin.get(f"/{name.lower()}/list/?psize_{name}=-5&page_{name}=-3")
    assert response.status_code == 302
    assert f"psize_{name}=1" in response.headers["Location"]
    assert f"page_{name}=0" in response.headers["Location"]
    # Sane values are left alone.
    assert admin.get(f"/{name.lower()}/list/?psize_{name}=50&page_{name}=0").status_code == 200


def capture_statements(app):
    """Context manager collecting (statement, parameters) run on the app's engine."""
    import contextlib

    from app.extensions import db

    with app.app_context():
        engine = db.engine

    @contextlib.contextmanager
    def capture():
        statements = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return capture()


def ordered_ids(html, view):
    seen = []
    for pk in re.findall(rf'href="/{view.__name__.lower()}/show/(\d+)"', html):
        if int(pk) not in seen:
            seen.append(int(pk))
    return seen


def test_lists_sort_only_by_the_offered_columns(app, admin, make):
    view = next(v for v in VIEWS if v.__name__ == "ProjectRequestView")
    prefix = f"排序项目{dt.datetime.now():%H%M%S%f}"
    for budget in ("3", "1", "2"):
        make("project", dept="FIN", budget=Decimal(budget), name=f"{prefix}-{budget}")
    name = view.__name__
    base = f"/{name.lower()}/list/?_flt_0_name={prefix}"
    up = ordered_ids(get_final(admin, f"{base}&_oc_{name}=budget&_od_{name}=asc").get_data(
        as_text=True), view)
    down = ordered_ids(get_final(admin, f"{base}&_oc_{name}=budget&_od_{name}=desc").get_data(
        as_text=True), view)
    assert len(up) == 3 and up == down[::-1], "sorting by an offered column works"

    with capture_statements(app) as statements:
        response = get_final(admin, f"{base}&_oc_{name}=created_by.password&_od_{name}=asc")
    assert response.status_code == 200
    orders = [statement.upper().rsplit("ORDER BY", 1)[1]
              for statement, _parameters in statements if "ORDER BY" in statement.upper()]
    assert orders and not [order for order in orders if "PASSWORD" in order]


# -------------------------------------------------------------- filter junk

FILTER_JUNK = ["abc", "", HUGE, "1e999", "NaN", "2026-13-45", "'\"%"]


@pytest.mark.parametrize("view", VIEWS, ids=VIEW_IDS)
def test_junk_filter_values_never_fail(admin, view):
    """Every filter (index 0-9) of every search column at once, with a junk value."""
    from urllib.parse import urlencode

    name = view.__name__
    for value in FILTER_JUNK:
        query = urlencode([(f"_flt_{index}_{column}", value)
                           for column in view.search_columns for index in range(10)])
        response = get_final(admin, f"/{name.lower()}/list/?{query}")
        assert response.status_code == 200, value
        assert "_flt_" in response.request.query_string.decode(), "filters were dropped"


@pytest.mark.parametrize("view", VIEWS, ids=VIEW_IDS)
def test_filters_for_unknown_columns_or_indexes_never_fail(admin, view):
    name = view.__name__
    column = view.search_columns[-1]
    for query in (f"_flt_9_{column}=1", "_flt_0_nosuchcolumn=1", "_flt_x_name=1",
                  f"_flt_0_{column}=1&_flt_0_{column}=2", "_flt_0_id=abc"):
        assert get_final(admin, f"/{name.lower()}/list/?{query}").status_code == 200, query


@pytest.mark.parametrize("query", [
    "_flt_0_applicant_department=abc", f"_flt_0_applicant_department={HUGE}",
    "_flt_9_name=x", "_flt_0_status=nosuch", "_flt_0_budget=abc",
])
def test_junk_filters_on_add_and_edit_forms_never_fail(admin, make, query):
    pk = make("project", dept="FIN")
    assert get_final(admin, f"/projectrequestview/add?{query}").status_code == 200
    assert get_final(admin, f"/projectrequestview/edit/{pk}?{query}").status_code == 200


@pytest.mark.parametrize("view", VIEWS, ids=VIEW_IDS)
def test_junk_record_ids_are_404(admin, view):
    base = f"/{view.__name__.lower()}"
    for pk in ("abc", "-1", "0", HUGE, "1.5", "%27"):
        for path in (f"{base}/show/{pk}", f"{base}/edit/{pk}"):
            assert get_final(admin, path).status_code == 404, path


def test_junk_numeric_filter_never_reaches_the_database(app, admin):
    """SQLite compares 'abc' with a number quietly; PostgreSQL rejects it (500)."""
    with capture_statements(app) as statements:
        for index in range(6):
            get_final(admin, f"/projectrequestview/list/?_flt_{index}_budget=abc")
            get_final(admin, f"/contractview/list/?_flt_{index}_amount=1e999")
    bound = [value for _statement, parameters in statements
             for value in (parameters.values() if isinstance(parameters, dict) else parameters)]
    assert "abc" not in bound
    assert "1e999" not in bound
    assert not [v for v in bound if isinstance(v, (float, Decimal)) and not Decimal(v).is_finite()]


# ---------------------------------------------------------------------- API

API_JUNK = [
    "(page_size:1000000)", f"(page_size:{HUGE})", "(page_size:-1)", "(page_size:0)",
    "(page:-3)", f"(page:{HUGE})", "(page:abc)", "((((", "(a:", "abc", "!(", "'",
    "(order_column:nosuch,order_direction:asc)", "(order_direction:sideways)",
    "(columns:!(nosuch))", "(keys:!(nosuch))", "(filters:abc)", "(filters:!(abc))",
    "(filters:!((col:nosuch,opr:eq,value:1)))", "(filters:!((col:id,opr:nosuch,value:1)))",
]


@pytest.mark.parametrize("resource", RESOURCES)
def test_api_list_junk_query_never_fails(admin_api, resource):
    client, headers = admin_api
    for q in API_JUNK:
        response = client.get(f"/api/v1/{resource}/", query_string={"q": q}, headers=headers)
        assert response.status_code < 500, (q, response.get_json())
        if response.status_code == 200:
            assert len(response.get_json()["result"]) <= PAGE_SIZE_MAX
    for path in (f"/api/v1/{resource}/1", f"/api/v1/{resource}/_info"):
        for q in ("((((", "(a:", "abc"):
            response = client.get(path, query_string={"q": q}, headers=headers)
            assert response.status_code < 500, (path, q, response.get_json())


API_FILTER_JUNK = [1, "abc", "", HUGE, "1e999", [1, "x"]]


@pytest.mark.parametrize("resource", RESOURCES)
def test_api_junk_filter_values_never_fail(admin_api, resource):
    """Every filterable column with each of its operators at once, and a junk value."""
    import prison

    client, headers = admin_api
    info = client.get(f"/api/v1/{resource}/_info?q=(keys:!(filters))", headers=headers)
    assert info.status_code == 200
    for value in API_FILTER_JUNK:
        filters = [{"col": column, "opr": op["operator"], "value": value}
                   for column, operators in info.get_json()["filters"].items()
                   for op in operators]
        response = client.get(f"/api/v1/{resource}/", headers=headers,
                              query_string={"q": prison.dumps({"filters": filters})})
        assert response.status_code < 500, (value, response.get_json())


@pytest.mark.parametrize("resource", RESOURCES)
def test_api_page_size_is_capped(admin_api, resource):
    client, headers = admin_api
    for size in (1000000, -1, 0):
        response = client.get(f"/api/v1/{resource}/?q=(page_size:{size})", headers=headers)
        assert response.status_code in (200, 400)
        if response.status_code == 200:
            assert len(response.get_json()["result"]) <= PAGE_SIZE_MAX


def test_api_negative_page_never_reaches_the_database(app, admin_api):
    """SQLite ignores a negative OFFSET; PostgreSQL rejects it (500)."""
    client, headers = admin_api
    with capture_statements(app) as statements:
        response = client.get("/api/v1/project_request/?q=(page:-3,page_size:5)",
                              headers=headers)
    assert response.status_code in (200, 400)
    negative = [p for s, p in statements if "OFFSET" in s.upper()
                for v in (p.values() if isinstance(p, dict) else p)
                if isinstance(v, int) and v < 0]
    assert negative == []


# ------------------------------------------------------------ query counting

ROWS = 60


@pytest.fixture(scope="module")
def many_rows(app):
    """At least ROWS rows of every list, owned by FIN, each with its own related rows."""
    from app.audit.models import Audit, AuditFinding, SupervisionCheck
    from app.base import AppUser, Delegation
    from app.data.models import BackupRecord, DataAsset, DataQualityCheck, DataSharingRequest
    from app.extensions import db
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
        OperationKind,
        OperationLog,
    )
    from app.organisation.models import Department, InformationSystem
    from app.planning.models import DevelopmentPlan, ExpertReview, PlanFeedback, ProjectRequest
    from app.procurement.models import (
        Bid,
        ChangeOrder,
        Contract,
        Milestone,
        ProgressReport,
        Tender,
        Vendor,
    )

    with app.app_context():
        fin = db.session.query(Department).filter_by(code="FIN").one()
        mkt = db.session.query(Department).filter_by(code="MKT").one()
        users = db.session.query(AppUser).order_by(AppUser.id).all()
        clerk = db.session.query(AppUser).filter_by(username="clerk_fin").one()
        expert = db.session.query(AppUser).filter_by(username="expert").one()
        others = [user for user in users if user.id != clerk.id]
        stamp = dt.datetime.now().strftime("%H%M%S%f")
        for n in range(ROWS):
            user = users[n % len(users)]
            department = Department(code=f"Q{stamp}{n}", name=f"查询部门{stamp}-{n}", head=user)
            vendor = Vendor(name=f"查询供应商{stamp}-{n}", credit_code=f"Q{stamp}{n:03d}"[-18:])
            system = InformationSystem(code=f"QS{stamp}{n}", name=f"查询系统{n}",
                                       owning_department=fin, it_custodian=user, vendor=vendor)
            audit = Audit(title=f"查询审计{n}", department=fin, scope="s", auditor=user,
                          period_start=dt.date(2026, 1, 1))
            project = ProjectRequest(name=f"查询项目{n}", applicant_department=fin,
                                     background="b", goals="g", content="c",
                                     budget=Decimal(n), implementation_plan="p",
                                     systems=[system])
            contract = Contract(number=f"QHT{stamp}{n}", name=f"查询合同{n}", department=fin,
                                vendor=vendor, system=system, project=project,
                                amount=Decimal(n))
            incident = Incident(title=f"查询故障{n}", system=system, description="d",
                                reporting_department=fin, reporter=user)
            finding = AuditFinding(audit=audit, title=f"查询发现{n}", description="d",
                                   responsible_department=fin, system=system)
            review = ExpertReview(project=project, expert=expert, department=fin)
            # The clerk's own delegations, so the clerk sees them all as well.
            delegation = Delegation(principal=clerk, substitute=others[n % len(others)],
                                    start_date=dt.date(2026, 1, 1),
                                    end_date=dt.date(2026, 1, 1) + dt.timedelta(days=n))
            plan = DevelopmentPlan(title=f"查询规划{n}", period=f"Q{stamp}-{n}", goals="g",
                                   tasks="t")
            feedback = PlanFeedback(plan=plan, department=fin, opinion=f"意见{n}")
            order = ChangeOrder(change_number=f"QBG{stamp}{n}", title=f"查询合同变更{n}",
                                contract=contract, reason="r", change_content="c",
                                cost_impact=Decimal(n))
            change = ChangeRequest(change_number=f"QCR{stamp}{n}", title=f"查询变更{n}",
                                   system=system, change_plan="p", rollback_plan="r")
            sharing = DataSharingRequest(title=f"查询共享{n}", requesting_department=fin,
                                         providing_department=mkt, system=system,
                                         data_scope="s", purpose="p")
            entry = OperationLog(system=system, kind=OperationKind.configuration,
                                 content=f"查询运维{n}", operator=user, change_request=change)
            checklist = InspectionChecklist(system=system, items=f"查询检查项{n}")
            upkeep = MaintenancePlan(title=f"查询维护计划{n}", system=system, content="c",
                                     cycle_days=n + 1, responsible=user,
                                     start_date=dt.date(2026, 1, 1))
            upkept = MaintenanceRecord(maintenance_plan=upkeep, result=f"查询维护{n}", performed_by=user)
            supervision = SupervisionCheck(title=f"查询监督{n}", department=fin,
                                           inspector=user)
            checked = AuditFinding(supervision_check=supervision, title=f"查询监督发现{n}",
                                   description="d", responsible_department=fin, system=system)
            asset = DataAsset(name=f"查询数据{n}", system=system, owner_department=fin)
            quality = DataQualityCheck(title=f"查询质量{n}", department=fin, system=system,
                                       score=n % 101)
            backup = BackupRecord(system=system, medium=f"查询介质{n}",
                                  offsite_location="异地")
            tender = Tender(tender_number=f"QZB{stamp}{n}", title=f"查询招标{n}",
                            project=project)
            bid = Bid(tender=tender, vendor=vendor, amount=Decimal(n), technical_score=n % 101,
                      commercial_score=50, remarks=f"查询投标{n}")
            milestone = Milestone(project=project, name=f"查询里程碑{n}", responsible=user,
                                  due_on=dt.date(2026, 1, 1) + dt.timedelta(days=n))
            progress = ProgressReport(project=project, summary=f"查询进展{n}",
                                      percent_complete=n % 101, reporter=user)
            db.session.add_all([tender, bid, milestone, progress])
            policy = SecurityPolicy(title=f"查询安全策略{stamp}-{n}", objectives="o",
                                    measures="m")
            scan = VulnerabilityScan(system=system, tool=f"查询扫描{n}", performer=user)
            vulnerability = Vulnerability(scan=scan, title=f"查询漏洞{n}",
                                          found_on=dt.date(2026, 1, 1))
            risk = RiskAssessment(system=system, assessment_scope="s", risks=f"查询风险{n}",
                                  assessor=user)
            training = Training(title=f"查询培训{n}", trainer="t")
            attendance = TrainingAttendance(training=training, person=clerk,
                                            remarks=f"查询参训{n}")
            db.session.add_all([department, vendor, system, audit, project, contract, incident,
                                finding, review, delegation, plan, feedback, order, change,
                                sharing, entry, checklist, upkeep, upkept, supervision,
                                checked, asset, quality, backup, policy, scan, vulnerability,
                                risk, training, attendance])
            db.session.add_all(_continuity_rows(n, fin, user, system))
        db.session.commit()


def _continuity_rows(n, fin, user, system):
    """Rows of chapter 6.3.3-6.4 for many_rows."""
    from app.infosec.models import (
        Drill,
        EmergencyPlan,
        PersonnelClearance,
        PlanState,
        SecurityEvent,
    )

    clearance = PersonnelClearance(person=user, post=f"查询岗位{n}",
                                   privileged_systems=[system])
    clearance.department = fin  # a FIN row whoever the person is
    plan = EmergencyPlan(title=f"查询预案{n}", department=fin, systems=[system],
                         scenario="s", procedure="p", responsibilities="r", resources="x",
                         status=PlanState.approved)
    drill = Drill(emergency_plan=plan, scenario="s", participants=f"查询参演{n}")
    event = SecurityEvent(title=f"查询安全事件{n}", system=system, description="d",
                          reporter=user)
    return [clearance, plan, drill, event]


def count_statements(app, client, path):
    with capture_statements(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return [statement for statement, _parameters in statements], response.get_data(as_text=True)


STATEMENT_BOUND = 10  # no list page above 10 SQL statements (docs/performance.md)

# Who sees the rows of many_rows in which lists: every list for the unscoped roles and
# the finance Clerk (own department's rows, own delegations); an expert reads only the
# reference lists and the projects and reviews assigned to them.
LIST_USERS = ["admin", "clerk_fin", "it_staff", "auditor", "expert"]
EXPERT_LISTS = {"DepartmentView", "InformationSystemView", "VendorView",
                "DevelopmentPlanView", "ProjectRequestView", "ExpertReviewView",
                "SecurityPolicyView"}
# A Clerk does not read personnel clearances (their department head does: 6.3.3).
NOT_FOR_CLERKS = {"PersonnelClearanceView"}
ROLE_VIEWS = [(username, view) for username in LIST_USERS for view in VIEWS
              if (username != "expert" or view.__name__ in EXPERT_LISTS)
              and (username != "clerk_fin" or view.__name__ not in NOT_FOR_CLERKS)]


@pytest.mark.parametrize("username,view", ROLE_VIEWS,
                         ids=[f"{u}-{v.__name__}" for u, v in ROLE_VIEWS])
def test_list_runs_the_same_few_queries_whatever_the_page_size(
        app, login_as, many_rows, view, username):
    client = login_as(username)
    name = view.__name__
    client.get(f"/{name.lower()}/list/")  # warm up: session user, roles, caches
    small, small_html = count_statements(app, client, f"/{name.lower()}/list/?psize_{name}=10")
    large, large_html = count_statements(app, client, f"/{name.lower()}/list/?psize_{name}=100")

    assert rendered_rows(small_html, view) == 10
    assert rendered_rows(large_html, view) >= ROWS
    # The page's related rows come in one statement per relation shown, skipped when they
    # are all in the session already (the signed-in user's department, say): so a page
    # may make fewer, never more, and never one per row.
    assert without_page_loads(large) == without_page_loads(small), "\n".join(large)
    assert len(page_loads(large)) <= len(shown_relations(view)), "\n".join(large)
    assert len(large) <= STATEMENT_BOUND, "\n".join(large)


def page_loads(statements):
    """The statements loading a page's related rows by key (``WHERE id IN (...)``)."""
    import re

    return [s for s in statements if re.search(r"WHERE \w+\.id IN \((?!SELECT)", s)]


def without_page_loads(statements):
    return [s for s in statements if s not in page_loads(statements)]


def shown_relations(view):
    from sqlalchemy import inspect as sa_inspect

    mapper = sa_inspect(view.datamodel.obj)
    return [name for name in view.list_columns if name in mapper.relationships]


@pytest.mark.parametrize("username,resource", [
    (username, resource) for username in ("admin", "clerk_fin") for resource in RESOURCES
    # A Clerk does not read personnel clearances (their department head does: 6.3.3).
    if username != "clerk_fin" or resource != "personnel_clearance"])
def test_api_list_runs_the_same_few_queries_whatever_the_page_size(
        app, api_as, many_rows, resource, username):
    client, headers = api_as(username)
    path = f"/api/v1/{resource}/"
    counted = {}
    for size in (10, 100):
        client.get(path, headers=headers)
        with capture_statements(app) as statements:
            response = client.get(path, headers=headers,
                                  query_string={"q": f"(page_size:{size})"})
        assert response.status_code == 200, response.get_json()
        counted[size] = ([statement for statement, _ in statements],
                         len(response.get_json()["result"]))
    (small, small_rows), (large, large_rows) = counted[10], counted[100]
    assert small_rows == 10 and large_rows >= ROWS
    assert len(large) == len(small), "\n".join(large)
    assert len(large) <= STATEMENT_BOUND, "\n".join(large)


def test_lists_load_no_user_and_no_long_text_they_do_not_show(app, login_as, many_rows):
    """A list reads its rows without joining who created or changed them and without the
    long texts it does not show; related rows are read for the page only, by key."""
    client = login_as("admin")
    statements, _html = count_statements(
        app, client, "/incidentview/list/?psize_IncidentView=100")
    rows = [s for s in statements if "FROM incident" in s and "count(" not in s]
    assert rows, statements
    for statement in rows:
        assert "ab_user" not in statement
        assert "description" not in statement.split("FROM")[0]
    systems = [s for s in statements if s.lstrip().startswith("SELECT information_system")]
    assert systems and all(" IN " in s for s in systems), systems


@pytest.mark.parametrize("username", list(ROLE_USERS.values()))
def test_home_page_looks_up_nothing_twice(app, login_as, username):
    """One count per card; the user's roles, department and delegations once."""
    client = login_as(username)
    client.get("/")
    with capture_statements(app) as statements:
        assert client.get("/").status_code == 200
    seen = [(statement, repr(parameters)) for statement, parameters in statements]
    repeated = {s for s in seen if seen.count(s) > 1}
    assert not repeated, repeated


# ------------------------------------------------------- sorted, scoped, deep pages

SCOPED_ROWS = 45


@pytest.fixture(scope="module")
def scoped_incidents(app):
    """Incidents of three kinds: reported by finance on marketing's system, reported by
    marketing on finance's system (both for finance to see) and reported by marketing on
    marketing's system (not for finance); repeated values in every sortable column, so
    the key decides ties. Returns (title prefix, {id: row})."""
    from app.extensions import db
    from app.operations.models import Incident, IncidentStatus, Severity
    from app.organisation.models import Department, InformationSystem

    prefix = f"LST{dt.datetime.now():%H%M%S%f}"
    with app.app_context():
        fin = db.session.query(Department.id).filter_by(code="FIN").scalar()
        mkt = db.session.query(Department.id).filter_by(code="MKT").scalar()
        fin_system = db.session.query(InformationSystem.id).filter_by(code="FIN-GL").scalar()
        mkt_system = db.session.query(InformationSystem.id).filter_by(code="CRM").scalar()
        kinds = [(fin, mkt_system, True), (mkt, fin_system, True), (mkt, mkt_system, False)]
        severities, statuses = list(Severity), list(IncidentStatus)
        rows = {}
        for n in range(SCOPED_ROWS):
            department, system, visible = kinds[n % 3]
            incident = Incident(
                title=f"{prefix}-{n * 7 % 11:02d}", system_id=system, description="d",
                reporting_department_id=department, severity=severities[n % 4],
                status=statuses[n % 3],
                occurred_at=dt.datetime(2026, 3, 1) + dt.timedelta(hours=n % 5))
            db.session.add(incident)
            db.session.flush()
            rows[incident.id] = {"title": incident.title, "severity": incident.severity.name,
                                 "status": incident.status.name,
                                 "occurred_at": incident.occurred_at, "finance": visible}
        db.session.commit()
    return prefix, rows


def expected_order(rows, column, direction, finance_only):
    keys = [pk for pk, row in rows.items() if row["finance"] or not finance_only]
    return sorted(keys, key=lambda pk: (rows[pk][column], pk), reverse=direction == "desc")


def record_count(html):
    match = re.search(r"<strong>[^<]+</strong>\s*(\d+)", html)
    return int(match.group(1)) if match else None


SORTS = [(column, direction) for column in ("title", "severity", "status", "occurred_at")
         for direction in ("asc", "desc")]


@pytest.mark.parametrize("plan", ["scoping indexes", "sort index"])
@pytest.mark.parametrize("username,finance_only", [("clerk_fin", True), ("admin", False)])
@pytest.mark.parametrize("column,direction", SORTS, ids=[f"{c}-{d}" for c, d in SORTS])
def test_every_page_of_a_sorted_incident_list_shows_the_right_rows(
        login_as, scoped_incidents, monkeypatch, username, finance_only, column, direction,
        plan):
    """A Clerk sees their department's incidents and those of its systems, each page in
    order, the last pages too (read from the other end of the list), and the count;
    whether the list is short (found by its scoping indexes, then sorted) or long (paged
    on its sort index)."""
    import app.records

    if plan == "sort index":
        monkeypatch.setattr(app.records, "SORT_INDEX_WALK_ABOVE", 0)
    prefix, rows = scoped_incidents
    expected = expected_order(rows, column, direction, finance_only)
    client = login_as(username)
    view = next(v for v in VIEWS if v.__name__ == "IncidentView")
    name, size = view.__name__, 4
    shown = []
    for page in range((len(expected) + size - 1) // size + 1):  # and one beyond the end
        html = get_final(client, f"/{name.lower()}/list/?_flt_0_title={prefix}"
                                 f"&_oc_{name}={column}&_od_{name}={direction}"
                                 f"&psize_{name}={size}&page_{name}={page}"
                         ).get_data(as_text=True)
        assert record_count(html) == len(expected)
        ids = ordered_ids(html, view)
        assert ids == expected[page * size:(page + 1) * size], (page, ids)
        shown += ids
    assert shown == expected


@pytest.mark.parametrize("column,direction", [("title", "asc"), ("severity", "desc"),
                                              ("occurred_at", "asc")])
def test_api_incident_list_pages_a_clerks_incidents_in_order(
        api_as, scoped_incidents, column, direction):
    import prison

    prefix, rows = scoped_incidents
    expected = expected_order(rows, column, direction, finance_only=True)
    client, headers = api_as("clerk_fin")
    shown = []
    for page in range((len(expected) + 3) // 4):
        q = prison.dumps({"filters": [{"col": "title", "opr": "sw", "value": prefix}],
                          "order_column": column, "order_direction": direction,
                          "page": page, "page_size": 4})
        body = client.get("/api/v1/incident/", headers=headers,
                          query_string={"q": q}).get_json()
        assert body["count"] == len(expected)
        shown += [row["id"] for row in body["result"]]
    assert shown == expected


# ------------------------------------------------------------- indexes, database

def _indexed_first_columns(table):
    from sqlalchemy import UniqueConstraint

    first = {index.columns[0].name for index in table.indexes if index.columns}
    first |= {constraint.columns[0].name for constraint in table.constraints
              if isinstance(constraint, UniqueConstraint) and constraint.columns}
    first |= {column.name for column in table.columns if column.primary_key or column.unique}
    return first


def _filter_column(model, name):
    """The table column a list's sort or filter on ``name`` reads; None for long texts
    (searched by "contains", which no B-tree index serves)."""
    from sqlalchemy import Text
    from sqlalchemy import inspect as sa_inspect

    mapper = sa_inspect(model)
    if name in mapper.relationships:
        return next(iter(mapper.relationships[name].local_columns)).name
    column = mapper.columns[name]
    return None if isinstance(column.type, Text) else column.name


def test_every_sort_and_filter_a_list_offers_is_backed_by_an_index():
    missing = []
    for screen in VIEWS + APIS:
        model = screen.datamodel.obj
        names = list(screen.order_columns or ())
        if screen in VIEWS:
            names += screen.search_columns
        indexed = _indexed_first_columns(model.__table__)
        for name in names:
            column = _filter_column(model, name)
            if column is not None and column not in indexed:
                missing.append(f"{screen.__name__}: {name}")
    assert missing == []


def test_postgresql_connections_run_without_jit(app):
    """OLTP pages never pay JIT compilation: the app's connections have it off."""
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only")
        assert db.session.execute(text("SHOW jit")).scalar() == "off"
        with db.engine.connect() as connection:  # every connection of the pool
            assert connection.execute(text("SHOW jit")).scalar() == "off"
