"""claims (自评): claim, reporting_reopening, period.report_due, indicator.evidence_required

Revision ID: b7d3f1a2c9e4
Revises: a4c2e8f16b57
Create Date: 2026-12-01 19:05:00.000000

Town reporting (docs/reporting.md): a town's claims per indicator, the period's reporting
deadline, the evidence an indicator requires, and a town's reporting reopened after the
deadline.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d3f1a2c9e4'
down_revision = 'a4c2e8f16b57'
branch_labels = None
depends_on = None

VALUE = sa.Numeric(precision=20, scale=6)
STATES = "status IN ('draft', 'submitted', 'accepted', 'adjusted', 'returned')"


def upgrade():
    with op.batch_alter_table('period') as batch_op:
        batch_op.add_column(sa.Column('report_due', sa.Date(), nullable=True))
    with op.batch_alter_table('indicator') as batch_op:
        batch_op.add_column(
            sa.Column('evidence_required', sa.String(length=200), server_default='', nullable=False)
        )
    op.create_table(
        'claim',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('indicator_id', sa.Integer(), nullable=False),
        sa.Column('number', VALUE, nullable=True),
        sa.Column('grade', sa.String(length=8), nullable=True),
        sa.Column('statement', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('submitted_by', sa.String(length=64), nullable=True),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.Column('verdict_by', sa.String(length=64), nullable=True),
        sa.Column('verdict_at', sa.DateTime(), nullable=True),
        sa.Column('verdict_reason', sa.Text(), nullable=False),
        sa.CheckConstraint(STATES, name=op.f('ck_claim_status_known')),
        sa.CheckConstraint('(number IS NULL) <> (grade IS NULL)', name=op.f('ck_claim_number_or_grade')),
        sa.CheckConstraint('version >= 1', name=op.f('ck_claim_version_positive')),
        sa.CheckConstraint(
            "status NOT IN ('returned', 'adjusted') OR length(verdict_reason) > 0",
            name=op.f('ck_claim_verdict_reason_required'),
        ),
        sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], name=op.f('fk_claim_indicator_id_indicator')),
        sa.ForeignKeyConstraint(['period_id'], ['period.id'], name=op.f('fk_claim_period_id_period')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_claim_unit_id_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_claim')),
        sa.UniqueConstraint('period_id', 'unit_id', 'indicator_id', name='uq_claim_cell'),
    )
    with op.batch_alter_table('claim') as batch_op:
        batch_op.create_index('ix_claim_period_unit', ['period_id', 'unit_id'], unique=False)
        batch_op.create_index('ix_claim_period_status', ['period_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_indicator_id'), ['indicator_id'], unique=False)
    op.create_table(
        'reporting_reopening',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('until', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('reopened_by', sa.String(length=64), nullable=False),
        sa.Column('reopened_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('length(reason) > 0', name=op.f('ck_reporting_reopening_reason_required')),
        sa.ForeignKeyConstraint(['period_id'], ['period.id'], name=op.f('fk_reporting_reopening_period_id_period')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_reporting_reopening_unit_id_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reporting_reopening')),
    )
    with op.batch_alter_table('reporting_reopening') as batch_op:
        batch_op.create_index(
            'ix_reporting_reopening_period_unit', ['period_id', 'unit_id'], unique=False
        )


def downgrade():
    op.drop_table('reporting_reopening')
    op.drop_table('claim')
    with op.batch_alter_table('indicator') as batch_op:
        batch_op.drop_column('evidence_required')
    with op.batch_alter_table('period') as batch_op:
        batch_op.drop_column('report_due')
