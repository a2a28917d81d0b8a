"""Tenders with their bids (4.1.1, 4.1.2), a contract's tender, and the implementation's
milestones and progress reports (4.2.1-4.2.3).

A tender names its winning bid and a bid its tender: on PostgreSQL the tender's key to the
bid is added once both tables exist (SQLite takes it with the table). On SQLite the
contract's new column takes its key in the ADD COLUMN itself: rebuilding the contract
table (batch mode) would drop a table that change orders refer to.

Revision ID: c7a10021impl
Revises: c7a10025sec2
Create Date: 2026-12-01 02:23:02.252613

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a10021impl'
down_revision = 'c7a10025sec2'
branch_labels = None
depends_on = None


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table('milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('development', 'testing', 'deployment', 'training', 'other', name='milestonekind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('evidence_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.CheckConstraint('done_on IS NULL OR evidence_id IS NOT NULL', name='ck_milestone_evidence'),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_milestone_department'),
    sa.ForeignKeyConstraint(['evidence_id'], ['attachment.id'], name='fk_milestone_evidence'),
    sa.ForeignKeyConstraint(['project_id'], ['project_request.id'], name='fk_milestone_project'),
    sa.ForeignKeyConstraint(['responsible_id'], ['ab_user.id'], name='fk_milestone_responsible'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestone_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestone_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestone_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_milestone_done_on_id', ['done_on', 'id'], unique=False)
        batch_op.create_index('ix_milestone_due_on_id', ['due_on', 'id'], unique=False)
        batch_op.create_index('ix_milestone_kind_id', ['kind', 'id'], unique=False)
        batch_op.create_index('ix_milestone_name_id', ['name', 'id'], unique=False)
        batch_op.create_index('ix_milestone_project_due', ['project_id', 'due_on', 'id', 'department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestone_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestone_responsible_id'), ['responsible_id'], unique=False)

    op.create_table('progress_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('report_date', sa.Date(), nullable=False),
    sa.Column('report_period', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('percent_complete', sa.Integer(), nullable=False),
    sa.Column('issues', sa.Text(), nullable=True),
    sa.Column('next_steps', sa.Text(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.CheckConstraint('percent_complete BETWEEN 0 AND 100', name='ck_progress_report_percent'),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_progress_report_department'),
    sa.ForeignKeyConstraint(['project_id'], ['project_request.id'], name='fk_progress_report_project'),
    sa.ForeignKeyConstraint(['reporter_id'], ['ab_user.id'], name='fk_progress_report_reporter'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('progress_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_report_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_progress_report_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_progress_report_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_progress_report_percent_complete_id', ['percent_complete', 'id'], unique=False)
        batch_op.create_index('ix_progress_report_project_date', ['project_id', 'report_date', 'id', 'department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_progress_report_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_progress_report_report_date_id', ['report_date', 'id'], unique=False)
        batch_op.create_index('ix_progress_report_report_period_id', ['report_period', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_progress_report_reporter_id'), ['reporter_id'], unique=False)

    op.create_table('tender',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_number', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.Enum('public', 'invited', 'negotiation', 'single_source', 'inquiry', name='tendermethod', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('justification', sa.Text(), nullable=True),
    sa.Column('announcement_date', sa.Date(), nullable=True),
    sa.Column('opening_date', sa.Date(), nullable=True),
    sa.Column('winning_bid_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'review', 'mgmt_review', 'approved', 'awarded', 'cancelled', 'returned', 'rejected', name='tenderstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('round', sa.Integer(), server_default='0', nullable=False),
    sa.Column('submitted_by_fk', sa.Integer(), nullable=True),
    sa.CheckConstraint("method <> 'single_source' OR (justification IS NOT NULL AND justification <> '')", name='ck_tender_justification'),
    sa.CheckConstraint('opening_date IS NULL OR announcement_date IS NULL OR opening_date >= announcement_date', name='ck_tender_dates'),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_tender_department'),
    sa.ForeignKeyConstraint(['project_id'], ['project_request.id'], name='fk_tender_project'),
    sa.ForeignKeyConstraint(['submitted_by_fk'], ['ab_user.id'], name='fk_tender_submitter'),
    *([sa.ForeignKeyConstraint(['winning_bid_id'], ['bid.id'], name='fk_tender_winning_bid')]
      if sqlite else []),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tender_number')
    )
    with op.batch_alter_table('tender', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_tender_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_tender_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_tender_method_id', ['method', 'id'], unique=False)
        batch_op.create_index('ix_tender_announcement_date_id', ['announcement_date', 'id'], unique=False)
        batch_op.create_index('ix_tender_opening_date_id', ['opening_date', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tender_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_tender_project_number', ['project_id', 'tender_number', 'id', 'department_id'], unique=False)
        batch_op.create_index('ix_tender_status_changed_on', ['status', 'changed_on', 'id'], unique=False)
        batch_op.create_index('ix_tender_status_id', ['status', 'id'], unique=False)
        batch_op.create_index('ix_tender_tender_number_id', ['tender_number', 'id'], unique=False)
        batch_op.create_index('ix_tender_title_id', ['title', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tender_winning_bid_id'), ['winning_bid_id'], unique=False)

    op.create_table('bid',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('technical_score', sa.Integer(), nullable=True),
    sa.Column('commercial_score', sa.Integer(), nullable=True),
    sa.Column('total_score', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount >= 0', name='ck_bid_amount'),
    sa.CheckConstraint('commercial_score IS NULL OR commercial_score BETWEEN 0 AND 100', name='ck_bid_commercial_score'),
    sa.CheckConstraint('technical_score IS NULL OR technical_score BETWEEN 0 AND 100', name='ck_bid_technical_score'),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_bid_department'),
    sa.ForeignKeyConstraint(['tender_id'], ['tender.id'], name='fk_bid_tender'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], name='fk_bid_vendor'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tender_id', 'vendor_id', name='uq_bid_tender_vendor')
    )
    with op.batch_alter_table('bid', schema=None) as batch_op:
        batch_op.create_index('ix_bid_amount_id', ['amount', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_changed_on'), ['changed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_tender_id'), ['tender_id'], unique=False)
        batch_op.create_index('ix_bid_tender_total', ['tender_id', 'total_score', 'id', 'department_id'], unique=False)
        batch_op.create_index('ix_bid_total_score_id', ['total_score', 'id'], unique=False)
        batch_op.create_index('ix_bid_technical_score_id', ['technical_score', 'id'], unique=False)
        batch_op.create_index('ix_bid_commercial_score_id', ['commercial_score', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bid_vendor_id'), ['vendor_id'], unique=False)

    if sqlite:
        op.execute("ALTER TABLE contract ADD COLUMN tender_id INTEGER "
                   "CONSTRAINT fk_contract_tender REFERENCES tender (id)")
    else:
        op.create_foreign_key('fk_tender_winning_bid', 'tender', 'bid', ['winning_bid_id'],
                              ['id'])
        op.add_column('contract', sa.Column('tender_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_contract_tender', 'contract', 'tender', ['tender_id'], ['id'])
    op.create_index('ix_contract_tender_id', 'contract', ['tender_id'], unique=False)
    op.create_index('ix_contract_tender_number', 'contract',
                    ['tender_id', 'number', 'id', 'department_id'], unique=False)



def downgrade():
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_constraint('fk_contract_tender', type_='foreignkey')
        batch_op.drop_index('ix_contract_tender_number')
        batch_op.drop_index(batch_op.f('ix_contract_tender_id'))
        batch_op.drop_column('tender_id')

    with op.batch_alter_table('bid', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_vendor_id'))
        batch_op.drop_index('ix_bid_total_score_id')
        batch_op.drop_index('ix_bid_tender_total')
        batch_op.drop_index(batch_op.f('ix_bid_tender_id'))
        batch_op.drop_index(batch_op.f('ix_bid_department_id'))
        batch_op.drop_index(batch_op.f('ix_bid_created_on'))
        batch_op.drop_index(batch_op.f('ix_bid_changed_on'))
        batch_op.drop_index('ix_bid_amount_id')

    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE tender SET winning_bid_id = NULL")
    else:
        op.drop_constraint('fk_tender_winning_bid', 'tender', type_='foreignkey')
    op.drop_table('bid')
    with op.batch_alter_table('tender', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_winning_bid_id'))
        batch_op.drop_index('ix_tender_title_id')
        batch_op.drop_index('ix_tender_tender_number_id')
        batch_op.drop_index('ix_tender_status_id')
        batch_op.drop_index('ix_tender_status_changed_on')
        batch_op.drop_index('ix_tender_project_number')
        batch_op.drop_index(batch_op.f('ix_tender_project_id'))
        batch_op.drop_index('ix_tender_opening_date_id')
        batch_op.drop_index('ix_tender_method_id')
        batch_op.drop_index(batch_op.f('ix_tender_department_id'))
        batch_op.drop_index(batch_op.f('ix_tender_created_on'))
        batch_op.drop_index(batch_op.f('ix_tender_changed_on'))

    op.drop_table('tender')
    with op.batch_alter_table('progress_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_progress_report_reporter_id'))
        batch_op.drop_index('ix_progress_report_report_date_id')
        batch_op.drop_index(batch_op.f('ix_progress_report_project_id'))
        batch_op.drop_index('ix_progress_report_project_date')
        batch_op.drop_index('ix_progress_report_percent_complete_id')
        batch_op.drop_index(batch_op.f('ix_progress_report_department_id'))
        batch_op.drop_index(batch_op.f('ix_progress_report_created_on'))
        batch_op.drop_index(batch_op.f('ix_progress_report_changed_on'))

    op.drop_table('progress_report')
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestone_responsible_id'))
        batch_op.drop_index(batch_op.f('ix_milestone_project_id'))
        batch_op.drop_index('ix_milestone_project_due')
        batch_op.drop_index('ix_milestone_name_id')
        batch_op.drop_index('ix_milestone_kind_id')
        batch_op.drop_index('ix_milestone_due_on_id')
        batch_op.drop_index('ix_milestone_done_on_id')
        batch_op.drop_index(batch_op.f('ix_milestone_department_id'))
        batch_op.drop_index(batch_op.f('ix_milestone_created_on'))
        batch_op.drop_index(batch_op.f('ix_milestone_changed_on'))

    op.drop_table('milestone')
