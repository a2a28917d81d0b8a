"""Tenders with their bids (4.1.1, 4.1.2), the contract that follows a tender (4.1.3), and
the implementation's milestones and progress reports (4.2.1-4.2.3), as users meet them on
the screens and through the API: the refused side and the allowed side of every rule."""
import datetime as dt
import io
import json
from decimal import Decimal

import pytest

from test_readable_lists import filter_index, rows_with
from webhelpers import flashes, form_token, list_page, row

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _status(name):
    from app.planning.models import ProjectStatus

    return ProjectStatus[name]


def _tender_status(name):
    from app.procurement.models import TenderStatus

    return TenderStatus[name]


def _get(app, model, pk):
    return row(app, model, pk)


def _api_message(response):
    body = response.get_json() or {}
    return json.dumps(body.get("message"), ensure_ascii=False)


def _bid(make, tender, vendor, amount="100"):
    return make("bid", tender_id=tender, vendor_id=vendor, amount=Decimal(amount))


def _tender_of(app, make, dept="FIN", **values):
    """An approved project's tender open for bids, and the project's id."""
    project = make("project", dept=dept, status=_status("approved"))
    tender = make("tender", dept=dept, project_id=project,
                  status=values.pop("status", _tender_status("approved")), **values)
    return tender, project


# --------------------------------------------------------------------- 4.1.1 tenders

@pytest.mark.parametrize("state", ["draft", "mgmt_review", "implementation", "closed"])
def test_a_tender_is_refused_for_a_project_management_has_not_approved_or_past_procurement(
        app, login_as, api_as, make, state):
    from app.procurement.models import Tender

    project = make("project", dept="FIN", status=_status(state))
    client, headers = api_as("it_staff")
    response = client.post("/api/v1/tender/", headers=headers, json={
        "tender_number": f"ZB-X-{project}", "title": "未立项项目招标", "project": project,
        "method": "public"})
    assert response.status_code == 422
    assert "project" in response.get_json()["message"]
    assert "立项" in _api_message(response)

    web = login_as("it_staff")
    response = web.post("/tenderview/add", data={
        "csrf_token": form_token(web), "tender_number": f"ZB-W-{project}",
        "title": "未立项项目招标", "project": project, "method": "public"})
    assert response.status_code == 200  # the form again, with the refusal
    with app.app_context():
        from app.extensions import db

        assert db.session.query(Tender).filter_by(project_id=project).count() == 0


def test_a_tender_of_an_approved_project_is_written_by_it_and_read_by_the_department(
        app, login_as, api_as, make, ids):
    from app.extensions import db
    from app.procurement.models import Tender

    project = make("project", dept="FIN", status=_status("approved"))
    web = login_as("it_staff")
    response = web.post("/tenderview/add", data={
        "csrf_token": form_token(web), "tender_number": f"ZB-OK-{project}",
        "title": "已立项项目招标", "project": project, "method": "invited",
        "announcement_date": "2026-03-01", "opening_date": "2026-03-20"})
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    with app.app_context():
        tender = db.session.query(Tender).filter_by(project_id=project).one()
        # It belongs to the project's department.
        assert tender.department_id == ids.dept("FIN")
        pk = tender.id
    client, headers = api_as("it_staff")
    response = client.post("/api/v1/tender/", headers=headers, json={
        "tender_number": f"ZB-API-{project}", "title": "接口招标", "project": project,
        "method": "inquiry"})
    assert response.status_code == 201, response.get_json()

    assert login_as("clerk_fin").get(f"/tenderview/show/{pk}").status_code == 200
    # Departments read their tenders, never write them.
    clerk = login_as("clerk_fin")
    response = clerk.post(f"/tenderview/edit/{pk}", data={
        "csrf_token": form_token(clerk), "title": "部门改招标"})
    assert _get(app, Tender, pk)["title"] == "已立项项目招标"


def test_opening_before_the_announcement_is_refused(app, api_as, make):
    project = make("project", dept="FIN", status=_status("approved"))
    client, headers = api_as("it_staff")
    response = client.post("/api/v1/tender/", headers=headers, json={
        "tender_number": f"ZB-D-{project}", "title": "日期倒置", "project": project,
        "method": "public", "announcement_date": "2026-03-20",
        "opening_date": "2026-03-01"})
    assert response.status_code == 422
    assert "opening_date" in response.get_json()["message"]


