"""Tests that would catch a forger (5.1.3, 5.1.4, 1.3.3): every field an entry's hash
covers, the links, the head and every approval column are changed directly in the
database, behind the application's back, and `flask history verify` names what was
touched. Each tamper is undone afterwards, so every case starts from an intact chain."""
import contextlib
import datetime as dt
import json
import re

import pytest
from sqlalchemy import delete, func, insert, select, text, update

from conftest import dispose, scratch_database_url, seeded_app


def approve_over_the_api(app, comment=""):
    """A FIN project in department review, approved by head_fin over the API: its id."""
    from app.base import AppUser
    from app.extensions import db
    from app.organisation.models import Department
    from app.planning.models import ProjectRequest, ProjectStatus

    from conftest import PASSWORD

    with app.app_context():
        project = ProjectRequest(
            name="证据链测试项目", background="b", goals="g", content="c", budget=1000,
            implementation_plan="p", status=ProjectStatus.dept_review,
            applicant_department_id=db.session.query(Department.id).filter_by(
                code="FIN").scalar(),
            submitted_by_fk=db.session.query(AppUser.id).filter_by(
                username="clerk_fin").scalar())
        db.session.add(project)
        db.session.commit()
        project_id = project.id
    client = app.test_client()
    token = client.post("/api/v1/security/login", json={
        "username": "head_fin", "password": PASSWORD, "provider": "db"}).get_json()
    response = client.post(f"/api/v1/project_request/{project_id}/transition/approve",
                           json={"comment": comment},
                           headers={"Authorization": f"Bearer {token['access_token']}"})
    assert response.status_code == 200, response.get_json()
    return project_id


@pytest.fixture(scope="module")
def chain_app(tmp_path_factory):
    """A demo database of its own, with approvals fired over the API."""
    application = seeded_app(scratch_database_url(str(tmp_path_factory.mktemp("evidence")),
                                                  "evidence"))
    for n in range(3):
        approve_over_the_api(application, comment=f"同意{n}")
    yield application
    dispose(application)


def run_verify(app):
    result = app.test_cli_runner().invoke(args=["history", "verify"])
    return result.exit_code, result.output


def table(name):
    from flask_appbuilder import Model

    return Model.metadata.tables[name]


@contextlib.contextmanager
def owner_connection(app, *tables):
    """A transaction of the database owner with the append-only triggers off (PostgreSQL)."""
    from app.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            for name in tables:
                conn.execute(text(f"ALTER TABLE {name} DISABLE TRIGGER USER"))
        yield conn
        if postgres:
            for name in tables:
                conn.execute(text(f"ALTER TABLE {name} ENABLE TRIGGER USER"))


@contextlib.contextmanager
def tampered(app, name, key, **values):
    """Change one row's columns in the database; put them back afterwards."""
    t = table(name)
    (column, old_key), = key.items()
    with owner_connection(app, name) as conn:
        original = dict(conn.execute(select(t).where(t.c[column] == old_key)).one()._mapping)
        conn.execute(update(t).where(t.c[column] == old_key).values(**values))
    try:
        yield original
    finally:
        new_key = values.get(column, old_key)
        with owner_connection(app, name) as conn:
            conn.execute(update(t).where(t.c[column] == new_key).values(
                {k: original[k] for k in values}))


@contextlib.contextmanager
def deleted(app, name, key):
    t = table(name)
    (column, value), = key.items()
    with owner_connection(app, name) as conn:
        original = dict(conn.execute(select(t).where(t.c[column] == value)).one()._mapping)
        conn.execute(delete(t).where(t.c[column] == value))
    try:
        yield original
    finally:
        with owner_connection(app, name) as conn:
            conn.execute(insert(t).values(original))


def named(output, seq):
    return re.search(rf"#{seq}\b", output) is not None


@pytest.fixture(scope="module")
def middle_entry(chain_app):
    """An entry in the middle of the chain, with a successor."""
    from app.base import ChangeEntry
    from app.extensions import db

    with chain_app.app_context():
        last = db.session.query(func.max(ChangeEntry.seq)).scalar()
        assert last > 20
        return last // 2


