"""Planner statistics for the indexes the list, change-log and inbox migrations added.

SQLite plans from ``sqlite_stat1``, which only ANALYZE fills: an index created after the
last ANALYZE has no row there, and the planner then guesses. At PRODUCT.md §8 volumes it
guessed badly: a status filter on 200,000 incidents read the status index and sorted
180,000 rows (215 ms) instead of walking the date index (28 ms with statistics), and the
check of a record page's approvals walked the index of every approval insert. So the
upgrade ends with ANALYZE (SQLite: a full one, 16 s on the 2.8 GB §8 file; a sampled one,
``analysis_limit``, misjudged the change log's indexes by a hundred times; PostgreSQL:
ANALYZE too, as autovacuum would do later). A migration that adds indexes later should
end the same way.

Revision ID: c7a10015perf
Revises: c7a10011inbx
Create Date: 2026-11-30
"""
from alembic import op

revision = "c7a10015perf"
down_revision = "c7a10014chrt"
branch_labels = None
depends_on = None


def analyze():
    op.execute("ANALYZE")


def upgrade():
    analyze()


def downgrade():
    pass  # statistics are not schema: nothing to undo
