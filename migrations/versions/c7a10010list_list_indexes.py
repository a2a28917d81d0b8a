"""Lists at PRODUCT.md §8 scale: an index for every sort and filter a list offers.

Each sortable column gets ``(column, id)`` (FAB orders by the column, then the key, so
a page's keys are read from the index alone, from either end, however deep the page);
it replaces the single-column index where there was one. Tables scoped through two
paths (incidents, contracts, data sharing) carry their department columns in these
indexes, so a department's long list is paged on the sort index alone. Date and text columns the
search form filters on by equality or range get an index of their own.

Revision ID: c7a10010list
Revises: c7a10009stmp
Create Date: 2026-11-30
"""
from alembic import op

revision = "c7a10010list"
down_revision = "c7a10009stmp"
branch_labels = None
depends_on = None

# (table, index, columns)
ADDED = (
    ("audit", "ix_audit_kind_id", ("kind", "id")),
    ("audit", "ix_audit_period_end_id", ("period_end", "id")),
    ("audit", "ix_audit_period_start_id", ("period_start", "id")),
    ("audit", "ix_audit_title_id", ("title", "id")),
    ("audit_finding", "ix_audit_finding_due_date_id", ("due_date", "id")),
    ("audit_finding", "ix_audit_finding_severity_id", ("severity", "id")),
    ("audit_finding", "ix_audit_finding_status_id", ("status", "id")),
    ("audit_finding", "ix_audit_finding_title_id", ("title", "id")),
    ("change_order", "ix_change_order_cost_impact_id", ("cost_impact", "id")),
    ("change_order", "ix_change_order_status_id", ("status", "id")),
    ("change_order", "ix_change_order_title_id", ("title", "id")),
    ("change_request", "ix_change_request_kind_id", ("kind", "id")),
    ("change_request", "ix_change_request_status_id", ("status", "id")),
    ("change_request", "ix_change_request_title_id", ("title", "id")),
    ("change_request", "ix_change_request_window_end", ("window_end",)),
    ("change_request", "ix_change_request_window_start_id", ("window_start", "id")),
    ("contract", "ix_contract_amount_id", ("amount", "id", "department_id", "system_id")),
    ("contract", "ix_contract_end_date_id", ("end_date", "id", "department_id", "system_id")),
    ("contract", "ix_contract_name_id", ("name", "id", "department_id", "system_id")),
    ("contract", "ix_contract_sign_date", ("sign_date",)),
    ("contract", "ix_contract_start_date", ("start_date",)),
    ("contract", "ix_contract_status_id", ("status", "id", "department_id", "system_id")),
    ("data_sharing_request", "ix_data_sharing_request_end_date_id",
     ("end_date", "id", "requesting_department_id", "providing_department_id")),
    ("data_sharing_request", "ix_data_sharing_request_start_date_id",
     ("start_date", "id", "requesting_department_id", "providing_department_id")),
    ("data_sharing_request", "ix_data_sharing_request_status_id",
     ("status", "id", "requesting_department_id", "providing_department_id")),
    ("data_sharing_request", "ix_data_sharing_request_title_id",
     ("title", "id", "requesting_department_id", "providing_department_id")),
    ("delegation", "ix_delegation_end_date_id", ("end_date", "id")),
    ("delegation", "ix_delegation_reason", ("reason",)),
    ("delegation", "ix_delegation_start_date_id", ("start_date", "id")),
    ("department", "ix_department_kind_id", ("kind", "id")),
    ("development_plan", "ix_development_plan_plan_version_id", ("plan_version", "id")),
    ("expert_review", "ix_expert_review_score_id", ("score", "id")),
    ("expert_review", "ix_expert_review_status_id", ("status", "id")),
    ("incident", "ix_incident_occurred_at_id",
     ("occurred_at", "id", "reporting_department_id", "system_id")),
    ("incident", "ix_incident_resolved_at", ("resolved_at",)),
    ("incident", "ix_incident_severity_id",
     ("severity", "id", "reporting_department_id", "system_id")),
    ("incident", "ix_incident_status_id",
     ("status", "id", "reporting_department_id", "system_id")),
    ("incident", "ix_incident_title_id", ("title", "id", "reporting_department_id", "system_id")),
    ("information_system", "ix_information_system_category_id", ("category", "id")),
    ("information_system", "ix_information_system_go_live_date", ("go_live_date",)),
    ("information_system", "ix_information_system_lifecycle_id", ("lifecycle", "id")),
    ("information_system", "ix_information_system_name_id", ("name", "id")),
    ("information_system", "ix_information_system_protection_level_id",
     ("protection_level", "id")),
    ("project_request", "ix_project_request_budget_id", ("budget", "id")),
    ("project_request", "ix_project_request_name_id", ("name", "id")),
    ("project_request", "ix_project_request_status_id", ("status", "id")),
    ("vendor", "ix_vendor_contact_person", ("contact_person",)),
    ("vendor", "ix_vendor_rating_id", ("rating", "id")),
)
# Single-column indexes that a ``(column, id)`` index above now serves.
REPLACED = (
    ("audit_finding", "ix_audit_finding_status", ("status",)),
    ("change_order", "ix_change_order_status", ("status",)),
    ("change_order", "ix_change_order_title", ("title",)),
    ("change_request", "ix_change_request_status", ("status",)),
    ("change_request", "ix_change_request_title", ("title",)),
    ("contract", "ix_contract_name", ("name",)),
    ("contract", "ix_contract_status", ("status",)),
    ("data_sharing_request", "ix_data_sharing_request_end_date", ("end_date",)),
    ("data_sharing_request", "ix_data_sharing_request_status", ("status",)),
    ("data_sharing_request", "ix_data_sharing_request_title", ("title",)),
    ("expert_review", "ix_expert_review_status", ("status",)),
    ("incident", "ix_incident_occurred_at", ("occurred_at",)),
    ("incident", "ix_incident_severity", ("severity",)),
    ("incident", "ix_incident_status", ("status",)),
    ("information_system", "ix_information_system_name", ("name",)),
    ("project_request", "ix_project_request_name", ("name",)),
    ("project_request", "ix_project_request_status", ("status",)),
)


def upgrade():
    for table, name, columns in ADDED:
        op.create_index(name, table, list(columns))
    for table, name, _columns in REPLACED:
        op.drop_index(name, table_name=table)


def downgrade():
    for table, name, columns in REPLACED:
        op.create_index(name, table, list(columns))
    for table, name, _columns in ADDED:
        op.drop_index(name, table_name=table)
