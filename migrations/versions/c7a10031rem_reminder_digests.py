"""Reminder digests mailed (`flask reminders send`): one per person and day.

Revision ID: c7a10031rem
Revises: c7a10033ntf
Create Date: 2026-12-01 06:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a10031rem'
down_revision = 'c7a10033ntf'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reminder_digest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('recipient', sa.String(length=256), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name='fk_reminder_digest_user',
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'day', name='uq_reminder_digest')
    )
    with op.batch_alter_table('reminder_digest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_digest_day'), ['day'], unique=False)


def downgrade():
    with op.batch_alter_table('reminder_digest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_digest_day'))

    op.drop_table('reminder_digest')
