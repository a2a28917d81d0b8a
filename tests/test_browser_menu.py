"""In a real browser at 1366×768, the most common office screen: every heading of the menu
bar, the inbox and the user's own menu sit on one row for each everyday role, so nothing
hides behind a second row pushing the page down."""
import pytest

from conftest import PASSWORD

EVERYDAY = ["clerk_fin", "head_fin", "it_staff", "it_head", "manager", "auditor", "expert"]


@pytest.fixture(scope="module")
def context(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    yield context
    context.close()


@pytest.mark.parametrize("username", EVERYDAY)
def test_the_menu_bar_is_one_row_at_1366_pixels(context, live_server, username):
    context.clear_cookies()
    page = context.new_page()
    page.goto(live_server + "/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state()
    tops = page.evaluate("""() => Array.from(document.querySelectorAll(
        '.navbar-brand, .navbar-nav > li')).filter(e => e.offsetParent !== null)
        .map(e => [e.innerText.trim(), Math.round(e.getBoundingClientRect().top)])""")
    page.close()
    assert len(tops) > 8
    rows = {top for _text, top in tops}
    assert len(rows) == 1, tops
