"""The §8 data loader of the benchmarks (bench/scale.py), at a tiny scale: the volumes it
promises, workflow states its approvals explain, and a change history that verifies."""
import os
import sys

import pytest
from sqlalchemy import func, select

from conftest import dispose, scratch_database_url

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "bench"))

import scale  # noqa: E402

SCALE = 0.002


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    url = scratch_database_url(str(tmp_path_factory.mktemp("scale")), "scale")
    application = scale.build(url, SCALE)
    yield url, application
    dispose(application)


def test_loader_writes_the_scaled_volumes_and_the_demo_accounts(loaded):
    url, application = loaded
    with application.app_context():
        from app.base import AppUser
        from app.extensions import db
        from app.operations.models import Incident
        from app.planning.models import ProjectRequest
        from app.procurement.models import Contract

        def count(model):
            return db.session.execute(select(func.count()).select_from(model)).scalar()

        demo = {"incident": 7, "contract": 6, "project_request": 9}
        assert count(Incident) == demo["incident"] + round(200000 * SCALE)
        assert count(Contract) == demo["contract"] + round(50000 * SCALE)
        assert count(ProjectRequest) == demo["project_request"] + round(20000 * SCALE)
        assert count(AppUser) >= round(5000 * SCALE)
        for username in ("admin", "clerk_fin", "head_fin", "it_staff", "it_staff2", "manager",
                         "auditor", "expert"):
            assert db.session.query(AppUser).filter_by(username=username).one().active


def test_loader_writes_every_record_type_of_every_chapter(loaded):
    """The loader writes rows of its own (beyond the demo's) for each record type of
    app/chapters.py, the operation log the most of them (§8: a million at full scale)."""
    _url, application = loaded
    written = application.extensions["scale_loaded_rows"]
    with application.app_context():
        from app.chapters import record_models

        # departments and systems are topped up to a total, which the demo's exceed at
        # this scale
        tables = [model.__tablename__ for model in record_models()
                  if model.__tablename__ not in ("department", "information_system")]
    assert [t for t in tables if not written.get(t)] == []
    assert written["operation_log"] == round(scale.FULL["operation_log"] * SCALE)
    assert written["operation_log"] == max(written[t] for t in tables)


@pytest.mark.parametrize("model_name", ["Incident", "Tender", "SecurityPolicy",
                                        "EmergencyPlan", "SecurityEvent", "AuditFinding"])
def test_every_loaded_record_has_the_approvals_of_its_way_to_its_state(loaded, model_name):
    url, application = loaded
    with application.app_context():
        from app.approvals import workflow_models
        from app.base import Approval
        from app.extensions import db

        model = next(m for m in workflow_models() if m.__name__ == model_name)
        initial = list(model.__workflow__.states)[0].name
        # The last approval of each record leads to the state the record is in (the
        # loaded ones: ids after the demo's, whose versions count their edits too).
        loaded_rows = application.extensions["scale_loaded_rows"][model.__tablename__]
        records = db.session.query(model).order_by(model.id.desc()).limit(
            min(100, loaded_rows)).all()
        assert records
        for record in records:
            last = (db.session.query(Approval)
                    .filter_by(record_type=model_name, record_id=record.id)
                    .order_by(Approval.id.desc()).first())
            if last is None:
                assert record.status.name == initial
            else:
                assert last.to_state == record.status.name
                assert record.version == 1 + db.session.query(Approval).filter_by(
                    record_type=model_name, record_id=record.id).count()


def test_loaded_history_verifies_and_nobody_filled_two_roles(loaded):
    url, application = loaded
    passed, output, _seconds = scale.verify(url)
    assert passed, output
    assert "the chain is intact" in output and "Warning" not in output
    with application.app_context(), application.test_request_context("/"):
        from app.approvals import separation_of_duties_violations

        assert separation_of_duties_violations() == []


def test_loaded_history_is_dated_in_sequence_order(loaded):
    """Every entry is dated at or after the one it follows, the demo's first ones too (the
    change log turns a date range into a range of entry numbers)."""
    _url, application = loaded
    with application.app_context():
        from app.base import ChangeEntry
        from app.extensions import db

        rows = db.session.execute(select(ChangeEntry.seq, ChangeEntry.occurred_at)
                                  .order_by(ChangeEntry.seq)).all()
    assert len(rows) > 1000
    backwards = [(a.seq, b.seq) for a, b in zip(rows, rows[1:])
                 if b.occurred_at < a.occurred_at]
    assert backwards == []


def test_reuse_skips_a_database_that_holds_the_volumes(loaded):
    url, _application = loaded
    assert scale.build(url, SCALE, reuse=True) is None
