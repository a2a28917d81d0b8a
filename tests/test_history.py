"""Change history (5.1.3, 5.1.4): every change recorded once, from one place, hash-chained,
append-only, browsable; `flask history verify` finds tampering."""
import json
import re
import threading
from decimal import Decimal

import pytest
from sqlalchemy import text

from conftest import build_app, dispose, scratch_database_url, seeded_app


def entries(app, record_type, record_id):
    from app.base import ChangeEntry
    from app.extensions import db

    with app.app_context():
        rows = (db.session.query(ChangeEntry)
                .filter_by(record_type=record_type, record_id=str(record_id))
                .order_by(ChangeEntry.seq).all())
        return [{"action": e.action, "username": e.username, "request_id": e.request_id,
                 "changes": json.loads(e.changes), "seq": e.seq} for e in rows]


def form_token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_record_created_outside_a_request_is_recorded_as_the_system(app, make):
    project = make("project", name="历史测试项目")
    (entry,) = entries(app, "ProjectRequest", project)
    assert entry["action"] == "insert"
    assert entry["username"] is None
    assert entry["request_id"].startswith("cli-")
    assert entry["changes"]["name"] == [None, "历史测试项目"]
    assert entry["changes"]["budget"] == [None, "1000"]


def test_web_edit_records_user_and_field_before_and_after(app, make, login_as, ids):
    project = make("project", dept="FIN", goals="旧目标")
    client = login_as("clerk_fin")
    token = form_token(client, f"/projectrequestview/edit/{project}")
    form = {"csrf_token": token, "name": "改名后的项目", "applicant_department": ids.dept("FIN"),
            "background": "b", "goals": "新目标", "content": "c", "budget": "1000",
            "implementation_plan": "p"}
    assert client.post(f"/projectrequestview/edit/{project}", data=form).status_code == 302
    update = entries(app, "ProjectRequest", project)[-1]
    assert update["action"] == "update"
    assert update["username"] == "clerk_fin"
    assert update["changes"]["goals"] == ["旧目标", "新目标"]
    assert "background" not in update["changes"]  # unchanged fields are not recorded
    assert "changed_on" not in update["changes"]


def test_api_change_is_recorded_with_its_user(app, make, api_as):
    project = make("project", dept="FIN")
    client, headers = api_as("head_fin")
    response = client.put(f"/api/v1/project_request/{project}", json={"budget": 2500},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    update = entries(app, "ProjectRequest", project)[-1]
    assert update["username"] == "head_fin"
    before, after = update["changes"]["budget"]
    assert Decimal(before) == 1000 and Decimal(after) == 2500


def test_one_request_id_ties_together_everything_one_request_changed(app, make, login_as):
    first, second = make("project", dept="FIN"), make("project", dept="FIN")
    client = login_as("clerk_fin")
    token = form_token(client, "/projectrequestview/list/")
    response = client.post("/projectrequestview/action_post", data={
        "action": "muldelete", "rowid": [first, second], "csrf_token": token})
    assert response.status_code == 302
    deleted = [entries(app, "ProjectRequest", pk)[-1] for pk in (first, second)]
    assert [e["action"] for e in deleted] == ["delete", "delete"]
    assert deleted[0]["request_id"] == deleted[1]["request_id"]
    assert deleted[0]["changes"]["name"][1] is None  # before value kept, after empty
    other = entries(app, "ProjectRequest", first)[0]
    assert other["request_id"] != deleted[0]["request_id"]


def test_attachments_are_recorded_by_name_and_hash_never_bytes(app, make):
    import hashlib

    from app.base import Attachment
    from app.extensions import db
    from app.planning.models import ProjectRequest

    body = b"%PDF-1.4\n%history test\n%%EOF\n"
    project = make("project")
    with app.app_context():
        record = db.session.get(ProjectRequest, project)
        record.requirements_report = Attachment(
            filename="需求.pdf", content_type="application/pdf", size=len(body),
            sha256=hashlib.sha256(body).hexdigest(), data=body)
        db.session.commit()
        attachment_id = record.requirements_report.id
    change = entries(app, "ProjectRequest", project)[-1]["changes"]
    assert change["requirements_report_id"] == [
        None, {"id": attachment_id, "name": "需求.pdf",
               "sha256": hashlib.sha256(body).hexdigest()}]
    assert "history test" not in json.dumps(change)


def test_password_hashes_are_never_recorded(app):
    from app.base import AppUser, ChangeEntry
    from app.extensions import db

    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user("hist_user", "测试", "用户", "hist_user@example.com",
                           sm.find_role("Clerk"), password="Secret-Pass-2026")
        sm.reset_password(user.id, "Other-Pass-2027")
        logged = db.session.query(ChangeEntry).filter_by(record_type="AppUser",
                                                         record_id=str(user.id)).all()
        password_hash = db.session.get(AppUser, user.id).password
    assert logged, "user creation is recorded"
    for entry in logged:
        assert "password" not in json.loads(entry.changes)
        assert password_hash not in entry.changes


def test_change_entries_cannot_be_changed_or_deleted_through_the_model(app):
    from app.base import ChangeEntry
    from app.extensions import db
    from app.history import AppendOnlyError

    with app.app_context():
        entry = db.session.query(ChangeEntry).order_by(ChangeEntry.seq).first()
        entry.action = "forged"
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.query(ChangeEntry).first())
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()


