"""Journeys in a real browser on the record page as the workspace: each step is done on the
record's page with the fields it needs, in one click; saving returns to the record.

1. A project request from draft to 立项: save and submit, approval from 待我处理 on a phone
   screen (390x844), a panel of two experts each declaring, scoring and giving an opinion
   in one step, the consolidated opinion with the review step, the feasibility report
   with its step, management's approval.
2. An incident: reported, started (the handler is set), resolved with root cause and
   resolution in one step, closed by the reporting department (confirmation asked), who
   sees the time it took to resolve.
Every page is checked for raw error text and for being in Chinese; a screenshot of every
open page is kept (under the test's tmp dir) when a journey fails.
"""
import re

import pytest

from conftest import PASSWORD

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

RAW_ERRORS = ("Traceback", "Internal Server Error", "Exception", "IntegrityError",
              "sqlalchemy", "psycopg", "KeyError", "None</", "{{", "%(", "Bad Request")
# Our English msgids a page shows when its catalog entry is missing.
ENGLISH = re.compile(r"\b(Current state|Who acts next|Submit for approval|Save and submit|"
                     r"Approve|Reject|Return to|Comment|Start handling|Mark as resolved|"
                     r"Confirm and close|Draft|Edit|Attached files|Nothing for you)\b")
CJK = re.compile(r"[\u4e00-\u9fff]")


class Person:
    """One person at their own browser (a phone when ``phone``)."""

    def __init__(self, browser, base, username, pages, phone=False):
        viewport = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
        self.context = browser.new_context(viewport=viewport, locale="zh-CN")
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.dialogs = []
        self.base = base
        self.name = username
        pages.append(self)
        self.page.goto(base + "/login/")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("#model_form button[type=submit], form input[type=submit]")
        self.page.wait_for_load_state()
        self.check()

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.accept()

    def check(self):
        """No raw error text, and the page speaks Chinese."""
        body = self.page.locator("body").inner_text()
        for marker in RAW_ERRORS:
            assert marker not in body, f"{self.name}: raw error text {marker!r} on {self.page.url}"
        assert CJK.search(body), f"{self.name}: no Chinese on {self.page.url}"
        english = ENGLISH.search(body)
        assert english is None, f"{self.name}: untranslated {english.group(0)!r} on {self.page.url}"

    def open(self, path):
        self.page.goto(self.base + path)
        self.page.wait_for_load_state()
        self.check()

    def press(self, transition, comment=""):
        if comment:
            self.page.fill("textarea[name=comment]", comment)
        self.page.click(f"button[data-transition='{transition}']")
        self.page.wait_for_load_state()
        self.check()

    def state(self):
        return self.page.locator(".workflow-state").inner_text().strip()

    def choose(self, select_id, value):
        """Pick a value in a select2 dropdown."""
        self.page.evaluate("([id, v]) => { $('#' + id).val(String(v)).trigger('change'); }",
                           [select_id, value])

    def close(self):
        self.context.close()


@pytest.fixture
def people(browser, live_server, tmp_path):
    """Opens browsers for people; on failure keeps a screenshot of every open page."""
    opened = []

    def open_for(username, phone=False):
        return Person(browser, live_server, username, opened, phone=phone)

    open_for.opened = opened
    yield open_for
    for person in opened:
        try:
            person.close()
        except Exception:  # noqa: BLE001 - already closed
            pass


def shoot_on_failure(people, tmp_path):
    for person in people.opened:
        try:
            if not person.page.is_closed():
                person.page.screenshot(path=str(tmp_path / f"{person.name}.png"),
                                       full_page=True)
        except Exception:  # noqa: BLE001
            pass


def test_project_request_journey_on_the_record_pages(live_server, people, app, ids, tmp_path):
    try:
        _project_journey(people, app, ids, tmp_path)
    except BaseException:
        shoot_on_failure(people, tmp_path)
        raise


