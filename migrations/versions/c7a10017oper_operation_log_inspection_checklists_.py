"""Operation log, inspection checklists, maintenance plans and records (5.1, 5.2).

Revision ID: c7a10017oper
Revises: c7a10015perf
Create Date: 2026-12-01 00:37:59.685937

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a10017oper'
down_revision = 'c7a10015perf'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inspection_checklist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('items', sa.Text(), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_inspection_checklist_department'),
    sa.ForeignKeyConstraint(['system_id'], ['information_system.id'], name='fk_inspection_checklist_system'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('system_id', name='uq_inspection_checklist_system')
    )
    with op.batch_alter_table('inspection_checklist', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_checklist_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_checklist_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_checklist_department_id'), ['department_id'], unique=False)

    op.create_table('maintenance_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('daily', 'periodic', 'emergency', name='maintenancekind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('cycle_days', sa.Integer(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('next_due', sa.Date(), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.CheckConstraint('cycle_days >= 1', name='ck_maintenance_plan_cycle'),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_maintenance_plan_department'),
    sa.ForeignKeyConstraint(['responsible_id'], ['ab_user.id'], name='fk_maintenance_plan_responsible'),
    sa.ForeignKeyConstraint(['system_id'], ['information_system.id'], name='fk_maintenance_plan_system'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('maintenance_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_plan_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_plan_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_plan_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_maintenance_plan_kind_id', ['kind', 'id'], unique=False)
        batch_op.create_index('ix_maintenance_plan_kind_next_due', ['kind', 'next_due'], unique=False)
        batch_op.create_index('ix_maintenance_plan_next_due_id', ['next_due', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_plan_system_id'), ['system_id'], unique=False)
        batch_op.create_index('ix_maintenance_plan_title_id', ['title', 'id'], unique=False)

    op.create_table('maintenance_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('maintenance_plan_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('inspection', 'backup', 'optimisation', 'upgrade', 'vulnerability_fix', 'data_cleanup', 'emergency_repair', name='maintenancecategory', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('performed_at', sa.DateTime(), nullable=False),
    sa.Column('performed_by_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_maintenance_record_department'),
    sa.ForeignKeyConstraint(['performed_by_id'], ['ab_user.id'], name='fk_maintenance_record_performer'),
    sa.ForeignKeyConstraint(['maintenance_plan_id'], ['maintenance_plan.id'], name='fk_maintenance_record_plan'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('maintenance_record', schema=None) as batch_op:
        batch_op.create_index('ix_maintenance_record_category_id', ['category', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_record_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_record_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_record_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_maintenance_record_performed_at_id', ['performed_at', 'id'], unique=False)
        batch_op.create_index('ix_maintenance_record_performed_category', ['performed_at', 'category'], unique=False)
        batch_op.create_index('ix_maintenance_record_plan_performed', ['maintenance_plan_id', 'performed_at', 'id', 'department_id'], unique=False)

    op.create_table('operation_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('inspection', 'monitoring', 'operation', 'fault', 'configuration', 'data', name='operationkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('performed_at', sa.DateTime(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('result', sa.Enum('normal', 'abnormal', name='operationresult', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('abnormal_items', sa.Text(), nullable=True),
    sa.Column('change_request_id', sa.Integer(), nullable=True),
    sa.Column('unauthorised', sa.Boolean(), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['change_request_id'], ['change_request.id'], name='fk_operation_log_change_request'),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_operation_log_department'),
    sa.ForeignKeyConstraint(['operator_id'], ['ab_user.id'], name='fk_operation_log_operator'),
    sa.ForeignKeyConstraint(['system_id'], ['information_system.id'], name='fk_operation_log_system'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('operation_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operation_log_change_request_id'), ['change_request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_operation_log_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_operation_log_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_operation_log_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_operation_log_department_performed', ['department_id', 'performed_at', 'kind'], unique=False)
        batch_op.create_index('ix_operation_log_kind_id', ['kind', 'id'], unique=False)
        batch_op.create_index('ix_operation_log_kind_performed', ['kind', 'performed_at', 'system_id'], unique=False)
        batch_op.create_index('ix_operation_log_performed_at_id', ['performed_at', 'id'], unique=False)
        batch_op.create_index('ix_operation_log_result_id', ['result', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_operation_log_system_id'), ['system_id'], unique=False)
        batch_op.create_index('ix_operation_log_system_performed', ['system_id', 'performed_at', 'id', 'department_id'], unique=False)
        batch_op.create_index('ix_operation_log_unauthorised', ['unauthorised', 'performed_at', 'system_id'], unique=False)



def downgrade():
    with op.batch_alter_table('operation_log', schema=None) as batch_op:
        batch_op.drop_index('ix_operation_log_unauthorised')
        batch_op.drop_index('ix_operation_log_system_performed')
        batch_op.drop_index(batch_op.f('ix_operation_log_system_id'))
        batch_op.drop_index('ix_operation_log_result_id')
        batch_op.drop_index('ix_operation_log_performed_at_id')
        batch_op.drop_index('ix_operation_log_kind_performed')
        batch_op.drop_index('ix_operation_log_kind_id')
        batch_op.drop_index('ix_operation_log_department_performed')
        batch_op.drop_index(batch_op.f('ix_operation_log_department_id'))
        batch_op.drop_index(batch_op.f('ix_operation_log_created_on'))
        batch_op.drop_index(batch_op.f('ix_operation_log_changed_on'))
        batch_op.drop_index(batch_op.f('ix_operation_log_change_request_id'))

    op.drop_table('operation_log')
    with op.batch_alter_table('maintenance_record', schema=None) as batch_op:
        batch_op.drop_index('ix_maintenance_record_plan_performed')
        batch_op.drop_index('ix_maintenance_record_performed_category')
        batch_op.drop_index('ix_maintenance_record_performed_at_id')
        batch_op.drop_index(batch_op.f('ix_maintenance_record_department_id'))
        batch_op.drop_index(batch_op.f('ix_maintenance_record_created_on'))
        batch_op.drop_index(batch_op.f('ix_maintenance_record_changed_on'))
        batch_op.drop_index('ix_maintenance_record_category_id')

    op.drop_table('maintenance_record')
    with op.batch_alter_table('maintenance_plan', schema=None) as batch_op:
        batch_op.drop_index('ix_maintenance_plan_title_id')
        batch_op.drop_index(batch_op.f('ix_maintenance_plan_system_id'))
        batch_op.drop_index('ix_maintenance_plan_next_due_id')
        batch_op.drop_index('ix_maintenance_plan_kind_next_due')
        batch_op.drop_index('ix_maintenance_plan_kind_id')
        batch_op.drop_index(batch_op.f('ix_maintenance_plan_department_id'))
        batch_op.drop_index(batch_op.f('ix_maintenance_plan_created_on'))
        batch_op.drop_index(batch_op.f('ix_maintenance_plan_changed_on'))

    op.drop_table('maintenance_plan')
    with op.batch_alter_table('inspection_checklist', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_checklist_department_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_checklist_created_on'))
        batch_op.drop_index(batch_op.f('ix_inspection_checklist_changed_on'))

    op.drop_table('inspection_checklist')
