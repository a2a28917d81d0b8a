"""The product's own backup and restore (7.3.3 applies to this application too).

A backup is a ZIP file holding one JSON-lines member per table (records,
attachments, change history, users and roles) and ``manifest.json`` (time,
schema revision, row count and SHA-256 of every member). Beside it,
``<file>.manifest.json`` repeats the manifest with the SHA-256 of the whole
file, so a copy can be checked before anything is touched.

The snapshot is consistent: SQLite is copied with SQLite's online backup API
while the application keeps running; PostgreSQL is read in one REPEATABLE READ,
READ ONLY transaction.
"""
import base64
import datetime as dt
import decimal
import enum
import hashlib
import json
import os
import sqlite3
import tempfile
import zipfile

from flask_appbuilder import Model
from sqlalchemy import (
    Date,
    DateTime,
    Enum,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    create_engine,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)

FORMAT = 1
MANIFEST = "manifest.json"
HEAD_TABLE = "change_chain_head"


class BackupError(Exception):
    """A backup that cannot be trusted or used; the message says why."""


def sidecar_path(path):
    return f"{path}.manifest.json"


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------ encoding

def _encode(column, value):
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _decode(column, value):
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, Enum) and kind.enum_class is not None:
        return kind.enum_class[value]
    if isinstance(kind, LargeBinary):
        return base64.b64decode(value)
    if isinstance(kind, DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return dt.date.fromisoformat(value)
    if isinstance(kind, Numeric) and kind.asdecimal:
        return decimal.Decimal(value)
    return value


def _tables():
    return list(Model.metadata.sorted_tables)


def _order(table):
    return list(table.primary_key.columns) or list(table.columns)


# ------------------------------------------------------------------- create

def _snapshot_engine(engine, stack):
    """An engine reading a consistent snapshot, and a cleanup callable."""
    if engine.dialect.name == "sqlite":
        fd, copy = tempfile.mkstemp(suffix=".sqlite")
        os.close(fd)
        raw = engine.raw_connection()
        try:
            target = sqlite3.connect(copy)
            raw.driver_connection.backup(target)
            target.close()
        finally:
            raw.close()
        snap = create_engine(f"sqlite:///{copy}")
        stack.append(lambda: (snap.dispose(), os.remove(copy)))
        return snap
    return engine


def create_backup(engine, path):
    """Write a backup of the whole database to ``path``; return the manifest."""
    cleanups = []
    try:
        source = _snapshot_engine(engine, cleanups)
        with source.connect() as conn:
            if source.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                if source.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                manifest = _write_zip(conn, path)
    finally:
        for cleanup in cleanups:
            cleanup()
    manifest["file_sha256"] = file_sha256(path)
    manifest["file"] = os.path.basename(path)
    with open(sidecar_path(path), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2, sort_keys=True)
    return manifest


def _write_zip(conn, path):
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    manifest = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "schema_revision": revision,
        "dialect": conn.dialect.name,
        "tables": {},
    }
    head = conn.execute(text(f"SELECT seq, hash FROM {HEAD_TABLE} WHERE id = 1")).one_or_none()
    if head is not None:  # an anchor for `flask history verify --anchor SEQ:HASH`
        manifest["chain_head"] = f"{head.seq}:{head.hash}"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in _tables():
            digest, rows = hashlib.sha256(), 0
            with archive.open(_member(table.name), "w") as member:
                result = conn.execution_options(stream_results=True).execute(
                    select(table).order_by(*_order(table)))
                for row in result:
                    record = {c.name: _encode(c, row._mapping[c]) for c in table.columns}
                    line = (json.dumps(record, ensure_ascii=False, sort_keys=True)
                            + "\n").encode("utf-8")
                    member.write(line)
                    digest.update(line)
                    rows += 1
            manifest["tables"][table.name] = {"rows": rows, "sha256": digest.hexdigest()}
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2,
                                              sort_keys=True))
    return manifest


# ------------------------------------------------------------------- verify

def _member(table_name):
    return f"data/{table_name}.jsonl"


def _check_member(archive, table, info):
    """A table's data against its manifest entry: SHA-256, row count, the table's columns."""
    columns = {c.name for c in table.columns}
    digest, rows = hashlib.sha256(), 0
    with archive.open(_member(table.name)) as member:
        for line in member:
            digest.update(line)
            record = json.loads(line)
            if not isinstance(record, dict) or set(record) != columns:
                raise BackupError(f"Table {table.name} in the backup has rows that do not "
                                  f"fit the table's columns.")
            rows += 1
    if digest.hexdigest() != info["sha256"] or rows != info["rows"]:
        raise BackupError(f"Table {table.name} in the backup does not match its manifest.")


