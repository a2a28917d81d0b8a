"""Compliance snapshots: each system's daily score (`flask compliance snapshot`), for the
scorecard's trend; indexes the dashboard's charts read alone (incidents per month by
severity, contract amounts by vendor and by signing year).

Revision ID: c7a10013chrt
Revises: c7a10009stmp
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "c7a10013chrt"
down_revision = "c7a10010list"
branch_labels = None
depends_on = None

INDEXES = (("ix_incident_occurred_severity", "incident", ["occurred_at", "severity"]),
           ("ix_contract_vendor_amount", "contract", ["vendor_id", "amount"]),
           ("ix_contract_sign_amount", "contract", ["sign_date", "amount"]))


def upgrade():
    op.create_table(
        "compliance_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("failing", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "system_id", name="uq_compliance_snapshot"),
    )
    op.create_index("ix_compliance_snapshot_day", "compliance_snapshot", ["day"])
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_index("ix_compliance_snapshot_day", table_name="compliance_snapshot")
    op.drop_table("compliance_snapshot")
