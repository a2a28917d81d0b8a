"""In a real browser (Debian's Chromium) under the Content-Security-Policy: the login page,
a list, a record page with its tabs, an add form with its date picker and select2
dropdown, and the inbox all work, and the browser reports no policy violation."""
import pytest

from conftest import PASSWORD

# Collects what the browser blocks, before any page script runs.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.fixture
def watched(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    page.base = live_server
    page.console = []
    page.errors = []
    page.on("console", lambda message: page.console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.failed = []
    page.on("response", lambda response: page.failed.append(response.url)
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    yield page
    context.close()


def no_violations(page, where):
    violations = page.evaluate("window.__violations || []")
    policy_messages = [m for m in page.console if "Content Security Policy" in m
                       or "Content-Security-Policy" in m]
    assert violations == [], (where, violations)
    assert policy_messages == [], (where, policy_messages)
    assert page.errors == [], (where, page.errors)
    assert page.failed == [], (where, page.failed)
    # the browser logs the favicon's 404 as an error too; anything else is a failure
    errors = [m for m in page.console if m.startswith("error")
              and "Failed to load resource" not in m]
    assert errors == [], (where, errors)


def test_screens_work_under_the_content_security_policy(watched, make):
    page = watched
    project = make("project", dept="FIN")

    page.goto(page.base + "/login/")
    no_violations(page, "login page")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("#model_form button[type=submit], form input[type=submit]")
    page.wait_for_load_state()
    assert "/login/" not in page.url
    no_violations(page, "home")

    page.goto(page.base + "/projectrequestview/list/")
    assert page.locator("table").count() > 0
    no_violations(page, "list")

    page.goto(page.base + f"/projectrequestview/show/{project}")
    tabs = page.locator("ul.nav-tabs > li > a")
    assert tabs.count() >= 2
    for n in range(tabs.count()):
        tab = tabs.nth(n)
        tab.click()
        target = tab.get_attribute("href")
        # Bootstrap's tab script ran: the chosen pane is shown
        assert page.locator(f".tab-pane{target}").evaluate(
            "el => el.classList.contains('active')"), target
    no_violations(page, "record page with tabs")

    page.goto(page.base + "/contractview/add")
    # the browser's own date picker (no script): a date typed in is taken as it is
    assert page.locator("#sign_date").get_attribute("type") == "date"
    page.fill("#sign_date", "2026-11-01")
    assert page.locator("#sign_date").input_value() == "2026-11-01"
    page.locator(".select2-container").first.click()
    page.locator(".select2-results").first.wait_for(state="visible", timeout=5000)
    page.keyboard.press("Escape")
    no_violations(page, "add form with the date input and select2")

    page.goto(page.base + "/inbox/")
    assert page.locator("table, .alert, .panel").count() > 0
    no_violations(page, "inbox")