def _project_journey(people, app, ids, tmp_path):
    from app.extensions import db
    from app.planning.models import ExpertReview, ProjectRequest

    report = tmp_path / "需求分析报告.pdf"
    report.write_bytes(PDF)
    feasibility = tmp_path / "可行性研究报告.pdf"
    feasibility.write_bytes(PDF)
    name = "工作台流程测试项目"

    # 1. The clerk writes the request with its requirements report: 保存并提交.
    clerk = people("clerk_fin")
    clerk.open("/projectrequestview/add")
    page = clerk.page
    page.fill("#name", name)
    page.fill("#background", "月末结账效率低")
    page.fill("#goals", "结账周期缩短一半")
    page.fill("#content", "建设自动对账功能")
    page.fill("#budget", "300000")
    page.fill("#implementation_plan", "三个月完成")
    page.set_input_files("#requirements_report_upload", str(report))
    page.click("button[name=and_submit]")
    page.wait_for_load_state()
    clerk.check()
    assert "/projectrequestview/show/" in page.url  # back on the record, not the list
    assert "部门审批" in clerk.state()
    tracker = page.locator(".step-tracker").inner_text()
    assert tracker.index("草稿") < tracker.index("部门审批") < tracker.index("已立项")
    assert page.locator(".next-actors .next-person[title='head_fin']").count() == 1
    clerk.close()
    with app.app_context():
        project_id = db.session.query(ProjectRequest.id).filter_by(name=name).scalar()

    # 2. The department head approves from 待我处理, on a phone.
    head = people("head_fin", phone=True)
    head.open("/inbox/?page=last")  # the newest records
    head.page.locator("table.inbox a", has_text=name).click()
    head.page.wait_for_load_state()
    head.check()
    button = head.page.locator("button[data-transition='approve']")
    assert button.is_visible()
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # reachable without scrolling sideways
    head.press("approve")
    assert "初审" in head.state()
    head.close()

    # 3. IT passes the preliminary review and assigns a panel of two experts.
    it = people("it_staff")
    it.open(f"/projectrequestview/show/{project_id}")
    it.press("approve")
    assert "论证评审" in it.state()
    for expert in ("expert", "expert2"):
        it.page.check(f".assign-experts input[value='{ids.user(expert)}']")
    it.page.click(".assign-experts button[type=submit]")
    it.page.wait_for_load_state()
    it.check()
    it.close()

    # 4. Each expert declares, scores and gives an opinion on the review page, in one step.
    for expert, score in (("expert", "85"), ("expert2", "90")):
        person = people(expert)
        person.open("/inbox/?page=last")  # the newest records
        person.page.locator("table.inbox a", has_text=name).click()
        person.page.wait_for_load_state()
        person.check()
        fields = person.page.locator("fieldset.step-fields[data-step='submit']")
        fields.locator("#no_conflict").check()
        fields.locator("#score").fill(score)
        fields.locator("#opinion").fill("需求明确，方案可行，建议立项。")
        person.press("submit")
        assert "意见已提交" in person.state()
        person.close()
    with app.app_context():
        reviews = db.session.query(ExpertReview).filter_by(project_id=project_id).all()
        assert sorted((r.score, r.no_conflict, r.status.name) for r in reviews) == [
            (85, True, "submitted"), (90, True, "submitted")]

    # 5. A second IT officer records the consolidated opinion with the review step, then
    #    uploads the feasibility report with its step.
    it2 = people("it_staff2")
    it2.open(f"/projectrequestview/show/{project_id}")
    it2.page.locator("fieldset.step-fields[data-step='approve'] #expert_opinion").fill(
        "专家组一致同意：方案可行。")
    it2.press("approve")
    assert "可行性研究" in it2.state()
    it2.page.set_input_files(
        "fieldset.step-fields[data-step='submit_feasibility'] #feasibility_report_upload",
        str(feasibility))
    it2.press("submit_feasibility")
    assert "管理层审批" in it2.state()
    it2.close()

    # 6. Management approves: 立项.
    manager = people("manager")
    manager.open(f"/projectrequestview/show/{project_id}")
    manager.press("approve")
    assert "已立项" in manager.state()
    manager.close()
    with app.app_context():
        project = db.session.get(ProjectRequest, project_id)
        assert project.expert_opinion == "专家组一致同意：方案可行。"
        assert project.feasibility_report is not None
        assert project.status.name == "approved"


def test_incident_journey_on_the_record_page(live_server, people, app, ids, tmp_path):
    try:
        _incident_journey(people, app, ids, tmp_path)
    except BaseException:
        shoot_on_failure(people, tmp_path)
        raise


def _incident_journey(people, app, ids, tmp_path):
    from app.extensions import db
    from app.operations.models import Incident

    title = "工作台故障：总账凭证无法过账"
    clerk = people("clerk_fin")
    clerk.open("/incidentview/add")
    page = clerk.page
    page.fill("#title", title)
    clerk.choose("system", ids.system("FIN-GL"))
    clerk.choose("reporting_department", ids.dept("FIN"))
    page.fill("#description", "过账时提示超时")
    # (the date-time picker is the form widgets' part; the time is typed here)
    page.evaluate("document.getElementById('occurred_at').value = '2026-11-30 08:00:00'")
    page.click("#model_form button[type=submit]")
    page.wait_for_load_state()
    clerk.check()
    assert "/incidentview/show/" in page.url, page.locator(".alert, .help-block").all_inner_texts()
    incident_id = int(page.url.rstrip("/").split("/")[-1])
    assert "已报告" in clerk.state()

    # IT starts handling: the handler is set to whoever started.
    it = people("it_staff")
    it.open(f"/incidentview/show/{incident_id}")
    it.press("start")
    assert "处理中" in it.state()
    with app.app_context():
        assert db.session.get(Incident, incident_id).assignee_id == ids.user("it_staff")
    # A resolve without the resolution keeps the root cause typed and says what is missing.
    fields = it.page.locator("fieldset.step-fields[data-step='resolve']")
    fields.locator("#root_cause").fill("数据库连接池耗尽")
    it.press("resolve")
    assert it.page.locator("fieldset.step-fields #root_cause").input_value() == "数据库连接池耗尽"
    assert "此步骤需要填写此项" in it.page.locator("fieldset.step-fields").inner_text()
    assert "处理中" in it.state()
    it.page.locator("fieldset.step-fields[data-step='resolve'] #resolution").fill(
        "扩大连接池并修复连接泄漏")
    it.press("resolve")
    assert "已解决" in it.state()
    it.close()

    # The reporting department confirms and closes (asked to confirm: it cannot be undone).
    clerk.open(f"/incidentview/show/{incident_id}")
    clerk.press("close")
    assert clerk.dialogs and "无法撤销" in clerk.dialogs[-1]
    assert "已关闭" in clerk.state()
    detail = clerk.page.locator("#Home").inner_text()
    assert "解决用时" in detail and re.search(r"\d+ 天 \d+ 小时 \d+ 分钟", detail)
    with app.app_context():
        incident = db.session.get(Incident, incident_id)
        assert incident.resolved_at is not None and incident.closed_at is not None
        assert incident.root_cause == "数据库连接池耗尽"