# ------------------------------------------------------------- single source (4.1.2)

def test_single_source_needs_its_justification_on_the_form_and_the_api(
        app, login_as, api_as, make):
    from app.extensions import db
    from app.procurement.models import Tender

    project = make("project", dept="FIN", status=_status("approved"))
    client, headers = api_as("it_staff")
    response = client.post("/api/v1/tender/", headers=headers, json={
        "tender_number": f"ZB-S-{project}", "title": "单一来源无理由", "project": project,
        "method": "single_source"})
    assert response.status_code == 422
    assert "justification" in response.get_json()["message"]

    web = login_as("it_staff")
    data = {"csrf_token": form_token(web), "tender_number": f"ZB-SW-{project}",
            "title": "单一来源无理由", "project": project, "method": "single_source",
            "justification": "  "}
    response = web.post("/tenderview/add", data=data)
    assert response.status_code == 200
    assert any("理由" in text for text in flashes(response.get_data(as_text=True)))
    with app.app_context():
        assert db.session.query(Tender).filter_by(project_id=project).count() == 0

    response = web.post("/tenderview/add", data={**data, "justification": "原厂唯一授权"})
    assert response.status_code == 302
    # A tender of another method may leave it empty.
    response = client.post("/api/v1/tender/", headers=headers, json={
        "tender_number": f"ZB-P-{project}", "title": "公开招标", "project": project,
        "method": "public"})
    assert response.status_code == 201


def _submit(client, headers, pk):
    response = client.post(f"/api/v1/tender/{pk}/transition/submit", headers=headers,
                           json={})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["state"]


def test_single_source_goes_to_management_whom_alone_may_approve_it(
        app, login_as, api_as, make):
    from app.procurement.models import Tender, TenderStatus

    tender, _project = _tender_of(app, make, status=_tender_status("draft"),
                                  method=_method("single_source"), justification="唯一供应商")
    it, it_headers = api_as("it_staff")
    assert _submit(it, it_headers, tender) == "mgmt_review"

    # The IT head approves other tenders, not this one: no button, and a forged step is
    # refused (its approval step is for a tender in the IT head's review).
    web = login_as("it_head")
    step = f"/tenderview/transition/{tender}/approve"
    assert step not in web.get(f"/tenderview/show/{tender}").get_data(as_text=True)
    head, head_headers = api_as("it_head")
    response = head.post(f"/api/v1/tender/{tender}/transition/approve", headers=head_headers,
                         json={})
    assert response.status_code in (403, 409)
    response = web.post(step, data={"csrf_token": form_token(web)})
    assert response.status_code in (403, 409)
    assert _get(app, Tender, tender)["status"] is TenderStatus.mgmt_review

    manager = login_as("manager")
    assert step in manager.get(f"/tenderview/show/{tender}").get_data(as_text=True)
    response = manager.post(f"/tenderview/transition/{tender}/approve",
                            data={"csrf_token": form_token(manager)})
    assert response.status_code == 302
    assert _get(app, Tender, tender)["status"] is TenderStatus.approved


def test_other_methods_are_approved_by_the_it_department_head_not_by_management(
        app, api_as, make):
    from app.procurement.models import Tender, TenderStatus

    tender, _project = _tender_of(app, make, status=_tender_status("draft"))
    it, it_headers = api_as("it_staff")
    assert _submit(it, it_headers, tender) == "review"
    manager, manager_headers = api_as("manager")
    response = manager.post(f"/api/v1/tender/{tender}/transition/approve",
                            headers=manager_headers, json={})
    assert response.status_code in (403, 409)
    assert _get(app, Tender, tender)["status"] is TenderStatus.review
    head, head_headers = api_as("it_head")
    response = head.post(f"/api/v1/tender/{tender}/transition/approve", headers=head_headers,
                         json={})
    assert response.status_code == 200
    assert _get(app, Tender, tender)["status"] is TenderStatus.approved


def _method(name):
    from app.procurement.models import TenderMethod

    return TenderMethod[name]


