"""In a real browser: FAB's delete button (a confirmation, then a hidden POST form with
the CSRF token) still deletes now that only POST changes state."""
from conftest import PASSWORD


def test_the_delete_button_in_the_list_deletes_the_record_in_a_browser(browser, live_server,
                                                                      app, make):
    from app.extensions import db
    from app.planning.models import ProjectRequest

    # A draft: after submission records leave by a workflow step, never by deletion.
    project = make("project", dept="FIN", name="浏览器删除测试项目")
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        page.goto(live_server + "/login/")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("input[type=submit], button[type=submit]")
        page.goto(live_server + "/projectrequestview/list/?_oc_ProjectRequestView=changed_on"
                  "&_od_ProjectRequestView=desc")
        page.click(f'[id="btn-delete-/projectrequestview/delete/{project}"]')
        page.wait_for_selector("#modal-confirm-ok", state="visible")
        with page.expect_navigation():
            page.click("#modal-confirm-ok")
        assert "/projectrequestview/delete/" not in page.url
    finally:
        context.close()
    with app.app_context():
        assert db.session.get(ProjectRequest, project) is None
