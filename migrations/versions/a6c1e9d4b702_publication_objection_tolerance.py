"""公示 windows, objections (异议) and 容错纠错 cases

Revision ID: a6c1e9d4b702
Revises: b7d3f1a2c9e4
Create Date: 2026-12-01 19:05:00

docs/publication.md: a submitted period's 公示 window, the towns' objections to one item
each per window, and the 容错纠错 cases against a penalty or a veto.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a6c1e9d4b702'
down_revision = 'b7d3f1a2c9e4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('publication_window',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('show_ranking', sa.Boolean(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_publication_window_start_before_end')),
    sa.ForeignKeyConstraint(['period_id'], ['period.id'], name=op.f('fk_publication_window_period_id_period')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_window'))
    )
    with op.batch_alter_table('publication_window', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publication_window_period_id'), ['period_id'], unique=False)

    op.create_table('objection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('window_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('target_type', sa.String(length=16), nullable=False),
    sa.Column('target_key', sa.String(length=32), nullable=False),
    sa.Column('target_label', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('lodged_by', sa.String(length=64), nullable=False),
    sa.Column('lodged_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answer_reason', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=64), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('value_before', sa.Text(), nullable=True),
    sa.Column('value_after', sa.Text(), nullable=True),
    sa.CheckConstraint("target_type IN ('indicator', 'adjustment', 'veto')", name=op.f('ck_objection_target_known')),
    sa.CheckConstraint("status IN ('pending', 'maintained', 'adjusted')", name=op.f('ck_objection_status_known')),
    sa.CheckConstraint('length(reason) > 0', name=op.f('ck_objection_reason_required')),
    sa.ForeignKeyConstraint(['window_id'], ['publication_window.id'], name=op.f('fk_objection_window_id_publication_window')),
    sa.ForeignKeyConstraint(['period_id'], ['period.id'], name=op.f('fk_objection_period_id_period')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_objection_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objection')),
    sa.UniqueConstraint('window_id', 'unit_id', 'target_type', 'target_key', name='uq_objection_item')
    )
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objection_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('ix_objection_period_status', ['period_id', 'status'], unique=False)

    op.create_table('tolerance_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('target_type', sa.String(length=16), nullable=False),
    sa.Column('adjustment_id', sa.Integer(), nullable=True),
    sa.Column('target_points', sa.Numeric(precision=9, scale=2), nullable=True),
    sa.Column('target_label', sa.Text(), nullable=False),
    sa.Column('situation', sa.Text(), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('applicant', sa.String(length=64), nullable=False),
    sa.Column('applied_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('verified_by', sa.String(length=64), nullable=True),
    sa.Column('verified_at', sa.DateTime(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('determined_by', sa.String(length=64), nullable=True),
    sa.Column('determined_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("target_type IN ('adjustment', 'veto')", name=op.f('ck_tolerance_case_target_known')),
    sa.CheckConstraint("status IN ('applied', 'verifying', 'upheld', 'rejected')", name=op.f('ck_tolerance_case_status_known')),
    sa.CheckConstraint('length(grounds) > 0', name=op.f('ck_tolerance_case_grounds_required')),
    sa.ForeignKeyConstraint(['period_id'], ['period.id'], name=op.f('fk_tolerance_case_period_id_period')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_tolerance_case_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tolerance_case'))
    )
    with op.batch_alter_table('tolerance_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tolerance_case_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('ix_tolerance_case_period_status', ['period_id', 'status'], unique=False)


def downgrade():
    op.drop_table('tolerance_case')
    op.drop_table('objection')
    op.drop_table('publication_window')
