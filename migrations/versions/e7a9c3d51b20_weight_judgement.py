"""weight judgement: the AHP matrix behind a scheme version's points

Revision ID: e7a9c3d51b20
Revises: e7b3c9d2a614
Create Date: 2026-12-01 15:32:04.130551

The pairwise matrix, its method and its consistency ratio, stored with the draft scheme
version whose points it set, and shown on the published one (docs/weights.md).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7a9c3d51b20'
down_revision = 'e7b3c9d2a614'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('weight_judgement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('dimension_id', sa.Integer(), nullable=True),
    sa.Column('target', sa.String(length=32), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('matrix', sa.JSON(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('points', sa.JSON(), nullable=False),
    sa.Column('parent_points', sa.Numeric(precision=9, scale=2), nullable=False),
    sa.Column('lambda_max', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('ci', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('cr', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("method IN ('eigenvector', 'geometric')", name=op.f('ck_weight_judgement_method_known')),
    sa.CheckConstraint('cr >= 0', name=op.f('ck_weight_judgement_cr_nonnegative')),
    sa.ForeignKeyConstraint(['dimension_id'], ['dimension.id'], name=op.f('fk_weight_judgement_dimension_id_dimension'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scheme_id'], ['scheme.id'], name=op.f('fk_weight_judgement_scheme_id_scheme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weight_judgement')),
    sa.UniqueConstraint('scheme_id', 'target', name='uq_weight_judgement_scheme_target')
    )
    with op.batch_alter_table('weight_judgement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weight_judgement_dimension_id'), ['dimension_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_weight_judgement_scheme_id'), ['scheme_id'], unique=False)



def downgrade():
    with op.batch_alter_table('weight_judgement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weight_judgement_scheme_id'))
        batch_op.drop_index(batch_op.f('ix_weight_judgement_dimension_id'))

    op.drop_table('weight_judgement')
