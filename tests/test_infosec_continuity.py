"""Chapter 6.3.3-6.4 as users meet it, over HTTP (web and API): personnel clearances and
the 6.3.3 scorecard rules, emergency plans approved by management and drilled (6.4.1,
6.4.2), security events closed only with investigation, lessons and measures (6.4.3),
incident links within the user's scope, and department scoping."""
import datetime as dt
import html as htmllib

import pytest

from conftest import CSRF_RE
from test_readable_lists import filter_index, rows_with
from webhelpers import count, flashes, form_token, list_page, row

TODAY = dt.date.today()


def _failing(app, system_id):
    from app.compliance import scorecard

    with app.test_request_context():
        card = scorecard()
    return next(s for s in card["systems"] if s["id"] == system_id)["failing"]


def messages(response):
    return [htmllib.unescape(m) for m in flashes(response.get_data(as_text=True))]


def token(client, path):
    return CSRF_RE.search(client.get(path).get_data(as_text=True)).group(1)


@pytest.fixture
def running_system(app, make, ids):
    """A running FIN system administered by it_staff (cleared in the demo data)."""
    from app.organisation.models import Lifecycle

    return make("system", dept="FIN", lifecycle=Lifecycle.running,
                it_custodian_id=ids.user("it_staff"))


def web_step(client, view, pk, name, **fields):
    return client.post(f"/{view}/transition/{pk}/{name}", data={
        "csrf_token": form_token(client), "step_form": name, **fields})


def api_step(client, headers, resource, pk, name, **body):
    return client.post(f"/api/v1/{resource}/{pk}/transition/{name}", headers=headers,
                       json=body)


# ------------------------------------------------------- 6.3.3 personnel clearances

def test_privileged_staff_without_a_valid_clearance_fail_the_system(
        app, api_as, login_as, ids, running_system):
    from app.infosec.models import PersonnelClearance

    assert "privileged_cleared" not in _failing(app, running_system)
    assert "custodian_cleared" not in _failing(app, running_system)

    # IT records head_fin's admin access with an agreement that ran out yesterday.
    api, headers = api_as("it_staff")
    response = api.post("/api/v1/personnel_clearance/", headers=headers, json={
        "person": ids.user("head_fin"), "post": "财务系统管理员（过期协议）",
        "privileged_systems": [running_system], "background_result": "passed",
        "background_checked_on": "2024-01-02", "agreement_signed_on": "2024-01-05",
        "agreement_expires_on": (TODAY - dt.timedelta(days=1)).isoformat()})
    assert response.status_code == 201, response.get_json()
    pk = response.get_json()["id"]
    assert row(app, PersonnelClearance, pk)["department_id"] == ids.dept("FIN")
    assert "privileged_cleared" in _failing(app, running_system)

    # Renewed on the form: the system passes.
    client = login_as("it_staff")
    path = f"/personnelclearanceview/edit/{pk}"
    response = client.post(path, data={
        "csrf_token": token(client, path), "person": ids.user("head_fin"),
        "post": "财务系统管理员（过期协议）", "privileged_systems": [running_system],
        "background_result": "passed", "background_checked_on": "2024-01-02",
        "agreement_signed_on": TODAY.isoformat(),
        "agreement_expires_on": (TODAY + dt.timedelta(days=730)).isoformat()})
    assert response.status_code == 302, messages(response)
    assert "privileged_cleared" not in _failing(app, running_system)

    # A failed background check fails it again.
    response = api.put(f"/api/v1/personnel_clearance/{pk}", headers=headers,
                       json={"background_result": "failed"})
    assert response.status_code == 200, response.get_json()
    assert "privileged_cleared" in _failing(app, running_system)


def test_a_person_listed_with_a_pending_check_fails_until_cleared(
        app, make, ids, running_system):
    from app.extensions import db
    from app.infosec.models import PersonnelClearance
    from app.organisation.models import InformationSystem

    pk = make("clearance", dept="MKT", post="待审查管理员", background_result="pending",
              background_checked_on=None)
    with app.app_context():
        clearance = db.session.get(PersonnelClearance, pk)
        clearance.privileged_systems.append(db.session.get(InformationSystem, running_system))
        db.session.commit()
    assert "privileged_cleared" in _failing(app, running_system)
    # A second, valid clearance of the same person clears them.
    make("clearance", dept="MKT", post="已审查管理员")
    assert "privileged_cleared" not in _failing(app, running_system)


