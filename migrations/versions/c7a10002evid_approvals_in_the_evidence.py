"""approvals in the evidence: existing approvals enter the change-history chain;
on PostgreSQL TRUNCATE is refused on the evidence tables and the chain head only
moves forward to an entry that exists

Revision ID: c7a10002evid
Revises: c7a10001auth
Create Date: 2026-11-30 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a10002evid'
down_revision = 'c7a10001auth'
branch_labels = None
depends_on = None

EVIDENCE_TABLES = ("change_entry", "approval", "change_chain_head")


def _backfill_approvals(conn):
    """Approvals written before they joined the chain get their insert entry now."""
    from app.base import Approval, utcnow
    from app.history import approval_values, canonical, entry_content, entry_hash

    approvals = Approval.__table__
    head = sa.table("change_chain_head", sa.column("id"), sa.column("seq"), sa.column("hash"))
    entries = sa.table("change_entry", *(sa.column(c) for c in (
        "seq", "occurred_at", "user_id", "username", "acting_for_id", "acting_for",
        "request_id", "record_type", "record_id", "action", "changes", "prev_hash", "hash")))
    seq, prev_hash = conn.execute(sa.select(head.c.seq, head.c.hash)
                                  .where(head.c.id == 1)).one()
    now, rows = utcnow(), []
    for row in conn.execute(sa.select(approvals).order_by(approvals.c.id)):
        values = approval_values(row)
        seq += 1
        entry = {"seq": seq, "occurred_at": now, "user_id": None, "username": None,
                 "acting_for_id": None, "acting_for": None,
                 "request_id": f"migration-{revision}", "record_type": "Approval",
                 "record_id": str(row.id), "action": "insert",
                 "changes": canonical({k: [None, v] for k, v in values.items()}),
                 "prev_hash": prev_hash}
        entry["hash"] = prev_hash = entry_hash(prev_hash, entry_content(entry))
        rows.append(entry)
    if rows:
        conn.execute(sa.insert(entries), rows)
        conn.execute(sa.update(head).where(head.c.id == 1).values(seq=seq, hash=prev_hash))


def upgrade():
    conn = op.get_bind()
    _backfill_approvals(conn)
    if conn.dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION evidence_no_truncate() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only (TRUNCATE refused)', TG_TABLE_NAME;
        END
        $$ LANGUAGE plpgsql
    """)
    for table in EVIDENCE_TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION evidence_no_truncate()
        """)
    # The head is updated by every writer, but only forward, to an entry that exists
    # (or left as it is: writers lock it with a no-op update first); never deleted.
    op.execute("""
        CREATE FUNCTION change_chain_head_forward_only() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND (
                   (NEW.seq = OLD.seq AND NEW.hash = OLD.hash)
                OR (NEW.seq > OLD.seq AND EXISTS (
                       SELECT 1 FROM change_entry e WHERE e.seq = NEW.seq AND e.hash = NEW.hash)))
            THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'change_chain_head only moves forward to an existing entry (% refused)',
                TG_OP;
        END
        $$ LANGUAGE plpgsql
    """)
    op.execute("""
        CREATE TRIGGER change_chain_head_forward_only BEFORE UPDATE OR DELETE ON change_chain_head
        FOR EACH ROW EXECUTE FUNCTION change_chain_head_forward_only()
    """)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS change_chain_head_forward_only ON change_chain_head")
        op.execute("DROP FUNCTION IF EXISTS change_chain_head_forward_only()")
        for table in EVIDENCE_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS evidence_no_truncate()")
    # Backfilled entries stay: the history is append-only.
