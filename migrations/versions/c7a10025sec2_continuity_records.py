"""Personnel clearances with their privileged systems (6.3.3), emergency plans with the
systems they cover (6.4.1), drills (6.4.2) and security events (6.4.3).

Revision ID: c7a10025sec2
Revises: c7a10019data
Create Date: 2026-12-01 02:22:37.394551

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a10025sec2'
down_revision = 'c7a10019data'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('emergency_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('edition', sa.String(length=32), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('scenario', sa.Text(), nullable=False),
    sa.Column('procedure', sa.Text(), nullable=False),
    sa.Column('responsibilities', sa.Text(), nullable=False),
    sa.Column('resources', sa.Text(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'submitted', 'approved', 'in_force', 'returned', 'rejected', name='planstate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('round', sa.Integer(), server_default='0', nullable=False),
    sa.Column('submitted_by_fk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_emergency_plan_department'),
    sa.ForeignKeyConstraint(['document_id'], ['attachment.id'], name='fk_emergency_plan_document'),
    sa.ForeignKeyConstraint(['submitted_by_fk'], ['ab_user.id'], name='fk_emergency_plan_submitter'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('emergency_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_plan_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_plan_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_plan_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_emergency_plan_edition_id', ['edition', 'id'], unique=False)
        batch_op.create_index('ix_emergency_plan_status_changed_on', ['status', 'changed_on', 'id'], unique=False)
        batch_op.create_index('ix_emergency_plan_status_id', ['status', 'id'], unique=False)
        batch_op.create_index('ix_emergency_plan_title_id', ['title', 'id'], unique=False)

    op.create_table('personnel_clearance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('post', sa.String(length=100), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('background_checked_on', sa.Date(), nullable=True),
    sa.Column('background_result', sa.Enum('pending', 'passed', 'failed', name='backgroundresult', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('agreement_signed_on', sa.Date(), nullable=True),
    sa.Column('agreement_expires_on', sa.Date(), nullable=True),
    sa.Column('agreement_file_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.CheckConstraint('agreement_expires_on IS NULL OR agreement_signed_on IS NULL OR agreement_expires_on > agreement_signed_on', name='ck_personnel_clearance_agreement'),
    sa.ForeignKeyConstraint(['agreement_file_id'], ['attachment.id'], name='fk_personnel_clearance_agreement_file'),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_personnel_clearance_department'),
    sa.ForeignKeyConstraint(['person_id'], ['ab_user.id'], name='fk_personnel_clearance_person'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('personnel_clearance', schema=None) as batch_op:
        batch_op.create_index('ix_personnel_clearance_agreement_expires_on_id', ['agreement_expires_on', 'id'], unique=False)
        batch_op.create_index('ix_personnel_clearance_agreement_signed_on_id', ['agreement_signed_on', 'id'], unique=False)
        batch_op.create_index('ix_personnel_clearance_background_checked_on_id', ['background_checked_on', 'id'], unique=False)
        batch_op.create_index('ix_personnel_clearance_background_result_id', ['background_result', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_personnel_clearance_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_personnel_clearance_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_personnel_clearance_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_personnel_clearance_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_personnel_clearance_post_id', ['post', 'id'], unique=False)

    op.create_table('drill',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('emergency_plan_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('scenario', sa.Text(), nullable=False),
    sa.Column('participants', sa.Text(), nullable=False),
    sa.Column('result', sa.Enum('passed', 'partly', 'failed', name='drillresult', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('issues', sa.Text(), nullable=True),
    sa.Column('follow_up', sa.Text(), nullable=True),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_drill_department'),
    sa.ForeignKeyConstraint(['emergency_plan_id'], ['emergency_plan.id'], name='fk_drill_plan'),
    sa.ForeignKeyConstraint(['report_id'], ['attachment.id'], name='fk_drill_report'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('drill', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drill_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_drill_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_drill_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_drill_emergency_plan_id'), ['emergency_plan_id'], unique=False)
        batch_op.create_index('ix_drill_held_on_id', ['held_on', 'id'], unique=False)
        batch_op.create_index('ix_drill_result_id', ['result', 'id'], unique=False)

    op.create_table('emergency_plan_system',
    sa.Column('emergency_plan_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['emergency_plan_id'], ['emergency_plan.id'], name='fk_emergency_plan_system_plan', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['system_id'], ['information_system.id'], name='fk_emergency_plan_system_system', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('emergency_plan_id', 'system_id')
    )
    with op.batch_alter_table('emergency_plan_system', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_plan_system_system_id'), ['system_id'], unique=False)

    op.create_table('personnel_clearance_system',
    sa.Column('clearance_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['clearance_id'], ['personnel_clearance.id'], name='fk_personnel_clearance_system_clearance', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['system_id'], ['information_system.id'], name='fk_personnel_clearance_system_system', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('clearance_id', 'system_id')
    )
    with op.batch_alter_table('personnel_clearance_system', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personnel_clearance_system_system_id'), ['system_id'], unique=False)

    op.create_table('security_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('system_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('detected_at', sa.DateTime(), nullable=True),
    sa.Column('category', sa.Enum('malware', 'intrusion', 'data_leak', 'denial_of_service', 'unauthorised_access', 'physical', 'other', name='eventcategory', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('severity', sa.Enum('p1', 'p2', 'p3', 'p4', name='severity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('investigation', sa.Text(), nullable=True),
    sa.Column('lessons', sa.Text(), nullable=True),
    sa.Column('measures', sa.Text(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('handler_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.Enum('reported', 'investigating', 'closed', name='eventstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('round', sa.Integer(), server_default='0', nullable=False),
    sa.Column('submitted_by_fk', sa.Integer(), nullable=True),
    sa.CheckConstraint('detected_at IS NULL OR detected_at >= occurred_at', name='ck_security_event_times'),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_security_event_department'),
    sa.ForeignKeyConstraint(['handler_id'], ['ab_user.id'], name='fk_security_event_handler'),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name='fk_security_event_incident'),
    sa.ForeignKeyConstraint(['reporter_id'], ['ab_user.id'], name='fk_security_event_reporter'),
    sa.ForeignKeyConstraint(['submitted_by_fk'], ['ab_user.id'], name='fk_security_event_submitter'),
    sa.ForeignKeyConstraint(['system_id'], ['information_system.id'], name='fk_security_event_system'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('security_event', schema=None) as batch_op:
        batch_op.create_index('ix_security_event_category_id', ['category', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_event_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_event_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_event_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_event_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index('ix_security_event_occurred_at_id', ['occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_security_event_severity_id', ['severity', 'id'], unique=False)
        batch_op.create_index('ix_security_event_status_changed_on', ['status', 'changed_on', 'id'], unique=False)
        batch_op.create_index('ix_security_event_status_id', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_event_system_id'), ['system_id'], unique=False)
        batch_op.create_index('ix_security_event_title_id', ['title', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('security_event', schema=None) as batch_op:
        batch_op.drop_index('ix_security_event_title_id')
        batch_op.drop_index(batch_op.f('ix_security_event_system_id'))
        batch_op.drop_index('ix_security_event_status_id')
        batch_op.drop_index('ix_security_event_status_changed_on')
        batch_op.drop_index('ix_security_event_severity_id')
        batch_op.drop_index('ix_security_event_occurred_at_id')
        batch_op.drop_index(batch_op.f('ix_security_event_incident_id'))
        batch_op.drop_index(batch_op.f('ix_security_event_department_id'))
        batch_op.drop_index(batch_op.f('ix_security_event_created_on'))
        batch_op.drop_index(batch_op.f('ix_security_event_changed_on'))
        batch_op.drop_index('ix_security_event_category_id')

    op.drop_table('security_event')
    with op.batch_alter_table('personnel_clearance_system', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personnel_clearance_system_system_id'))

    op.drop_table('personnel_clearance_system')
    with op.batch_alter_table('emergency_plan_system', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_plan_system_system_id'))

    op.drop_table('emergency_plan_system')
    with op.batch_alter_table('drill', schema=None) as batch_op:
        batch_op.drop_index('ix_drill_result_id')
        batch_op.drop_index('ix_drill_held_on_id')
        batch_op.drop_index(batch_op.f('ix_drill_emergency_plan_id'))
        batch_op.drop_index(batch_op.f('ix_drill_department_id'))
        batch_op.drop_index(batch_op.f('ix_drill_created_on'))
        batch_op.drop_index(batch_op.f('ix_drill_changed_on'))

    op.drop_table('drill')
    with op.batch_alter_table('personnel_clearance', schema=None) as batch_op:
        batch_op.drop_index('ix_personnel_clearance_post_id')
        batch_op.drop_index(batch_op.f('ix_personnel_clearance_person_id'))
        batch_op.drop_index(batch_op.f('ix_personnel_clearance_department_id'))
        batch_op.drop_index(batch_op.f('ix_personnel_clearance_created_on'))
        batch_op.drop_index(batch_op.f('ix_personnel_clearance_changed_on'))
        batch_op.drop_index('ix_personnel_clearance_background_result_id')
        batch_op.drop_index('ix_personnel_clearance_background_checked_on_id')
        batch_op.drop_index('ix_personnel_clearance_agreement_signed_on_id')
        batch_op.drop_index('ix_personnel_clearance_agreement_expires_on_id')

    op.drop_table('personnel_clearance')
    with op.batch_alter_table('emergency_plan', schema=None) as batch_op:
        batch_op.drop_index('ix_emergency_plan_title_id')
        batch_op.drop_index('ix_emergency_plan_status_id')
        batch_op.drop_index('ix_emergency_plan_status_changed_on')
        batch_op.drop_index('ix_emergency_plan_edition_id')
        batch_op.drop_index(batch_op.f('ix_emergency_plan_department_id'))
        batch_op.drop_index(batch_op.f('ix_emergency_plan_created_on'))
        batch_op.drop_index(batch_op.f('ix_emergency_plan_changed_on'))

    op.drop_table('emergency_plan')