# ------------------------------------------------------------------ bids and award

def test_bids_are_recorded_while_the_tender_is_open_and_their_total_is_the_mean(
        app, api_as, make, ids):
    from app.procurement.models import Bid

    draft, _project = _tender_of(app, make, status=_tender_status("draft"))
    client, headers = api_as("it_staff")
    response = client.post("/api/v1/bid/", headers=headers, json={
        "tender": draft, "vendor": ids.vendor(0), "amount": 1000})
    assert response.status_code == 422
    assert "tender" in response.get_json()["message"]

    open_tender, _project = _tender_of(app, make)
    response = client.post("/api/v1/bid/", headers=headers, json={
        "tender": open_tender, "vendor": ids.vendor(0), "amount": 1000,
        "technical_score": 90, "commercial_score": 81})
    assert response.status_code == 201, response.get_json()
    assert _get(app, Bid, response.get_json()["id"])["total_score"] == Decimal("85.5")
    for field, value in (("amount", -1), ("technical_score", 101), ("commercial_score", -5)):
        response = client.post("/api/v1/bid/", headers=headers, json={
            "tender": open_tender, "vendor": ids.vendor(1), "amount": 10, field: value})
        assert response.status_code == 422, field
        assert field in response.get_json()["message"]


def test_the_winning_bid_must_be_a_bid_of_the_same_tender(app, login_as, api_as, make, ids):
    from app.procurement.models import Tender, TenderStatus

    tender, _project = _tender_of(app, make)
    other, _other_project = _tender_of(app, make)
    ours = _bid(make, tender, ids.vendor(0))
    theirs = _bid(make, other, ids.vendor(1))

    client, headers = api_as("it_staff")
    response = client.put(f"/api/v1/tender/{tender}", headers=headers,
                          json={"winning_bid": theirs})
    assert response.status_code == 422
    assert "winning_bid" in response.get_json()["message"]
    web = login_as("it_staff")
    form = web.get(f"/tenderview/edit/{tender}").get_data(as_text=True)
    assert f'<option value="{ours}"' in form  # the tender's own bids only
    assert f'<option value="{theirs}"' not in form
    response = web.post(f"/tenderview/edit/{tender}", data={
        "csrf_token": form_token(web), "winning_bid": theirs})
    assert response.status_code == 200
    assert _get(app, Tender, tender)["winning_bid_id"] is None

    # Award needs the winner ...
    response = client.post(f"/api/v1/tender/{tender}/transition/award", headers=headers,
                           json={})
    assert response.status_code == 422
    # ... a bid of this tender.
    response = client.put(f"/api/v1/tender/{tender}", headers=headers,
                          json={"winning_bid": ours})
    assert response.status_code == 200, response.get_json()
    response = client.post(f"/api/v1/tender/{tender}/transition/award", headers=headers,
                           json={})
    assert response.status_code == 200
    assert _get(app, Tender, tender)["status"] is TenderStatus.awarded


def test_the_bids_are_a_tab_of_the_tender_page(app, login_as, make, ids):
    tender, _project = _tender_of(app, make)
    bid = make("bid", tender_id=tender, vendor_id=ids.vendor(2), remarks="标签页投标")
    html = login_as("clerk_fin").get(f"/tenderview/show/{tender}").get_data(as_text=True)
    assert f"/bidview/show/{bid}" in html


# ------------------------------------------------------ 4.1.3 the contract follows

def _awarded(app, make, ids, vendor_index=0):
    from app.extensions import db
    from app.procurement.models import Tender, TenderStatus

    tender, project = _tender_of(app, make)
    bid = _bid(make, tender, ids.vendor(vendor_index))
    with app.app_context():
        record = db.session.get(Tender, tender)
        record.winning_bid_id = bid
        record.status = TenderStatus.awarded
        db.session.commit()
    return tender, project