def test_the_it_custodian_counts_as_privileged_staff(app, make, ids):
    from app.organisation.models import Lifecycle

    # head_mkt has no clearance at all.
    system = make("system", dept="MKT", lifecycle=Lifecycle.running,
                  it_custodian_id=ids.user("head_mkt"))
    assert "custodian_cleared" in _failing(app, system)
    make("clearance", dept="MKT", person_id=ids.user("head_mkt"), post="托管员")
    assert "custodian_cleared" not in _failing(app, system)
    # A planned system is not yet administered: no finding.
    planned = make("system", dept="MKT", lifecycle=Lifecycle.planned,
                   it_custodian_id=ids.user("head_fin"))
    assert "custodian_cleared" not in _failing(app, planned)


def test_the_demo_systems_fail_for_the_expired_and_pending_clearances(app, ids):
    assert "privileged_cleared" in _failing(app, ids.system("IT-MON"))  # expired
    assert "privileged_cleared" in _failing(app, ids.system("FIN-EXP"))  # pending check
    assert "privileged_cleared" not in _failing(app, ids.system("FIN-GL"))
    assert "custodian_cleared" not in _failing(app, ids.system("FIN-GL"))


def test_an_agreement_must_expire_after_it_was_signed_web_and_api(
        app, login_as, api_as, ids):
    from app.infosec.models import PersonnelClearance

    client = login_as("it_staff")
    path = "/personnelclearanceview/add"
    response = client.post(path, data={
        "csrf_token": token(client, path), "person": ids.user("head_fin"),
        "post": "倒序协议", "background_result": "passed",
        "agreement_signed_on": "2026-03-01", "agreement_expires_on": "2026-02-01"})
    assert response.status_code == 200
    assert "倒序协议" in response.get_data(as_text=True)  # the input is kept
    assert count(app, PersonnelClearance, post="倒序协议") == 0

    api, headers = api_as("it_staff")
    response = api.post("/api/v1/personnel_clearance/", headers=headers, json={
        "person": ids.user("head_fin"), "post": "倒序协议", "background_result": "passed",
        "agreement_signed_on": "2026-03-01", "agreement_expires_on": "2026-02-01"})
    assert response.status_code == 422
    assert "agreement_expires_on" in response.get_json()["message"]
    # Signed without an expiry date: refused with the reason.
    response = api.post("/api/v1/personnel_clearance/", headers=headers, json={
        "person": ids.user("head_fin"), "post": "倒序协议", "background_result": "passed",
        "agreement_signed_on": "2026-03-01"})
    assert 400 <= response.status_code < 500
    assert response.get_json()["message"]
    assert count(app, PersonnelClearance, post="倒序协议") == 0


def test_expiring_and_expired_agreements_are_badged_and_filtered(app, login_as, make):
    soon = make("clearance", dept="FIN", post="到期标记a",
                agreement_expires_on=TODAY + dt.timedelta(days=10))
    gone = make("clearance", dept="FIN", post="到期标记b",
                agreement_expires_on=TODAY - dt.timedelta(days=1))
    fine = make("clearance", dept="FIN", post="到期标记c")
    client = login_as("head_fin")
    listing = "/personnelclearanceview/list/?_flt_0_post=到期标记"
    html = client.get(listing).get_data(as_text=True)
    assert soon in rows_with(html, "即将到期") and fine not in rows_with(html, "即将到期")
    assert gone in rows_with(html, "已到期") and fine not in rows_with(html, "已到期")
    index = filter_index(client, "PersonnelClearanceView", "agreement_expires_on",
                         "保密协议已过期")
    _count, shown = list_page(client, "PersonnelClearanceView",
                              f"_flt_{index}_agreement_expires_on=y&_flt_0_post=到期标记")
    assert shown == {gone}
    index = filter_index(client, "PersonnelClearanceView", "agreement_expires_on",
                         "保密协议即将到期")
    _count, shown = list_page(client, "PersonnelClearanceView",
                              f"_flt_{index}_agreement_expires_on=y&_flt_0_post=到期标记")
    assert shown == {soon}