def test_an_untouched_chain_with_its_approvals_verifies(chain_app):
    from app.base import Approval, ChangeEntry
    from app.extensions import db

    with chain_app.app_context():
        approvals = db.session.query(Approval).count()
        entries = db.session.query(ChangeEntry).count()
        recorded = db.session.query(ChangeEntry).filter_by(record_type="Approval").count()
    assert approvals > 0, "the demo data fires workflow steps"
    assert recorded == approvals  # every approval has its entry in the same chain
    code, output = run_verify(chain_app)
    assert code == 0, output
    assert f"{entries} entries checked" in output
    assert f"{approvals} approvals match" in output


# Each field the entry hash covers (entry_content), and the stored hashes themselves.
ENTRY_FIELDS = {
    "occurred_at": dt.datetime(2001, 1, 1, 0, 0, 0),
    "user_id": 987654,
    "username": "forger",
    "acting_for_id": 987654,
    "acting_for": "forger",
    "request_id": "forged-request",
    "record_type": "Vendor",
    "record_id": "987654",
    "action": "forged",
    "changes": json.dumps({"name": [None, "forged"]}),
    "prev_hash": "f" * 64,
    "hash": "e" * 64,
}


@pytest.mark.parametrize("field", sorted(ENTRY_FIELDS))
def test_verify_names_the_entry_whose_field_was_changed_in_the_database(
        chain_app, middle_entry, field):
    seq = middle_entry
    with tampered(chain_app, "change_entry", {"seq": seq}, **{field: ENTRY_FIELDS[field]}):
        code, output = run_verify(chain_app)
    assert code != 0, output
    assert named(output, seq), output
    assert run_verify(chain_app)[0] == 0  # put back: intact again


def test_verify_names_the_entry_whose_sequence_number_was_changed(chain_app, middle_entry):
    seq = middle_entry
    with tampered(chain_app, "change_entry", {"seq": seq}, seq=seq + 10**6):
        code, output = run_verify(chain_app)
    assert code != 0
    assert f"entry #{seq} is missing" in output


def test_verify_names_an_entry_deleted_from_the_middle(chain_app, middle_entry):
    with deleted(chain_app, "change_entry", {"seq": middle_entry}):
        code, output = run_verify(chain_app)
    assert code != 0
    assert f"entry #{middle_entry} is missing" in output


@pytest.mark.parametrize("values,reason", [
    ({"hash": "d" * 64}, "does not match the last entry"),
    ({"seq": 10**6}, "removed"),
])
def test_verify_notices_a_chain_head_changed_in_the_database(chain_app, values, reason):
    with tampered(chain_app, "change_chain_head", {"id": 1}, **values):
        code, output = run_verify(chain_app)
    assert code != 0
    assert reason in output


def test_a_forger_who_rehashes_the_entry_and_relinks_the_next_one_is_caught(
        chain_app, middle_entry):
    """Edit an entry, recompute its hash with the product's own function and point the
    following entry at it: the following entry's own hash covers its link."""
    from app.history import entry_content, entry_hash

    seq = middle_entry
    t = table("change_entry")
    with chain_app.app_context():
        from app.extensions import db

        with db.engine.connect() as conn:
            row = dict(conn.execute(select(t).where(t.c.seq == seq)).one()._mapping)
    row["username"] = "forger"
    forged_hash = entry_hash(row["prev_hash"], entry_content(row))
    with tampered(chain_app, "change_entry", {"seq": seq}, username="forger", hash=forged_hash):
        with tampered(chain_app, "change_entry", {"seq": seq + 1}, prev_hash=forged_hash):
            code, output = run_verify(chain_app)
    assert code != 0
    assert f"chain broken at entry #{seq + 1}: content does not match its hash" in output


# ------------------------------------------------------------------ approvals