def test_a_contract_under_a_tender_is_signed_with_its_winner_for_its_project(
        app, login_as, api_as, make, ids):
    from app.extensions import db
    from app.procurement.models import Contract

    tender, project = _awarded(app, make, ids, vendor_index=0)
    client, headers = api_as("it_staff")
    base = {"name": "招标后合同", "department": ids.dept("FIN"), "project": project,
            "tender": tender, "amount": 100}
    response = client.post("/api/v1/contract/", headers=headers,
                           json={**base, "number": f"HT-V-{tender}", "vendor": ids.vendor(1)})
    assert response.status_code == 422
    assert "tender" in response.get_json()["message"]
    assert "中标" in _api_message(response)

    web = login_as("it_staff")
    data = {"csrf_token": form_token(web), "number": f"HT-W-{tender}", "name": "招标后合同",
            "department": ids.dept("FIN"), "project": project, "tender": tender,
            "vendor": ids.vendor(1), "amount": "100"}
    response = web.post("/contractview/add", data=data)
    assert response.status_code == 200
    assert any("中标" in text for text in flashes(response.get_data(as_text=True)))

    other_project = make("project", dept="FIN", status=_status("approved"))
    response = client.post("/api/v1/contract/", headers=headers, json={
        **base, "number": f"HT-P-{tender}", "vendor": ids.vendor(0),
        "project": other_project})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.query(Contract).filter_by(tender_id=tender).count() == 0

    response = web.post("/contractview/add", data={**data, "vendor": ids.vendor(0)})
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.query(Contract).filter_by(tender_id=tender).count() == 1


def test_a_contract_cannot_name_a_tender_not_yet_awarded(app, api_as, make, ids):
    tender, project = _tender_of(app, make)
    client, headers = api_as("it_staff")
    response = client.post("/api/v1/contract/", headers=headers, json={
        "number": f"HT-N-{tender}", "name": "未定标合同", "department": ids.dept("FIN"),
        "project": project, "tender": tender, "vendor": ids.vendor(0), "amount": 100})
    assert response.status_code == 422
    assert "tender" in response.get_json()["message"]


# --------------------------------------------------------- 4.2 milestones, progress

def _milestone(make, project, **values):
    return make("milestone", project_id=project, **values)


def test_an_overdue_milestone_is_marked_on_the_project_page_and_listed_by_its_filter(
        app, login_as, make):
    today = dt.date.today()
    project = make("project", dept="FIN", status=_status("implementation"))
    late = _milestone(make, project, name="甲逾期的系统测试", due_on=today - dt.timedelta(days=3))
    due_today = _milestone(make, project, name="甲今日到期的部署", due_on=today)
    done = _milestone(make, project, name="甲已完成的设计", due_on=today - dt.timedelta(days=9),
                      done_on=today - dt.timedelta(days=10),
                      evidence_id=_attachment(app))
    client = login_as("clerk_fin")

    page = client.get(f"/projectrequestview/show/{project}").get_data(as_text=True)
    assert "overdue-milestones" in page and "甲逾期的系统测试" in page
    assert "甲今日到期的部署" not in page.split("overdue-milestones")[1].split("</div>")[0]
    assert f"/milestoneview/show/{late}" in page  # the tab of the project's milestones

    listing = f"/milestoneview/list/?_flt_0_name=甲&_flt_0_project={project}"
    badged = rows_with(client.get(listing).get_data(as_text=True), "已逾期")
    assert late in badged and due_today not in badged and done not in badged
    index = filter_index(client, "MilestoneView", "due_on", "已逾期")
    _count, shown = list_page(client, "MilestoneView",
                              f"_flt_{index}_due_on=y&_flt_0_name=甲逾期的系统测试")
    assert shown == {late}
    # The link of the project page's warning opens the same list.
    link = page.split("overdue-milestones")[1].split('href="')[1].split('"')[0]
    _count, shown = list_page(client, "MilestoneView", link.split("?", 1)[1]
                              .replace("&amp;", "&"))
    assert shown == {late}


def _attachment(app):
    import hashlib

    from app.base import Attachment
    from app.extensions import db

    with app.app_context():
        record = Attachment(filename="完成证明.pdf", content_type="application/pdf",
                            size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest(), data=PDF)
        db.session.add(record)
        db.session.commit()
        return record.id


def _milestone_form(app, pk, **changes):
    from app.procurement.models import Milestone

    stored = _get(app, Milestone, pk)
    data = {"project": stored["project_id"], "name": stored["name"],
            "kind": stored["kind"].name, "responsible": stored["responsible_id"],
            "due_on": stored["due_on"].isoformat(), "done_on": "", "description": ""}
    data.update(changes)
    return data


