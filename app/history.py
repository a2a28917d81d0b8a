"""Change history: one hash-chained entry per insert, update and delete (5.1.3, 5.1.4).

Written from one place, a SQLAlchemy session event, so screens, the API, the
CLI and seed code are all covered. Each entry stores the SHA-256 of its
canonical content and the previous entry's hash. Writers lock the single
chain-head row first, so concurrent transactions extend the chain one after
another and never fork it.

Approvals (workflow decisions) are evidence too: each gets an insert entry in
the same chain, in the same transaction, and ``verify_approvals`` holds every
approval row against its entry, so a row inserted, edited or deleted behind
the application's back is named.
"""
import datetime as dt
import decimal
import enum
import hashlib
import json
import uuid

from flask import g, has_request_context
from sqlalchemy import LargeBinary, event, func, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipDirection, Session

from .base import AppUser, Approval, Attachment, ChainHead, ChangeEntry, StampMixin, utcnow
from .security import current_actor

GENESIS = "0" * 64
# How far apart in time two entries may be recorded out of order (clocks of several app
# servers): the writer never dates an entry before the one it follows (record_changes),
# and the change log's time filter looks this far beyond its bounds, so an entry of an
# older database with a slightly skewed clock is still found.
CLOCK_SLACK = dt.timedelta(hours=1)
# Never recorded: secrets, login bookkeeping, and the stamps the entry itself carries.
EXCLUDED_FIELDS = frozenset({
    "password", "security_stamp", "last_login", "login_count", "fail_login_count",
    "created_on", "changed_on", "created_by_fk", "changed_by_fk",
})
_process_request_id = f"cli-{uuid.uuid4().hex[:16]}"


class AppendOnlyError(RuntimeError):
    pass


def current_request_id():
    """One id for everything a single web or API request (or CLI run) changes."""
    if not has_request_context():
        return _process_request_id
    if "request_id" not in g:
        g.request_id = uuid.uuid4().hex
    return g.request_id


def is_governed(obj):
    return isinstance(obj, (StampMixin, AppUser, Approval))


def record_type(obj):
    return type(obj).__name__


def to_json_value(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, Attachment):  # by id too: a replaced file stays downloadable
        return {"id": value.id, "name": value.filename, "sha256": value.sha256}
    if hasattr(value, "id"):
        return value.id
    return str(value)


def canonical(data):
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _column_changes(state, action):
    changes = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        column = attr.columns[0]
        if key in EXCLUDED_FIELDS or isinstance(column.type, LargeBinary):
            continue
        history = state.attrs[key].history
        if action == "insert":
            value = state.dict.get(key)
            if value is not None:
                changes[key] = [None, to_json_value(value)]
        elif action == "delete":
            values = history.unchanged or history.deleted or [state.dict.get(key)]
            if values[0] is not None:
                changes[key] = [to_json_value(values[0]), None]
        elif history.has_changes():
            before = to_json_value(history.deleted[0]) if history.deleted else None
            after = to_json_value(history.added[0]) if history.added else None
            if before != after:
                changes[key] = [before, after]
    return changes


def _relationship_changes(state, action):
    """Many-to-one changes under the key's column name (attachments by name and hash);
    many-to-many as sorted id lists."""
    changes = {}
    for rel in state.mapper.relationships:
        if rel.key not in state.dict and action != "delete":
            continue
        history = state.attrs[rel.key].history
        if action == "update" and not history.has_changes():
            continue
        if rel.direction is RelationshipDirection.MANYTOONE:
            column = next(iter(rel.local_columns)).key
            if column in EXCLUDED_FIELDS:
                continue
            before = (history.deleted or history.unchanged or [None])[0]
            after = (history.added or history.unchanged or [None])[0]
            if action == "insert":
                before = None
            if action == "delete":
                after = None
            before, after = to_json_value(before), to_json_value(after)
            if before != after:
                changes[column] = [before, after]
        elif rel.direction is RelationshipDirection.MANYTOMANY:
            before = sorted(o.id for o in (history.unchanged or []) + (history.deleted or []))
            after = sorted(o.id for o in (history.unchanged or []) + (history.added or []))
            if action == "insert":
                before = []
            if action == "delete":
                after = []
            if before != after:
                changes[rel.key] = [before, after]
    return changes


