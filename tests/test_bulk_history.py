"""The bulk forms the seeders write through store the very events the services store.

The same changes are made twice, each on a fresh ledger with the clock frozen: once by
the public one-row services (``records.create``/``update``, ``reviews.record_review``)
and once by the bulk forms the province seeder uses (``records.create_rows``/
``update_many``, ``reviews.record_reviews``); raw values likewise through
``ledger.set_score`` and the import's and seeders' ``ledger.write_values``. Every stored
history row must be the
same, column for column, hash included, so the two paths cannot drift apart in the
event format (see docs/demo.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from evaluation.core.writing import Forbidden, SystemActor
from evaluation.demo import province
from evaluation.history import chain as history
from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.reviews import operations as reviews
from evaluation.scores import operations as ledger
from models import (
    AnalysisGroup,
    Cadre,
    HistoryEvent,
    ReviewCase,
    ReviewRecord,
    Scheme,
    Score,
    Unit,
    User,
    db,
)
from tests.conftest import database_url, test_app
from tests.ledger_world import SETUP, build_world

FROZEN = datetime(2026, 11, 27, 8, 0, 0, 123456, tzinfo=UTC)
SUPERVISOR = SystemActor("督导甲", role="supervisor")
ADMIN = SystemActor("管理员甲", role="admin")
ASSESSOR = SystemActor("考核甲", role="assessor")
VISIT_DAY = datetime.now(UTC).date() - timedelta(days=3)

TOWN = {"code": "445203102000", "name": "锡场镇", "level": "town", "kind": "镇", "sort_order": 9}
VILLAGES = [
    {"code": "445203102201", "name": "锡东村", "level": "village", "kind": "村", "sort_order": 10,
     "county": "445203", "typical_batch": 1},
    {"code": "445203102202", "name": "锡西村", "level": "village", "kind": "村", "sort_order": 11,
     "county": "445203", "typical_batch": 2},
]  # fmt: skip
CADRE = {"name": "陈建华", "gender": "男", "position": "村党组织书记", "tags": "年轻干部"}
VISITS = [
    {"date": VISIT_DAY, "visitors": "  李明等 ", "findings": "集体经济项目推进顺利",
     "conclusion": "较好", "next_visit": VISIT_DAY + timedelta(days=30)},
    {"date": VISIT_DAY, "visitors": "王芳", "findings": "人居环境整治需加强",
     "conclusion": "一般", "actions": "限期整改"},
]  # fmt: skip


def _open_cases(world) -> None:
    """A case of the first village in 2026Q3 and an older open one of the second.

    Test fixtures, not changes under test: added directly, the same on both ledgers.
    """
    group = db.session.scalar(select(AnalysisGroup).order_by(AnalysisGroup.id))
    first, second = (world.unit(v["code"]) for v in VILLAGES)
    for unit, period_code in ((first, "2026Q3"), (second, "2026Q2")):
        db.session.add(
            ReviewCase(
                period_id=world.period(period_code).id,
                unit_id=unit.id,
                group_id=group.id,
                reasons=["LOW_SCORE"],
                priority="medium",
                status="open",
            )
        )
    db.session.commit()


#: Raw values entered, then one corrected: (town, indicator, value, note).
FIRST_VALUES = [("云路镇", "E01", "5.2", "初录"), ("云路镇", "U01", "B", ""),
                ("玉滘镇", "U02", "20", " 统计站数据 ")]  # fmt: skip
CORRECTION = ("云路镇", "E01", "5.3", "复核更正")


def values_one_by_one(world) -> None:
    period = world.period("2026Q3")
    periods.open_period(ADMIN, period)
    assessor = ASSESSOR
    for town, code, value, note in FIRST_VALUES:
        unit, indicator = world.unit(town), world.indicator(code)
        ledger.set_score(assessor, period, unit, indicator, value, note=note, version=None)
    town, code, value, note = CORRECTION
    unit, indicator = world.unit(town), world.indicator(code)
    ledger.set_score(assessor, period, unit, indicator, value, note=note, version=1)


def values_in_bulk(world) -> None:
    period = world.period("2026Q3")
    periods.open_period(ADMIN, period)
    assessor = ASSESSOR
    ledger.write_values(
        assessor,
        period,
        [
            ledger.ValueWrite(world.unit(town), world.indicator(code), value, note)
            for town, code, value, note in FIRST_VALUES
        ],
    )
    town, code, value, note = CORRECTION
    unit, indicator = world.unit(town), world.indicator(code)
    stored = db.session.scalar(
        select(Score).where(Score.unit_id == unit.id, Score.indicator_id == indicator.id)
    )
    ledger.write_values(
        assessor,
        period,
        [
            ledger.ValueWrite(
                unit, indicator, value, note,
                score_id=stored.id, version=stored.version,
                old_value=stored.value, old_note=stored.note,
            )
        ],
    )  # fmt: skip


def one_by_one(world) -> None:
    """The changes through the public one-row services."""
    values_one_by_one(world)
    group = db.session.scalar(select(AnalysisGroup).order_by(AnalysisGroup.id))
    town = records.create(SETUP, Unit, TOWN)
    villages = [
        records.create(SETUP, Unit, {**row, "parent": town, "analysis_group": group})
        for row in VILLAGES
    ]
    cadre = records.create(SETUP, Cadre, {**CADRE, "unit": villages[0]})
    records.update(SETUP, villages[0], {"secretary": cadre})
    _open_cases(world)
    for village, visit in zip(villages, VISITS, strict=True):
        reviews.record_review(SUPERVISOR, village, period=world.period("2026Q3"), **visit)


def in_bulk(world) -> None:
    """The same changes through the bulk forms the province seeder uses."""
    values_in_bulk(world)
    group = db.session.scalar(select(AnalysisGroup).order_by(AnalysisGroup.id))
    (town_id,) = records.create_rows(SETUP, Unit, [TOWN])
    village_ids = records.create_rows(
        SETUP,
        Unit,
        [{**row, "parent_id": town_id, "analysis_group_id": group.id} for row in VILLAGES],
    )
    (cadre_id,) = records.create_rows(SETUP, Cadre, [{**CADRE, "unit_id": village_ids[0]}])
    cadre = db.session.get(Cadre, cadre_id)
    assert records.update_many(SETUP, Unit, [(village_ids[0], {"secretary": cadre})]) == 1
    _open_cases(world)
    reviews.record_reviews(
        SUPERVISOR,
        [
            reviews.Visit(unit_id, **visit)
            for unit_id, visit in zip(village_ids, VISITS, strict=True)
        ],
        period=world.period("2026Q3"),
    )


def _rows(model, *, skip=()) -> list[tuple]:
    columns = [c for c in model.__table__.columns if c.key not in skip]
    return [tuple(row) for row in db.session.execute(select(*columns).order_by(columns[0]))]


def ledger_after(changes, url: str, monkeypatch) -> dict:
    """Build the test world and make ``changes`` on a fresh ledger; return what is stored."""
    monkeypatch.setattr(history, "now", lambda: FROZEN)
    # The world's reporter account records its creation time in its event: one clock for
    # both ledgers, as for the events themselves.
    created = User.__table__.c.created_at.default
    monkeypatch.setattr(created, "arg", lambda context: FROZEN.replace(tzinfo=None))
    app = test_app(url)
    try:
        with app.app_context():
            world = build_world()
            changes(world)
            db.session.remove()
            stored = {
                "events": [
                    dict(zip([c.key for c in HistoryEvent.__table__.columns], row, strict=True))
                    for row in _rows(HistoryEvent)
                ],
                "units": _rows(Unit),
                "cadres": _rows(Cadre),
                "visits": _rows(ReviewRecord, skip={"recorded_at"}),
                "scores": _rows(Score, skip={"updated_at"}),
                "verified": history.verify().ok,
            }
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()
    return stored


def test_bulk_forms_store_the_events_the_services_store(backend, tmp_path, monkeypatch):
    (tmp_path / "service").mkdir()
    (tmp_path / "bulk").mkdir()
    service = ledger_after(one_by_one, database_url(backend, tmp_path / "service"), monkeypatch)
    bulk = ledger_after(in_bulk, database_url(backend, tmp_path / "bulk"), monkeypatch)

    assert [event["action"] for event in service["events"][-7:]] == [
        "unit.create", "unit.create", "unit.create", "cadre.create", "unit.update",
        "review.record", "review.record",
    ]  # fmt: skip
    def shown(text):
        return None if text is None else json.loads(text)

    values = [(e["action"], e["entity_key"], shown(e["before"]), shown(e["after"]))
              for e in service["events"] if e["action"] == "score.set"]  # fmt: skip
    assert values == [
        ("score.set", "445203100000/E01", None, {"value": "5.2", "note": "初录"}),
        ("score.set", "445203100000/U01", None, {"value": "B", "note": ""}),
        ("score.set", "445203101000/U02", None, {"value": "20", "note": "统计站数据"}),
        ("score.set", "445203100000/E01", {"value": "5.2", "note": "初录"},
         {"value": "5.3", "note": "复核更正"}),
    ]  # fmt: skip
    # Both visits answer a case: 2026Q3's own, and the second village's older open one.
    periods = [e["period"] for e in service["events"] if e["action"] == "review.record"]
    assert periods == ["2026Q3", "2026Q2"]

    assert len(bulk["events"]) == len(service["events"])
    for mine, theirs in zip(bulk["events"], service["events"], strict=True):
        assert mine == theirs  # seq, at, actor, action, … before, after, reason, hashes
    assert bulk["events"][-1]["hash"] == service["events"][-1]["hash"]  # the chain's head
    assert bulk["units"] == service["units"]
    assert bulk["cadres"] == service["cadres"]
    assert bulk["visits"] == service["visits"]
    assert bulk["scores"] == service["scores"] and len(service["scores"]) == 3
    assert service["verified"] and bulk["verified"]


def test_record_reviews_refuses_what_record_review_refuses(ctx):
    world = build_world()
    village = world.unit("新桃村")
    stranger = SystemActor("外组研判员", role="reviewer")
    with pytest.raises(Forbidden):
        reviews.record_review(
            stranger, village, date=VISIT_DAY, visitors="张三", findings="好", conclusion="好"
        )
    with pytest.raises(Forbidden):
        reviews.record_reviews(
            stranger,
            [reviews.Visit(village.id, VISIT_DAY, "张三", "好", "好")],
        )
    assert db.session.scalar(select(ReviewRecord.id)) is None
    with pytest.raises(TypeError):  # schemes have rules: one by one only
        records.create_rows(SETUP, Scheme, [{}])


def test_the_province_seeder_builds_no_event_itself():
    assert not hasattr(province, "history")
    assert not hasattr(province, "PendingEvent")
