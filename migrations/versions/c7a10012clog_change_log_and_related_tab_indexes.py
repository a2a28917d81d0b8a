"""Change log at millions of entries and record pages with many related rows: an index
per change-log filter combination, ordered by seq, and one per related tab (foreign key,
the tab's default order, the scoping column).

Revision ID: c7a10012clog
Revises: c7a10009stmp
Create Date: 2026-11-30
"""
from alembic import op

revision = "c7a10012clog"
down_revision = "c7a10013chrt"
branch_labels = None
depends_on = None

# (name, table, columns, columns before this revision or None when new)
CHANGED = (
    # A record's entries: the record id first, so a filter on the id alone is a range.
    ("ix_change_entry_record", "change_entry", ["record_id", "record_type", "seq"],
     ["record_type", "record_id", "seq"]),
)
INDEXES = (
    ("ix_change_entry_type_seq", "change_entry", ["record_type", "seq"]),
    ("ix_change_entry_action_seq", "change_entry", ["action", "seq"]),
    ("ix_change_entry_user_action_seq", "change_entry", ["username", "action", "seq"]),
    ("ix_change_entry_type_action_seq", "change_entry", ["record_type", "action", "seq"]),
    # user + type (+ action): the action rides along
    ("ix_change_entry_user_type_seq", "change_entry",
     ["username", "record_type", "seq", "action"]),
    # Related tabs: (foreign key, the tab's default order, id, the scoping column)
    ("ix_incident_system_occurred", "incident",
     ["system_id", "occurred_at", "id", "reporting_department_id"]),
    ("ix_contract_system_number", "contract", ["system_id", "number", "id", "department_id"]),
    ("ix_contract_project_number", "contract", ["project_id", "number", "id", "department_id"]),
    ("ix_contract_vendor_number", "contract", ["vendor_id", "number", "id", "department_id"]),
    ("ix_change_request_system_number", "change_request",
     ["system_id", "change_number", "id", "department_id"]),
    ("ix_change_order_contract_number", "change_order",
     ["contract_id", "change_number", "id", "department_id"]),
    ("ix_change_order_project_number", "change_order",
     ["project_id", "change_number", "id", "department_id"]),
    ("ix_plan_feedback_plan_changed", "plan_feedback",
     ["plan_id", "changed_on", "id", "department_id"]),
    ("ix_expert_review_project_changed", "expert_review",
     ["project_id", "changed_on", "id", "department_id"]),
    ("ix_audit_finding_audit_due", "audit_finding",
     ["audit_id", "due_date", "id", "responsible_department_id"]),
)


def upgrade():
    for name, table, columns, _before in CHANGED:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
    for name, table, _columns, before in CHANGED:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, before)
