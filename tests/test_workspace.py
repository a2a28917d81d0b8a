"""The record page is the workspace: edit button, saving returns to the record, steps that
take the fields they need in one request (web and API), save-and-submit, the draft notice,
the step tracker with who acts next and the latest return reason, confirmation of terminal
steps, the stamps of the incident steps, attached files on edit forms."""
import hashlib
import html as htmllib
import io
import re

import pytest

from webhelpers import flashes, form_token, row

PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
       b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")


def text(response):
    return htmllib.unescape(response.get_data(as_text=True))


def messages(response):
    return [htmllib.unescape(m) for m in flashes(response.get_data(as_text=True))]


def project_form(ids, name, **extra):
    return {"name": name, "applicant_department": ids.dept("FIN"), "background": "b",
            "goals": "g", "content": "c", "budget": "1000", "implementation_plan": "p",
            **extra}


def set_state(app, model, pk, **values):
    from app.extensions import db

    with app.app_context():
        record = db.session.get(model, pk)
        for key, value in values.items():
            setattr(record, key, value)
        db.session.commit()


def version_of(app, model, pk):
    return row(app, model, pk)["version"]


def project_id(app, name):
    from app.extensions import db
    from app.planning.models import ProjectRequest

    with app.app_context():
        return db.session.query(ProjectRequest.id).filter_by(name=name).scalar()


# ------------------------------------------------------------ incident steps

def test_starting_an_incident_makes_the_actor_its_handler(app, login_as, make, ids):
    from app.operations.models import Incident

    pk = make("incident")
    client = login_as("it_staff")
    response = client.post(f"/incidentview/transition/{pk}/start",
                           data={"csrf_token": form_token(client)})
    assert response.status_code == 302
    stored = row(app, Incident, pk)
    assert stored["status"].name == "in_progress"
    assert stored["assignee_id"] == ids.user("it_staff")


def test_resolving_an_incident_writes_root_cause_and_resolution_and_stamps_the_time(
        app, login_as, make):
    from app.operations.models import Incident

    pk = make("incident")
    client = login_as("it_staff")
    token = form_token(client)
    client.post(f"/incidentview/transition/{pk}/start", data={"csrf_token": token})
    response = client.post(f"/incidentview/transition/{pk}/resolve", data={
        "csrf_token": token, "step_form": "resolve", "root_cause": "磁盘写满",
        "resolution": "清理日志并扩容"})
    assert response.status_code == 302
    stored = row(app, Incident, pk)
    assert stored["status"].name == "resolved"
    assert (stored["root_cause"], stored["resolution"]) == ("磁盘写满", "清理日志并扩容")
    assert stored["resolved_at"] is not None and stored["resolved_at"] >= stored["occurred_at"]
    assert stored["closed_at"] is None

    # The reporting department closes it: closing is stamped, the page shows the time taken.
    clerk = login_as("clerk_fin")
    response = clerk.post(f"/incidentview/transition/{pk}/close",
                          data={"csrf_token": form_token(clerk)})
    assert response.status_code == 302
    stored = row(app, Incident, pk)
    assert stored["status"].name == "closed" and stored["closed_at"] is not None
    page = text(clerk.get(f"/incidentview/show/{pk}"))
    assert "解决用时" in page and re.search(r"\d+ 天 \d+ 小时 \d+ 分钟", page)


def test_a_refused_resolve_keeps_what_was_typed_and_marks_what_is_missing(
        app, login_as, make):
    from app.operations.models import Incident

    pk = make("incident")
    client = login_as("it_staff")
    token = form_token(client)
    client.post(f"/incidentview/transition/{pk}/start", data={"csrf_token": token})
    response = client.post(f"/incidentview/transition/{pk}/resolve", data={
        "csrf_token": token, "step_form": "resolve", "root_cause": "网络抖动：交换机故障",
        "resolution": "", "comment": "我的备注不要丢"})
    assert response.status_code == 422
    page = text(response)
    assert "网络抖动：交换机故障" in page and "我的备注不要丢" in page
    assert "此步骤需要填写此项。" in page
    assert any("根本原因" in m or "解决方案" in m or "请先" in m for m in messages(response))
    stored = row(app, Incident, pk)
    assert stored["status"].name == "in_progress"
    assert stored["root_cause"] is None and stored["resolved_at"] is None


