"""In a real browser (Debian's Chromium): a finance clerk signs in, sees the Chinese menu,
creates an information system and finds it in the list."""
import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]

if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def page(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.base = live_server
        yield page
        browser.close()


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
        from app.extensions import db
        from app.models import AppUser, InformationSystem

        system = db.session.query(InformationSystem).filter_by(code="BR-TEST-01").one()
        clerk = db.session.query(AppUser).filter_by(username="clerk_fin").one()
        assert system.owning_department_id == clerk.department_id
        assert system.created_by_fk == clerk.id
