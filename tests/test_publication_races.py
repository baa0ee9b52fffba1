"""Races of 公示 (docs/publication.md#races), on SQLite and PostgreSQL: two assessors
answering one objection at once (one wins, the other gets 409), and an approval racing
an answer (serialized: never an approval that misses an answer)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from evaluation.accounts import operations as accounts
from evaluation.periods import operations as periods
from evaluation.publication import operations as publication
from models import HistoryEvent, Objection, Period, RankingSnapshot, User, db
from tests.conftest import PASSWORD
from tests.ledger_world import SETUP, build_world, fill_towns, fill_villages, open_period
from tests.test_concurrency import run_together

YUNLU = "445203100000"


@pytest.fixture
def lodged(app):
    """2026Q3 submitted, its window open, 云路镇's reporter objecting to U02 and E01."""
    with app.app_context():
        world = build_world()
        period = open_period(world)
        fill_towns(world, period)
        fill_villages(world, period)
        periods.submit(world.user("assessor"), period)
        today = publication.today()
        publication.open_window(world.user("supervisor"), period, today, today, False)
        reporter = world.user("reporter")
        for code in ("U02", "E01"):
            publication.lodge_objection(reporter, period, world.unit(YUNLU), "indicator", code,
                                        "偏低")  # fmt: skip
        accounts.create_user(SETUP, "assessor2", "assessor", PASSWORD)
        tokens = {
            name: accounts.create_token(SETUP, world.user(name))
            for name in ("assessor", "assessor2", "supervisor", "reporter")
        }
        db.session.remove()
    return tokens


def post(app, token, path, body):
    return app.test_client().post(
        f"/api/v1/{path}", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def test_two_assessors_answering_at_once_one_wins(app, lodged):
    bodies = [
        ("assessor", {"decision": "adjust", "value": "28", "reason": "调整"}),
        ("assessor2", {"decision": "maintain", "reason": "维持"}),
    ]
    answers = run_together(
        lambda n: post(app, lodged[bodies[n][0]], "objections/1/answer", bodies[n][1]), 2
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 409]
    winner = next(a for a in answers if a.status_code == 200).json
    loser = next(a for a in answers if a.status_code == 409).json
    assert "已由" in loser["error"] and winner["answered_by"] in loser["error"]
    with app.app_context():
        events = db.session.scalars(
            db.select(HistoryEvent).where(HistoryEvent.action == "objection.answer")
        ).all()
        assert len(events) == 1
        assert db.session.get(Objection, 1).answered_by == winner["answered_by"]
        db.session.remove()


@pytest.mark.parametrize("round_", range(2))
def test_an_approval_racing_an_answer_never_misses_it(app, lodged, round_):
    # E01 answered first, so that only objection 1 (U02) is left for the race
    assert post(app, lodged["assessor"], "objections/2/answer",
                {"decision": "maintain", "reason": "维持"}).status_code == 200  # fmt: skip
    with app.app_context():
        # the window closes: only the pending objection can block
        period = db.session.scalar(db.select(Period).where(Period.code == "2026Q3"))
        chief = db.session.scalar(db.select(User).where(User.username == "supervisor"))
        yesterday = publication.today() - timedelta(days=1)
        publication.open_window(chief, period, yesterday, yesterday, False)
        db.session.remove()
    work = [
        lambda: post(app, lodged["assessor"], "objections/1/answer",
                     {"decision": "adjust", "value": "29", "reason": "调整"}),
        lambda: post(app, lodged["supervisor"], "periods/2026Q3/workflow/approve", {}),
    ]  # fmt: skip
    # round 0 starts the answer's thread first, round 1 the approval's
    answer, approval = run_together(lambda n: work[(n + round_) % 2](), 2)[:: 1 - 2 * round_]
    if approval.status_code == 200:
        # the approval came second: the answer is in the snapshot
        assert answer.status_code == 200
        with app.app_context():
            snapshot = db.session.scalar(db.select(RankingSnapshot).where(
                RankingSnapshot.level == "town"))  # fmt: skip
            results = json.loads(snapshot.payload)["results"]
            assert next(r for r in results if r["unit"] == YUNLU)["indicators"]["U02"] == "29.00"
            db.session.remove()
    else:
        # the approval came first and was refused naming the objection; the answer stands
        assert approval.status_code == 409
        assert "1 件异议未答复" in approval.json["error"]
        assert answer.status_code == 200