def test_the_api_resolves_an_incident_with_its_fields_in_the_body(app, api_as, make, ids):
    from app.operations.models import Incident

    pk = make("incident")
    client, headers = api_as("it_staff")
    response = client.post(f"/api/v1/incident/{pk}/transition/start", json={},
                           headers=headers)
    assert response.status_code == 200
    assert row(app, Incident, pk)["assignee_id"] == ids.user("it_staff")
    shown = client.get(f"/api/v1/incident/{pk}", headers=headers).get_json()
    assert {"name": "resolve", "fields": ["root_cause", "resolution"]}.items() <= \
        next(t for t in shown["transitions"] if t["name"] == "resolve").items()

    # A field the step does not take: refused, nothing changes.
    response = client.post(f"/api/v1/incident/{pk}/transition/resolve", headers=headers,
                           json={"root_cause": "x", "resolution": "y", "title": "改名"})
    assert response.status_code == 422 and "title" in response.get_json()["message"]
    assert row(app, Incident, pk)["status"].name == "in_progress"

    response = client.post(f"/api/v1/incident/{pk}/transition/resolve", headers=headers,
                           json={"root_cause": "配置错误", "resolution": "回滚配置"})
    assert response.status_code == 200, response.get_json()
    stored = row(app, Incident, pk)
    assert stored["status"].name == "resolved" and stored["root_cause"] == "配置错误"
    assert stored["resolved_at"] is not None


def test_the_api_refuses_step_fields_from_someone_who_may_not_take_the_step(
        app, api_as, make):
    from app.operations.models import Incident

    pk = make("incident")
    set_state(app, Incident, pk, status=Incident.__workflow__.states.in_progress)
    client, headers = api_as("clerk_fin")
    response = client.post(f"/api/v1/incident/{pk}/transition/resolve", headers=headers,
                           json={"root_cause": "x", "resolution": "y"})
    assert response.status_code == 403
    assert row(app, Incident, pk)["root_cause"] is None


# ------------------------------------------------------------- expert review

@pytest.fixture
def assigned_review(app, make, ids):
    """A FIN project in expert review with a review assigned to ``expert``."""
    from app.base import AppUser
    from app.extensions import db
    from app.planning.models import ExpertReview, ProjectRequest, ProjectStatus

    pk = make("project", status=ProjectStatus.expert_review)
    with app.app_context():
        project = db.session.get(ProjectRequest, pk)
        review = ExpertReview(project=project,
                              expert=db.session.get(AppUser, ids.user("expert")))
        db.session.add(review)
        db.session.commit()
        return pk, review.id


def test_the_expert_declares_scores_and_gives_an_opinion_in_one_step(
        app, login_as, assigned_review):
    from app.planning.models import ExpertReview

    _project, pk = assigned_review
    client = login_as("expert")
    page = text(client.get(f"/expertreviewview/show/{pk}"))
    # The fields are beside the step's button on the review page.
    assert 'name="no_conflict"' in page and 'name="score"' in page and 'name="opinion"' in page
    response = client.post(f"/expertreviewview/transition/{pk}/submit", data={
        "csrf_token": form_token(client), "step_form": "submit", "no_conflict": "y",
        "score": "85", "opinion": "方案可行", "comment": "已阅"})
    assert response.status_code == 302
    stored = row(app, ExpertReview, pk)
    assert stored["status"].name == "submitted"
    assert (stored["no_conflict"], stored["score"], stored["opinion"]) == (True, 85, "方案可行")


@pytest.mark.parametrize("typed, missing", [
    ({"score": "85", "opinion": "方案可行"}, "利益冲突"),  # no declaration
    ({"no_conflict": "y", "score": "150", "opinion": "方案可行"}, "100"),  # out of range
    ({"no_conflict": "y", "score": "", "opinion": "方案可行"}, "此步骤需要填写此项。"),
])
def test_a_refused_expert_step_keeps_everything_typed_and_says_what_is_missing(
        app, login_as, assigned_review, typed, missing):
    from app.planning.models import ExpertReview

    _project, pk = assigned_review
    client = login_as("expert")
    response = client.post(f"/expertreviewview/transition/{pk}/submit", data={
        "csrf_token": form_token(client), "step_form": "submit", **typed})
    assert response.status_code == 422
    page = text(response)
    assert "方案可行" in page and missing in page
    stored = row(app, ExpertReview, pk)
    assert stored["status"].name == "assigned" and stored["opinion"] is None


