"""drop key_project.status: a project's status is derived, never stored

Revision ID: e7b3c9d2a614
Revises: d5e8a1c07b42
Create Date: 2026-12-01 15:40:00.000000

The stored status was read by nobody: the board, the project list and the cadre pages
derive it from the progress, the due date and the first update as of today
(docs/rules.md#domain, evaluation/projects/board.py: project_status).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7b3c9d2a614'
down_revision = 'd5e8a1c07b42'
branch_labels = None
depends_on = None

CHECK_NAME = 'ck_key_project_status_known'
CHECK_RULE = "status IN ('on_track', 'behind', 'done')"


def _sqlite_rebuild(change):
    """Rebuild key_project on SQLite, where a column named in a table CHECK cannot be dropped
    in place. The rebuild drops the old table; with foreign keys on (always, inside the
    migration's transaction) that is refused while project_update rows point at it, so
    those rows wait in a temporary table meanwhile."""
    op.execute('CREATE TEMPORARY TABLE _project_update_kept AS SELECT * FROM project_update')
    op.execute('DELETE FROM project_update')
    with op.batch_alter_table('key_project', recreate='always') as batch_op:
        change(batch_op)
    op.execute('INSERT INTO project_update SELECT * FROM _project_update_kept')
    op.execute('DROP TABLE _project_update_kept')


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        def change(batch_op):
            batch_op.drop_constraint(batch_op.f(CHECK_NAME), type_='check')
            batch_op.drop_column('status')
        _sqlite_rebuild(change)
    else:
        op.drop_constraint(op.f(CHECK_NAME), 'key_project', type_='check')
        op.drop_column('key_project', 'status')


def downgrade():
    # Every project comes back as 'on_track', what the column held by default.
    column = sa.Column('status', sa.String(length=16), server_default='on_track', nullable=False)
    if op.get_bind().dialect.name == 'sqlite':
        def change(batch_op):
            batch_op.add_column(column)
            batch_op.create_check_constraint(batch_op.f(CHECK_NAME), sa.text(CHECK_RULE))
        _sqlite_rebuild(change)
    else:
        op.add_column('key_project', column)
        op.create_check_constraint(op.f(CHECK_NAME), 'key_project', sa.text(CHECK_RULE))