def test_a_milestone_is_done_with_its_done_date_and_evidence(app, login_as, api_as, make):
    from app.procurement.models import Milestone

    project = make("project", dept="FIN", status=_status("implementation"))
    pk = _milestone(make, project, name="部署上线", due_on=dt.date(2026, 6, 30))
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    client, headers = api_as("it_staff")
    response = client.put(f"/api/v1/milestone/{pk}", headers=headers,
                          json={"done_on": yesterday})
    assert response.status_code == 422
    assert "done_on" in response.get_json()["message"]

    web = login_as("it_staff")
    response = web.post(f"/milestoneview/edit/{pk}", data={
        "csrf_token": form_token(web), **_milestone_form(app, pk, done_on=yesterday)})
    assert response.status_code == 200
    assert any("证明" in text for text in flashes(response.get_data(as_text=True)))
    assert _get(app, Milestone, pk)["done_on"] is None

    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    response = web.post(f"/milestoneview/edit/{pk}", content_type="multipart/form-data",
                        data={"csrf_token": form_token(web),
                              **_milestone_form(app, pk, done_on=tomorrow),
                              "evidence_upload": (io.BytesIO(PDF), "部署记录.pdf")})
    assert response.status_code == 200
    assert _get(app, Milestone, pk)["done_on"] is None

    response = web.post(f"/milestoneview/edit/{pk}", content_type="multipart/form-data",
                        data={"csrf_token": form_token(web),
                              **_milestone_form(app, pk, done_on=yesterday),
                              "evidence_upload": (io.BytesIO(PDF), "部署记录.pdf")})
    assert response.status_code == 302, flashes(response.get_data(as_text=True))
    stored = _get(app, Milestone, pk)
    assert stored["done_on"] == dt.date.today() - dt.timedelta(days=1)
    assert stored["evidence_id"] is not None


def _start_acceptance_api(client, headers, project):
    return client.post(f"/api/v1/project_request/{project}/transition/start_acceptance",
                       headers=headers, json={})


def test_acceptance_is_refused_while_milestones_are_open_naming_them_then_allowed(
        app, login_as, api_as, make):
    from app.planning.models import ProjectRequest, ProjectStatus

    project = make("project", dept="FIN", status=_status("implementation"))
    first = _milestone(make, project, name="用户培训", due_on=dt.date(2026, 6, 1))
    second = _milestone(make, project, name="数据迁移", due_on=dt.date(2026, 5, 1))
    client, headers = api_as("it_staff")
    response = _start_acceptance_api(client, headers, project)
    assert response.status_code == 422
    message = response.get_json()["message"]
    assert "数据迁移" in message and "用户培训" in message
    assert message.index("数据迁移") < message.index("用户培训")  # by due date

    web = login_as("it_staff")
    response = web.post(f"/projectrequestview/transition/{project}/start_acceptance",
                        data={"csrf_token": form_token(web)})
    assert response.status_code == 422
    assert any("数据迁移" in text for text in flashes(response.get_data(as_text=True)))
    assert _get(app, ProjectRequest, project)["status"] is ProjectStatus.implementation

    evidence = _attachment(app)
    for pk in (first, second):
        response = client.put(f"/api/v1/milestone/{pk}", headers=headers,
                              json={"done_on": "2026-04-30"})
        assert response.status_code == 422  # no evidence yet: attached on the page
        _attach(app, pk, evidence)
        response = client.put(f"/api/v1/milestone/{pk}", headers=headers,
                              json={"done_on": "2026-04-30"})
        assert response.status_code == 200, response.get_json()
        if pk == first:
            response = _start_acceptance_api(client, headers, project)
            assert response.status_code == 422
            assert "数据迁移" in response.get_json()["message"]
            assert "用户培训" not in response.get_json()["message"]

    response = web.post(f"/projectrequestview/transition/{project}/start_acceptance",
                        data={"csrf_token": form_token(web)})
    assert response.status_code == 302
    assert _get(app, ProjectRequest, project)["status"] is ProjectStatus.acceptance