def describe_change(obj, action):
    state = sa_inspect(obj)
    changes = _column_changes(state, action)
    changes.update(_relationship_changes(state, action))
    return changes


def entry_hash(prev_hash, content):
    return hashlib.sha256((prev_hash + canonical(content)).encode("utf-8")).hexdigest()


def entry_content(row):
    """The fields a hash covers, from a dict or a ChangeEntry."""
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    occurred = get("occurred_at")
    return {
        "seq": get("seq"),
        "occurred_at": occurred.isoformat() if isinstance(occurred, dt.datetime) else occurred,
        "user_id": get("user_id"), "username": get("username"),
        "acting_for_id": get("acting_for_id"), "acting_for": get("acting_for"),
        "request_id": get("request_id"), "record_type": get("record_type"),
        "record_id": get("record_id"), "action": get("action"), "changes": get("changes"),
    }


def _pending_changes(session):
    found = []
    for action, objects in (("insert", session.new), ("update", session.dirty),
                            ("delete", session.deleted)):
        for obj in objects:
            if not is_governed(obj):
                continue
            if action == "update" and not session.is_modified(obj):
                continue
            changes = describe_change(obj, action)
            if action == "update" and not changes:
                continue
            found.append((obj, action, changes))
    return found


@event.listens_for(Session, "after_flush")
def record_changes(session, flush_context):
    pending = _pending_changes(session)
    if not pending:
        return
    _append(session, [(record_type(obj),
                       str(sa_inspect(obj).mapper.primary_key_from_instance(obj)[0]),
                       action, changes) for obj, action, changes in pending])


def _append(session, items):
    """Extend the chain by one entry per (record type, record id, action, changes)."""
    actor = current_actor()
    acting_for = (g.get("acting_for") if has_request_context() else None) or (None, None)
    conn = session.connection()
    head = ChainHead.__table__
    # Lock the head row first (row lock on PostgreSQL, write lock on SQLite).
    conn.execute(update(head).where(head.c.id == 1).values(seq=head.c.seq))
    entries = ChangeEntry.__table__
    seq, prev_hash, last_time = conn.execute(
        select(head.c.seq, head.c.hash, entries.c.occurred_at)
        .outerjoin(entries, entries.c.seq == head.c.seq).where(head.c.id == 1)).one()
    # Never dated before the entry it follows (app servers' clocks differ a little): the
    # change log finds a time range as a range of entry numbers.
    now = utcnow() if last_time is None else max(utcnow(), last_time)
    rows = []
    for kind, key, action, changes in items:
        seq += 1
        row = {
            "seq": seq, "occurred_at": now,
            "user_id": actor.id if actor else None,
            "username": actor.username if actor else None,
            "acting_for_id": acting_for[0], "acting_for": acting_for[1],
            "request_id": current_request_id(), "record_type": kind,
            "record_id": key, "action": action,
            "changes": canonical(changes), "prev_hash": prev_hash,
        }
        row["hash"] = prev_hash = entry_hash(row["prev_hash"], entry_content(row))
        rows.append(row)
    conn.execute(insert(ChangeEntry.__table__), rows)
    conn.execute(update(head).where(head.c.id == 1).values(seq=seq, hash=prev_hash))


# The change-history entry of an export (app/export.py): record type EXPORT, the record
# id names the exported record type, the action is "export"; a read, recorded as evidence
# in the same hash chain (who exported which filter, sort and how many rows).
EXPORT = "Export"


# The change-history entry of a break-glass sign-in (app/security.py): a local account
# signing in with its own password while the company directory is in charge; the record
# id is the account, the action "login".
SIGN_IN = "LocalSignIn"


