"""In a real browser: clerk_fin reports an incident with the browser's own date-time picker;
the time typed in Beijing time is stored as UTC and shown back in Beijing time (7.2.1)."""
import datetime as dt

from conftest import PASSWORD


def test_clerk_reports_an_incident_with_the_date_time_picker_in_local_time(page, app, ids):
    from app.extensions import db
    from app.operations.models import Incident

    page.goto(page.base + "/login/")
    page.fill("#username", "clerk_fin")
    page.fill("#password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")

    page.goto(page.base + "/incidentview/add")
    picker = page.locator("#occurred_at")
    assert picker.get_attribute("type") == "datetime-local"
    offered = picker.input_value()  # the default, valid as offered: now, to the minute
    assert len(offered) == 16 and offered[10] == "T"
    assert "__None" not in page.locator("#model_form").inner_text()
    assert page.locator("#reporter option:checked").inner_text().strip() == "王芳"

    page.fill("#title", "浏览器报告的打印故障")
    page.fill("#description", "三楼打印机无法连接")
    assert page.locator(".char-counter").first.inner_text() == "9 / 50000"
    page.evaluate("([id, v]) => { $('#' + id).val(String(v)).trigger('change'); }",
                  ["system", ids.system("FIN-GL")])
    picker.fill("2026-11-28T09:05")
    page.click("#model_form button[type=submit]")
    page.wait_for_load_state()

    with app.app_context():
        incident = db.session.query(Incident).filter_by(title="浏览器报告的打印故障").one()
        assert incident.occurred_at == dt.datetime(2026, 11, 28, 1, 5)  # UTC
        assert incident.reporter.username == "clerk_fin"
        pk = incident.id
    page.goto(page.base + f"/incidentview/show/{pk}")
    assert "2026-11-28 09:05" in page.locator("body").inner_text()
    page.goto(page.base + f"/incidentview/edit/{pk}")
    assert page.locator("#occurred_at").input_value() == "2026-11-28T09:05"
