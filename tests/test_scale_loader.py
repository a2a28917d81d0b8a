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


def test_every_loaded_record_has_the_approvals_of_its_way_to_its_state(loaded):
    url, application = loaded
    with application.app_context():
        from app.base import Approval
        from app.extensions import db
        from app.operations.models import Incident

        # The last approval of each record leads to the state the record is in.
        for record in db.session.query(Incident).order_by(Incident.id.desc()).limit(100):
            last = (db.session.query(Approval)
                    .filter_by(record_type="Incident", record_id=record.id)
                    .order_by(Approval.id.desc()).first())
            if last is None:
                assert record.status.name == "reported"
            else:
                assert last.to_state == record.status.name
                assert record.version == 1 + db.session.query(Approval).filter_by(
                    record_type="Incident", record_id=record.id).count()


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
