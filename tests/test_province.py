"""The province seeder at a small scale: counts, one event per row, a valid chain."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from evaluation.core.writing import StateError
from evaluation.demo import province
from evaluation.history import chain as history
from models import (
    Adjustment,
    Cadre,
    HistoryEvent,
    Period,
    RankingSnapshot,
    ReviewRecord,
    Score,
    Unit,
    Veto,
    db,
)

SMALL = province.ProvinceScale(counties=2, towns=10, villages=60, periods=2, chunk=100)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def events(action: str) -> int:
    return count(HistoryEvent, HistoryEvent.action == action)


@pytest.fixture
def seeded(ctx):
    calls = []
    result = province.seed_province(
        seed=7,
        scale=SMALL,
        progress=lambda *call: calls.append(call),
        password_factory=lambda: "x" * 12,
    )
    return result, calls


def test_builds_the_province_with_its_periods(seeded):
    result, _ = seeded
    assert count(Unit, Unit.level == "town") == 10
    assert count(Unit, Unit.level == "village") == 60
    typical = count(Unit, Unit.typical_batch.is_not(None))
    assert 0 < typical < 60
    assert count(Unit, Unit.typical_batch.is_not(None), Unit.analysis_group_id.is_(None)) == 0
    statuses = dict(db.session.execute(select(Period.code, Period.status)).tuples().all())
    assert statuses == {"2026-01": "approved", "2026-02": "open"}
    # Every town has all 19 values and every typical village its 5, in both periods.
    assert count(Score) == 2 * (10 * 19 + typical * 5)
    assert count(Adjustment) > 0 and count(Veto) > 0
    assert result.counts["scores"] == count(Score)


def test_every_row_has_its_event_and_the_chain_verifies(seeded):
    assert events("unit.create") == count(Unit)
    assert (
        events("cadre.create")
        == count(Cadre)
        == 2 * 10 + count(Unit, Unit.typical_batch.is_not(None))
    )
    assert events("unit.update") == count(Unit, Unit.secretary_id.is_not(None)) > 0
    assert events("score.set") == count(Score)
    assert events("adjustment.add") == count(Adjustment)
    assert events("veto.set") == count(Veto)
    assert events("review.record") == count(ReviewRecord) > 0
    assert events("period.approve") == 1
    one = db.session.execute(
        select(HistoryEvent).where(HistoryEvent.action == "score.set").limit(1)
    ).scalar_one()
    assert json.loads(one.after).keys() == {"value", "note"}
    assert one.actor == "assessor"
    result = history.verify()
    assert result.ok, result.message
    assert result.checked == count(HistoryEvent)


def test_the_approved_period_has_its_engine_snapshot(seeded):
    snapshot = db.session.scalar(select(RankingSnapshot).where(RankingSnapshot.level == "town"))
    payload = json.loads(snapshot.payload)
    assert payload["period"] == "2026-01"
    assert [r["rank"] for r in payload["results"]][0] == 1
    assert len(payload["results"]) == 10
    approve = db.session.scalar(select(HistoryEvent).where(HistoryEvent.action == "period.approve"))
    assert json.loads(approve.after)["snapshots"]["town"] == snapshot.sha256


def test_progress_is_reported_by_stage(seeded):
    _, calls = seeded
    stages = {stage for stage, _, _ in calls}
    assert {"users", "units", "schemes", "period 2026-01 scores"} <= stages
    assert ("units", 70, 70) in calls


def test_refuses_a_ledger_that_already_has_units(seeded):
    with pytest.raises(StateError):
        province.seed_province(scale=SMALL)


def test_seed_demo_command_builds_the_province_with_progress(app, monkeypatch, tmp_path):
    """``flask seed-demo --scale province`` (at a small scale here) shows its progress."""
    monkeypatch.setattr(province, "PROVINCE", SMALL)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    result = app.test_cli_runner().invoke(args=["seed-demo", "--scale", "province", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "0/" in result.output and "已载入省级规模演示数据" in result.output
    assert "镇街 10 个" in result.output
    assert (tmp_path / "demo-credentials.txt").exists()
    with app.app_context():
        assert history.verify().ok


def test_the_national_sample_is_ten_provinces_of_towns_in_one_period():
    assert province.NATIONAL_SAMPLE.towns == 10 * province.PROVINCE.towns == 16_090
    assert province.NATIONAL_SAMPLE.counties == 10 * province.PROVINCE.counties
    assert province.NATIONAL_SAMPLE.periods == 1
    assert province.NATIONAL_SAMPLE.villages == 0


def test_seed_demo_command_builds_the_national_sample(app, monkeypatch, tmp_path):
    """``flask seed-demo --scale national-sample`` (small here): towns only, one open
    period with every town's values, a chain that verifies."""
    small = province.ProvinceScale(counties=3, towns=20, villages=0, periods=1, chunk=100)
    monkeypatch.setattr(province, "NATIONAL_SAMPLE", small)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--scale", "national-sample", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "已载入十倍省级规模样本" in result.output and "镇街 20 个" in result.output
    with app.app_context():
        assert count(Unit, Unit.level == "town") == 20
        assert count(Unit, Unit.level == "village") == 0
        statuses = dict(db.session.execute(select(Period.code, Period.status)).tuples().all())
        assert statuses == {"2026-01": "open"}
        assert count(Score) == 20 * 19
        assert events("score.set") == 20 * 19
        assert history.verify().ok
    ranked = runner.invoke(args=["rank", "--period", "2026-01", "--format", "json"])
    assert ranked.exit_code == 0, ranked.output
    assert len(json.loads(ranked.output)["results"]) == 20


def test_more_cadres_than_names_take_a_repeated_name(ctx, monkeypatch):
    # The name list has about 21,000 names; the national sample needs 32,180 cadres. With
    # a list of 3 names and 10 towns (20 cadres) the seeder must still finish.
    monkeypatch.setattr(province, "SURNAMES", ["陈"])
    monkeypatch.setattr(province, "GIVEN", ["一", "二"])
    small = province.ProvinceScale(counties=1, towns=10, villages=0, periods=1, chunk=100)
    province.seed_province(seed=5, scale=small, password_factory=lambda: "x" * 12)
    names = db.session.scalars(select(Cadre.name)).all()
    assert len(names) == 20
    assert set(names) <= {"陈一", "陈二", "陈一一", "陈一二", "陈二一", "陈二二"}
