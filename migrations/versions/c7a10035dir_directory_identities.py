"""Directory identities: who each account is in the company directory (LDAP / Active
Directory, OpenID Connect), with the groups and department it gave (6.2.1, 6.3.3).

Revision ID: c7a10035dir
Revises: c7a10023sec1
Create Date: 2026-12-01 06:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a10035dir'
down_revision = 'c7a10023sec1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('directory_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=512), nullable=False),
    sa.Column('groups', sa.Text(), nullable=False),
    sa.Column('department_value', sa.String(length=200), nullable=True),
    sa.Column('directory_roles', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('deactivated_by_directory', sa.Boolean(), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'subject', name='uq_directory_identity'),
    sa.UniqueConstraint('user_id')
    )
    with op.batch_alter_table('directory_identity', schema=None) as batch_op:
        batch_op.create_index('ix_directory_identity_status', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_directory_identity_created_on'), ['created_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_directory_identity_changed_on'), ['changed_on'], unique=False)


def downgrade():
    op.drop_table('directory_identity')
