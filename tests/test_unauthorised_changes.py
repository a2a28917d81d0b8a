"""The operation log's unauthorised changes (5.1.4), as the IT department head finds them
and as IT staff records changes:

* a menu entry 运行维护 → 未授权变更 opens the operation log filtered to them, and the IT
  head's home page has a card with their count linking to that list;
* the change-request dropdown of the operation log form offers only approved change
  requests (已批准, 已实施, 已验证) and, once the system is known, of that system: one not
  offered is refused (message, nothing stored); the API takes any and the save rule flags;
* the flag is decided when the entry is written (and when its kind, system, change
  request or time is changed), never by a later step of the change request: an approval after
  the change does not authorise it, and editing the entry's content changes nothing.
"""
import re
import uuid

from sqlalchemy import update

from test_operation_log import change_request, log_entry, token
from webhelpers import count, list_page, row


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def menu_link(html):
    match = re.search(r'href="([^"]*)"[^>]*>\s*<i class="fa fa-fw fa-exclamation-triangle"></i>'
                      r'\s*(?:<span>)?\s*未授权变更', html)
    if match is None:
        match = re.search(r'<a[^>]*href="([^"]+)"[^>]*>(?:(?!</a>).)*未授权变更', html, re.S)
    return match and match.group(1).replace("&amp;", "&")


def unauthorised_ids(app):
    from app.extensions import db
    from app.operations.models import OperationLog

    with app.app_context():
        return {pk for (pk,) in db.session.query(OperationLog.id)
                .filter(OperationLog.unauthorised.is_(True))}


def test_the_menu_opens_the_operation_log_filtered_to_unauthorised_changes(app, login_as,
                                                                           ids):
    it = login_as("it_staff")
    flagged = log_entry(app, it, ids, "CRM", "configuration")
    fine = log_entry(app, it, ids, "CRM", "inspection")
    head = login_as("it_head")
    html = head.get("/").get_data(as_text=True)
    link = menu_link(html)
    assert link and link.startswith("/operationlogview/list/?_flt_"), link
    page = head.get(link + "&psize_OperationLogView=100")
    assert page.status_code == 200
    shown = {int(pk) for pk in re.findall(r'href="/operationlogview/show/(\d+)"',
                                          page.get_data(as_text=True))}
    assert flagged["id"] in shown and fine["id"] not in shown
    assert shown <= unauthorised_ids(app)
    # A business department's head sees the entry too, for its own systems only.
    fin = login_as("head_fin")
    fin_link = menu_link(fin.get("/").get_data(as_text=True))
    assert fin_link == link
    fin_shown = {int(pk) for pk in re.findall(
        r'href="/operationlogview/show/(\d+)"',
        fin.get(link + "&psize_OperationLogView=100").get_data(as_text=True))}
    assert flagged["id"] not in fin_shown  # CRM is marketing's system
    # An expert has no operation log: no entry.
    assert menu_link(login_as("expert_li").get("/").get_data(as_text=True)) is None


def home_card(html):
    match = re.search(r'<div class="panel panel-(\w+) home-card">.*?未授权变更:\s*'
                      r'<span class="count">(\d+)</span>\s*<a [^>]*href="([^"]+)"', html, re.S)
    return match and (match.group(1), int(match.group(2)), match.group(3).replace("&amp;", "&"))


def test_the_it_heads_home_page_counts_the_unauthorised_changes_and_links_to_them(
        app, login_as, ids):
    head = login_as("it_head")
    before = home_card(head.get("/").get_data(as_text=True))
    assert before is not None
    style, number, link = before
    assert number == len(unauthorised_ids(app)) and style == ("danger" if number else "default")
    it = login_as("it_staff")
    log_entry(app, it, ids, "FIN-GL", "data")
    after = home_card(head.get("/").get_data(as_text=True))
    assert after == ("danger", number + 1, link)
    assert link == menu_link(head.get("/").get_data(as_text=True))
    # Not a card for the other roles: a department head, IT staff, a clerk of IT.
    for user in ("head_fin", "it_staff", "clerk_fin"):
        assert home_card(login_as(user).get("/").get_data(as_text=True)) is None, user


def options(html, field):
    select = re.search(rf'<select[^>]*name="{field}"[^>]*>(.*?)</select>', html, re.S)
    assert select, field
    return {int(value) for value in re.findall(r'<option[^>]*value="(\d+)"', select.group(1))}


def test_the_form_offers_only_approved_change_requests_of_the_entrys_system(app, login_as,
                                                                             ids):
    from app.operations.models import OperationLog

    approved = change_request(app, ids, "FIN-GL", "approved")
    implemented = change_request(app, ids, "FIN-GL", "implemented")
    verified = change_request(app, ids, "FIN-GL", "verified")
    requested = change_request(app, ids, "FIN-GL", "requested")
    returned = change_request(app, ids, "FIN-GL", "returned")
    rejected = change_request(app, ids, "FIN-GL", "rejected")
    other_system = change_request(app, ids, "CRM", "approved")
    it = login_as("it_staff")

    offered = options(it.get("/operationlogview/add").get_data(as_text=True), "change_request")
    assert {approved, implemented, verified, other_system} <= offered
    assert not {requested, returned, rejected} & offered

    # Posted with its system: another system's or an unapproved change request is
    # refused with the form's message, nothing stored.
    for change in (requested, rejected, other_system):
        content = unique("运维")
        before = count(app, OperationLog)
        response = it.post("/operationlogview/add", data={
            "system": ids.system("FIN-GL"), "kind": "configuration",
            "performed_at": "2026-11-20 10:00:00", "operator": ids.user("it_staff"),
            "content": content, "result": "normal", "change_request": change,
            "csrf_token": token(it, "/operationlogview/add")})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "无效的选项" in html and content in html  # the input kept
        assert count(app, OperationLog) == before
    entry = log_entry(app, it, ids, "FIN-GL", "configuration", approved)
    assert entry["unauthorised"] is False

    # Editing: the entry's system's approved change requests, and the one it holds.
    offered = options(it.get(f"/operationlogview/edit/{entry['id']}").get_data(as_text=True),
                      "change_request")
    assert {approved, implemented, verified} <= offered
    assert not {requested, returned, rejected, other_system} & offered