def _attach(app, pk, attachment):
    from app.extensions import db
    from app.procurement.models import Milestone

    with app.app_context():
        db.session.get(Milestone, pk).evidence_id = attachment
        db.session.commit()


def test_acceptance_without_milestones_is_allowed_on_the_api(app, api_as, make):
    project = make("project", dept="FIN", status=_status("implementation"))
    client, headers = api_as("it_staff")
    assert _start_acceptance_api(client, headers, project).status_code == 200


def test_milestones_and_progress_belong_to_an_initiated_project_not_closed(
        app, api_as, make, ids):
    client, headers = api_as("it_staff")
    for state, allowed in (("draft", False), ("closed", False), ("approved", True),
                           ("implementation", True)):
        project = make("project", dept="FIN", status=_status(state))
        response = client.post("/api/v1/milestone/", headers=headers, json={
            "project": project, "name": f"里程碑{state}", "kind": "testing",
            "responsible": ids.user("it_staff"), "due_on": "2026-12-31"})
        assert (response.status_code == 201) is allowed, (state, response.get_json())
        response = client.post("/api/v1/progress_report/", headers=headers, json={
            "project": project, "report_date": "2026-03-01", "summary": f"进展{state}",
            "percent_complete": 40, "reporter": ids.user("it_staff")})
        assert (response.status_code == 201) is allowed, (state, response.get_json())
    project = make("project", dept="FIN", status=_status("implementation"))
    response = client.post("/api/v1/progress_report/", headers=headers, json={
        "project": project, "report_date": "2026-03-01", "summary": "超过百分百",
        "percent_complete": 101, "reporter": ids.user("it_staff")})
    assert response.status_code == 422
    assert "percent_complete" in response.get_json()["message"]


def test_a_project_in_implementation_with_an_overdue_milestone_fails_4_2_2(app, make):
    from app.compliance import scorecard
    from app.extensions import db
    from app.organisation.models import InformationSystem
    from app.planning.models import ProjectRequest
    from app.procurement.models import Milestone

    system = make("system", dept="FIN")
    project = make("project", dept="FIN", status=_status("implementation"))
    with app.app_context():
        record = db.session.get(ProjectRequest, project)
        record.systems.append(db.session.get(InformationSystem, system))
        db.session.commit()
    late = _milestone(make, project, name="逾期上线", due_on=dt.date.today()
                      - dt.timedelta(days=2))

    def failing():
        with app.test_request_context():
            card = scorecard()
        return next(s for s in card["systems"] if s["id"] == system)["failing"]

    assert "milestones_on_time" in failing()
    with app.app_context():
        record = db.session.get(Milestone, late)
        record.done_on, record.evidence_id = dt.date.today(), _attachment(app)
        db.session.commit()
    assert "milestones_on_time" not in failing()


# ------------------------------------------------------------------------- scoping

def test_another_department_sees_neither_the_projects_tenders_nor_its_milestones(
        app, login_as, api_as, make, ids):
    tender, project = _tender_of(app, make)
    bid = _bid(make, tender, ids.vendor(0))
    milestone = _milestone(make, project, name="范围里程碑")
    report = make("progress_report", project_id=project)
    paths = {"tenderview": ("tender", tender), "bidview": ("bid", bid),
             "milestoneview": ("milestone", milestone),
             "progressreportview": ("progress_report", report)}
    outsider, insider = login_as("clerk_mkt"), login_as("head_fin")
    api, headers = api_as("clerk_mkt")
    for view, (resource, pk) in paths.items():
        assert outsider.get(f"/{view}/show/{pk}").status_code == 404, view
        assert api.get(f"/api/v1/{resource}/{pk}", headers=headers).status_code == 404
        assert insider.get(f"/{view}/show/{pk}").status_code == 200, view
    # The IT department's head reviews every tender: the IT department sees them all.
    assert login_as("it_head").get(f"/tenderview/show/{tender}").status_code == 200
    page = insider.get(f"/projectrequestview/show/{project}").get_data(as_text=True)
    assert f"/tenderview/show/{tender}" in page
    assert f"/milestoneview/show/{milestone}" in page
    assert f"/progressreportview/show/{report}" in page
