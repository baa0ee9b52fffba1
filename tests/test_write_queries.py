"""How much one API score write asks of the database (docs/architecture.md#the-path-of-a-score).

A guard on behaviour, not on timing: a PUT reads the token's user, the period, the unit
and the indicator once, works out the points before it takes the write lock, and under
the lock re-reads in one query what it depends on, writes the value and appends its
event. A regression that reloads expired objects or ranks the whole period shows up here
as more statements, on either database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from evaluation.accounts import operations as accounts
from evaluation.history import chain as history
from models import db
from tests.ledger_world import SETUP, build_world, fill_towns, open_period

#: Statements one PUT may send, lock and history included (SQLite counts its BEGINs too;
#: PostgreSQL's transaction runs on into the lock). Measured: 8 and 6 for a change, one
#: more for a new value (the first version after a clear); 24 and 22 before.
PUT_STATEMENTS = {"sqlite": 10, "postgresql": 8}
#: Statements while the write lock is held: the re-read (the chain's tail with it), the
#: write, the event (SQLite: plus the statement that begins the locked transaction).
LOCKED_STATEMENTS = {"sqlite": 4, "postgresql": 3}


@pytest.fixture
def api(app):
    with app.app_context():
        world = build_world()
        open_period(world)
        token = accounts.create_token(SETUP, world.user("assessor"))
        db.session.remove()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    class Api:
        def fill(self):
            """Enter every town value (each at version 1)."""
            with app.app_context():
                fill_towns(world, world.period())
                db.session.remove()

        def put(self, path, body):
            statements.clear()
            response = client.put(f"/api/v1{path}", json=body, headers=headers)
            return response, list(statements)

        def chain_ok(self) -> bool:
            with app.app_context():
                try:
                    return history.verify().ok
                finally:
                    db.session.remove()

        def get(self, path):
            statements.clear()
            response = client.get(f"/api/v1{path}", headers=headers)
            return response, list(statements)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield Api()
        finally:
            event.remove(db.engine, "before_cursor_execute", record)


def locked(statements: list[str]) -> list[str]:
    """The statements sent after the write lock was taken."""
    for n, statement in enumerate(statements):
        if statement == "BEGIN IMMEDIATE" or "pg_advisory_xact_lock" in statement:
            return statements[n + 1 :]
    raise AssertionError("no write lock taken")


def cell(unit: str, indicator: str) -> str:
    return f"/periods/2026Q3/scores/{unit}/{indicator}"


def test_a_put_sends_few_statements_and_holds_the_lock_for_the_write_alone(api, backend):
    api.fill()
    response, statements = api.put(cell("445203100000", "E01"), {"value": "7", "version": 1})
    assert (response.status_code, response.json["version"], response.json["points"]) == (
        200,
        2,
        "20.00",
    )
    assert len(statements) <= PUT_STATEMENTS[backend], statements
    assert api.chain_ok()
    under_lock = locked(statements)
    assert len(under_lock) == LOCKED_STATEMENTS[backend], under_lock
    writes = [s for s in under_lock if s.startswith(("UPDATE", "INSERT"))]
    assert [s.split()[0:3] for s in writes] == [
        ["UPDATE", "score", "SET"],
        ["INSERT", "INTO", "history_event"],
    ]


def test_a_new_value_and_a_kept_note_stay_within_the_bound(api, backend):
    # A cell never filled: created at version 1, its note empty.
    response, statements = api.put(cell("445203100000", "E01"), {"value": "8", "version": None})
    assert (response.status_code, response.json["version"], response.json["note"]) == (200, 1, "")
    assert len(statements) <= PUT_STATEMENTS[backend], statements
    response, statements = api.put(
        cell("445203100000", "E01"), {"value": "9", "version": 1, "note": "快报"}
    )
    assert response.json["version"] == 2
    # No note: the stored one stays, read under the lock with the value (no extra query).
    response, statements = api.put(cell("445203100000", "E01"), {"value": "6", "version": 2})
    assert (response.json["note"], response.json["version"]) == ("快报", 3)
    assert len(statements) <= PUT_STATEMENTS[backend], statements
    # Each event chained onto the one read with the stored value.
    assert api.chain_ok()


def test_a_relative_value_reads_its_column_before_the_lock(api, backend):
    api.fill()
    # E02 is relative: its points depend on every town's value.
    response, statements = api.put(cell("445203100000", "E02"), {"value": "40", "version": 1})
    assert response.status_code == 200
    assert len(locked(statements)) == LOCKED_STATEMENTS[backend]
    assert len(statements) <= PUT_STATEMENTS[backend] + 1, statements
    listed, _ = api.get("/periods/2026Q3/scores?indicator=E02")
    assert response.json["points"] == next(
        row["points"] for row in listed.json if row["unit"] == "445203100000"
    )


def test_a_refused_or_stale_put_writes_nothing(api):
    api.fill()
    stale, statements = api.put(cell("445203100000", "E01"), {"value": "7", "version": 9})
    assert stale.status_code == 409
    assert stale.json["details"]["version"] == 1
    assert not [s for s in statements if s.startswith(("UPDATE", "INSERT"))]
    bad, statements = api.put(cell("445203100000", "E01"), {"value": "abc", "version": 1})
    assert bad.status_code == 422
    assert not [s for s in statements if s.startswith(("UPDATE", "INSERT"))]


def test_one_cell_of_the_listing_does_not_rank_the_period(api):
    api.fill()
    whole, _ = api.get("/periods/2026Q3/scores")
    expected = {(row["unit"], row["indicator"]): row["points"] for row in whole.json}
    for version, (unit, indicator) in enumerate(
        [
            ("445203100000", "E01"),  # target
            ("445203100000", "E02"),  # relative
            ("445203001000", "U01"),  # grade
            ("445203101000", "U02"),  # direct
        ],
        start=1,
    ):
        # A change elsewhere first, so that no ranking kept from before could answer.
        changed, _ = api.put(
            cell("445203001000", "U02"), {"value": str(20 + version), "version": version}
        )
        assert changed.status_code == 200
        response, statements = api.get(f"/periods/2026Q3/scores?unit={unit}&indicator={indicator}")
        assert [row["points"] for row in response.json] == [expected[unit, indicator]]
        assert len(statements) <= 9, statements
        # Ranking a period reads its adjustments and vetoes; one cell needs neither.
        assert not [s for s in statements if "adjustment" in s or "veto" in s]


def test_a_bad_value_for_a_period_not_open_is_refused_for_the_period_first(api):
    # The value is checked before the lock, its refusal kept until the period's state
    # (read under the lock) has had its say: the same answer as when both were checked
    # under the lock.
    draft = "/periods/2026Q2/scores/445203100000/E01"
    response, statements = api.put(draft, {"value": "abc", "version": None})
    assert response.status_code == 403
    assert "填报中" in response.json["error"]
    assert not [s for s in statements if s.startswith(("UPDATE", "INSERT"))]
