"""history checkpoint: signed checkpoints of the chain's tail

Revision ID: a3f1c8e2d5b7
Revises: 858339c85ff8
Create Date: 2026-12-01 19:00:00.000000

Signed checkpoints (docs/history.md#checkpoints): the last event's seq and hash, signed
with the installation's Ed25519 key at every approval, with every export and on demand.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3f1c8e2d5b7'
down_revision = '858339c85ff8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('history_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('at', sa.String(length=32), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.String(length=88), nullable=False),
    sa.Column('occasion', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=True),
    sa.Column('made_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_history_checkpoint'))
    )
    with op.batch_alter_table('history_checkpoint', schema=None) as batch_op:
        batch_op.create_index('ix_history_checkpoint_period', ['period'], unique=False)


def downgrade():
    with op.batch_alter_table('history_checkpoint', schema=None) as batch_op:
        batch_op.drop_index('ix_history_checkpoint_period')
    op.drop_table('history_checkpoint')
