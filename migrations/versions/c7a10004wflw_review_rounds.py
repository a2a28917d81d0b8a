"""Review rounds: each submission starts a new round; expert reviews belong to one.

Revision ID: c7a10004wflw
Revises: c7a10002evid
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "c7a10004wflw"
down_revision = "c7a10002evid"
branch_labels = None
depends_on = None

WORKFLOW_TABLES = ("development_plan", "project_request", "expert_review", "contract",
                   "change_order", "incident", "change_request", "data_sharing_request",
                   "audit_finding")


def upgrade():
    for table in WORKFLOW_TABLES:
        op.add_column(table, sa.Column("round", sa.Integer(), nullable=False,
                                       server_default="0"))
    op.add_column("expert_review", sa.Column("project_round", sa.Integer(), nullable=False,
                                             server_default="0"))
    # An expert may review a project again in a later round.
    with op.batch_alter_table("expert_review") as batch:
        batch.drop_constraint("uq_review_project_expert", type_="unique")
        batch.create_unique_constraint("uq_review_project_expert_round",
                                       ["project_id", "expert_id", "project_round"])


def downgrade():
    with op.batch_alter_table("expert_review") as batch:
        batch.drop_constraint("uq_review_project_expert_round", type_="unique")
        batch.create_unique_constraint("uq_review_project_expert", ["project_id", "expert_id"])
        batch.drop_column("project_round")
    for table in WORKFLOW_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("round")