def test_a_later_approval_does_not_authorise_a_change_made_before_it(app, login_as, api_as,
                                                                     ids):
    from app.extensions import db
    from app.operations.models import ChangeRequest, ChangeStatus, OperationLog

    requested = change_request(app, ids, "FIN-GL", "requested")
    api, headers = api_as("it_staff")
    response = api.post("/api/v1/operation_log/", headers=headers, json={
        "system": ids.system("FIN-GL"), "kind": "configuration", "content": unique("先改"),
        "result": "normal", "change_request": requested})
    assert response.status_code == 201, response.get_json()
    pk = response.get_json()["id"]
    assert row(app, OperationLog, pk)["unauthorised"] is True

    # The change request is approved afterwards, by its department head.
    head, head_headers = api_as("head_fin")
    response = head.post(f"/api/v1/change_request/{requested}/transition/approve",
                         headers=head_headers, json={})
    assert response.status_code == 200, response.get_json()
    assert row(app, ChangeRequest, requested)["status"] is ChangeStatus.approved
    assert row(app, OperationLog, pk)["unauthorised"] is True
    # Editing the entry's content (web and API) leaves the flag as it was decided.
    it = login_as("it_staff")
    entry = row(app, OperationLog, pk)
    response = it.post(f"/operationlogview/edit/{pk}", data={
        "system": ids.system("FIN-GL"), "kind": "configuration",
        "performed_at": "2026-11-20 10:00:00", "operator": ids.user("it_staff"),
        "content": entry["content"] + "（补充说明）", "result": "normal", "abnormal_items": "",
        "change_request": requested, "csrf_token": token(it, f"/operationlogview/edit/{pk}")})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    assert row(app, OperationLog, pk)["unauthorised"] is True
    response = api.put(f"/api/v1/operation_log/{pk}", headers=headers,
                       json={"result": "abnormal"})
    assert response.status_code == 200, response.get_json()
    assert row(app, OperationLog, pk)["unauthorised"] is True
    # Changing what decides it (the kind) decides it again: not a change any more.
    response = api.put(f"/api/v1/operation_log/{pk}", headers=headers,
                       json={"kind": "operation"})
    assert response.status_code == 200, response.get_json()
    assert row(app, OperationLog, pk)["unauthorised"] is False


def test_an_authorised_change_stays_authorised_through_its_change_requests_later_steps(
        app, login_as, api_as, ids):
    from app.operations.models import OperationLog

    approved = change_request(app, ids, "FIN-GL", "approved")
    it = login_as("it_staff")
    entry = log_entry(app, it, ids, "FIN-GL", "data", approved)
    assert entry["unauthorised"] is False
    # No step leads back from 已批准: implemented (IT), verified (the owning DeptHead).
    for step, user in (("implement", "it_staff"), ("verify", "head_fin")):
        client, headers = api_as(user)
        response = client.post(f"/api/v1/change_request/{approved}/transition/{step}",
                               headers=headers, json={})
        assert response.status_code == 200, (step, response.get_json())
    assert row(app, OperationLog, entry["id"])["unauthorised"] is False


def test_a_change_performed_before_its_request_was_approved_is_flagged_when_written_later(
        app, login_as, api_as, ids):
    from app.operations.models import OperationLog

    requested = change_request(app, ids, "FIN-GL", "requested")
    head, headers = api_as("head_fin")
    response = head.post(f"/api/v1/change_request/{requested}/transition/approve",
                         headers=headers, json={})
    assert response.status_code == 200, response.get_json()
    it = login_as("it_staff")

    # Written after the approval, but performed (2026-11-20) before it: unauthorised.
    before = log_entry(app, it, ids, "FIN-GL", "configuration", requested)
    assert before["unauthorised"] is True
    after = log_entry(app, it, ids, "FIN-GL", "configuration", requested,
                      performed_at="2099-01-01 10:00:00")
    assert after["unauthorised"] is False

    # Correcting the entry's time decides it again, both ways.
    pk = before["id"]
    edit = f"/operationlogview/edit/{pk}"
    response = it.post(edit, data={
        "system": ids.system("FIN-GL"), "kind": "configuration",
        "performed_at": "2099-01-01 09:00:00", "operator": ids.user("it_staff"),
        "content": before["content"], "result": "normal", "abnormal_items": "",
        "change_request": requested, "csrf_token": token(it, edit)})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    assert row(app, OperationLog, pk)["unauthorised"] is False
    api, api_headers = api_as("it_staff")
    response = api.put(f"/api/v1/operation_log/{after['id']}", headers=api_headers,
                       json={"performed_at": "2026-11-01 08:00:00"})
    assert response.status_code == 200, response.get_json()
    assert row(app, OperationLog, after["id"])["unauthorised"] is True
