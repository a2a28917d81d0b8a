"""The separation-of-duties report (PRODUCT.md §3): lists any record where one person
filled two roles the rules keep apart; on data made through the engine it is empty."""
import pytest

FORGED_ID = 987654


def violations(app):
    from app.approvals import separation_of_duties_violations

    with app.app_context():
        return separation_of_duties_violations()


def test_records_moved_by_the_engine_show_no_violation(app, login_as):
    assert [v for v in violations(app) if not FORGED_ID <= v["record_id"] < FORGED_ID + 10] == []
    html = login_as("auditor").get("/sod/").get_data(as_text=True)
    assert "sod-clean" in html or str(FORGED_ID) in html


def test_report_names_a_record_submitted_and_approved_by_one_person(app, ids, login_as):
    """Data that bypassed the engine (an import, a database edit) is caught."""
    from app.base import Approval
    from app.extensions import db

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


def _forged(app, ids, record_id, rows):
    """Approval rows written past the engine (as an import or a database edit would)."""
    from app.base import Approval
    from app.extensions import db

    with app.app_context():
        for values in rows:
            db.session.add(Approval(
                record_type="ProjectRequest", record_id=record_id, label=values["transition"],
                content_hash="0" * 64, **{"approves": False, "submits": False, **values}))
        db.session.commit()


@pytest.mark.parametrize("kind", ["substitute-approve", "editor-approve", "two-steps"])
def test_report_names_every_kind_of_duty_the_engine_keeps_apart(app, ids, login_as, kind):
    import datetime as dt

    from app.base import Delegation
    from app.extensions import db

    record_id = FORGED_ID + {"substitute-approve": 1, "editor-approve": 2, "two-steps": 3}[kind]
    clerk, head, it = ids.user("clerk_mkt"), ids.user("head_mkt"), ids.user("it_staff")
    submit = dict(transition="submit", from_state="draft", to_state="dept_review",
                  actor_id=clerk, submits=True)
    if kind == "substitute-approve":
        with app.app_context():
            today = dt.date.today()
            db.session.add(Delegation(principal_id=clerk, substitute_id=head, reason="x",
                                      start_date=today, end_date=today))
            db.session.commit()
        rows = [submit, dict(transition="approve", from_state="dept_review",
                             to_state="it_review", actor_id=head, approves=True)]
    elif kind == "editor-approve":
        rows = [submit, dict(transition="reapproval", from_state="dept_review",
                             to_state="dept_review", actor_id=head),
                dict(transition="approve", from_state="dept_review", to_state="it_review",
                     actor_id=head, approves=True)]
    else:
        rows = [submit, dict(transition="approve", from_state="it_review",
                             to_state="expert_review", actor_id=it, approves=True),
                dict(transition="approve", from_state="expert_review",
                     to_state="feasibility", actor_id=it, approves=True)]
    _forged(app, ids, record_id, rows)
    try:
        found = [v for v in violations(app) if v["record_id"] == record_id]
        assert [v["kind"] for v in found] == [kind]
        html = login_as("auditor").get("/sod/").get_data(as_text=True)
        assert f"#{record_id}" in html
    finally:
        with app.app_context():
            for row in db.session.query(Delegation).filter_by(principal_id=clerk,
                                                              substitute_id=head):
                db.session.delete(row)
            db.session.commit()


def test_a_new_round_ends_what_an_edit_forbade(app, ids):
    """Content changed, then returned and submitted again: the editor may approve the new
    round (the report agrees with the engine)."""
    record_id = FORGED_ID + 4
    clerk, head = ids.user("clerk_mkt"), ids.user("head_mkt")
    _forged(app, ids, record_id, [
        dict(transition="submit", from_state="draft", to_state="dept_review", actor_id=clerk,
             submits=True),
        dict(transition="reapproval", from_state="dept_review", to_state="dept_review",
             actor_id=head),
        dict(transition="submit", from_state="returned", to_state="dept_review",
             actor_id=clerk, submits=True),
        dict(transition="approve", from_state="dept_review", to_state="it_review",
             actor_id=head, approves=True)])
    assert [v for v in violations(app) if v["record_id"] == record_id] == []