def test_no_screen_or_api_edits_history(login_as, api_as):
    admin = login_as("admin")
    token = form_token(admin, "/changelog/list/")
    for path in ("/changelog/edit/1", "/changelog/add", "/changelog/delete/1"):
        assert admin.get(path).status_code in (302, 403, 404, 405)
        posted = admin.post(path, data={"csrf_token": token, "action": "forged"})
        assert posted.status_code in (302, 403, 404, 405)
    with admin.application.app_context():
        from app.base import ChangeEntry
        from app.extensions import db

        first = db.session.query(ChangeEntry).filter_by(seq=1).one()
        assert first.action == "insert"
    client, headers = api_as("admin")
    assert client.get("/api/v1/change_entry/", headers=headers).status_code == 404


@pytest.mark.parametrize("username,allowed", [
    ("auditor", True), ("admin", True), ("clerk_fin", False), ("manager", False),
    ("it_staff", False)])
def test_global_change_log_is_for_auditors_and_admin(login_as, username, allowed):
    response = login_as(username).get("/changelog/list/")
    assert (response.status_code == 200) is allowed


def test_change_log_filters_by_user_and_request_id(app, make, login_as):
    project = make("project", dept="FIN")
    request_id = entries(app, "ProjectRequest", project)[0]["request_id"]
    auditor = login_as("auditor")
    page = auditor.get(f"/changelog/list/?_flt_0_request_id={request_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert request_id in html
    by_user = auditor.get("/changelog/list/?_flt_0_username=nobody-at-all").get_data(
        as_text=True)
    assert request_id not in by_user


def test_history_tab_shows_old_and_new_values_in_chinese(app, make, login_as):
    from app.extensions import db
    from app.planning.models import ProjectRequest

    project = make("project", dept="FIN", goals="旧目标X")
    with app.app_context():
        db.session.get(ProjectRequest, project).goals = "新目标Y"
        db.session.commit()
    html = login_as("clerk_fin").get(f"/projectrequestview/show/{project}").get_data(
        as_text=True)
    assert "旧目标X" in html and "新目标Y" in html
    assert "建设目标" in html  # the field's Chinese label
    assert "变更记录" in html


def test_every_version_of_a_record_can_be_opened(app, make, login_as):
    from app.extensions import db
    from app.planning.models import ProjectRequest

    project = make("project", dept="FIN", goals="第一版")
    with app.app_context():
        db.session.get(ProjectRequest, project).goals = "第二版"
        db.session.commit()
    versions = entries(app, "ProjectRequest", project)
    auditor = login_as("auditor")
    first = auditor.get(f"/changelog/version/ProjectRequest/{project}/{versions[0]['seq']}")
    second = auditor.get(f"/changelog/version/ProjectRequest/{project}/{versions[1]['seq']}")
    assert "第一版" in first.get_data(as_text=True)
    assert "第二版" not in first.get_data(as_text=True).split("全部版本")[0]
    assert "第二版" in second.get_data(as_text=True)
    assert login_as("clerk_fin").get(
        f"/changelog/version/ProjectRequest/{project}/{versions[0]['seq']}").status_code != 200


# ------------------------------------------------------------------ verify

@pytest.fixture(scope="module")
def chain_app(tmp_path_factory):
    """A database of its own: these tests tamper with it."""
    application = seeded_app(scratch_database_url(str(tmp_path_factory.mktemp("chain")),
                                                  "chain"))
    yield application
    dispose(application)


def run_verify(app):
    result = app.test_cli_runner().invoke(args=["history", "verify"])
    return result.exit_code, result.output


def tamper(app, sql, **params):
    from app.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(text("ALTER TABLE change_entry DISABLE TRIGGER change_entry_append_only"))
        conn.execute(text(sql), params)
        if postgres:
            conn.execute(text("ALTER TABLE change_entry ENABLE TRIGGER change_entry_append_only"))


def test_verify_reports_an_intact_chain_with_its_length(chain_app):
    from app.base import ChangeEntry
    from app.extensions import db

    with chain_app.app_context():
        total = db.session.query(ChangeEntry).count()
    code, output = run_verify(chain_app)
    assert code == 0, output
    assert f"{total} entries checked" in output


def test_concurrent_writers_extend_one_unbroken_chain(chain_app):
    from app.base import ChangeEntry
    from app.extensions import db
    from app.procurement.models import Vendor

    errors = []

    def writer(n):
        try:
            with chain_app.app_context():
                for i in range(10):
                    db.session.add(Vendor(name=f"并发供应商{n}-{i}", credit_code=f"C{n:03d}{i:014d}"))
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with chain_app.app_context():
        seqs = [s for (s,) in db.session.query(ChangeEntry.seq).order_by(ChangeEntry.seq)]
        vendors = db.session.query(ChangeEntry).filter(
            ChangeEntry.record_type == "Vendor", ChangeEntry.action == "insert").count()
    assert seqs == list(range(1, len(seqs) + 1))
    assert vendors >= 60
    code, output = run_verify(chain_app)
    assert code == 0, output


@pytest.mark.parametrize("sql,reason", [
    ("UPDATE change_entry SET changes = '{\"name\":[null,\"forged\"]}' WHERE seq = :seq",
     "content does not match"),
    ("UPDATE change_entry SET username = 'someone_else' WHERE seq = :seq", "content does not match"),
    ("DELETE FROM change_entry WHERE seq = :seq", "missing"),
])
def test_verify_names_the_first_entry_that_was_tampered_with(chain_app, sql, reason):
    tamper(chain_app, sql, seq=5)
    code, output = run_verify(chain_app)
    assert code != 0
    assert "#5" in output and reason in output


def test_verify_notices_entries_removed_from_the_end(tmp_path):
    url = scratch_database_url(str(tmp_path), "tail")
    app = build_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        from app.extensions import db
        from seeds import load_reference

        upgrade()
        load_reference()
        last = db.session.execute(text("SELECT MAX(seq) FROM change_entry")).scalar()
    tamper(app, "DELETE FROM change_entry WHERE seq = :seq", seq=last)
    code, output = run_verify(app)
    assert code != 0 and "removed" in output
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()


def test_verify_warns_of_entries_dated_an_hour_before_the_one_they_follow(tmp_path):
    """Such an entry (an older database, a server with a wrong clock) breaks no link: verify
    passes, but names it, since the change log's date filter may miss it."""
    import datetime as dt

    from sqlalchemy import insert, select, update

    url = scratch_database_url(str(tmp_path), "early")
    app = build_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        from app.base import ChainHead, ChangeEntry
        from app.extensions import db
        from app.history import entry_content, entry_hash
        from seeds import load_reference

        upgrade()
        load_reference()
        entries, head = ChangeEntry.__table__, ChainHead.__table__

        def append(minutes_before_last):
            """An entry dated that long before the last one, hashed into the chain."""
            with db.engine.begin() as conn:
                last = conn.execute(select(entries).order_by(entries.c.seq.desc())
                                    .limit(1)).mappings().one()
                row = {**{k: v for k, v in last.items() if k not in ("id", "hash")},
                       "seq": last["seq"] + 1, "prev_hash": last["hash"],
                       "occurred_at": last["occurred_at"]
                       - dt.timedelta(minutes=minutes_before_last)}
                row["hash"] = entry_hash(row["prev_hash"], entry_content(row))
                conn.execute(insert(entries).values(**row))
                conn.execute(update(head).where(head.c.id == 1)
                             .values(seq=row["seq"], hash=row["hash"]))
                return row["seq"]

    with app.app_context():
        append(30)  # within the slack: several servers' clocks
    code, output = run_verify(app)
    assert code == 0 and "Warning" not in output, output
    with app.app_context():
        early = append(61)  # 61 minutes before the entry it follows
    code, output = run_verify(app)
    assert code == 0, output
    assert "the chain is intact" in output
    assert "Warning: 1 entries dated more than 1:00:00 before" in output
    assert f"#{early}" in output
    with app.app_context():
        db.engine.dispose()


def test_postgres_trigger_rejects_update_and_delete(app):
    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the trigger exists on PostgreSQL")
        for sql in ("UPDATE change_entry SET action = 'x' WHERE seq = 1",
                    "DELETE FROM change_entry WHERE seq = 1"):
            with pytest.raises(Exception, match="append-only"):
                with db.engine.begin() as conn:
                    conn.execute(text(sql))


def test_a_delegated_step_names_both_people_in_the_change_history(app, make, ids, api_as):
    import datetime as dt

    from app.base import ChangeEntry, Delegation
    from app.extensions import db
    from app.planning.models import ProjectRequest, ProjectStatus

    project = make("project", dept="FIN", status=ProjectStatus.dept_review,
                   submitted_by_fk=ids.user("clerk_fin"))
    today = dt.date.today()
    with app.app_context():
        delegation = Delegation(principal_id=ids.user("head_fin"),
                                substitute_id=ids.user("head_mkt"),
                                start_date=today, end_date=today)
        db.session.add(delegation)
        db.session.commit()
        delegation_id = delegation.id
    try:
        client, headers = api_as("head_mkt")
        response = client.post(f"/api/v1/project_request/{project}/transition/approve",
                               json={}, headers=headers)
        assert response.status_code == 200, response.get_json()
        with app.app_context():
            entry = (db.session.query(ChangeEntry)
                     .filter_by(record_type="ProjectRequest", record_id=str(project))
                     .order_by(ChangeEntry.seq.desc()).first())
            assert db.session.get(ProjectRequest, project).status is ProjectStatus.it_review
        assert entry.username == "head_mkt"
        assert entry.acting_for_id == ids.user("head_fin") and entry.acting_for == "李强"
    finally:
        with app.app_context():
            db.session.delete(db.session.get(Delegation, delegation_id))
            db.session.commit()


@pytest.mark.parametrize("typed", ["立项申请", "ProjectRequest"])
def test_change_log_filters_by_the_record_type_people_read(app, make, login_as, typed):
    import re

    make("project", dept="FIN")
    auditor = login_as("auditor")
    html = auditor.get(f"/changelog/list/?_flt_0_record_type={typed}"
                       "&psize_ChangeLogView=50").get_data(as_text=True)
    count = re.search(r"<strong>[^<]*</strong>\s*(\d+)\s*</div>", html)
    assert count and int(count.group(1)) > 0
    assert "/changelog/entry/" in html or "立项申请" in html
