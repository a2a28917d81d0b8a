"""Incidents: the closing time, stamped by the close step.

Revision ID: c7a10006work
Revises: c7a10004wflw
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "c7a10006work"
down_revision = "c7a10004wflw"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("incident", sa.Column("closed_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("closed_at")
