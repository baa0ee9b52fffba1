"""indicator value range: value_min, value_max, integer_only

Revision ID: c4a7e2d91f30
Revises: bed63a44549d
Create Date: 2026-12-01 12:20:00.000000

The values an assessor may enter for an indicator (docs/values-and-ranges.md), and a
CHECK that the lower bound is not above the upper one.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a7e2d91f30'
down_revision = 'bed63a44549d'
branch_labels = None
depends_on = None

CHECK_NAME = 'ck_indicator_value_range_ordered'
CHECK_RULE = 'value_min IS NULL OR value_max IS NULL OR value_min <= value_max'


def upgrade():
    # Plain ALTER TABLE … ADD COLUMN on both databases: a batch rebuild of the indicator
    # table on SQLite would drop the old table under the stored scores' foreign keys.
    op.add_column('indicator', sa.Column('value_min', sa.Numeric(precision=20, scale=6), nullable=True))
    op.add_column('indicator', sa.Column('integer_only', sa.Boolean(), server_default=sa.false(), nullable=False))
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a table constraint only by rebuilding the table (see above). A
        # CHECK written on the new column is the same rule: SQLite checks it on every
        # row change whichever column it is attached to.
        op.execute(
            'ALTER TABLE indicator ADD COLUMN value_max NUMERIC(20, 6) '
            f'CONSTRAINT {CHECK_NAME} CHECK ({CHECK_RULE})'
        )
    else:
        op.add_column('indicator', sa.Column('value_max', sa.Numeric(precision=20, scale=6), nullable=True))
        op.create_check_constraint(op.f(CHECK_NAME), 'indicator', sa.text(CHECK_RULE))


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f(CHECK_NAME), 'indicator', type_='check')
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): value_max first, its CHECK goes
    # with it; no table rebuild.
    op.drop_column('indicator', 'value_max')
    op.drop_column('indicator', 'integer_only')
    op.drop_column('indicator', 'value_min')
