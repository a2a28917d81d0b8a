"""In a real browser (Debian's Chromium): a finance clerk signs in, sees the Chinese menu,
creates an information system and finds it in the list."""
import pytest

from conftest import PASSWORD


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.base = live_server
    yield page
    context.close()


def test_clerk_creates_a_system_in_the_chinese_ui_and_finds_it_in_the_list(page, app):
    page.goto(page.base + "/login/")
    page.fill("#username", "clerk_fin")
    page.fill("#password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")

    menu = page.locator(".navbar").text_content()
    assert "立项申请" in menu and "供应商" in menu
    assert "Project requests" not in menu

    page.goto(page.base + "/informationsystemview/add")
    page.fill("#code", "BR-TEST-01")
    page.fill("#name", "浏览器测试系统")
    page.fill("#protection_level", "3")
    page.click("#model_form button[type=submit]")

    page.goto(page.base + "/informationsystemview/list/?_flt_0_code=BR-TEST-01")
    table = page.locator("table").last.inner_text()
    assert "浏览器测试系统" in table
    assert "财务部" in table  # assigned to the clerk's own department

    with app.app_context():
        from app.base import AppUser
        from app.extensions import db
        from app.organisation.models import InformationSystem

        system = db.session.query(InformationSystem).filter_by(code="BR-TEST-01").one()
        clerk = db.session.query(AppUser).filter_by(username="clerk_fin").one()
        assert system.owning_department_id == clerk.department_id
        assert system.created_by_fk == clerk.id
