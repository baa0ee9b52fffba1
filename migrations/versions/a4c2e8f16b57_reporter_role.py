"""reporter role: user_account.unit_id and the role CHECK with 'reporter'

Revision ID: a4c2e8f16b57
Revises: 8b5f24aabbcf
Create Date: 2026-12-01 19:00:00.000000

A reporter (镇街填报员) is bound to one town; every other role has no unit
(docs/reporting.md#the-reporter). The role CHECK gains 'reporter'.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a4c2e8f16b57'
down_revision = '8b5f24aabbcf'
branch_labels = None
depends_on = None

ROLE_CHECK = 'ck_user_account_role_known'
UNIT_CHECK = 'ck_user_account_unit_bound'
OLD_ROLES = "role IN ('admin', 'assessor', 'supervisor', 'auditor', 'reviewer')"
NEW_ROLES = "role IN ('admin', 'assessor', 'supervisor', 'auditor', 'reviewer', 'reporter')"
UNIT_RULE = (
    "(role IN ('reporter') AND unit_id IS NOT NULL)"
    " OR (role NOT IN ('reporter') AND unit_id IS NULL)"
)
FK = 'fk_user_account_unit_id_unit'
INDEX = 'ix_user_account_unit_id'


def _sqlite_rebuild(change):
    """Rebuild user_account on SQLite (a table CHECK cannot change in place). With foreign
    keys on, dropping the old table is refused while api_token rows point at it, so those
    rows wait in a temporary table meanwhile."""
    op.execute('CREATE TEMPORARY TABLE _api_token_kept AS SELECT * FROM api_token')
    op.execute('DELETE FROM api_token')
    with op.batch_alter_table('user_account', recreate='always') as batch_op:
        change(batch_op)
    op.execute('INSERT INTO api_token SELECT * FROM _api_token_kept')
    op.execute('DROP TABLE _api_token_kept')


def _up(batch_op):
    batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
    batch_op.create_foreign_key(op.f(FK), 'unit', ['unit_id'], ['id'])
    batch_op.create_index(op.f(INDEX), ['unit_id'], unique=False)
    batch_op.drop_constraint(op.f(ROLE_CHECK), type_='check')
    batch_op.create_check_constraint(op.f(ROLE_CHECK), sa.text(NEW_ROLES))
    batch_op.create_check_constraint(op.f(UNIT_CHECK), sa.text(UNIT_RULE))


def _down(batch_op):
    batch_op.drop_constraint(op.f(UNIT_CHECK), type_='check')
    batch_op.drop_constraint(op.f(ROLE_CHECK), type_='check')
    batch_op.create_check_constraint(op.f(ROLE_CHECK), sa.text(OLD_ROLES))
    batch_op.drop_index(op.f(INDEX))
    batch_op.drop_constraint(op.f(FK), type_='foreignkey')
    batch_op.drop_column('unit_id')


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_rebuild(_up)
    else:
        with op.batch_alter_table('user_account') as batch_op:
            _up(batch_op)


def downgrade():
    # A reporter cannot outlive its role: the accounts go first (their tokens with them).
    op.execute(
        "DELETE FROM api_token WHERE user_id IN"
        " (SELECT id FROM user_account WHERE role = 'reporter')"
    )
    op.execute("DELETE FROM user_account WHERE role = 'reporter'")
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_rebuild(_down)
    else:
        with op.batch_alter_table('user_account') as batch_op:
            _down(batch_op)
