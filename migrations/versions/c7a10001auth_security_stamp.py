"""security stamp on ab_user: sessions and tokens end on password change, deactivation
and logout

Existing users get a random stamp each; the column is then made NOT NULL.

Revision ID: c7a10001auth
Revises: 638b3f1ff235
Create Date: 2026-11-30 18:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a10001auth'
down_revision = '638b3f1ff235'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('security_stamp', sa.String(length=32), nullable=True))
    users = sa.table('ab_user', sa.column('id', sa.Integer),
                     sa.column('security_stamp', sa.String))
    conn = op.get_bind()
    for (user_id,) in conn.execute(sa.select(users.c.id)).all():
        conn.execute(users.update().where(users.c.id == user_id)
                     .values(security_stamp=secrets.token_hex(16)))
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.alter_column('security_stamp', existing_type=sa.String(length=32),
                              nullable=False)


def downgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('security_stamp')