@pytest.fixture(scope="module")
def approval(chain_app):
    """A stored approval with an actor, and a user id that is not its actor."""
    from app.base import AppUser, Approval
    from app.extensions import db

    with chain_app.app_context():
        row = (db.session.query(Approval).filter(Approval.actor_id.isnot(None))
               .order_by(Approval.id).first())
        other = (db.session.query(AppUser.id).filter(AppUser.id != row.actor_id)
                 .order_by(AppUser.id).first()[0])
        return {"id": row.id, "approves": row.approves, "submits": row.submits,
                "from_state": row.from_state, "to_state": row.to_state,
                "at": row.at, "other_user": other,
                "max_id": db.session.query(func.max(Approval.id)).scalar()}


def approval_edits(approval):
    return {
        "record_type": "Contract",
        "record_id": 987654,
        "transition": "forged",
        "label": "伪造的审批",
        # States other than the stored ones (the demo's first approval leaves a draft).
        "from_state": "draft" if approval["from_state"] != "draft" else "returned",
        "to_state": "approved" if approval["to_state"] != "approved" else "returned",
        "actor_id": approval["other_user"],
        "acting_for_id": approval["other_user"],
        "at": approval["at"] + dt.timedelta(days=1),
        "comment": "同意（伪造）",
        "content_hash": "c" * 64,
        "approves": not approval["approves"],
        "submits": not approval["submits"],
    }


APPROVAL_COLUMNS = ["record_type", "record_id", "transition", "label", "from_state",
                    "to_state", "actor_id", "acting_for_id", "at", "comment", "content_hash",
                    "approves", "submits"]


def test_every_approval_column_is_covered_by_a_tamper_test():
    assert set(APPROVAL_COLUMNS) | {"id"} == {c.name for c in table("approval").columns}


@pytest.mark.parametrize("column", APPROVAL_COLUMNS)
def test_verify_names_an_approval_edited_in_the_database(chain_app, approval, column):
    value = approval_edits(approval)[column]
    with tampered(chain_app, "approval", {"id": approval["id"]}, **{column: value}):
        code, output = run_verify(chain_app)
    assert code != 0, output
    assert f"approval {approval['id']} " in output
    assert "edited" in output and column in output
    assert run_verify(chain_app)[0] == 0


def test_verify_names_an_approval_whose_id_was_changed(chain_app, approval):
    new_id = approval["max_id"] + 1000
    with tampered(chain_app, "approval", {"id": approval["id"]}, id=new_id):
        code, output = run_verify(chain_app)
    assert code != 0
    assert f"approval {approval['id']} " in output and "deleted" in output
    assert f"approval {new_id}: has no history entry" in output


def test_verify_names_an_approval_inserted_directly_in_the_database(chain_app, approval):
    from app.base import Approval
    from app.extensions import db
    from app.planning.models import ProjectRequest

    with chain_app.app_context():
        project = db.session.query(ProjectRequest.id).order_by(ProjectRequest.id).first()[0]
    t = table("approval")
    with owner_connection(chain_app) as conn:
        forged_id = conn.execute(insert(t).values(
            record_type="ProjectRequest", record_id=project, transition="approve",
            label="部门负责人审核通过", from_state="dept_review", to_state="it_review",
            actor_id=approval["other_user"], at=dt.datetime(2026, 1, 1), content_hash="a" * 64,
            approves=True, submits=False).returning(t.c.id)).scalar()
    try:
        code, output = run_verify(chain_app)
        assert code != 0
        assert f"approval {forged_id}: has no history entry" in output
    finally:
        with owner_connection(chain_app, "approval") as conn:
            conn.execute(delete(t).where(t.c.id == forged_id))
    with chain_app.app_context():
        assert db.session.get(Approval, forged_id) is None
    assert run_verify(chain_app)[0] == 0


def test_verify_names_an_approval_deleted_in_the_database(chain_app, approval):
    with deleted(chain_app, "approval", {"id": approval["id"]}):
        code, output = run_verify(chain_app)
    assert code != 0
    assert f"approval {approval['id']} (entry #" in output and "deleted" in output
    assert run_verify(chain_app)[0] == 0