def record_export(session, model_name, details):
    """One chain entry for an export, committed at once (before the first row is sent).
    ``details``: {field: value}, stored as [None, value] like an insert's values."""
    record_event(session, EXPORT, model_name, "export", details)


def record_event(session, kind, key, action, details):
    """One chain entry for an event that is no record change (an export, a break-glass
    sign-in), committed at once."""
    _append(session, [(kind, key, action,
                       {field: [None, value] for field, value in details.items()})])
    # The request goes on reading as its user: nothing it loaded is expired.
    target = session() if callable(session) else session
    keep, target.expire_on_commit = target.expire_on_commit, False
    try:
        target.commit()
    finally:
        target.expire_on_commit = keep


@event.listens_for(ChangeEntry, "before_update")
@event.listens_for(ChangeEntry, "before_delete")
def refuse_change(mapper, connection, target):
    raise AppendOnlyError("Change history is append-only.")


def verify_chain(session, batch=5000, anchors=None, early=None):
    """Walk the chain; return (entries checked, None) or (checked, (seq, reason)).

    ``anchors`` ({seq: hash}, heads noted outside the database, e.g. in a backup
    manifest) catch a forger who rewrote an entry and rehashed everything after it.
    ``early``: a list, given the numbers of the entries dated more than CLOCK_SLACK before
    the entry they follow (not a break of the chain: the change log's date filter may
    miss them).
    """
    anchors = dict(anchors or {})
    if anchors.pop(0, GENESIS) != GENESIS:
        return 0, (0, "the genesis hash noted outside the database differs")
    expected_prev, expected_seq, checked, before = GENESIS, 1, 0, None
    query = session.query(ChangeEntry).order_by(ChangeEntry.seq).yield_per(batch)
    for entry in query:
        if early is not None and before is not None and entry.occurred_at < before - CLOCK_SLACK:
            early.append(entry.seq)
        before = entry.occurred_at
        if entry.seq != expected_seq:
            return checked, (entry.seq, f"entry #{expected_seq} is missing")
        if entry.prev_hash != expected_prev:
            return checked, (entry.seq, "previous-hash link does not match")
        if entry.hash != entry_hash(entry.prev_hash, entry_content(entry)):
            return checked, (entry.seq, "content does not match its hash")
        if anchors.pop(entry.seq, entry.hash) != entry.hash:
            return checked, (entry.seq, "hash differs from the one noted outside the "
                                        "database: the chain was rewritten up to here")
        expected_prev, expected_seq = entry.hash, entry.seq + 1
        checked += 1
    if anchors:
        seq = min(anchors)
        return checked, (seq, "an entry noted outside the database is gone")
    head = session.get(ChainHead, 1)
    if head is None:
        return checked, (expected_seq, "the chain head is missing")
    if head.seq > expected_seq - 1:
        return checked, (expected_seq, "entries after the last one were removed")
    if head.seq != expected_seq - 1 or head.hash != expected_prev:
        return checked, (expected_seq - 1, "the chain head does not match the last entry")
    return checked, None


APPROVAL = "Approval"


def approval_values(row):
    """An approval row as its history entry records it: every column that has a value."""
    values = {}
    for column in Approval.__table__.columns:
        value = row[column.name] if isinstance(row, dict) else row._mapping[column]
        if value is not None:
            values[column.name] = to_json_value(value)
    return values


def _entry_values(entry_changes):
    return {field: after for field, (_before, after) in json.loads(entry_changes).items()}


def _stream(session, statement, batch):
    options = {"stream_results": True, "yield_per": batch}
    return session.connection().execute(statement, execution_options=options)


def _approval_rows(session, batch):
    table = Approval.__table__
    for row in _stream(session, select(table).order_by(table.c.id), batch):
        yield row.id, approval_values(row)