def test_it_records_the_consolidated_opinion_and_passes_the_review_in_one_step(
        app, login_as, assigned_review):
    from app.planning.models import ExpertReview, ProjectRequest, ReviewStatus

    project, review = assigned_review
    set_state(app, ExpertReview, review, status=ReviewStatus.submitted, no_conflict=True,
              score=90, opinion="好")
    client = login_as("it_staff")
    page = text(client.get(f"/projectrequestview/show/{project}"))
    assert 'name="expert_opinion"' in page
    response = client.post(f"/projectrequestview/transition/{project}/approve", data={
        "csrf_token": form_token(client), "step_form": "approve",
        "expert_opinion": "专家组一致同意"})
    assert response.status_code == 302
    stored = row(app, ProjectRequest, project)
    assert stored["status"].name == "feasibility" and stored["expert_opinion"] == "专家组一致同意"

    # Feasibility: the report is uploaded with the step.
    response = client.post(
        f"/projectrequestview/transition/{project}/submit_feasibility",
        content_type="multipart/form-data",
        data={"csrf_token": form_token(client), "step_form": "submit_feasibility",
              "feasibility_report_upload": (io.BytesIO(PDF), "可行性报告.pdf")})
    assert response.status_code == 302
    stored = row(app, ProjectRequest, project)
    assert stored["status"].name == "mgmt_review" and stored["feasibility_report_id"]


# ---------------------------------------------- edit button, saving, save and submit

@pytest.mark.parametrize("user, sees_edit", [
    ("clerk_fin", True), ("head_fin", True), ("it_staff", False), ("manager", False)])
def test_the_record_page_has_an_edit_button_for_whoever_may_edit(
        login_as, make, user, sees_edit):
    pk = make("project")
    page = text(login_as(user).get(f"/projectrequestview/show/{pk}"))
    assert ('class="btn btn-primary btn-sm edit-record"' in page) is sees_edit


