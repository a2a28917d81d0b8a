"""Damaged backups (7.3.3): data changed behind the manifest, a manifest edited to match,
a table dropped from or added to the archive, rows that do not fit their table. Each
is refused by `flask backup verify` and by `flask backup restore`, and the target
database is left untouched."""
import hashlib
import json
import zipfile

import pytest

from conftest import build_app, dispose, scratch_database_url

MANIFEST = "manifest.json"


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def original(app, tmp_path_factory):
    """A backup of the session database (read-only for it)."""
    path = str(tmp_path_factory.mktemp("damage") / "isgov.zip")
    code, output = cli(app, "backup", "create", path)
    assert code == 0, output
    return path


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """An empty database every refused restore must leave empty."""
    application = build_app(scratch_database_url(str(tmp_path_factory.mktemp("target")),
                                                 "damage_target"))
    yield application
    dispose(application)


def read_archive(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_backup(path, members, outer):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with open(path, "rb") as handle:
        outer["file_sha256"] = hashlib.sha256(handle.read()).hexdigest()
    with open(f"{path}.manifest.json", "w", encoding="utf-8") as handle:
        json.dump(outer, handle)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def change_a_vendor_name(data):
    """Same row count, different data."""
    lines = data.decode("utf-8").splitlines(keepends=True)
    row = json.loads(lines[0])
    row["name"] = "篡改后的供应商"
    lines[0] = json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"
    return "".join(lines).encode("utf-8")


def damage(kind, members, inner, outer):
    """Apply one kind of damage; the whole-file checksum is always recomputed."""
    vendor = "data/vendor.jsonl"
    if kind == "same-rows-other-data":
        members[vendor] = change_a_vendor_name(members[vendor])
    elif kind == "outer-manifest-edited-to-match":
        members[vendor] = change_a_vendor_name(members[vendor])
        outer["tables"]["vendor"]["sha256"] = sha(members[vendor])
    elif kind == "table-dropped":
        del members[vendor]
    elif kind == "table-dropped-from-both-manifests":
        del members[vendor]
        for manifest in (inner, outer):
            del manifest["tables"]["vendor"]
    elif kind == "table-added":
        members["data/forged.jsonl"] = b'{"id": 1}\n'
    elif kind == "table-added-to-both-manifests":
        members["data/forged.jsonl"] = b'{"id": 1}\n'
        for manifest in (inner, outer):
            manifest["tables"]["forged"] = {"rows": 1, "sha256": sha(b'{"id": 1}\n')}
    elif kind == "rows-of-another-shape":
        members[vendor] = b'{"id": 999999, "forged": true}\n' + members[vendor]
        for manifest in (inner, outer):
            manifest["tables"]["vendor"] = {
                "rows": manifest["tables"]["vendor"]["rows"] + 1, "sha256": sha(members[vendor])}
    members[MANIFEST] = json.dumps(inner, ensure_ascii=False, indent=2, sort_keys=True)


KINDS = ["same-rows-other-data", "outer-manifest-edited-to-match", "table-dropped",
         "table-dropped-from-both-manifests", "table-added", "table-added-to-both-manifests",
         "rows-of-another-shape"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_backup_is_refused_by_verify_and_restore_and_changes_nothing(
        app, original, target, tmp_path, kind):
    members = read_archive(original)
    inner = json.loads(members[MANIFEST])
    with open(f"{original}.manifest.json", encoding="utf-8") as handle:
        outer = json.load(handle)
    damage(kind, members, inner, outer)
    path = str(tmp_path / "damaged.zip")
    write_backup(path, members, outer)

    code, output = cli(app, "backup", "verify", path)
    assert code != 0, output
    assert "backup refused" in output
    code, output = cli(target, "backup", "restore", path)
    assert code != 0, output
    assert "restore refused" in output
    with target.app_context():
        from app.extensions import db

        assert db.inspect(db.engine).get_table_names() == []  # nothing was touched


def test_a_rewritten_but_untouched_backup_still_verifies(app, original, tmp_path):
    """The damage above is what is refused: rewriting the same members passes."""
    members = read_archive(original)
    with open(f"{original}.manifest.json", encoding="utf-8") as handle:
        outer = json.load(handle)
    path = str(tmp_path / "rewritten.zip")
    write_backup(path, members, outer)
    code, output = cli(app, "backup", "verify", path)
    assert code == 0, output
