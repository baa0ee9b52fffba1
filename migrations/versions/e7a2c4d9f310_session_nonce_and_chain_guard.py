"""session nonce; the history table refuses TRUNCATE and inserts that do not extend the chain

Revision ID: e7a2c4d9f310
Revises: e7a9c3d51b20
Create Date: 2026-12-01 16:00:00.000000

``user_account.session_nonce`` is part of every session cookie's user id, so a new nonce
ends the sessions made before it (docs/rules.md#security). The history table's guard
grows a statement-level TRUNCATE trigger (PostgreSQL) and an INSERT trigger that lets
only the chain's next event in (docs/rules.md#history-chain).
"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7a2c4d9f310'
down_revision = 'e7a9c3d51b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_nonce', sa.String(length=32), nullable=False, server_default='')
        )
    bind = op.get_bind()
    users = sa.table('user_account', sa.column('id'), sa.column('session_nonce'))
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(
            users.update().where(users.c.id == user_id).values(session_nonce=secrets.token_hex(16))
        )

    from models.history import trigger_statements

    for statement in trigger_statements(bind.dialect.name, 'e7a2c4d9f310'):
        op.execute(statement)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS history_event_no_truncate ON history_event")
        op.execute("DROP TRIGGER IF EXISTS history_event_extend_only ON history_event")
        op.execute("DROP FUNCTION IF EXISTS history_event_extend_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS history_event_extend_only")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('session_nonce')