def test_saving_an_edit_returns_to_the_record_page(app, login_as, make, ids):
    pk = make("project")
    client = login_as("clerk_fin")
    response = client.post(f"/projectrequestview/edit/{pk}", data={
        **project_form(ids, "返回记录页的项目"), "csrf_token": form_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/projectrequestview/show/{pk}")
    page = text(client.get(response.headers["Location"]))
    assert "尚未提交" in page  # still a draft


def test_saving_a_new_request_returns_to_it_and_says_it_is_still_a_draft(app, login_as, ids):
    client = login_as("clerk_fin")
    response = client.post("/projectrequestview/add", data={
        **project_form(ids, "草稿提示项目"), "csrf_token": form_token(client)})
    assert response.status_code == 302
    pk = project_id(app, "草稿提示项目")
    assert response.headers["Location"].endswith(f"/projectrequestview/show/{pk}")
    shown = client.get(response.headers["Location"])
    assert any("尚未提交" in m and "草稿" in m for m in messages(shown))


def test_the_add_form_offers_save_and_submit(login_as):
    page = text(login_as("clerk_fin").get("/projectrequestview/add"))
    assert 'name="and_submit"' in page and "保存并提交" in page


def test_save_and_submit_saves_and_submits_in_one_go(app, login_as, ids):
    from app.planning.models import ProjectRequest

    client = login_as("clerk_fin")
    response = client.post("/projectrequestview/add", content_type="multipart/form-data",
                           data={**project_form(ids, "一次提交项目"), "and_submit": "1",
                                 "csrf_token": form_token(client),
                                 "requirements_report_upload": (io.BytesIO(PDF), "需求.pdf")})
    assert response.status_code == 302
    pk = project_id(app, "一次提交项目")
    assert row(app, ProjectRequest, pk)["status"].name == "dept_review"


def test_save_and_submit_without_the_report_keeps_a_draft_and_says_why(app, login_as, ids):
    from app.planning.models import ProjectRequest

    client = login_as("clerk_fin")
    response = client.post("/projectrequestview/add", data={
        **project_form(ids, "缺报告项目"), "and_submit": "1", "csrf_token": form_token(client)})
    assert response.status_code == 302
    pk = project_id(app, "缺报告项目")
    assert row(app, ProjectRequest, pk)["status"].name == "draft"
    shown = client.get(response.headers["Location"])
    assert any("未提交" in m and "需求分析报告" in m for m in messages(shown))


# --------------------------------------------------- tracker, who acts next, reason

def test_the_tracker_shows_every_state_where_the_record_stands_and_who_acts_next(
        app, login_as, make):
    from app.planning.models import ProjectRequest, ProjectStatus

    pk = make("project", status=ProjectStatus.dept_review)
    page = text(login_as("clerk_fin").get(f"/projectrequestview/show/{pk}"))
    tracker = page[page.index('class="step-tracker"'):page.index("</ol>")]
    states = re.findall(r'<span class="label[^"]*">(?:<i[^>]*></i> )?([^<]+)</span>', tracker)
    with app.app_context():
        expected = [str(state) for state in ProjectRequest.__workflow__.main_path()]
    assert states == expected and len(states) == 11 and states[0] == "草稿"
    assert "已否决" not in tracker and "已退回" not in tracker
    assert 'step step-current"' in tracker and tracker.count("step-done") == 1
    nxt = page[page.index('class="next-actors"'):]
    nxt = nxt[:nxt.index("</div>")]
    assert "部门负责人" in nxt and 'title="head_fin"' in nxt
    assert 'title="clerk_fin"' not in nxt and 'title="head_mkt"' not in nxt


def test_who_acts_next_honours_separation_of_duties(app, login_as, make, ids):
    """head_fin submitted it: the department approval falls to nobody else in FIN."""
    from app.planning.models import ProjectStatus

    pk = make("project", status=ProjectStatus.dept_review,
              submitted_by_fk=ids.user("head_fin"))
    page = text(login_as("clerk_fin").get(f"/projectrequestview/show/{pk}"))
    nxt = page[page.index('class="next-actors"'):]
    nxt = nxt[:nxt.index("</div>")]
    assert 'title="head_fin"' not in nxt and "目前无人可以执行此步骤" in nxt


def test_the_latest_return_reason_is_at_the_top_of_the_page(app, login_as, make):
    from app.planning.models import ProjectStatus

    pk = make("project", status=ProjectStatus.dept_review)
    head = login_as("head_fin")
    response = head.post(f"/projectrequestview/transition/{pk}/return", data={
        "csrf_token": form_token(head), "comment": "预算依据不足，请补充"})
    assert response.status_code == 302
    page = text(login_as("clerk_fin").get(f"/projectrequestview/show/{pk}"))
    top = page[:page.index('class="nav nav-tabs"')]
    assert 'class="alert alert-warning latest-reason"' in top and "预算依据不足，请补充" in top


def test_terminal_steps_ask_for_confirmation_the_others_do_not(login_as, make):
    from app.planning.models import ProjectStatus

    pk = make("project", status=ProjectStatus.dept_review)
    page = text(login_as("head_fin").get(f"/projectrequestview/show/{pk}"))
    buttons = dict(re.findall(r'<button[^>]*data-transition="(\w+)"([^>]*)>', page))
    assert "data-confirm" in buttons["reject"]
    assert "data-confirm" not in buttons["approve"] and "data-confirm" not in buttons["return"]
    assert "/static/confirm.js" in page and "onclick" not in page


def test_a_step_without_comment_keeps_the_typed_fields_and_asks_for_the_comment(
        app, login_as, make):
    from app.planning.models import ProjectStatus

    pk = make("project", status=ProjectStatus.dept_review)
    head = login_as("head_fin")
    response = head.post(f"/projectrequestview/transition/{pk}/reject",
                         data={"csrf_token": form_token(head), "comment": "  "})
    assert response.status_code == 422
    assert "此步骤必须填写意见。" in messages(response)
    assert re.search(r'has-error">\s*<textarea name="comment"', text(response))


# ------------------------------------------------------------ attachments on edit forms

def test_the_edit_form_lists_attached_files_with_size_and_hash_and_can_replace_them(
        app, login_as, ids):
    from app.extensions import db
    from app.planning.models import ProjectRequest

    client = login_as("clerk_fin")
    client.post("/projectrequestview/add", content_type="multipart/form-data",
                data={**project_form(ids, "附件编辑项目"), "csrf_token": form_token(client),
                      "requirements_report_upload": (io.BytesIO(PDF), "需求报告.pdf")})
    pk = project_id(app, "附件编辑项目")
    page = text(client.get(f"/projectrequestview/edit/{pk}"))
    listing = page[page.index("attached-files"):]
    assert "需求报告.pdf" in listing and hashlib.sha256(PDF).hexdigest() in listing
    assert f"{len(PDF):,} 字节" in listing
    assert 'name="requirements_report_upload"' in page

    new = PDF.replace(b"/Count 0", b"/Count 0 /Edited true")
    response = client.post(f"/projectrequestview/edit/{pk}", content_type="multipart/form-data",
                           data={**project_form(ids, "附件编辑项目"),
                                 "csrf_token": form_token(client),
                                 "requirements_report_upload": (io.BytesIO(new), "新版.pdf")})
    assert response.status_code == 302
    with app.app_context():
        report = db.session.get(ProjectRequest, pk).requirements_report
        assert (report.filename, report.sha256) == ("新版.pdf", hashlib.sha256(new).hexdigest())


# ------------------------------------------------------------------ the engine's part

def test_the_engine_applies_a_steps_declared_effects_actor_and_now():
    import enum
    from types import SimpleNamespace

    from app.workflow import ACTOR, NOW, Actor, Identity, Transition, Workflow, fire

    class S(enum.Enum):
        new = "New"
        taken = "Taken"
        done = "Done"

    flow = Workflow(states=S, transitions=(
        Transition("take", "Take", (S.new,), S.taken, frozenset({"IT"}),
                   sets={"handler_id": ACTOR}),
        Transition("finish", "Finish", (S.taken,), S.done, frozenset({"IT"}),
                   sets={"done_at": NOW}),
    ))
    record = SimpleNamespace(status=S.new, handler_id=None, done_at=None)
    actor = Actor(Identity(7, "it", frozenset({"IT"}), 1))
    fire(flow, record, "take", actor)
    assert (record.status, record.handler_id, record.done_at) == (S.taken, 7, None)
    decision = fire(flow, record, "finish", actor)
    assert record.status is S.done and record.done_at == decision.at
    assert flow.main_path() == [S.new, S.taken, S.done]
    assert flow.terminal(flow.by_name("finish")[0]) and not flow.terminal(flow.by_name("take")[0])


def test_who_acts_next_names_the_qualified_people_and_leaves_out_the_submitter():
    from types import SimpleNamespace

    from app.planning.models import ProjectRequest, ProjectStatus
    from app.workflow import Identity, who_acts_next

    record = SimpleNamespace(status=ProjectStatus.dept_review, applicant_department_id=1,
                             submitted_by_fk=2, created_by_fk=2)
    people = [Identity(1, "clerk", frozenset({"Clerk"}), 1),
              Identity(2, "head who submitted", frozenset({"DeptHead"}), 1),
              Identity(3, "head", frozenset({"DeptHead"}), 1),
              Identity(4, "other head", frozenset({"DeptHead"}), 9)]
    steps = {t.name: [w.user_id for w in able]
             for t, able in who_acts_next(ProjectRequest.__workflow__, record, people)}
    # The submitter may not approve; returning and rejecting are not approvals.
    assert steps == {"approve": [3], "return": [2, 3], "reject": [2, 3]}


# --------------------------------------------------- more steps with their fields

def test_the_api_takes_the_experts_declaration_score_and_opinion_with_the_step(
        app, api_as, assigned_review):
    from app.planning.models import ExpertReview

    _project, pk = assigned_review
    client, headers = api_as("expert")
    response = client.post(f"/api/v1/expert_review/{pk}/transition/submit", headers=headers,
                           json={"no_conflict": True, "score": 101, "opinion": "可行"})
    assert response.status_code == 422 and "score" in response.get_json()["message"]
    assert row(app, ExpertReview, pk)["status"].name == "assigned"
    response = client.post(f"/api/v1/expert_review/{pk}/transition/submit", headers=headers,
                           json={"no_conflict": True, "score": 80, "opinion": "可行"})
    assert response.status_code == 200, response.get_json()
    stored = row(app, ExpertReview, pk)
    assert (stored["status"].name, stored["score"], stored["opinion"]) == ("submitted", 80, "可行")


def test_another_expert_cannot_write_a_review_through_its_step(app, api_as, login_as,
                                                                 assigned_review):
    from app.planning.models import ExpertReview

    _project, pk = assigned_review
    client, headers = api_as("expert2")
    response = client.post(f"/api/v1/expert_review/{pk}/transition/submit", headers=headers,
                           json={"no_conflict": True, "score": 80, "opinion": "代写"})
    assert response.status_code in (403, 404)
    web = login_as("expert2")
    response = web.post(f"/expertreviewview/transition/{pk}/submit", data={
        "csrf_token": form_token(web), "step_form": "submit", "no_conflict": "y",
        "score": "80", "opinion": "代写"})
    assert response.status_code in (403, 404)
    assert row(app, ExpertReview, pk)["opinion"] is None


def test_the_department_submits_a_findings_rectification_with_the_step(app, login_as, make):
    from app.audit.models import AuditFinding

    pk = make("finding")
    client = login_as("clerk_fin")
    page = text(client.get(f"/auditfindingview/show/{pk}"))
    assert 'name="rectification"' in page
    response = client.post(f"/auditfindingview/transition/{pk}/submit", data={
        "csrf_token": form_token(client), "step_form": "submit",
        "rectification": "已修订审批流程并完成培训"})
    assert response.status_code == 302
    stored = row(app, AuditFinding, pk)
    assert stored["status"].name == "rectification_submitted"
    assert stored["rectification"] == "已修订审批流程并完成培训"


def test_a_step_with_its_fields_is_one_change_in_the_history(app, login_as, make):
    from app.base import ChangeEntry
    from app.extensions import db
    from app.operations.models import Incident

    pk = make("incident", status=Incident.__workflow__.states.in_progress)
    with app.app_context():
        before = db.session.query(ChangeEntry).filter_by(record_type="Incident",
                                                         record_id=str(pk)).count()
    client = login_as("it_staff")
    response = client.post(f"/incidentview/transition/{pk}/resolve", data={
        "csrf_token": form_token(client), "step_form": "resolve", "root_cause": "根因",
        "resolution": "处理"})
    assert response.status_code == 302
    with app.app_context():
        after = db.session.query(ChangeEntry).filter_by(record_type="Incident",
                                                        record_id=str(pk)).count()
    assert after == before + 1


@pytest.mark.parametrize("user, sees_edit", [("it_staff", True), ("clerk_fin", False)])
def test_records_without_a_workflow_show_the_edit_button_to_writers_only(
        login_as, ids, user, sees_edit):
    page = text(login_as(user).get(f"/vendorview/show/{ids.vendor()}"))
    assert ('edit-record' in page) is sees_edit


def test_whoever_cannot_submit_is_neither_offered_save_and_submit_nor_told_to_submit(
        app, login_as, make, ids):
    """An auditor records a finding; its rectification is the department's to submit."""
    audit = make("audit")
    client = login_as("auditor")
    page = text(client.get("/auditfindingview/add"))
    assert "保存并提交" not in page
    response = client.post("/auditfindingview/add", data={
        "csrf_token": form_token(client), "audit": audit, "title": "审计发现-无提交提示",
        "description": "d", "severity": "medium", "responsible_department": ids.dept("FIN")})
    assert response.status_code == 302, messages(response)
    shown = client.get(response.headers["Location"])
    assert not any("尚未提交" in m for m in messages(shown))
