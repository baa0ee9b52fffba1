"""pending import: a dry-run file kept for its 确认导入

Revision ID: d5e8a1c07b42
Revises: c4a7e2d91f30
Create Date: 2026-12-01 13:15:00.000000

The bytes of an import file whose dry run was clean, under a random token, until the
user confirms it or it expires (docs/import.md#confirm).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5e8a1c07b42'
down_revision = 'c4a7e2d91f30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_import',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('period_code', sa.String(length=32), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('overwrite', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_pending_import'))
    )
    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_import_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_import_expires_at'))
    op.drop_table('pending_import')
