"""Information security, part 1 (regulation 6.1, 6.2.2, 6.3.1-6.3.2), as IT staff,
management and the departments use it over HTTP, web and API: a security policy is
approved by management only and published by IT; a vulnerability is due by its severity
(``VULNERABILITY_FIX_DAYS``), needs its fixed date when fixed, and is listed as overdue
past its due date; the scorecard fails a running system not scanned in time or with a
serious vulnerability past due; a department sees only its own systems' scans,
vulnerabilities and risk assessments and its own people's training attendance."""
import datetime as dt
import json
import re
import uuid

import pytest

from conftest import CSRF_RE
from webhelpers import flashes, list_page, row


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def token(client, path="/resetmypassword/form"):
    match = CSRF_RE.search(client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


def today(app):
    from app.deadlines import company_today

    with app.app_context():
        return company_today()


def stored(app, model, **keys):
    from app.extensions import db

    with app.app_context():
        record = db.session.query(model).filter_by(**keys).one_or_none()
        return None if record is None else row(app, model, record.id)


def filter_index(client, view, column, name):
    """The index of the list filter ``name`` on ``column`` of the view's search form."""
    html = client.get(f"/{view.lower()}/list/").get_data(as_text=True)
    for table in re.findall(r"\n\s*(\{.*?\}),\n", html):
        names = json.loads(table).get(column)
        if isinstance(names, list) and name in names:
            return names.index(name)
    raise AssertionError(f"no filter {name} on {view}.{column}")


# ------------------------------------------------------------- policies (6.1)

def new_policy(app, client, **extra):
    """IT staff drafts a policy through the add form; returns the stored policy."""
    from app.infosec.models import SecurityPolicy

    title = unique("安全策略")
    data = {"title": title, "category": "network", "policy_version": "1",
            "objectives": "边界防护", "principles": "最小权限", "measures": "防火墙默认拒绝",
            "basis": "网络安全法", "effective_date": "",
            "csrf_token": token(client, "/securitypolicyview/add"), **extra}
    response = client.post("/securitypolicyview/add", data=data)
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    return stored(app, SecurityPolicy, title=data["title"],
                  policy_version=int(data["policy_version"]))


def web_step(client, pk, name, **fields):
    return client.post(f"/securitypolicyview/transition/{pk}/{name}",
                       data={"csrf_token": token(client), "step_form": name, **fields})


def test_a_policy_is_approved_by_management_only_and_it_cannot_approve_its_own(
        app, login_as, api_as):
    from app.infosec.models import SecurityPolicy

    it = login_as("it_staff")
    policy = new_policy(app, it)
    assert policy["status"].name == "draft"
    assert web_step(it, policy["id"], "submit").status_code == 302
    assert row(app, SecurityPolicy, policy["id"])["status"].name == "mgmt_review"

    # IT staff, the submitter or another officer, cannot approve (web and API).
    web_step(it, policy["id"], "approve")
    web_step(login_as("it_staff2"), policy["id"], "approve")
    assert row(app, SecurityPolicy, policy["id"])["status"].name == "mgmt_review"
    for username in ("it_staff", "it_staff2", "it_head", "clerk_fin", "auditor"):
        api, headers = api_as(username)
        response = api.post(f"/api/v1/security_policy/{policy['id']}/transition/approve",
                            headers=headers, json={"comment": ""})
        assert response.status_code in (401, 403), (username, response.status_code)
    assert row(app, SecurityPolicy, policy["id"])["status"].name == "mgmt_review"

    # Management approves through the API, with the version it read.
    api, headers = api_as("manager")
    version = api.get(f"/api/v1/security_policy/{policy['id']}",
                      headers=headers).get_json()["version"]
    response = api.post(f"/api/v1/security_policy/{policy['id']}/transition/approve",
                        headers=headers, json={"comment": "同意", "version": version})
    assert response.status_code == 200, response.get_json()
    assert row(app, SecurityPolicy, policy["id"])["status"].name == "approved"

    # IT publishes it with its effective date, given with the step.
    refused = web_step(it, policy["id"], "publish")
    assert refused.status_code == 422 and "请先填写生效日期" in refused.get_data(as_text=True)
    assert row(app, SecurityPolicy, policy["id"])["status"].name == "approved"
    assert web_step(it, policy["id"], "publish",
                    effective_date="2026-12-01").status_code == 302
    published = row(app, SecurityPolicy, policy["id"])
    assert published["status"].name == "effective"
    assert published["effective_date"] == dt.date(2026, 12, 1)

    # Company-wide: every role reads it, nobody but IT writes it.
    for username in ("clerk_mkt", "head_fin", "expert", "auditor"):
        assert login_as(username).get(
            f"/securitypolicyview/show/{policy['id']}").status_code == 200, username
    api, headers = api_as("clerk_fin")
    response = api.put(f"/api/v1/security_policy/{policy['id']}", headers=headers,
                       json={"title": "改"})
    assert response.status_code in (401, 403)
    assert row(app, SecurityPolicy, policy["id"])["title"] == policy["title"]


def test_management_returns_a_policy_with_a_reason_and_it_revises_and_resubmits(
        app, login_as):
    from app.infosec.models import SecurityPolicy

    it = login_as("it_staff")
    policy = new_policy(app, it)
    web_step(it, policy["id"], "submit")
    manager = login_as("manager")
    web_step(manager, policy["id"], "return")  # no reason: refused
    assert row(app, SecurityPolicy, policy["id"])["status"].name == "mgmt_review"
    manager.post(f"/securitypolicyview/transition/{policy['id']}/return",
                 data={"csrf_token": token(manager), "comment": "请补充人员安全要求"})
    assert row(app, SecurityPolicy, policy["id"])["status"].name == "returned"
    assert web_step(it, policy["id"], "submit").status_code == 302
    assert row(app, SecurityPolicy, policy["id"])["status"].name == "mgmt_review"


def test_a_version_is_superseded_only_once_its_successor_is_in_effect(app, login_as, api_as):
    from app.infosec.models import SecurityPolicy

    it = login_as("it_staff")
    manager = login_as("manager")

    def to_effect(policy):
        web_step(it, policy["id"], "submit")
        web_step(manager, policy["id"], "approve")
        web_step(it, policy["id"], "publish", effective_date="2026-11-01")
        assert row(app, SecurityPolicy, policy["id"])["status"].name == "effective"

    old = new_policy(app, it)
    to_effect(old)
    refused = web_step(it, old["id"], "supersede")
    assert "新版本" in refused.get_data(as_text=True) or refused.status_code == 302
    assert row(app, SecurityPolicy, old["id"])["status"].name == "effective"

    newer = new_policy(app, it, title=old["title"], policy_version="2",
                       previous_version=str(old["id"]))
    assert newer["previous_version_id"] == old["id"]
    to_effect(newer)
    api, headers = api_as("it_staff")
    response = api.post(f"/api/v1/security_policy/{old['id']}/transition/supersede",
                        headers=headers, json={"comment": ""})
    assert response.status_code == 200, response.get_json()
    assert row(app, SecurityPolicy, old["id"])["status"].name == "superseded"

    # The same title and version twice: a clear message, nothing stored.
    response = it.post("/securitypolicyview/add", data={
        "title": old["title"], "category": "network", "policy_version": "2",
        "objectives": "o", "measures": "m", "csrf_token": token(it, "/securitypolicyview/add")})
    assert response.status_code == 200
    from app.extensions import db

    with app.app_context():
        assert db.session.query(SecurityPolicy).filter_by(title=old["title"]).count() == 2


# ------------------------------------------------ vulnerabilities (6.2.2)

def new_scan(app, make, dept="FIN", **values):
    return make("vulnerability_scan", dept=dept, **values)


def add_vulnerability(app, client, scan, **extra):
    """IT staff records a vulnerability of ``scan`` through the form; returns the response
    and the title used."""
    title = unique("漏洞")
    data = {"scan": scan, "title": title, "identifier": "CVE-2026-12345",
            "severity": "high", "status": "open", "found_on": "2026-11-01",
            "fixed_on": "", "remediation": "",
            "csrf_token": token(client, "/vulnerabilityview/add"), **extra}
    return client.post("/vulnerabilityview/add", data=data), title


@pytest.mark.parametrize("severity, days", [("critical", 7), ("high", 30), ("medium", 90),
                                            ("low", 180)])
def test_the_due_date_is_the_date_found_plus_the_days_of_its_severity(
        app, login_as, make, severity, days):
    from app.infosec.models import Vulnerability

    it = login_as("it_staff")
    response, title = add_vulnerability(app, it, new_scan(app, make), severity=severity)
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    vulnerability = stored(app, Vulnerability, title=title)
    assert vulnerability["due_date"] == dt.date(2026, 11, 1) + dt.timedelta(days=days)
    # The system and department are the scan's.
    assert vulnerability["department_id"] is not None and vulnerability["system_id"]


def test_the_fix_days_come_from_the_configuration_and_move_with_the_severity(
        app, api_as, make):
    from app.infosec.models import Vulnerability

    api, headers = api_as("it_staff")
    scan = new_scan(app, make)
    saved = dict(app.config["VULNERABILITY_FIX_DAYS"])
    app.config["VULNERABILITY_FIX_DAYS"] = {**saved, "high": 10, "low": 365}
    try:
        response = api.post("/api/v1/vulnerability/", headers=headers, json={
            "scan": scan, "title": unique("接口漏洞"), "severity": "high", "status": "open",
            "found_on": "2026-11-01"})
        assert response.status_code == 201, response.get_json()
        pk = response.get_json()["id"]
        assert row(app, Vulnerability, pk)["due_date"] == dt.date(2026, 11, 11)
        # A due date sent by the user is not taken: it is the save rule's.
        response = api.put(f"/api/v1/vulnerability/{pk}", headers=headers,
                           json={"due_date": "2030-01-01"})
        assert response.status_code in (400, 422)
        response = api.put(f"/api/v1/vulnerability/{pk}", headers=headers,
                           json={"severity": "low"})
        assert response.status_code == 200, response.get_json()
        assert row(app, Vulnerability, pk)["due_date"] == dt.date(2027, 11, 1)
    finally:
        app.config["VULNERABILITY_FIX_DAYS"] = saved


def test_a_fixed_vulnerability_needs_its_fixed_date_not_before_it_was_found(
        app, login_as, api_as, make):
    from app.infosec.models import Vulnerability

    it = login_as("it_staff")
    scan = new_scan(app, make)
    response, title = add_vulnerability(app, it, scan, status="fixed")
    assert response.status_code == 200
    assert "修复日期" in " ".join(flashes(response.get_data(as_text=True)))
    assert title in response.get_data(as_text=True)  # what was typed is kept
    assert stored(app, Vulnerability, title=title) is None
    response, title = add_vulnerability(app, it, scan, status="fixed", fixed_on="2026-10-01")
    assert response.status_code == 200 and stored(app, Vulnerability, title=title) is None
    response, title = add_vulnerability(app, it, scan, status="fixed", fixed_on="2026-11-05")
    assert response.status_code == 302
    assert stored(app, Vulnerability, title=title)["fixed_on"] == dt.date(2026, 11, 5)

    api, headers = api_as("it_staff")
    response = api.post("/api/v1/vulnerability/", headers=headers, json={
        "scan": scan, "title": unique("接口漏洞"), "severity": "low", "status": "fixed",
        "found_on": "2026-11-01"})
    assert response.status_code == 422, response.get_json()
    pk = api.post("/api/v1/vulnerability/", headers=headers, json={
        "scan": scan, "title": unique("接口漏洞"), "severity": "low", "status": "open",
        "found_on": "2026-11-01"}).get_json()["id"]
    response = api.put(f"/api/v1/vulnerability/{pk}", headers=headers, json={"status": "fixed"})
    assert response.status_code == 422
    assert row(app, Vulnerability, pk)["status"].name == "open"
    response = api.put(f"/api/v1/vulnerability/{pk}", headers=headers,
                       json={"status": "fixed", "fixed_on": "2026-11-03"})
    assert response.status_code == 200, response.get_json()
    assert row(app, Vulnerability, pk)["status"].name == "fixed"


def test_the_overdue_filter_lists_unfixed_vulnerabilities_past_their_due_date(
        app, login_as, make):
    from app.infosec.models import VulnerabilityStatus

    long_ago = today(app) - dt.timedelta(days=400)
    overdue = make("vulnerability", found_on=long_ago, due_date=long_ago)
    fixing = make("vulnerability", found_on=long_ago, status=VulnerabilityStatus.fixing)
    fixed = make("vulnerability", found_on=long_ago, status=VulnerabilityStatus.fixed,
                 fixed_on=long_ago + dt.timedelta(days=3))
    accepted = make("vulnerability", found_on=long_ago, status=VulnerabilityStatus.accepted)
    recent = make("vulnerability", found_on=today(app))

    head = login_as("head_fin")
    index = filter_index(head, "VulnerabilityView", "due_date", "已逾期")
    _count, shown = list_page(head, "VulnerabilityView",
                              f"_flt_{index}_due_date=y&psize_VulnerabilityView=100")
    assert {overdue, fixing} <= shown
    assert not {fixed, accepted, recent} & shown
    # The list marks the overdue one on its due date.
    html = head.get(f"/vulnerabilityview/list/?_flt_{index}_due_date=y"
                    "&psize_VulnerabilityView=100").get_data(as_text=True)
    assert "deadline-overdue" in html and "已逾期" in html


def test_the_vulnerabilities_are_tabs_of_their_scan_and_their_system(app, login_as, ids, make):
    from app.infosec.models import Vulnerability

    scan = new_scan(app, make)
    pk = make("vulnerability", scan_id=scan)
    title = row(app, Vulnerability, pk)["title"]
    clerk = login_as("clerk_fin")
    assert title in clerk.get(f"/vulnerabilityscanview/show/{scan}").get_data(as_text=True)
    assert title in clerk.get(
        f"/informationsystemview/show/{ids.system('FIN-GL')}").get_data(as_text=True)


def test_the_open_vulnerability_charts_open_lists_with_their_counts(app, login_as, make):
    long_ago = today(app) - dt.timedelta(days=200)
    make("vulnerability", found_on=long_ago)
    client = login_as("it_staff")
    for name in ("open_vulnerabilities_by_severity", "vulnerability_ageing"):
        data = client.get(f"/charts/{name}/data").get_json()
        points = [point for series in data["series"] for point in series["data"]
                  if point["n"]]
        assert points, name
        for point in points:
            html = client.get(point["url"]).get_data(as_text=True)
            count = int(re.search(r"<strong>[^<]*</strong>\s*(\d+)\s*</div>", html).group(1))
            assert count == point["n"], (name, point)


# ---------------------------------------------------- the scorecard (6.2.2)

def _failing(app, system_id):
    from app.compliance import scorecard

    with app.test_request_context():
        card = scorecard()
    return next(s for s in card["systems"] if s["id"] == system_id)["failing"]


@pytest.fixture
def running_system(make):
    from app.organisation.models import Lifecycle

    return make("system", dept="FIN", lifecycle=Lifecycle.running)


def test_a_running_system_without_a_recent_scan_fails_6_2_2(app, make, running_system):
    assert "vulnerability_scan" in _failing(app, running_system)
    old = today(app) - dt.timedelta(days=app.config["COMPLIANCE_SCAN_DAYS"] + 1)
    new_scan(app, make, system_id=running_system, scanned_on=old)
    assert "vulnerability_scan" in _failing(app, running_system)
    new_scan(app, make, system_id=running_system, scanned_on=today(app))
    assert "vulnerability_scan" not in _failing(app, running_system)


def test_a_serious_vulnerability_past_due_fails_6_2_2_until_fixed(app, api_as, make,
                                                                   running_system):
    from app.infosec.models import VulnerabilitySeverity

    scan = new_scan(app, make, system_id=running_system, scanned_on=today(app))
    long_ago = today(app) - dt.timedelta(days=400)
    # Low and medium past due, or high still within its days: no failure.
    make("vulnerability", scan_id=scan, system_id=running_system, found_on=long_ago,
         severity=VulnerabilitySeverity.low)
    make("vulnerability", scan_id=scan, system_id=running_system, found_on=today(app),
         severity=VulnerabilitySeverity.critical)
    assert "vulnerability_overdue" not in _failing(app, running_system)

    pk = make("vulnerability", scan_id=scan, system_id=running_system, found_on=long_ago,
              severity=VulnerabilitySeverity.high)
    assert _failing(app, running_system)["vulnerability_overdue"] == 1
    api, headers = api_as("it_staff")
    response = api.put(f"/api/v1/vulnerability/{pk}", headers=headers,
                       json={"status": "fixed", "fixed_on": str(today(app))})
    assert response.status_code == 200, response.get_json()
    assert "vulnerability_overdue" not in _failing(app, running_system)


# ------------------------------------------------------------------ scoping

@pytest.mark.parametrize("kind, view, resource", [
    ("vulnerability_scan", "vulnerabilityscanview", "vulnerability_scan"),
    ("vulnerability", "vulnerabilityview", "vulnerability"),
    ("risk_assessment", "riskassessmentview", "risk_assessment"),
    ("training_attendance", "trainingattendanceview", "training_attendance"),
])
def test_another_department_gets_404_and_the_own_department_reads(
        app, login_as, api_as, make, kind, view, resource):
    pk = make(kind, dept="FIN")
    for username in ("clerk_mkt", "head_mkt"):
        assert login_as(username).get(f"/{view}/show/{pk}").status_code == 404
        api, headers = api_as(username)
        assert api.get(f"/api/v1/{resource}/{pk}", headers=headers).status_code == 404
    for username in ("clerk_fin", "head_fin", "it_staff", "auditor", "manager"):
        assert login_as(username).get(f"/{view}/show/{pk}").status_code == 200, username
    # Departments read; only IT writes.
    api, headers = api_as("head_fin")
    assert api.delete(f"/api/v1/{resource}/{pk}", headers=headers).status_code in (401, 403)


def test_a_department_sees_its_own_peoples_attendance_of_a_company_wide_training(
        app, login_as, api_as, ids, make):
    from app.infosec.models import TrainingAttendance

    training = make("training")
    it = login_as("it_staff")
    for username in ("clerk_fin", "clerk_mkt"):
        response = it.post("/trainingattendanceview/add", data={
            "training": training, "person": ids.user(username), "attended": "y",
            "score": "80", "remarks": f"{username}-{training}",
            "csrf_token": token(it, "/trainingattendanceview/add")})
        assert response.status_code == 302, flashes(response.get_data(as_text=True))
    fin = stored(app, TrainingAttendance, remarks=f"clerk_fin-{training}")
    mkt = stored(app, TrainingAttendance, remarks=f"clerk_mkt-{training}")
    assert fin["department_id"] == ids.dept("FIN") and mkt["department_id"] == ids.dept("MKT")

    head = login_as("head_fin")
    page = head.get(f"/trainingview/show/{training}").get_data(as_text=True)
    assert f"/trainingattendanceview/show/{fin['id']}" in page
    assert f"/trainingattendanceview/show/{mkt['id']}" not in page
    api, headers = api_as("head_fin")
    assert api.get(f"/api/v1/training_attendance/{mkt['id']}", headers=headers).status_code \
        == 404
    # A score outside 0-100 is a field error, nothing stored.
    response = api_as("it_staff")
    client, headers = response
    answer = client.post("/api/v1/training_attendance/", headers=headers, json={
        "training": training, "person": ids.user("head_fin"), "score": 101})
    assert answer.status_code == 422 and "score" in answer.get_json()["message"]
    # The same person twice on one training: refused with a message.
    answer = client.post("/api/v1/training_attendance/", headers=headers, json={
        "training": training, "person": ids.user("clerk_fin")})
    assert answer.status_code == 422, answer.get_json()
