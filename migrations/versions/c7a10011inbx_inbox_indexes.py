"""Indexes for 待我处理: each workflow table by (status, changed_on, id), so the inbox finds
a state's records oldest first and pages them from the index. The approvals' separation-of-
duties lookups use ix_approval_record (record_type, record_id, id), which exists.

Revision ID: c7a10011inbx
Revises: c7a10009stmp
Create Date: 2026-11-30
"""
from alembic import op

revision = "c7a10011inbx"
down_revision = "c7a10012clog"
branch_labels = None
depends_on = None

TABLES = ("audit_finding", "change_order", "change_request", "contract",
          "data_sharing_request", "development_plan", "expert_review", "incident",
          "project_request")


def upgrade():
    for table in TABLES:
        op.create_index(f"ix_{table}_status_changed_on", table,
                        ["status", "changed_on", "id"])


def downgrade():
    for table in TABLES:
        op.drop_index(f"ix_{table}_status_changed_on", table_name=table)
