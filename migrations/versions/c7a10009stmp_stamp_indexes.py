"""Indexes on every record's created_on and changed_on: lists filter by date range and
sort by them, the inbox and the waiting-approvals filter read changed_on.

Revision ID: c7a10009stmp
Revises: c7a10008audt
Create Date: 2026-11-30
"""
from alembic import op

revision = "c7a10009stmp"
down_revision = "c7a10008audt"
branch_labels = None
depends_on = None

TABLES = ("audit", "audit_finding", "change_order", "change_request", "contract",
          "data_sharing_request", "delegation", "department", "development_plan",
          "expert_review", "incident", "information_system", "plan_feedback",
          "project_request", "vendor")


def upgrade():
    for table in TABLES:
        for column in ("created_on", "changed_on"):
            op.create_index(f"ix_{table}_{column}", table, [column])


def downgrade():
    for table in TABLES:
        for column in ("created_on", "changed_on"):
            op.drop_index(f"ix_{table}_{column}", table_name=table)
