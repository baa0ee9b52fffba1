"""Concurrency (docs/rules.md#security): 8 writers lose no update, on SQLite and
PostgreSQL; login throttling is shared by every worker process through the database.

tests/test_ledger.py and tests/test_api.py race 6 writers once on one cell; here 8 writers
keep writing (their own cells, and one shared cell round after round).
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from evaluation import create_app
from evaluation.accounts import operations as accounts
from evaluation.core.writing import Conflict, SystemActor
from evaluation.history import chain as history
from evaluation.scores import operations as ledger
from models import HistoryEvent, LoginFailure, Score, db
from tests.conftest import PASSWORD
from tests.ledger_world import SETUP, build_world, open_period

WRITERS = 8
#: Eight cells for eight writers: three towns × the three numeric indicators, less one.
CELLS = [
    (town, indicator)
    for town in ("445203001000", "445203100000", "445203101000")
    for indicator in ("E01", "E02", "U02")
][:WRITERS]


def run_together(work, count: int = WRITERS) -> list:
    """Run ``work(n)`` in ``count`` threads started at once; return what each returned."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[n] = work(n)
        except BaseException as error:  # reported by the caller's assertions
            results[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return results


def score_events() -> Counter:
    keys = db.session.scalars(
        db.select(HistoryEvent.entity_key).where(HistoryEvent.action == "score.set")
    )
    return Counter(keys)


@pytest.fixture
def tokens(app):
    with app.app_context():
        world = build_world()
        open_period(world)
        token = accounts.create_token(SETUP, world.user("assessor"))
        db.session.remove()
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
def test_eight_api_writers_on_their_own_cells_lose_no_update(app, tokens):
    rounds = 20

    def write(n: int) -> dict:
        town, indicator = CELLS[n]
        url = f"/api/v1/periods/2026Q3/scores/{town}/{indicator}"
        client = app.test_client()  # one per writer, as each would have its own connection
        version, written, statuses = None, 0, Counter()
        for k in range(rounds):
            # Consecutive values differ, so every accepted PUT is a change.
            body = {"value": str(1 + (n + k) % 29), "version": version}
            response = client.put(url, json=body, headers=tokens)
            statuses[response.status_code] += 1
            if response.status_code == 200:
                assert response.json["changed"] is True
                version = response.json["version"]
                written += 1
        return {"written": written, "version": version, "statuses": statuses}

    results = run_together(write)
    for n, result in enumerate(results):
        assert isinstance(result, dict), f"writer {n}: {result!r}"
        # Nobody else writes these cells: every PUT must succeed, none may 409 or 5xx.
        assert result["statuses"] == Counter({200: rounds}), f"writer {n}: {result}"
        assert result["version"] == result["written"] == rounds

    with app.app_context():
        stored = {
            (s.unit.code, s.indicator.code): s
            for s in db.session.scalars(db.select(Score).where(Score.period.has(code="2026Q3")))
        }
        events = score_events()
        for n, (town, indicator) in enumerate(CELLS):
            score = stored[(town, indicator)]
            assert score.version == results[n]["written"]
            assert score.value == str(1 + (n + rounds - 1) % 29)
            assert events[f"{town}/{indicator}"] == results[n]["written"]
        assert sum(events.values()) == WRITERS * rounds
        verification = history.verify()
        assert verification.ok, verification.message


@pytest.mark.slow
def test_eight_writers_racing_on_one_cell_one_wins_each_round(app, tokens):
    rounds = 5
    assert _set(app, "10", None) == 1

    outcomes_by_round = []
    version = 1
    for round_number in range(rounds):

        def race(n: int, version=version, round_number=round_number) -> str:
            value = f"{11 + round_number}.{n + 1}"  # never a trailing zero the ledger drops
            try:
                _set(app, value, version)
            except Conflict as conflict:
                # The loser learns the winner's value and version, not a stale one.
                assert conflict.details["version"] == version + 1
                return "conflict"
            return "won"

        outcomes = run_together(race)
        outcomes_by_round.append(outcomes)
        assert sorted(map(str, outcomes)) == ["conflict"] * (WRITERS - 1) + ["won"], outcomes
        version += 1

    with app.app_context():
        score = db.session.scalar(db.select(Score).where(Score.period.has(code="2026Q3")))
        assert score.version == 1 + rounds
        winner = outcomes_by_round[-1].index("won")
        assert score.value == f"{11 + rounds - 1}.{winner + 1}"
        assert score_events() == Counter({"445203100000/U02": 1 + rounds})
        verification = history.verify()
        assert verification.ok, verification.message


def _set(app, value: str, version: int | None) -> int:
    """Write 云路镇 U02 through the service in a fresh app context; return the new version."""
    from models import Indicator, Period, Unit

    with app.app_context():
        try:
            period = db.session.scalar(db.select(Period).where(Period.code == "2026Q3"))
            unit = db.session.scalar(db.select(Unit).where(Unit.code == "445203100000"))
            indicator = db.session.scalar(db.select(Indicator).where(Indicator.code == "U02"))
            actor = SystemActor("assessor", role="assessor")
            score = ledger.set_score(actor, period, unit, indicator, value, version=version)
            return score.version
        finally:
            db.session.remove()


# --- login throttling across worker processes ----------------------------------------------


@pytest.fixture
def second_worker(app):
    """Another app on the same database, as a second gunicorn worker would be."""
    other = create_app({**app.config})
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def login(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_a_wait_reached_through_one_worker_holds_in_the_other(app, second_worker):
    free = app.config["LOGIN_FREE_FAILURES"]
    first, second = app.test_client(), second_worker.test_client()
    # Failures alternate between the workers; together they reach the free tries.
    for attempt in range(free):
        worker = (first, second)[attempt % 2]
        assert login(worker, "assessor", "wrong", "10.0.0.9").status_code == 401
    for worker in (first, second):
        held = login(worker, "assessor", PASSWORD, "10.0.0.9")
        assert held.status_code == 429
        assert "秒后再试" in held.get_data(as_text=True)
    # The same account from elsewhere, and other accounts, are not held up in either worker.
    assert login(first, "assessor", PASSWORD, "10.0.1.1").status_code == 302
    assert login(second, "auditor", PASSWORD, "10.0.0.9").status_code == 302


def test_concurrent_failures_in_two_workers_are_all_counted(app, second_worker):
    """8 guessers split over two workers at once: no failure is lost."""
    app.config["LOGIN_FREE_FAILURES"] = 1000  # count, don't hold up, in this part
    second_worker.config["LOGIN_FREE_FAILURES"] = 1000
    tries = 5

    def guess(n: int) -> list[int]:
        worker = (app, second_worker)[n % 2].test_client()
        return [
            login(worker, "reviewer", f"guess-{n}-{k}", "10.3.0.1").status_code
            for k in range(tries)
        ]

    results = run_together(guess)
    assert all(statuses == [401] * tries for statuses in results), results
    with app.app_context():
        recorded = db.session.scalar(
            db.select(db.func.count()).where(LoginFailure.key == "pair:reviewer|10.3.0.1")
        )
    assert recorded == WRITERS * tries
    # The shared count now holds the account up from that address in both workers.
    for worker in (app, second_worker):
        worker.config["LOGIN_FREE_FAILURES"] = 5
        assert login(worker.test_client(), "reviewer", PASSWORD, "10.3.0.1").status_code == 429


def test_a_burst_of_guesses_gets_no_more_password_checks_than_the_limit(app, second_worker):
    """8 guesses at once over two workers, limit 5: the lockout is checked and counted
    atomically, so at most 5 guesses are answered "wrong password"; the rest must wait."""
    limit = app.config["LOGIN_FREE_FAILURES"]
    assert second_worker.config["LOGIN_FREE_FAILURES"] == limit < WRITERS

    def guess(n: int) -> int:
        worker = (app, second_worker)[n % 2].test_client()
        return login(worker, "reviewer", f"guess-{n}", "10.5.0.1").status_code

    statuses = Counter(run_together(guess))
    assert statuses[401] <= limit and statuses[401] + statuses[429] == WRITERS, statuses
