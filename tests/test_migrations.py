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
