"""Audit findings: the rectification's evidence file.

Revision ID: c7a10008audt
Revises: c7a10006work
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "c7a10008audt"
down_revision = "c7a10006work"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_finding") as batch:
        batch.add_column(sa.Column("rectification_evidence_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_audit_finding_rectification_evidence", "attachment",
                                 ["rectification_evidence_id"], ["id"])


def downgrade():
    with op.batch_alter_table("audit_finding") as batch:
        batch.drop_constraint("fk_audit_finding_rectification_evidence", type_="foreignkey")
        batch.drop_column("rectification_evidence_id")
