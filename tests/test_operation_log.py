"""The operation log (5.1.1-5.1.4) and maintenance (5.2), as IT staff and the IT department
head use them: a configuration or data change is authorised only by an approved change
request of the same system, and is otherwise stored flagged and listed for the IT head;
recording maintenance moves its plan's next due date, and the plan's history shows it."""
import datetime as dt
import json
import re
import uuid

from sqlalchemy import update

from conftest import CSRF_RE
from webhelpers import list_page, row


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def token(client, path):
    match = CSRF_RE.search(client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


def change_request(app, ids, system, status):
    """A change request of ``system`` standing in ``status`` (its approval is the
    workflow's business: tests/test_workflows.py; here only where it stands)."""
    from app.extensions import db
    from app.operations.models import ChangeRequest, ChangeStatus
    from app.organisation.models import InformationSystem

    with app.app_context():
        owner = db.session.get(InformationSystem, ids.system(system)).owning_department_id
        change = ChangeRequest(change_number=unique("T-CR-"), title="t",
                               system_id=ids.system(system), department_id=owner,
                               change_plan="p", rollback_plan="r")
        db.session.add(change)
        db.session.commit()
        db.session.execute(update(ChangeRequest).where(ChangeRequest.id == change.id)
                           .values(status=ChangeStatus[status]))
        db.session.commit()
        return change.id


def log_entry(app, client, ids, system, kind, change=None, **extra):
    """IT staff records an entry through the form; returns the stored entry."""
    from app.extensions import db
    from app.operations.models import OperationLog

    content = unique("运维记录")
    data = {"system": ids.system(system), "kind": kind, "performed_at": "2026-11-20 10:00:00",
            "operator": ids.user("it_staff"), "content": content, "result": "normal",
            "abnormal_items": "", "change_request": change or "",
            "csrf_token": token(client, "/operationlogview/add"), **extra}
    response = client.post("/operationlogview/add", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        entry = db.session.query(OperationLog).filter_by(content=content).one()
        return row(app, OperationLog, entry.id)


def test_a_change_without_an_approved_change_request_of_the_same_system_is_flagged(
        app, login_as, api_as, ids):
    from app.operations.models import OperationLog

    it = login_as("it_staff")
    approved = change_request(app, ids, "FIN-GL", "approved")
    requested = change_request(app, ids, "FIN-GL", "requested")
    other_system = change_request(app, ids, "CRM", "approved")
    implemented = change_request(app, ids, "FIN-GL", "implemented")

    assert log_entry(app, it, ids, "FIN-GL", "configuration", approved)["unauthorised"] is False
    assert log_entry(app, it, ids, "FIN-GL", "data", implemented)["unauthorised"] is False
    assert log_entry(app, it, ids, "FIN-GL", "configuration")["unauthorised"] is True
    # Not a change: nothing to authorise.
    assert log_entry(app, it, ids, "FIN-GL", "inspection")["unauthorised"] is False
    # The API takes any change request in scope and the save rule flags the entry; the
    # web form offers only approved ones of the system (test_the_form_offers_only...).
    api, headers = api_as("it_staff")
    for change in (requested, other_system):
        response = api.post("/api/v1/operation_log/", headers=headers, json={
            "system": ids.system("FIN-GL"), "kind": "data", "content": unique("接口"),
            "result": "normal", "change_request": change})
        assert response.status_code == 201, response.get_json()
        assert row(app, OperationLog, response.get_json()["id"])["unauthorised"] is True


def test_the_flag_is_the_save_rules_not_the_users(app, login_as, api_as, ids):
    """Sent as a form field or an API field, the flag is not taken; editing the entry to
    reference an approved change clears it, and pointing it elsewhere sets it again."""
    from app.operations.models import OperationLog

    it = login_as("it_staff")
    entry = log_entry(app, it, ids, "FIN-GL", "configuration", unauthorised="n")
    assert entry["unauthorised"] is True

    api, headers = api_as("it_staff")
    api_content = unique("接口运维")
    response = api.post("/api/v1/operation_log/", headers=headers, json={
        "system": ids.system("FIN-GL"), "kind": "data", "content": api_content,
        "result": "normal", "unauthorised": False})
    assert response.status_code in (400, 422), response.status_code
    response = api.post("/api/v1/operation_log/", headers=headers, json={
        "system": ids.system("FIN-GL"), "kind": "data", "content": api_content,
        "result": "normal"})
    assert response.status_code == 201, response.get_json()
    assert row(app, OperationLog, response.get_json()["id"])["unauthorised"] is True

    approved = change_request(app, ids, "FIN-GL", "approved")
    data = {"system": ids.system("FIN-GL"), "kind": "configuration",
            "performed_at": "2026-11-20 10:00:00", "operator": ids.user("it_staff"),
            "content": entry["content"], "result": "normal", "abnormal_items": "",
            "change_request": approved,
            "csrf_token": token(it, f"/operationlogview/edit/{entry['id']}")}
    assert it.post(f"/operationlogview/edit/{entry['id']}", data=data).status_code == 302
    assert row(app, OperationLog, entry["id"])["unauthorised"] is False
    data["change_request"] = ""
    assert it.post(f"/operationlogview/edit/{entry['id']}", data=data).status_code == 302
    assert row(app, OperationLog, entry["id"])["unauthorised"] is True


def filter_index(client, view, column, name):
    html = client.get(f"/{view.lower()}/list/").get_data(as_text=True)
    for table in re.findall(r"\n\s*(\{.*?\}),\n", html):
        names = json.loads(table).get(column)
        if isinstance(names, list) and name in names:
            return names.index(name)
    raise AssertionError(f"no filter {name} on {view}.{column}")


def test_the_it_head_lists_unauthorised_changes_of_every_department(app, login_as, api_as,
                                                                    ids):
    it = login_as("it_staff")
    approved = change_request(app, ids, "CRM", "approved")
    flagged = log_entry(app, it, ids, "CRM", "configuration")
    fine = log_entry(app, it, ids, "CRM", "configuration", approved)
    fin_flagged = log_entry(app, it, ids, "FIN-GL", "data")

    head = login_as("it_head")
    index = filter_index(head, "OperationLogView", "kind", "未授权变更")
    _count, shown = list_page(head, "OperationLogView",
                              f"_flt_{index}_kind=y&psize_OperationLogView=100")
    assert {flagged["id"], fin_flagged["id"]} <= shown
    assert fine["id"] not in shown
    html = head.get(f"/operationlogview/show/{flagged['id']}").get_data(as_text=True)
    assert "未授权变更" in html
    # The chart of unauthorised changes (系统 by system) opens the same entries.
    data = head.get("/charts/unauthorised_changes/data").get_json()
    urls = [point["url"] for series in data["series"] for point in series["data"]
            if point["n"]]
    linked = set()
    for url in urls:
        html = head.get(url + "&psize_OperationLogView=100").get_data(as_text=True)
        linked |= {int(pk) for pk in re.findall(r'href="/operationlogview/show/(\d+)"', html)}
    assert {flagged["id"], fin_flagged["id"]} <= linked and fine["id"] not in linked

    # A department sees the log of its own systems only.
    clerk = login_as("clerk_fin")
    _count, shown = list_page(clerk, "OperationLogView", "psize_OperationLogView=100")
    assert fin_flagged["id"] in shown and flagged["id"] not in shown
    assert clerk.get(f"/operationlogview/show/{flagged['id']}").status_code == 404
    # ...and writes none of it.
    api, headers = api_as("clerk_fin")
    response = api.post("/api/v1/operation_log/", headers=headers, json={
        "system": ids.system("FIN-GL"), "kind": "inspection", "content": "x",
        "result": "normal"})
    assert response.status_code in (401, 403)


def test_an_inspection_shows_the_systems_checklist_and_the_abnormal_items(app, login_as, ids,
                                                                          make):
    from app.organisation.models import InformationSystem

    it = login_as("it_staff")
    system = make("system", dept="FIN")
    items = unique("1. 磁盘使用率\n2. 备份结果")
    response = it.post("/inspectionchecklistview/add", data={
        "system": system, "items": items,
        "csrf_token": token(it, "/inspectionchecklistview/add")})
    assert response.status_code == 302
    # One checklist per system: a second is refused with a message, not a server error.
    response = it.post("/inspectionchecklistview/add", data={
        "system": system, "items": "again",
        "csrf_token": token(it, "/inspectionchecklistview/add")})
    assert response.status_code in (200, 302, 400, 422)

    with app.app_context():
        code = row(app, InformationSystem, system)["code"]
    entry = log_entry(app, it, ids, code, "inspection", result="abnormal",
                      abnormal_items="2. 备份结果失败")
    html = it.get(f"/operationlogview/show/{entry['id']}").get_data(as_text=True)
    assert items.split("\n")[0] in html
    assert "2. 备份结果失败" in html


def test_recording_maintenance_moves_the_plans_next_due_date_and_history_shows_it(
        app, login_as, ids):
    from app.base import ChangeEntry
    from app.extensions import db
    from app.operations.models import MaintenancePlan, MaintenanceRecord

    it = login_as("it_staff")
    title = unique("维护计划")
    response = it.post("/maintenanceplanview/add", data={
        "title": title, "system": ids.system("FIN-GL"), "kind": "periodic", "content": "c",
        "cycle_days": "30", "responsible": ids.user("it_staff"), "start_date": "2026-01-01",
        "csrf_token": token(it, "/maintenanceplanview/add")})
    assert response.status_code == 302
    with app.app_context():
        plan = db.session.query(MaintenancePlan).filter_by(title=title).one().id
    assert row(app, MaintenancePlan, plan)["next_due"] == dt.date(2026, 1, 31)

    def record(when):
        result = unique("维护结果")
        response = it.post("/maintenancerecordview/add", data={
            "maintenance_plan": plan, "category": "backup", "performed_at": when,
            "performed_by": ids.user("it_staff"), "result": result,
            "csrf_token": token(it, "/maintenancerecordview/add")})
        assert response.status_code == 302
        with app.app_context():
            return db.session.query(MaintenanceRecord).filter_by(result=result).one().id

    record("2026-03-10 09:00:00")
    assert row(app, MaintenancePlan, plan)["next_due"] == dt.date(2026, 4, 9)
    latest = record("2026-05-01 09:00:00")
    record("2026-04-01 09:00:00")  # an earlier one recorded late moves nothing
    assert row(app, MaintenancePlan, plan)["next_due"] == dt.date(2026, 5, 31)

    # Deleting the latest record moves the date back.
    response = it.post(f"/maintenancerecordview/delete/{latest}",
                       data={"csrf_token": token(it, "/maintenancerecordview/add")})
    assert response.status_code == 302
    assert row(app, MaintenancePlan, plan)["next_due"] == dt.date(2026, 5, 1)

    with app.app_context():
        moves = [json.loads(entry.changes) for entry in db.session.query(ChangeEntry)
                 .filter_by(record_type="MaintenancePlan", record_id=str(plan))
                 .order_by(ChangeEntry.seq)]
    text = json.dumps(moves)
    assert "2026-04-09" in text and "2026-05-31" in text
    # The plan's own page lists its overdue badge (its next due date is long past).
    html = it.get(f"/maintenanceplanview/list/?_flt_0_title={title}").get_data(as_text=True)
    assert "已逾期" in html


def test_the_scorecard_counts_the_demo_unauthorised_change_and_overdue_plan(app, ids):
    from app.compliance import RULES
    from app.extensions import db
    from app.operations.models import MaintenancePlan

    with app.app_context():
        failing = {rule.key: db.session.execute(rule.failing()).all() for rule in RULES
                   if rule.key in ("no_unauthorised_change", "maintenance_on_time",
                                   "inspected")}
        plans = {plan.title: plan.id for plan in db.session.query(MaintenancePlan)}
    crm, fin, erp = ids.system("CRM"), ids.system("FIN-GL"), ids.system("ERP")
    assert crm in {system for system, _record in failing["no_unauthorised_change"]}
    late = {record for _system, record in failing["maintenance_on_time"]}
    assert plans["CRM 季度性能优化"] in late
    assert plans["财务核算系统月度备份检查"] not in late
    # Inspected within the set days: the demo's running FIN-GL is; ERP has no inspection.
    inspected = {system for system, _record in failing["inspected"]}
    assert fin not in inspected and erp in inspected
