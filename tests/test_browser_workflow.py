"""In a real browser: a project request goes from draft to 立项 (approved) through five
accounts pressing the real buttons (3.2.1–3.2.5)."""
from conftest import PASSWORD

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


class Session:
    """One person at their own browser."""

    def __init__(self, browser, base, username):
        self.context = browser.new_context(viewport={"width": 1366, "height": 900})
        self.page = self.context.new_page()
        self.base = base
        self.page.goto(base + "/login/")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("#model_form button[type=submit], form input[type=submit]")

    def open(self, path):
        self.page.goto(self.base + path)

    def press(self, transition, comment=""):
        if comment:
            self.page.fill("textarea[name=comment]", comment)
        self.page.click(f"button[data-transition='{transition}']")
        self.page.wait_for_load_state()

    def state(self):
        return self.page.locator(".workflow-state").inner_text().strip()

    def choose(self, select_id, value):
        """Pick a value in a select2 dropdown."""
        self.page.evaluate("([id, v]) => { $('#' + id).val(String(v)).trigger('change'); }",
                           [select_id, value])

    def save_form(self):
        self.page.click("#model_form button[type=submit]")
        self.page.wait_for_load_state()

    def close(self):
        self.context.close()


def test_project_request_goes_from_draft_to_approved_through_five_accounts(
        live_server, browser, app, ids, tmp_path):
    from app.base import Approval
    from app.extensions import db
    from app.planning.models import ProjectRequest

    report = tmp_path / "需求分析报告.pdf"
    report.write_bytes(PDF)
    feasibility = tmp_path / "可行性研究报告.pdf"
    feasibility.write_bytes(PDF)

    # 1. The finance clerk drafts the request with its requirements report and submits it.
    clerk = Session(browser, live_server, "clerk_fin")
    clerk.open("/projectrequestview/add")
    page = clerk.page
    page.fill("#name", "浏览器流程测试项目")
    page.fill("#background", "月末结账效率低")
    page.fill("#goals", "结账周期缩短一半")
    page.fill("#content", "建设自动对账功能")
    page.fill("#budget", "300000")
    page.fill("#implementation_plan", "三个月完成")
    page.set_input_files("#requirements_report_upload", str(report))
    clerk.save_form()
    with app.app_context():
        project_id = db.session.query(ProjectRequest.id).filter_by(
            name="浏览器流程测试项目").scalar()
    assert project_id, "the clerk's request was saved"
    clerk.open(f"/projectrequestview/show/{project_id}")
    assert "草稿" in clerk.state()
    clerk.press("submit")
    assert "部门审批" in clerk.state()
    assert not page.locator("button[data-transition='approve']").count()  # clerks never approve
    clerk.close()

    # 2. The finance department head approves for the department.
    head = Session(browser, live_server, "head_fin")
    head.open("/inbox/?page=last")  # the newest records
    assert "浏览器流程测试项目" in head.page.locator("table.inbox").inner_text()
    head.open(f"/projectrequestview/show/{project_id}")
    head.press("approve")
    assert "初审" in head.state()
    head.close()

    # 3. IT passes the preliminary review and assigns the expert panel.
    it = Session(browser, live_server, "it_staff")
    it.open(f"/projectrequestview/show/{project_id}")
    it.press("approve")
    assert "论证评审" in it.state()
    # The panel is chosen on the project's page (several experts at once).
    it.page.check(f".assign-experts input[value='{ids.user('expert')}']")
    it.page.click(".assign-experts button[type=submit]")
    it.page.wait_for_load_state()
    it.close()

    with app.app_context():
        from app.planning.models import ExpertReview

        review_id = db.session.query(ExpertReview.id).filter_by(project_id=project_id).scalar()
    assert review_id, "IT assigned the expert"

    # 4. The expert declares no conflict of interest, scores and gives an opinion.
    expert = Session(browser, live_server, "expert")
    expert.open("/inbox/?page=last")  # the newest records
    assert "浏览器流程测试项目" in expert.page.locator("table.inbox").inner_text()
    review_url = f"{live_server}/expertreviewview/show/{review_id}"
    expert.page.goto(f"{live_server}/expertreviewview/edit/{review_id}")
    expert.page.check("#no_conflict")
    expert.page.fill("#score", "85")
    expert.page.fill("#opinion", "需求明确，方案可行，建议立项。")
    expert.save_form()
    expert.page.goto(review_url)
    expert.press("submit")
    assert "已提交" in expert.state() or "submitted" in expert.state().lower()
    expert.close()

    # 5. A second IT officer (not the one of the preliminary review) records the
    #    consolidated opinion and passes the review, then adds the feasibility study
    #    report and submits it to management.
    it = Session(browser, live_server, "it_staff2")
    it.open(f"/projectrequestview/edit/{project_id}")
    it.page.fill("#expert_opinion", "专家组一致同意：方案可行。")
    assert not it.page.locator("#budget").count()  # the applicant's content is not IT's
    it.save_form()
    it.open(f"/projectrequestview/show/{project_id}")
    it.press("approve")
    assert "可行性研究" in it.state()
    it.open(f"/projectrequestview/edit/{project_id}")
    it.page.set_input_files("#feasibility_report_upload", str(feasibility))
    it.save_form()
    it.open(f"/projectrequestview/show/{project_id}")
    it.press("submit_feasibility")
    assert "管理层审批" in it.state()
    it.close()

    # 6. Management approves: the project is initiated (立项).
    manager = Session(browser, live_server, "manager")
    manager.open(f"/projectrequestview/show/{project_id}")
    manager.press("approve")
    assert "已立项" in manager.state()
    approvals_tab = manager.page.locator("a[href='#Approvals']")
    approvals_tab.click()
    table = manager.page.locator("table.approvals").inner_text()
    for name in ("王芳", "李强", "周杰", "马丽", "陈总"):
        assert name in table
    manager.close()

    with app.app_context():
        rows = db.session.query(Approval).filter_by(record_type="ProjectRequest",
                                                    record_id=project_id).all()
        assert [a.to_state for a in rows] == [
            "dept_review", "it_review", "expert_review", "feasibility", "mgmt_review",
            "approved"]
