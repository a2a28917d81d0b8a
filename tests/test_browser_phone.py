"""On a phone (390 x 844, Chromium): the incident list keeps its key columns readable and
the page never scrolls sideways; the inbox shows what waits and opens the record."""
import tempfile
from pathlib import Path

import pytest

from conftest import PASSWORD

PHONE = {"width": 390, "height": 844}
SHOTS = Path(tempfile.gettempdir())  # screenshots of the last run, for a person to look at


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.base = live_server
    yield page
    context.close()


def sign_in(page, username):
    page.goto(page.base + "/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    body = page.evaluate("document.body.scrollWidth")
    assert width <= PHONE["width"] and body <= PHONE["width"], (width, body)


def visible_inside(page, locator):
    box = locator.bounding_box()
    assert locator.is_visible() and box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, box
    assert box["width"] >= 40, box  # wide enough to read
    # Nothing of it is clipped, except a long name cut with an ellipsis (full text on hover).
    clipped = locator.evaluate(
        "cell => [cell, ...cell.querySelectorAll('*')].some(e => !e.classList.contains('cut')"
        " && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')"
        " || cell.scrollWidth > cell.clientWidth + 1")
    assert not clipped, locator.inner_text()


def test_incident_list_on_a_phone_shows_name_state_and_date(phone, make):
    long_title = "核心账务系统夜间批处理作业长时间未完成导致次日开盘延迟" * 5
    make("incident", dept="FIN", title=long_title)
    sign_in(phone, "clerk_fin")
    phone.goto(phone.base + "/incidentview/list/")
    phone.screenshot(path=str(SHOTS / "incidents-390.png"), full_page=True)
    table = phone.locator(".readable-list table")
    for column in ("title", "status", "occurred_at"):
        visible_inside(phone, table.locator(f"th.col-{column}"))
        visible_inside(phone, table.locator(f"td.col-{column}").first)
    assert not table.locator("th.col-system").is_visible()  # secondary: hidden on a phone
    cut = table.locator("td.col-title .cut").first
    assert cut.get_attribute("title") == long_title  # the full text on hover
    no_sideways_scroll(phone)


def test_inbox_on_a_phone_lists_the_waiting_record_and_opens_it(phone, app, make):
    from app.extensions import db
    from app.planning.models import ProjectRequest, ProjectStatus

    project = make("project", dept="FIN", name="手机上待审批的项目" + "，名称很长" * 30,
                   status=ProjectStatus.dept_review)
    sign_in(phone, "head_fin")
    phone.goto(phone.base + "/inbox/?page=last")  # the newest records
    phone.screenshot(path=str(SHOTS / "inbox-390.png"), full_page=True)
    row = phone.locator("table.inbox tr", has_text="手机上待审批的项目")
    for cell in row.locator("td.col-key").all():
        visible_inside(phone, cell)
    no_sideways_scroll(phone)
    row.locator("a").first.click()
    phone.wait_for_url(f"**/projectrequestview/show/{project}")
    assert phone.locator(".workflow-panel").is_visible()
    no_sideways_scroll(phone)
