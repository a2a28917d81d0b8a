"""In a real browser, in Chinese: an operation log entry's page names its clauses
(依据制度条款 5.1.1、5.1.2、5.1.3、5.1.4), each clause's text on hover, the texts
shown when the line is opened (the regulation's text from app/regulation.py)."""
import os

from conftest import PASSWORD

SCREENSHOT = os.environ.get("RECORD_CLAUSES_SCREENSHOT")  # a path to keep a screenshot


def test_the_operation_log_page_names_its_clauses_with_their_text(page, app):
    from app.extensions import db
    from app.operations.models import OperationLog
    from app.regulation import CLAUSES

    with app.app_context():
        pk = db.session.query(OperationLog.id).order_by(OperationLog.id).limit(1).scalar()
    page.goto(page.base + "/login/")
    page.fill("#username", "it_head")
    page.fill("#password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.goto(page.base + f"/operationlogview/show/{pk}")
    summary = page.locator("details.record-clauses summary")
    assert summary.inner_text().strip() == "依据制度条款 5.1.1、5.1.2、5.1.3、5.1.4"
    assert page.locator('.record-clause[data-clause="5.1.4"]').get_attribute("title") \
        == CLAUSES["5.1.4"].zh
    texts = page.locator("details.record-clauses .clause-text")
    assert not texts.first.is_visible()  # closed until asked
    summary.click()
    assert texts.first.is_visible()
    assert texts.nth(3).inner_text() == CLAUSES["5.1.4"].zh
    if SCREENSHOT:
        page.screenshot(path=SCREENSHOT, full_page=False)