def _approval_entries(session, batch):
    """Entries of approvals in approval-id order: decimal ids sort by (length, text),
    in the database and without a cast that a forged non-numeric id would break."""
    entries = ChangeEntry.__table__
    query = (select(entries.c.record_id, entries.c.seq, entries.c.action, entries.c.changes)
             .where(entries.c.record_type == APPROVAL)
             .order_by(func.length(entries.c.record_id), entries.c.record_id, entries.c.seq))
    for record_id, seq, action, changes in _stream(session, query, batch):
        if not record_id.isdigit() or (record_id.startswith("0") and record_id != "0"):
            raise _NotAnApprovalId(seq)
        yield int(record_id), seq, action, changes


class _NotAnApprovalId(Exception):
    pass


def verify_approvals(session, batch=5000, limit=50):
    """Hold every approval row against its history entry, both streamed in id order.

    Returns (approvals checked, problems): a problem is (approval id, entry seq or
    None, reason). A row without an entry was inserted behind the application; a
    row that differs from its entry was edited; an entry without a row was deleted.
    """
    try:
        return _verify_approvals(session, batch, limit)
    except _NotAnApprovalId as exc:
        return 0, [(None, exc.args[0], "history entry of an approval without a valid id")]


def _verify_approvals(session, batch, limit):
    problems, checked = [], 0
    rows, entries = _approval_rows(session, batch), _approval_entries(session, batch)
    row, entry = next(rows, None), next(entries, None)
    while (row is not None or entry is not None) and len(problems) < limit:
        if entry is not None and (row is None or entry[0] < row[0]):
            approval_id, seq, action, _changes = entry
            reason = ("recorded in the history but missing (deleted)" if action == "insert"
                      else f"history entry of action {action!r} (approvals never change)")
            problems.append((approval_id, seq, reason))
            entry = next(entries, None)
            continue
        approval_id, values = row
        checked += 1
        row = next(rows, None)
        if entry is None or entry[0] > approval_id:
            problems.append((approval_id, None,
                             "has no history entry (inserted behind the application)"))
            continue
        _id, seq, action, changes = entry
        recorded = _entry_values(changes)
        if action != "insert":
            problems.append((approval_id, seq,
                             f"history entry of action {action!r} (approvals never change)"))
        elif recorded != values:
            fields = sorted(k for k in set(recorded) | set(values)
                            if recorded.get(k) != values.get(k))
            problems.append((approval_id, seq,
                             f"differs from its history entry ({', '.join(fields)}): edited"))
        entry = next(entries, None)
        while entry is not None and entry[0] == approval_id:
            problems.append((approval_id, entry[1], "has a second history entry"))
            entry = next(entries, None)
    return checked, problems


def unrecorded_approvals(session, approvals):
    """Ids of the given approvals that have no matching history entry (forged or edited
    behind the application): one query, for a record page."""
    if not approvals:
        return set()
    # By the record index (record_id, record_type): the action is checked here, since a
    # condition on it lets SQLite walk the (record_type, action) index of every approval.
    recorded = {record_id: changes for record_id, action, changes in session.query(
        ChangeEntry.record_id, ChangeEntry.action, ChangeEntry.changes).filter(
        ChangeEntry.record_type == APPROVAL,
        ChangeEntry.record_id.in_([str(a.id) for a in approvals])) if action == "insert"}
    suspect = set()
    for approval in approvals:
        values = approval_values({c.name: getattr(approval, c.key)
                                  for c in sa_inspect(Approval).columns})
        entry = recorded.get(str(approval.id))
        if entry is None or _entry_values(entry) != values:
            suspect.add(approval.id)
    return suspect


def record_versions(session, record_type_name, record_id):
    """Every state of one record, oldest first: [(entry, state dict)]."""
    state, versions = {}, []
    entries = (session.query(ChangeEntry)
               .filter_by(record_type=record_type_name, record_id=str(record_id))
               .order_by(ChangeEntry.seq))
    for entry in entries:
        for field, (_before, after) in json.loads(entry.changes).items():
            state[field] = after
        if entry.action == "delete":
            state = {}
        versions.append((entry, dict(state)))
    return versions
