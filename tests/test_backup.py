"""The product's own backup (7.3.3): create → restore gives back identical data on both
databases; damaged backups are refused and change nothing."""
import json
import os
import threading

import pytest
from flask_appbuilder import Model

from conftest import build_app, dispose, scratch_database_url, seeded_app


def seeded(tmp_path, name):
    return seeded_app(scratch_database_url(str(tmp_path), name))


def empty_app(tmp_path, name):
    return build_app(scratch_database_url(str(tmp_path), name))


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def snapshot(app):
    """Every table, row by row."""
    from app.backup import table_rows
    from app.extensions import db

    with app.app_context():
        return {t.name: table_rows(db.engine, t) for t in Model.metadata.sorted_tables}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("backup")
    app = seeded(tmp, "source")
    path = str(tmp / "isgov.zip")
    code, output = cli(app, "backup", "create", path)
    assert code == 0, output
    yield app, path
    dispose(app)


def test_backup_writes_a_manifest_with_revision_counts_and_checksum(source):
    from app.backup import file_sha256

    app, path = source
    with open(f"{path}.manifest.json", encoding="utf-8") as handle:
        manifest = json.load(handle)
    assert manifest["file_sha256"] == file_sha256(path)
    assert manifest["schema_revision"]
    assert manifest["created_at"]
    counts = {name: len(rows) for name, rows in snapshot(app).items()}
    assert {n: t["rows"] for n, t in manifest["tables"].items()} == counts
    assert manifest["tables"]["attachment"]["rows"] > 0  # attachments included
    assert manifest["tables"]["change_entry"]["rows"] > 0  # history included
    assert manifest["tables"]["ab_user"]["rows"] >= 10  # users and roles included


def test_restore_into_a_fresh_database_gives_identical_tables_and_a_valid_chain(
        source, tmp_path):
    app, path = source
    target = empty_app(tmp_path, "restored")
    code, output = cli(target, "backup", "restore", path)
    assert code == 0, output
    assert snapshot(target) == snapshot(app)
    code, output = cli(target, "history", "verify")
    assert code == 0, output
    # the restored database keeps working: new rows get fresh ids and extend the chain
    with target.app_context():
        from app.extensions import db
        from app.procurement.models import Vendor

        db.session.add(Vendor(name="恢复后新增供应商", credit_code="91000000000000RST1"))
        db.session.commit()
    code, output = cli(target, "history", "verify")
    assert code == 0, output
    dispose(target)


@pytest.mark.parametrize("damage", ["flip-byte", "truncate", "manifest-edited",
                                    "manifest-missing"])
def test_damaged_backup_is_refused_and_changes_nothing(source, tmp_path, damage):
    _app, original = source
    path = str(tmp_path / "damaged.zip")
    with open(original, "rb") as handle:
        data = handle.read()
    with open(f"{original}.manifest.json", encoding="utf-8") as handle:
        manifest = json.load(handle)
    if damage == "flip-byte":
        middle = len(data) // 2
        data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
    elif damage == "truncate":
        data = data[: len(data) // 3]
    elif damage == "manifest-edited":
        manifest["tables"]["vendor"]["rows"] += 1
    with open(path, "wb") as handle:
        handle.write(data)
    if damage != "manifest-missing":
        with open(f"{path}.manifest.json", "w", encoding="utf-8") as handle:
            json.dump(manifest, handle)

    code, output = cli(_app, "backup", "verify", path)
    assert code != 0
    assert "refused" in output

    target = empty_app(tmp_path, f"damaged_{damage.replace('-', '_')}")
    code, output = cli(target, "backup", "restore", path)
    assert code != 0
    assert "refused" in output
    with target.app_context():
        from app.extensions import db

        assert db.inspect(db.engine).get_table_names() == []  # nothing was touched
    dispose(target)


def test_restore_refuses_a_non_empty_database_unless_told_to_replace(source, tmp_path):
    app, path = source
    target = seeded(tmp_path, "occupied")
    with target.app_context():
        from app.extensions import db
        from app.procurement.models import Vendor

        db.session.add(Vendor(name="只在目标库的供应商", credit_code="91000000000000ONLY"))
        db.session.commit()
    before = snapshot(target)
    code, output = cli(target, "backup", "restore", path)
    assert code != 0 and "not empty" in output
    assert snapshot(target) == before
    code, output = cli(target, "backup", "restore", "--replace", path)
    assert code == 0, output
    assert snapshot(target) == snapshot(app)
    dispose(target)


def test_backup_taken_while_writes_go_on_is_consistent(tmp_path):
    app = seeded(tmp_path, "busy")
    path = str(tmp_path / "busy.zip")
    stop = threading.Event()
    written = []

    def writer():
        from app.extensions import db
        from app.procurement.models import Vendor

        with app.app_context():
            n = 0
            while not stop.is_set() and n < 400:
                db.session.add(Vendor(name=f"写入中供应商{n}", credit_code=f"W{n:017d}"))
                db.session.commit()
                written.append(n)
                n += 1
            db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5:
            threading.Event().wait(0.01)
        code, output = cli(app, "backup", "create", path)
    finally:
        stop.set()
        thread.join()
    assert code == 0, output
    target = empty_app(tmp_path, "busy_restored")
    code, output = cli(target, "backup", "restore", path)
    assert code == 0, output
    code, output = cli(target, "history", "verify")
    assert code == 0, output  # a torn snapshot would break the chain or the head
    with target.app_context():
        from app.base import ChangeEntry
        from app.extensions import db
        from app.procurement.models import Vendor

        vendors = db.session.query(Vendor).filter(Vendor.name.like("写入中供应商%")).count()
        logged = db.session.query(ChangeEntry).filter(
            ChangeEntry.record_type == "Vendor", ChangeEntry.action == "insert",
            ChangeEntry.changes.like("%写入中供应商%")).count()
    assert vendors == logged  # every restored vendor has its history, and no more
    assert os.path.getsize(path) > 0
    dispose(target)
    dispose(app)
