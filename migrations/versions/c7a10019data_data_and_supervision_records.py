"""Data and supervision records: the data catalogue (7.1), data quality checks (7.2),
backups and restore tests (7.3.3), supervision checks (8.2.2), and audit findings that come
from an audit or from a supervision check.

Revision ID: c7a10019data
Revises: c7a10017oper
Create Date: 2026-12-01 00:37:59.488514

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a10019data'
down_revision = 'c7a10017oper'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('supervision_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=True),
    sa.Column('checked_duties', sa.Boolean(), nullable=False),
    sa.Column('checked_rules', sa.Boolean(), nullable=False),
    sa.Column('checked_operations', sa.Boolean(), nullable=False),
    sa.Column('checked_data', sa.Boolean(), nullable=False),
    sa.Column('result', sa.Enum('satisfactory', 'improvement', 'unsatisfactory', name='supervisionresult', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('issues', sa.Text(), nullable=True),
    sa.Column('follow_up', sa.Text(), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_supervision_check_department'),
    sa.ForeignKeyConstraint(['inspector_id'], ['ab_user.id'], name='fk_supervision_check_inspector'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('supervision_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_check_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index('ix_supervision_check_checked_on_id', ['checked_on', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_check_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_check_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_supervision_check_result_id', ['result', 'id'], unique=False)
        batch_op.create_index('ix_supervision_check_title_id', ['title', 'id'], unique=False)

    op.create_table('backup_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.Enum('full', 'incremental', name='backupkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('medium', sa.String(length=100), nullable=False),
    sa.Column('offsite_location', sa.String(length=200), nullable=True),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('restore_tested_on', sa.Date(), nullable=True),
    sa.Column('restore_result', sa.Enum('not_tested', 'passed', 'failed', name='restoreresult', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_backup_record_department'),
    sa.ForeignKeyConstraint(['system_id'], ['information_system.id'], name='fk_backup_record_system'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('backup_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_record_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_record_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_record_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_backup_record_kind_id', ['kind', 'id'], unique=False)
        batch_op.create_index('ix_backup_record_restore_tested_on_id', ['restore_tested_on', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_record_system_id'), ['system_id'], unique=False)
        batch_op.create_index('ix_backup_record_taken_at_id', ['taken_at', 'id'], unique=False)
        batch_op.create_index('ix_backup_record_medium_id', ['medium', 'id'], unique=False)
        batch_op.create_index('ix_backup_record_offsite_location_id', ['offsite_location', 'id'], unique=False)
        batch_op.create_index('ix_backup_record_succeeded_id', ['succeeded', 'id'], unique=False)
        batch_op.create_index('ix_backup_record_restore_result_id', ['restore_result', 'id'], unique=False)

    op.create_table('data_asset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('owner_department_id', sa.Integer(), nullable=False),
    sa.Column('classification', sa.Enum('public', 'internal', 'confidential', 'secret', name='classification', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('personal_data', sa.Boolean(), nullable=False),
    sa.Column('retention_months', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.CheckConstraint('retention_months IS NULL OR retention_months BETWEEN 0 AND 1200', name='ck_data_asset_retention'),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['owner_department_id'], ['department.id'], name='fk_data_asset_owner_department'),
    sa.ForeignKeyConstraint(['system_id'], ['information_system.id'], name='fk_data_asset_system'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('data_asset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_asset_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index('ix_data_asset_classification_id', ['classification', 'id', 'owner_department_id', 'system_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_asset_created_on'), ['created_on'], unique=False)
        batch_op.create_index('ix_data_asset_name_id', ['name', 'id', 'owner_department_id', 'system_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_asset_owner_department_id'), ['owner_department_id'], unique=False)
        batch_op.create_index('ix_data_asset_retention_months_id', ['retention_months', 'id', 'owner_department_id', 'system_id'], unique=False)
        batch_op.create_index('ix_data_asset_personal_data_id', ['personal_data', 'id', 'owner_department_id', 'system_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_asset_system_id'), ['system_id'], unique=False)

    op.create_table('data_quality_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=True),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('dimension', sa.Enum('accuracy', 'completeness', 'consistency', 'timeliness', name='qualitydimension', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('issues', sa.Text(), nullable=True),
    sa.Column('rectification_due', sa.Date(), nullable=True),
    sa.Column('rectified_on', sa.Date(), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.CheckConstraint('rectified_on IS NULL OR rectified_on >= checked_on', name='ck_data_quality_dates'),
    sa.CheckConstraint('score BETWEEN 0 AND 100', name='ck_data_quality_score'),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_data_quality_department'),
    sa.ForeignKeyConstraint(['system_id'], ['information_system.id'], name='fk_data_quality_system'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('data_quality_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_quality_check_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index('ix_data_quality_check_checked_on_id', ['checked_on', 'id', 'department_id', 'system_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_quality_check_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_quality_check_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_data_quality_check_dimension_id', ['dimension', 'id', 'department_id', 'system_id'], unique=False)
        batch_op.create_index('ix_data_quality_check_rectification_due_id', ['rectification_due', 'id', 'department_id', 'system_id'], unique=False)
        batch_op.create_index('ix_data_quality_check_score_id', ['score', 'id', 'department_id', 'system_id'], unique=False)
        batch_op.create_index('ix_data_quality_check_title_id', ['title', 'id', 'department_id', 'system_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_quality_check_system_id'), ['system_id'], unique=False)

    with op.batch_alter_table('audit_finding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supervision_check_id', sa.Integer(), nullable=True))
        batch_op.alter_column('audit_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_audit_finding_supervision_check_id'), ['supervision_check_id'], unique=False)
        batch_op.create_foreign_key('fk_audit_finding_supervision_check', 'supervision_check', ['supervision_check_id'], ['id'])
        batch_op.create_check_constraint(
            'ck_audit_finding_source', '(audit_id IS NULL) <> (supervision_check_id IS NULL)')



def downgrade():
    op.execute("DELETE FROM audit_finding WHERE audit_id IS NULL")
    with op.batch_alter_table('audit_finding', schema=None) as batch_op:
        batch_op.drop_constraint('ck_audit_finding_source', type_='check')
        batch_op.drop_constraint('fk_audit_finding_supervision_check', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_finding_supervision_check_id'))
        batch_op.alter_column('audit_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('supervision_check_id')

    with op.batch_alter_table('data_quality_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_quality_check_system_id'))
        batch_op.drop_index('ix_data_quality_check_title_id')
        batch_op.drop_index('ix_data_quality_check_score_id')
        batch_op.drop_index('ix_data_quality_check_rectification_due_id')
        batch_op.drop_index('ix_data_quality_check_dimension_id')
        batch_op.drop_index(batch_op.f('ix_data_quality_check_department_id'))
        batch_op.drop_index(batch_op.f('ix_data_quality_check_created_on'))
        batch_op.drop_index('ix_data_quality_check_checked_on_id')
        batch_op.drop_index(batch_op.f('ix_data_quality_check_changed_on'))

    op.drop_table('data_quality_check')
    with op.batch_alter_table('data_asset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_asset_system_id'))
        batch_op.drop_index('ix_data_asset_personal_data_id')
        batch_op.drop_index('ix_data_asset_retention_months_id')
        batch_op.drop_index(batch_op.f('ix_data_asset_owner_department_id'))
        batch_op.drop_index('ix_data_asset_name_id')
        batch_op.drop_index(batch_op.f('ix_data_asset_created_on'))
        batch_op.drop_index('ix_data_asset_classification_id')
        batch_op.drop_index(batch_op.f('ix_data_asset_changed_on'))

    op.drop_table('data_asset')
    with op.batch_alter_table('backup_record', schema=None) as batch_op:
        batch_op.drop_index('ix_backup_record_restore_result_id')
        batch_op.drop_index('ix_backup_record_succeeded_id')
        batch_op.drop_index('ix_backup_record_offsite_location_id')
        batch_op.drop_index('ix_backup_record_medium_id')
        batch_op.drop_index('ix_backup_record_taken_at_id')
        batch_op.drop_index(batch_op.f('ix_backup_record_system_id'))
        batch_op.drop_index('ix_backup_record_restore_tested_on_id')
        batch_op.drop_index('ix_backup_record_kind_id')
        batch_op.drop_index(batch_op.f('ix_backup_record_department_id'))
        batch_op.drop_index(batch_op.f('ix_backup_record_created_on'))
        batch_op.drop_index(batch_op.f('ix_backup_record_changed_on'))

    op.drop_table('backup_record')
    with op.batch_alter_table('supervision_check', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_check_title_id')
        batch_op.drop_index('ix_supervision_check_result_id')
        batch_op.drop_index(batch_op.f('ix_supervision_check_department_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_check_created_on'))
        batch_op.drop_index('ix_supervision_check_checked_on_id')
        batch_op.drop_index(batch_op.f('ix_supervision_check_changed_on'))

    op.drop_table('supervision_check')