def test_an_approval_fired_over_http_is_recorded_in_the_chain(chain_app):
    """The step and its approval are written in one transaction, one request."""
    from app.base import Approval, ChangeEntry
    from app.extensions import db

    project_id = approve_over_the_api(chain_app, comment="证据")
    with chain_app.app_context():
        approval = (db.session.query(Approval)
                    .filter_by(record_type="ProjectRequest", record_id=project_id).one())
        entry = (db.session.query(ChangeEntry)
                 .filter_by(record_type="Approval", record_id=str(approval.id)).one())
        step = (db.session.query(ChangeEntry)
                .filter_by(record_type="ProjectRequest", record_id=str(project_id),
                           action="update").one())
    assert entry.username == "head_fin" and entry.action == "insert"
    assert entry.request_id == step.request_id
    changes = json.loads(entry.changes)
    assert changes["transition"] == [None, "approve"] and changes["comment"] == [None, "证据"]
    assert run_verify(chain_app)[0] == 0


def test_the_record_page_marks_an_approval_inserted_behind_the_application(chain_app):
    from conftest import login

    project = approve_over_the_api(chain_app, comment="真实的审批")
    t = table("approval")
    with owner_connection(chain_app) as conn:
        forged_id = conn.execute(insert(t).values(
            record_type="ProjectRequest", record_id=project, transition="approve",
            label="Approve", from_state="it_review", to_state="expert_review",
            at=dt.datetime(2026, 1, 2), comment="伪造的同意", content_hash="b" * 64,
            approves=True, submits=False).returning(t.c.id)).scalar()
    try:
        client = chain_app.test_client()
        assert login(client, "head_fin").status_code == 302
        html = client.get(f"/projectrequestview/show/{project}").get_data(as_text=True)
        approvals = html.split('id="Approvals"')[1].split('id="History"')[0]
        rows = re.findall(r"(?s)<tr[^>]*>.*?</tr>", approvals)
        forged = [r for r in rows if "伪造的同意" in r]
        genuine = [r for r in rows if "真实的审批" in r]
        assert forged and "未记入变更历史" in forged[0] and "unrecorded-approval" in forged[0]
        assert genuine and "未记入变更历史" not in genuine[0]
    finally:
        with owner_connection(chain_app, "approval") as conn:
            conn.execute(delete(t).where(t.c.id == forged_id))


def test_a_forger_who_rehashes_the_whole_tail_and_the_head_is_caught_by_an_anchor(
        chain_app, middle_entry):
    """Rewriting an entry and everything after it, head included, leaves a chain that is
    consistent in itself (the limit of any unkeyed chain); the head noted outside the
    database (printed by verify, kept in each backup manifest) still exposes it."""
    from app.history import entry_content, entry_hash

    code, output = run_verify(chain_app)
    assert code == 0
    anchor = re.search(r"Head \(note it outside the database\): (\d+):([0-9a-f]{64})",
                       output)
    anchor_seq = int(anchor.group(1))
    t, head = table("change_entry"), table("change_chain_head")
    with owner_connection(chain_app, "change_entry", "change_chain_head") as conn:
        originals = [dict(r._mapping) for r in conn.execute(
            select(t).where(t.c.seq >= middle_entry).order_by(t.c.seq))]
        original_head = dict(conn.execute(select(head)).one()._mapping)
        prev = originals[0]["prev_hash"]
        for row in originals:
            forged = dict(row, prev_hash=prev)
            if row["seq"] == middle_entry:
                forged["username"] = "forger"
            forged["hash"] = prev = entry_hash(prev, entry_content(forged))
            conn.execute(update(t).where(t.c.seq == row["seq"]).values(
                username=forged["username"], prev_hash=forged["prev_hash"],
                hash=forged["hash"]))
        conn.execute(update(head).values(hash=prev))
    try:
        assert run_verify(chain_app)[0] == 0  # consistent in itself: the stated limit
        result = chain_app.test_cli_runner().invoke(
            args=["history", "verify", "--anchor", anchor.group(0).split(": ")[1]])
        assert result.exit_code != 0
        assert f"chain broken at entry #{anchor_seq}" in result.output
        assert "noted outside the database" in result.output
    finally:
        with owner_connection(chain_app, "change_entry", "change_chain_head") as conn:
            for row in originals:
                conn.execute(update(t).where(t.c.seq == row["seq"]).values(
                    username=row["username"], prev_hash=row["prev_hash"], hash=row["hash"]))
            conn.execute(update(head).values(hash=original_head["hash"]))
    assert run_verify(chain_app)[0] == 0


