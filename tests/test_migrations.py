"""``flask init-db`` brings an empty database to exactly the models' schema."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from models import db


def test_init_db_builds_the_models_schema(app, runner):
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diffs == []
        assert "history_event" in inspect(db.engine).get_table_names()


def test_init_db_is_idempotent(app, runner):
    with app.app_context():
        db.drop_all()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    second = runner.invoke(args=["init-db"])
    assert second.exit_code == 0, second.output


def test_init_db_refuses_an_indicator_range_with_min_above_max(app, runner):
    """The migration carries the models' CHECK (compare_metadata does not look at CHECKs)."""
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    assert runner.invoke(args=["init-db"]).exit_code == 0
    insert = text(
        "INSERT INTO indicator (scheme_id, dimension_id, code, name, points, method, direction,"
        " measure_unit, data_source, rule_text, \"order\", value_min, value_max)"
        " VALUES (1, 1, :code, '道路硬化率', 10, 'relative', 'higher', '%', '', '', 1,"
        " :low, :high)"
    )
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO scheme (id, code, name, level, total, tie_method, grades,"
                    " status, version) VALUES (1, 'S', '方案', 'town', 100, 'competition',"
                    " '[]', 'draft', 1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO dimension (id, scheme_id, code, name, \"order\")"
                    " VALUES (1, 1, 'D', '维度', 1)"
                )
            )
            conn.execute(insert, {"code": "D1", "low": 0, "high": 100})
            flag = conn.execute(text("SELECT integer_only FROM indicator")).scalar_one()
            assert flag in (False, 0)  # the server default of the migrated column
        with pytest.raises(IntegrityError, match="value_range_ordered"):
            with db.engine.begin() as conn:
                conn.execute(insert, {"code": "D2", "low": 100, "high": 0})


def test_dropping_the_stored_project_status_keeps_projects_and_their_updates(app):
    """Migration e7b3c9d2a614 drops key_project.status (derived, docs/rules.md#domain). On
    SQLite it rebuilds the table, which project_update's rows point at: they all stay."""
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade(revision="d5e8a1c07b42")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO key_project (id, code, name, due_date, progress, status) VALUES"
                    " (1, 'GT-001', '产业园', '2026-12-31', 45, 'behind'),"
                    " (2, 'GT-002', '污水管网', NULL, 100, 'done')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO project_update (id, project_id, date, progress, note,"
                    " recorded_by, recorded_at) VALUES"
                    " (1, 1, '2026-03-01', 20, '开工', 'assessor', '2026-03-01 08:00:00'),"
                    " (2, 1, '2026-06-01', 45, '主体施工', 'assessor', '2026-06-01 08:00:00')"
                )
            )
        upgrade()
        assert "status" not in [c["name"] for c in inspect(db.engine).get_columns("key_project")]
        with db.engine.connect() as conn:
            projects = conn.execute(
                text("SELECT id, code, progress FROM key_project ORDER BY id")
            ).all()
            updates = conn.execute(
                text("SELECT id, project_id, note FROM project_update ORDER BY id")
            ).all()
            diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert [(p.id, p.code, float(p.progress)) for p in projects] == [
            (1, "GT-001", 45.0),
            (2, "GT-002", 100.0),
        ]
        assert [tuple(u) for u in updates] == [(1, 1, "开工"), (2, 1, "主体施工")]
        assert diffs == []
        # The other CHECK of the table survived the rebuild; the update still needs its project.
        with pytest.raises(IntegrityError, match="progress_percent"):
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE key_project SET progress = 101 WHERE id = 1"))
        with pytest.raises(IntegrityError):
            with db.engine.begin() as conn:
                conn.execute(text("DELETE FROM key_project WHERE id = 1"))

        downgrade(revision="d5e8a1c07b42")
        with db.engine.connect() as conn:
            restored = conn.execute(text("SELECT code, status FROM key_project ORDER BY id")).all()
            kept = conn.execute(text("SELECT count(*) FROM project_update")).scalar_one()
        assert [tuple(r) for r in restored] == [("GT-001", "on_track"), ("GT-002", "on_track")]
        assert kept == 2
        with pytest.raises(IntegrityError, match="status_known"):
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE key_project SET status = 'lost' WHERE id = 1"))
