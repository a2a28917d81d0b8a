"""The operation log's kind and result sort indexes carry the department.

A Clerk of a busy system's department reads tens of thousands of log entries; sorted by
kind or result, the page's keys were found by the department index and sorted. With the
department in the sort index the list is paged on it without reading the table
(app/records.py ``ListInterface``; docs/performance.md).

Revision ID: c7a10039scl
Revises: c7a10031rem
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c7a10039scl'
down_revision = 'c7a10031rem'
branch_labels = None
depends_on = None

COLUMNS = ("kind", "result")


def upgrade():
    with op.batch_alter_table('operation_log', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.drop_index(f'ix_operation_log_{column}_id')
            batch_op.create_index(f'ix_operation_log_{column}_id',
                                  [column, 'id', 'department_id'], unique=False)


def downgrade():
    with op.batch_alter_table('operation_log', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.drop_index(f'ix_operation_log_{column}_id')
            batch_op.create_index(f'ix_operation_log_{column}_id', [column, 'id'],
                                  unique=False)