def test_every_backup_manifest_keeps_the_chain_head_as_an_anchor(chain_app, tmp_path):
    path = str(tmp_path / "anchor.zip")
    result = chain_app.test_cli_runner().invoke(args=["backup", "create", path])
    assert result.exit_code == 0, result.output
    with open(f"{path}.manifest.json", encoding="utf-8") as handle:
        anchor = json.load(handle)["chain_head"]
    result = chain_app.test_cli_runner().invoke(args=["history", "verify", "--anchor", anchor])
    assert result.exit_code == 0, result.output
    seq, digest = anchor.split(":")
    wrong = f"{seq}:{'0' * 64}"
    result = chain_app.test_cli_runner().invoke(args=["history", "verify", "--anchor", wrong])
    assert result.exit_code != 0 and f"#{seq}" in result.output


def test_approvals_stored_before_the_upgrade_enter_the_chain(tmp_path):
    """An installation with approvals from before they joined the evidence: the
    migration gives each its insert entry, and verify finds the chain intact."""
    from conftest import build_app

    url = scratch_database_url(str(tmp_path), "backfill")
    application = build_app(url)
    try:
        with application.app_context():
            from flask_migrate import upgrade

            from app.base import Approval, ChangeEntry
            from app.extensions import db

            upgrade(revision="638b3f1ff235")
            with db.engine.begin() as conn:  # as the old code wrote them: no history entry
                conn.execute(insert(Approval.__table__), [
                    {"record_type": "Contract", "record_id": n, "transition": "approve",
                     "label": "Approve", "from_state": "draft", "to_state": "approved",
                     "at": dt.datetime(2026, 3, n + 1, 8, 30, 15, 123456),
                     "comment": "旧审批" if n % 2 else None, "content_hash": "a" * 64,
                     "approves": True, "submits": False} for n in range(3)])
            code, output = run_verify(application)
            assert code != 0 and "has no history entry" in output
            # verify's read ends here: its open transaction would hold the table the
            # upgrade re-indexes (PostgreSQL waits for it forever)
            db.session.remove()
            upgrade()
            assert db.session.query(ChangeEntry).filter_by(record_type="Approval").count() == 3
        code, output = run_verify(application)
        assert code == 0, output
        assert "3 approvals match their entries" in output
    finally:
        dispose(application)


def test_the_record_page_finds_its_approvals_entries_by_the_record_index(chain_app):
    """The check of a record page's approvals reads the change log by (record id, record
    type): one index range per approval, never the index of every approval insert in the
    log (a million at PRODUCT.md §8 scale). Read from the plan SQLite chooses."""
    from sqlalchemy import event

    from app.base import Approval
    from app.extensions import db
    from app.history import unrecorded_approvals

    with chain_app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's planner, without statistics on the new indexes")
        approvals = db.session.query(Approval).all()
        seen = []
        listen = (db.engine, "before_cursor_execute",
                  lambda conn, cursor, statement, params, context, many:
                  seen.append((statement, params)))
        event.listen(*listen)
        try:
            assert unrecorded_approvals(db.session, approvals) == set()
        finally:
            event.remove(*listen)
        (statement, params), = [s for s in seen if "change_entry" in s[0]]
        plan = " ".join(str(row[-1]) for row in db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, params))
    assert "ix_change_entry_record" in plan, plan
