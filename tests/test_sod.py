"""The separation-of-duties report (PRODUCT.md §3): lists any record where one person
filled two roles the rules keep apart; on data made through the engine it is empty."""
import pytest

FORGED_ID = 987654


def violations(app):
    from app.approvals import separation_of_duties_violations

    with app.app_context():
        return separation_of_duties_violations()


def test_records_moved_by_the_engine_show_no_violation(app, login_as):
    assert [v for v in violations(app) if v["record_id"] != FORGED_ID] == []
    html = login_as("auditor").get("/sod/").get_data(as_text=True)
    assert "sod-clean" in html or str(FORGED_ID) in html


def test_report_names_a_record_submitted_and_approved_by_one_person(app, ids, login_as):
    """Data that bypassed the engine (an import, a database edit) is caught."""
    from app.extensions import db
    from app.models import Approval

    clerk = ids.user("clerk_fin")
    head = ids.user("head_fin")
    with app.app_context():
        db.session.add_all([
            Approval(record_type="ProjectRequest", record_id=FORGED_ID, transition="submit",
                     label="Submit for approval", from_state="draft", to_state="dept_review",
                     actor_id=clerk, content_hash="0" * 64, submits=True),
            Approval(record_type="ProjectRequest", record_id=FORGED_ID, transition="approve",
                     label="Approve for the department", from_state="dept_review",
                     to_state="it_review", actor_id=head, acting_for_id=clerk,
                     content_hash="0" * 64, approves=True),
        ])
        db.session.commit()
    found = [v for v in violations(app) if v["record_id"] == FORGED_ID]
    assert len(found) == 1 and found[0]["kind"] == "submit-approve"
    html = login_as("manager").get("/sod/").get_data(as_text=True)
    assert f"#{FORGED_ID}" in html and "sod-violations" in html


@pytest.mark.parametrize("username,allowed", [
    ("auditor", True), ("manager", True), ("admin", True), ("clerk_fin", False),
    ("head_fin", False), ("it_staff", False), ("expert", False)])
def test_report_is_for_auditors_management_and_admin(login_as, username, allowed):
    assert (login_as(username).get("/sod/").status_code == 200) is allowed
