"""A database restored under a running app (docs/history.md#restores): what the process
keeps between requests is keyed by the last events' seq *and* hash, so the next request
shows the restored copy's figures, never those of the history it replaced — no restart.

The restore is done as an operator would on a live server: SQLite through its backup API
(``sqlite3 ledger.sqlite3 ".restore backup.sqlite3"``), PostgreSQL with
``pg_restore --clean`` of a ``pg_dump`` taken earlier.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pytest
from sqlalchemy.engine import make_url

from evaluation import create_app
from evaluation.accounts import operations as accounts
from evaluation.scores import operations as ledger
from models import Score, db
from tests.conftest import SEED_ACTOR
from tests.ledger_world import build_world, fill_towns, open_period

TOWN = "445203001000"  # E01 is a target indicator: 20 points at 6.5, pro rata below


def backup(app, folder) -> str:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        path = str(folder / "backup.sqlite3")
        with sqlite3.connect(url.database) as live, sqlite3.connect(path) as copy:
            live.backup(copy)
        return path
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    path = str(folder / "backup.dump")
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(["pg_dump", "--format=custom", f"--dbname={plain}", "-f", path], check=True)
    return path


def restore(app, path: str) -> None:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(path) as copy, sqlite3.connect(url.database) as live:
            copy.backup(live)
        return
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(
        ["pg_restore", "--clean", "--if-exists", "--single-transaction", "--no-owner",
         f"--dbname={plain}", path],
        check=True,
    )  # fmt: skip


def set_e01(world, value: str) -> None:
    period = world.period()
    unit = world.unit(TOWN)
    score = db.session.scalar(
        db.select(Score).where(
            Score.period_id == period.id,
            Score.unit_id == unit.id,
            Score.indicator_id == world.indicator("E01").id,
        )
    )
    ledger.set_score(
        world.user("assessor"), period, unit, world.indicator("E01"), value, version=score.version
    )
    db.session.remove()


def e01_points(client, token) -> str:
    response = client.get(
        "/api/v1/periods/2026Q3/ranking", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    results = {r["unit"]: r for r in response.get_json()["results"]}
    return results[TOWN]["indicators"]["E01"]


def fresh_answer(app, token):
    """What a server started afresh on the same database answers (nothing kept)."""
    other = create_app({**app.config})
    try:
        return (
            other.test_client()
            .get("/api/v1/periods/2026Q3/ranking", headers={"Authorization": f"Bearer {token}"})
            .get_json()["results"]
        )
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_restored_older_copy_is_served_without_a_restart(app, client, tmp_path):
    with app.app_context():
        world = build_world()
        open_period(world)
        fill_towns(world, world.period())  # E01 of the town: 6.5
        token = accounts.create_token(SEED_ACTOR, world.user("supervisor"))
        db.session.remove()
    saved = backup(app, tmp_path)
    # After the backup: E01 becomes 3.25, read once, so the process keeps that ranking
    # and the period's values.
    with app.app_context():
        set_e01(world, "3.25")
    assert e01_points(client, token) == "10.00"

    restore(app, saved)  # the app object keeps running
    assert e01_points(client, token) == "20.00"  # the backup's 6.5, full points
    assert client.get(
        "/api/v1/periods/2026Q3/ranking", headers={"Authorization": f"Bearer {token}"}
    ).get_json()["results"] == fresh_answer(app, token)

    # The restored database hands the same seq numbers out again, to other events: the
    # next change (5.2) takes the seq 3.25 had, and still shows.
    with app.app_context():
        set_e01(world, "5.2")
    assert e01_points(client, token) == "16.00"
    assert client.get(
        "/api/v1/periods/2026Q3/ranking", headers={"Authorization": f"Bearer {token}"}
    ).get_json()["results"] == fresh_answer(app, token)