def test_clearances_are_read_by_the_department_head_only_within_the_department(
        app, login_as, api_as, make):
    pk = make("clearance", dept="FIN", post="部门范围")
    assert login_as("head_fin").get(f"/personnelclearanceview/show/{pk}").status_code == 200
    assert login_as("head_mkt").get(f"/personnelclearanceview/show/{pk}").status_code == 404
    api, headers = api_as("head_mkt")
    assert api.get(f"/api/v1/personnel_clearance/{pk}", headers=headers).status_code == 404
    # A clerk reads no clearance, not even of a colleague.
    clerk = login_as("clerk_fin")
    response = clerk.get(f"/personnelclearanceview/show/{pk}")
    assert response.status_code in (302, 403) or "部门范围" not in response.get_data(
        as_text=True)
    # Nor does a department head write one.
    api, headers = api_as("head_fin")
    response = api.put(f"/api/v1/personnel_clearance/{pk}", headers=headers,
                       json={"post": "越权修改"})
    assert response.status_code in (401, 403)


# --------------------------------------------------- 6.4.1 emergency plans, approval

def _new_plan(api, headers, ids, systems, title):
    response = api.post("/api/v1/emergency_plan/", headers=headers, json={
        "title": title, "edition": "1.0", "department": ids.dept("IT"),
        "systems": systems, "scenario": "s", "procedure": "p", "responsibilities": "r",
        "resources": "x"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_a_plan_is_approved_by_management_only_never_by_it(
        app, api_as, login_as, ids, running_system):
    from app.infosec.models import EmergencyPlan

    api, headers = api_as("it_staff")
    pk = _new_plan(api, headers, ids, [], "无系统的预案")
    # Submitting needs the systems it covers.
    response = api_step(api, headers, "emergency_plan", pk, "submit")
    assert 400 <= response.status_code < 500 and response.get_json()["message"]
    assert row(app, EmergencyPlan, pk)["status"].name == "draft"
    assert api.put(f"/api/v1/emergency_plan/{pk}", headers=headers,
                   json={"systems": [running_system]}).status_code == 200
    assert api_step(api, headers, "emergency_plan", pk, "submit").status_code == 200

    # Neither the submitter, another IT officer nor the IT head approves.
    for username in ("it_staff", "it_staff2", "it_head"):
        client, auth = api_as(username)
        response = api_step(client, auth, "emergency_plan", pk, "approve")
        assert response.status_code in (403, 409), (username, response.get_json())
    web = login_as("it_head")
    web_step(web, "emergencyplanview", pk, "approve")
    assert row(app, EmergencyPlan, pk)["status"].name == "submitted"

    # Management does, on the plan's page; IT puts it in force.
    response = web_step(login_as("manager"), "emergencyplanview", pk, "approve")
    assert response.status_code in (200, 302)
    assert row(app, EmergencyPlan, pk)["status"].name == "approved"
    assert api_step(api, headers, "emergency_plan", pk, "enforce").status_code == 200
    assert row(app, EmergencyPlan, pk)["status"].name == "in_force"
    # A revision needs its reason and takes the plan back to draft.
    assert api_step(api, headers, "emergency_plan", pk, "revise").status_code in (400, 422)
    assert api_step(api, headers, "emergency_plan", pk, "revise",
                    comment="组织架构调整").status_code == 200
    assert row(app, EmergencyPlan, pk)["status"].name == "draft"


def test_whoever_submitted_a_plan_cannot_approve_it_even_with_the_management_role(
        app, api_as, ids, running_system):
    from app.base import AppUser
    from app.extensions import db
    from app.infosec.models import EmergencyPlan

    def management(granted):
        sm = app.appbuilder.sm
        with app.app_context():
            user = db.session.query(AppUser).filter_by(username="it_staff2").one()
            role = sm.find_role("Management")
            if granted:
                user.roles.append(role)
            else:
                user.roles.remove(role)
            db.session.commit()

    management(True)
    try:
        api, headers = api_as("it_staff2")
        pk = _new_plan(api, headers, ids, [running_system], "兼任者的预案")
        assert api_step(api, headers, "emergency_plan", pk, "submit").status_code == 200
        response = api_step(api, headers, "emergency_plan", pk, "approve")
        assert response.status_code in (403, 409)
        assert row(app, EmergencyPlan, pk)["status"].name == "submitted"
    finally:
        management(False)
    manager, auth = api_as("manager")
    assert api_step(manager, auth, "emergency_plan", pk, "approve").status_code == 200


def select_options(html, name):
    """The option values of the form's dropdown ``name``."""
    import re

    match = re.search(rf'(?s)<select[^>]*name="{name}".*?</select>', html)
    assert match, f"no dropdown {name}"
    return {int(v) for v in re.findall(r'<option value="(\d+)"', match.group(0))}


# ------------------------------------------------------------------ 6.4.2 drills

def test_only_an_approved_plan_can_be_drilled_web_and_api(app, api_as, login_as, make):
    from app.infosec.models import Drill, PlanState

    draft = make("emergency_plan", dept="IT")
    approved = make("emergency_plan", dept="IT", status=PlanState.approved)
    api, headers = api_as("it_staff")
    body = {"held_on": "2026-03-01", "scenario": "s", "participants": "未批准预案的演练",
            "result": "passed"}
    response = api.post("/api/v1/drill/", headers=headers,
                        json={"emergency_plan": draft, **body})
    assert 400 <= response.status_code < 500
    assert "批准" in str(response.get_json()["message"])
    client = login_as("it_staff")
    path = "/drillview/add"
    response = client.post(path, data={"csrf_token": token(client, path),
                                       "emergency_plan": draft, **body})
    assert response.status_code == 200
    assert count(app, Drill, participants="未批准预案的演练") == 0
    # The form offers approved plans only.
    offered = select_options(client.get(path).get_data(as_text=True), "emergency_plan")
    assert approved in offered and draft not in offered

    response = api.post("/api/v1/drill/", headers=headers,
                        json={"emergency_plan": approved, **body})
    assert response.status_code == 201, response.get_json()
    assert count(app, Drill, participants="未批准预案的演练") == 1


def test_a_running_system_needs_an_approved_plan_drilled_within_the_set_days(
        app, make, running_system):
    from app.extensions import db
    from app.infosec.models import Drill, EmergencyPlan, PlanState
    from app.organisation.models import InformationSystem

    assert "emergency_plan" in _failing(app, running_system)
    plan = make("emergency_plan", dept="IT", status=PlanState.approved)
    with app.app_context():
        stored = db.session.get(EmergencyPlan, plan)
        stored.systems.append(db.session.get(InformationSystem, running_system))
        db.session.commit()
    # Approved, never drilled: fails.
    assert "emergency_plan" in _failing(app, running_system)
    make("drill", dept="IT", emergency_plan_id=plan,
         held_on=TODAY - dt.timedelta(days=400))
    assert "emergency_plan" in _failing(app, running_system)
    recent = make("drill", dept="IT", emergency_plan_id=plan,
                  held_on=TODAY - dt.timedelta(days=100))
    assert "emergency_plan" not in _failing(app, running_system)
    app.config["COMPLIANCE_DRILL_DAYS"] = 90
    try:
        assert "emergency_plan" in _failing(app, running_system)
    finally:
        app.config["COMPLIANCE_DRILL_DAYS"] = 365
    # Taken back into revision, the plan covers nothing until approved again.
    with app.app_context():
        db.session.get(EmergencyPlan, plan).status = PlanState.draft
        db.session.commit()
    assert "emergency_plan" in _failing(app, running_system)
    with app.app_context():
        db.session.delete(db.session.get(Drill, recent))
        db.session.commit()


def test_the_demo_web_content_system_has_no_approved_plan_and_the_ledger_has_one(app, ids):
    assert "emergency_plan" in _failing(app, ids.system("MKT-CMS"))
    assert "emergency_plan" not in _failing(app, ids.system("FIN-GL"))


def test_quarter_buckets_cover_the_year():
    from app.charts import Quarter

    quarter = Quarter("held_on")
    assert quarter.key_of(dt.date(2026, 11, 30)) == "2026-Q4"
    assert quarter.days("2026-Q4") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert quarter.days("2026-Q1") == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert quarter.keys(dt.date(2025, 12, 1), dt.date(2026, 4, 1)) == [
        "2025-Q4", "2026-Q1", "2026-Q2"]
    assert quarter.first_day(dt.date(2026, 5, 5)) == dt.date(2024, 7, 1)


# ---------------------------------------------------------- 6.4.3 security events

def test_an_event_closes_only_with_investigation_lessons_and_measures(
        app, api_as, login_as, make):
    from app.infosec.models import SecurityEvent

    pk = make("security_event", dept="FIN")
    api, headers = api_as("it_staff")
    assert api_step(api, headers, "security_event", pk, "start").status_code == 200
    assert row(app, SecurityEvent, pk)["handler_id"] is not None

    response = api_step(api, headers, "security_event", pk, "close",
                        investigation="已调查", lessons="")
    assert 400 <= response.status_code < 500
    assert "经验教训" in str(response.get_json()["message"])
    assert row(app, SecurityEvent, pk)["status"].name == "investigating"

    web = login_as("it_staff")
    response = web_step(web, "securityeventview", pk, "close", investigation="已调查",
                        lessons="教训", measures="")
    assert "请先填写调查分析、经验教训和改进措施。" in " ".join(messages(response))
    assert row(app, SecurityEvent, pk)["status"].name == "investigating"

    response = web_step(web, "securityeventview", pk, "close", investigation="已调查",
                        lessons="教训", measures="措施")
    assert row(app, SecurityEvent, pk)["status"].name == "closed"
    stored = row(app, SecurityEvent, pk)
    assert (stored["investigation"], stored["lessons"], stored["measures"]) == (
        "已调查", "教训", "措施")
    assert stored["closed_at"] is not None


def test_a_department_reports_events_of_its_systems_and_links_only_incidents_it_sees(
        app, api_as, login_as, ids, make):
    from app.infosec.models import SecurityEvent

    own = make("incident", dept="FIN")
    other = make("incident", dept="MKT")  # CRM, reported by 市场部: hidden from 财务部
    api, headers = api_as("clerk_fin")
    body = {"title": "关联他部门故障", "system": ids.system("FIN-GL"), "category": "malware",
            "severity": "p3", "description": "d"}
    response = api.post("/api/v1/security_event/", headers=headers,
                        json={**body, "incident": other})
    assert response.status_code == 400
    assert "incident" in response.get_json()["message"]
    assert count(app, SecurityEvent, title="关联他部门故障") == 0

    client = login_as("clerk_fin")
    path = "/securityeventview/add"
    form = {"title": "关联他部门故障", "system": ids.system("FIN-GL"), "category": "malware",
            "severity": "p3", "description": "d", "occurred_at": "2026-03-01 10:00"}
    offered = select_options(client.get(path).get_data(as_text=True), "incident")
    assert own in offered and other not in offered
    response = client.post(path, data={"csrf_token": token(client, path), **form,
                                       "incident": other})
    assert response.status_code == 200
    assert count(app, SecurityEvent, title="关联他部门故障") == 0

    response = api.post("/api/v1/security_event/", headers=headers,
                        json={**body, "incident": own})
    assert response.status_code == 201, response.get_json()
    pk = response.get_json()["id"]
    stored = row(app, SecurityEvent, pk)
    assert stored["incident_id"] == own and stored["department_id"] == ids.dept("FIN")
    # Linking the hidden incident afterwards is refused too.
    response = api.put(f"/api/v1/security_event/{pk}", headers=headers,
                       json={"incident": other})
    assert response.status_code == 400
    assert row(app, SecurityEvent, pk)["incident_id"] == own
    # IT staff see every incident and may link it.
    it, auth = api_as("it_staff")
    response = it.put(f"/api/v1/security_event/{pk}", headers=auth, json={"incident": other})
    assert response.status_code == 200, response.get_json()


def test_another_departments_event_is_404_on_every_path(app, api_as, login_as, make):
    pk = make("security_event", dept="FIN")
    client = login_as("clerk_mkt")
    assert client.get(f"/securityeventview/show/{pk}").status_code == 404
    assert client.get(f"/securityeventview/edit/{pk}").status_code == 404
    assert web_step(client, "securityeventview", pk, "start").status_code == 404
    api, headers = api_as("head_mkt")
    assert api.get(f"/api/v1/security_event/{pk}", headers=headers).status_code == 404
    assert api_step(api, headers, "security_event", pk, "start").status_code == 404
    assert login_as("clerk_fin").get(f"/securityeventview/show/{pk}").status_code == 200


def test_a_department_cannot_investigate_or_close_its_own_event(app, api_as, make):
    from app.infosec.models import SecurityEvent

    pk = make("security_event", dept="FIN")
    api, headers = api_as("head_fin")
    assert api_step(api, headers, "security_event", pk, "start").status_code in (403, 409)
    response = api.put(f"/api/v1/security_event/{pk}", headers=headers,
                       json={"investigation": "部门自查"})
    assert response.status_code == 403
    assert row(app, SecurityEvent, pk)["investigation"] is None
