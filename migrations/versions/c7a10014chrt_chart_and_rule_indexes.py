"""Indexes for the dashboard's charts and the scorecard's rules at PRODUCT.md §8 scale:
each chart or rule reads one index alone (a department's incidents per month, the mean
time to resolve, budgets by department, change requests by outcome, findings by status,
the approvals of changes (5.1.4), a project's signed contracts (3.2.4, 4.1.3)).

Revision ID: c7a10014chrt
Revises: c7a10011inbx
Create Date: 2026-11-30
"""
from alembic import op

revision = "c7a10014chrt"
down_revision = "c7a10011inbx"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_incident_occurred_severity_resolved", "incident",
     ["occurred_at", "severity", "resolved_at"]),
    ("ix_incident_department_occurred", "incident",
     ["reporting_department_id", "occurred_at", "severity", "resolved_at"]),
    ("ix_project_request_department_budget", "project_request",
     ["applicant_department_id", "budget"]),
    ("ix_change_request_status_kind", "change_request", ["status", "kind"]),
    ("ix_audit_finding_status_severity", "audit_finding", ["status", "severity"]),
    ("ix_approval_type_state", "approval", ["record_type", "to_state", "record_id"]),
    ("ix_contract_project_status", "contract", ["project_id", "status"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    # Replaced by ix_incident_occurred_severity_resolved (the same and one more column).
    op.drop_index("ix_incident_occurred_severity", table_name="incident")


def downgrade():
    op.create_index("ix_incident_occurred_severity", "incident", ["occurred_at", "severity"])
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