def verify_backup(path):
    """Check file checksum, manifest and every member; return the manifest."""
    if not os.path.exists(path):
        raise BackupError(f"No backup file at {path}.")
    side = sidecar_path(path)
    if not os.path.exists(side):
        raise BackupError(f"The manifest {side} is missing; the backup cannot be checked.")
    try:
        with open(side, encoding="utf-8") as handle:
            outer = json.load(handle)
    except (OSError, ValueError) as exc:
        raise BackupError(f"The manifest {side} is unreadable: {exc}") from None
    actual = file_sha256(path)
    if actual != outer.get("file_sha256"):
        raise BackupError(
            f"Checksum mismatch: the backup file is corrupted or truncated "
            f"(SHA-256 {actual[:16]}…, manifest says {str(outer.get('file_sha256'))[:16]}…).")
    try:
        with zipfile.ZipFile(path) as archive:
            inner = json.loads(archive.read(MANIFEST))
            if inner.get("format") != FORMAT:
                raise BackupError(f"Unknown backup format {inner.get('format')!r}.")
            tables = {t.name: t for t in _tables()}
            if set(inner["tables"]) != set(tables):
                missing = sorted(set(tables) - set(inner["tables"]))
                extra = sorted(set(inner["tables"]) - set(tables))
                raise BackupError(f"The backup's tables do not match this version "
                                  f"(missing {missing}, unknown {extra}).")
            members = set(archive.namelist())
            expected_members = {MANIFEST} | {_member(name) for name in tables}
            if members != expected_members:
                raise BackupError(
                    f"The backup's files do not match its manifest (missing "
                    f"{sorted(expected_members - members)}, unknown "
                    f"{sorted(members - expected_members)}).")
            for name, info in inner["tables"].items():
                _check_member(archive, tables[name], info)
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, zipfile.LargeZipFile,
            TypeError) as exc:
        raise BackupError(f"The backup file is damaged: {exc}") from None
    for key in ("schema_revision", "tables"):
        if inner.get(key) != outer.get(key):
            raise BackupError(f"The manifest beside the file disagrees with the one inside "
                              f"({key}).")
    return inner


# ------------------------------------------------------------------ restore

def database_is_empty(engine):
    """No tables, or tables without data (a fresh migration: genesis chain head only)."""
    names = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        for table in _tables():
            if table.name not in names:
                continue
            count = conn.execute(select(func.count()).select_from(table)).scalar()
            if table.name == HEAD_TABLE:
                seq = conn.execute(select(table.c.seq)).scalar()
                if count <= 1 and not seq:
                    continue
            if count:
                return False
    return True


def drop_everything(engine):
    meta = MetaData()
    meta.reflect(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in meta.tables.values():
                conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table.name}" CASCADE')
            for function in ("change_entry_append_only", "approval_immutable",
                             "evidence_no_truncate", "change_chain_head_forward_only"):
                conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}() CASCADE")
        return
    # SQLite connections enforce foreign keys (app/validation.py); dropping tables in any
    # order needs that off. The pragma is set before the first statement of the transaction.
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        for table in meta.tables.values():
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table.name}"')
        conn.commit()
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.commit()


def restore_backup(engine, path, upgrade, replace=False):
    """Restore ``path`` into the database behind ``engine``.

    ``upgrade(revision)`` brings an empty database to the backup's schema
    revision (Flask-Migrate's upgrade). Nothing is touched before the backup
    has been verified in full.
    """
    manifest = verify_backup(path)
    if not database_is_empty(engine):
        if not replace:
            raise BackupError("The database is not empty; restore refuses to overwrite it. "
                              "Use --replace to drop everything and restore.")
        drop_everything(engine)
    upgrade(manifest["schema_revision"])
    with zipfile.ZipFile(path) as archive, engine.begin() as conn:
        _load_tables(conn, archive, manifest)
        if engine.dialect.name == "postgresql":
            _reset_sequences(conn)
    return manifest


def _load_tables(conn, archive, manifest):
    loaded, deferred, head = set(), [], None
    for table in _tables():
        if table.name == HEAD_TABLE:
            head = table
            continue
        later = [fk for fk in table.foreign_keys
                 if fk.column.table.name not in loaded or fk.column.table is table]
        pk = [c.name for c in table.primary_key.columns]
        batch = []
        with archive.open(_member(table.name)) as member:
            for line in member:
                record = json.loads(line)
                row = {c.name: _decode(c, record.get(c.name)) for c in table.columns}
                for fk in later:
                    name = fk.parent.name
                    if row.get(name) is not None:
                        deferred.append((table, {k: row[k] for k in pk}, name, row[name]))
                        row[name] = None
                batch.append(row)
                if len(batch) >= 1000:
                    conn.execute(insert(table), batch)
                    batch = []
        if batch:
            conn.execute(insert(table), batch)
        loaded.add(table.name)
    for table, key, column, value in deferred:
        clause = [table.c[k] == v for k, v in key.items()]
        conn.execute(update(table).where(*clause).values({column: value}))
    # The migration's genesis head moves forward to the backup's own, once the entries
    # it points at are in (on PostgreSQL the head is never deleted, only moved forward).
    with archive.open(_member(HEAD_TABLE)) as member:
        for line in member:
            record = json.loads(line)
            conn.execute(update(head).where(head.c.id == record["id"])
                         .values(seq=record["seq"], hash=record["hash"]))


def _reset_sequences(conn):
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                {"t": table.name, "c": pk[0].name}).scalar()
        if sequence:
            conn.execute(text(f'SELECT setval(:s, COALESCE((SELECT MAX("{pk[0].name}") '
                              f'FROM "{table.name}"), 0) + 1, false)'), {"s": sequence})


def table_rows(engine, table):
    """Every row of a table, encoded as in a backup, in primary-key order (for comparison)."""
    with engine.connect() as conn:
        return [{c.name: _encode(c, row._mapping[c]) for c in table.columns}
                for row in conn.execute(select(table).order_by(*_order(table)))]

