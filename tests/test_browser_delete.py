"""In a real browser: FAB's delete button (a confirmation, then a hidden POST form with
the CSRF token) still deletes now that only POST changes state."""
from conftest import PASSWORD


def test_the_delete_button_in_the_list_deletes_the_record_in_a_browser(browser, live_server,
                                                                      app, make):
    from app.extensions import db
    from app.models import Incident

    incident = make("incident", dept="FIN", title="浏览器删除测试故障")
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server + "/login/")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("input[type=submit], button[type=submit]")
        page.goto(live_server + "/incidentview/list/?_oc_IncidentView=id&_od_IncidentView=desc")
        page.click(f'[id="btn-delete-/incidentview/delete/{incident}"]')
        page.wait_for_selector("#modal-confirm-ok", state="visible")
        with page.expect_navigation():
            page.click("#modal-confirm-ok")
        assert "/incidentview/delete/" not in page.url
    finally:
        context.close()
    with app.app_context():
        assert db.session.get(Incident, incident) is None
