"""In a real browser, with the forms' own pickers and defaults: a single-source tender
written by the IT department and approved by Management (4.1.1, 4.1.2), and a
vulnerability marked fixed (6.2.2); the bad values each form refuses, and its message."""
from conftest import PASSWORD


def sign_in(page, username):
    page.context.clear_cookies()
    page.goto(page.base + "/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state()


def pick(page, field, label):
    """Choose an option of a select2 picker by clicking it, as a user does."""
    page.click(f"#{field} + .select2-container")
    page.locator(".select2-results li:visible", has_text=label).first.click()


def submit(page, button):
    with page.expect_navigation():
        page.click(f"button:text-is('{button}')")


def refusal(page):
    return page.locator("#model_form .has-error .help-block, .alert-danger").all_inner_texts()


def test_it_writes_a_single_source_tender_with_its_reason_and_management_approves_it(
        page, app, make):
    from app.extensions import db
    from app.planning.models import ProjectRequest, ProjectStatus
    from app.procurement.models import Tender, TenderStatus

    project_id = make("project", dept="IT", status=ProjectStatus.approved)
    with app.app_context():
        project_name = db.session.get(ProjectRequest, project_id).name

    sign_in(page, "it_staff")
    page.goto(page.base + "/tenderview/add")
    assert page.locator("#select2-method-container").get_attribute("title") == "公开招标"  # the default
    page.fill("#tender_number", "ZB-BROWSER-1")
    page.fill("#title", "原厂维保单一来源")
    pick(page, "project", project_name)
    pick(page, "method", "单一来源")
    submit(page, "保存并提交")
    assert "/tenderview/add" in page.url
    assert "单一来源采购须填写单一来源理由。" in refusal(page)

    page.fill("#justification", "原厂专有设备，仅原厂可提供维保")
    page.fill("#announcement_date", "2026-12-10")
    page.fill("#opening_date", "2026-12-01")
    submit(page, "保存并提交")
    assert "开标日期不能早于公告日期。" in refusal(page)
    with app.app_context():
        assert not db.session.query(Tender).filter_by(tender_number="ZB-BROWSER-1").count()

    page.fill("#opening_date", "2026-12-20")
    submit(page, "保存并提交")
    assert "/tenderview/show/" in page.url
    assert "管理层审批" in page.locator(".alert-success").last.inner_text()
    with app.app_context():
        tender = db.session.query(Tender).filter_by(tender_number="ZB-BROWSER-1").one()
        assert tender.status == TenderStatus.mgmt_review
        pk = tender.id

    sign_in(page, "manager")
    page.goto(page.base + "/inbox/")
    assert "原厂维保单一来源" in page.locator("body").inner_text()
    page.goto(page.base + f"/tenderview/show/{pk}")
    with page.expect_navigation():
        page.click(".workflow-form button[data-transition='approve']")
    with app.app_context():
        assert db.session.get(Tender, pk).status == TenderStatus.approved


def test_it_marks_a_vulnerability_fixed_only_with_its_fixed_date(page, app, make):
    from app.extensions import db
    from app.infosec.models import Vulnerability, VulnerabilityScan, VulnerabilityStatus

    scan_id = make("vulnerability_scan", dept="IT")
    with app.app_context():
        scan = db.session.get(VulnerabilityScan, scan_id)
        scan_label = scan.scanned_on.isoformat()
        system_name = scan.system.name

    sign_in(page, "it_staff")
    page.goto(page.base + "/vulnerabilityview/add")
    page.click("#scan + .select2-container")
    page.locator(".select2-results li:visible", has_text=system_name).filter(
        has_text=scan_label).first.click()
    page.fill("#title", "浏览器发现的弱口令")
    pick(page, "severity", "严重")
    pick(page, "status", "已修复")
    page.fill("#found_on", "2026-11-20")
    submit(page, "保存")
    assert "漏洞已修复时必须填写修复日期。" in refusal(page)

    page.fill("#fixed_on", "2026-11-01")
    submit(page, "保存")
    assert "/vulnerabilityview/add" in page.url and refusal(page)

    page.fill("#fixed_on", "2026-11-25")
    submit(page, "保存")
    assert "/vulnerabilityview/show/" in page.url
    with app.app_context():
        vulnerability = db.session.query(Vulnerability).filter_by(
            title="浏览器发现的弱口令").one()
        assert vulnerability.status == VulnerabilityStatus.fixed
        assert vulnerability.fixed_on.isoformat() == "2026-11-25"
