"""From the database to the engine (docs/rules.md#engine-document) and the typical-village flags
(docs/rules.md#review-flags)."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest

from evaluation import scoring
from evaluation.core.writing import NotFound
from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.ranking import reading
from evaluation.scores import operations as ledger
from models import ReviewCase, ReviewRecord, Score, db
from tests.ledger_world import SETUP, build_world, fill_towns, fill_villages, open_period


@pytest.fixture
def world(ctx):
    return build_world()


def enter_villages(world, period, values: dict[str, tuple[str, str]], version=None):
    assessor = world.user("assessor")
    for name, (v01, v02) in values.items():
        unit = world.unit(name)
        ledger.set_score(assessor, period, unit, world.indicator("V01"), v01, version=version)
        ledger.set_score(assessor, period, unit, world.indicator("V02"), v02, version=version)


def test_engine_input_is_a_valid_document_of_the_active_units(world):
    period = open_period(world)
    fill_towns(world, period)
    assessor = world.user("assessor")
    ledger.add_adjustment(assessor, period, world.unit("玉滘镇"), "penalty", "2", "环保督察")
    ledger.set_veto(assessor, period, world.unit("云路镇"), "安全事故")
    records.update(SETUP, world.unit("曲溪街道"), {"sort_order": 9})

    document = reading.engine_input(period)
    assert set(document) == {"scheme", "units", "values", "adjustments", "vetoes"}
    assert scoring.validate(document) == []
    # Ordered by sort order, then code.
    assert [u["name"] for u in document["units"]] == ["云路镇", "玉滘镇", "曲溪街道"]
    assert len(document["values"]) == 12
    e01 = next(v for v in document["values"] if v == {**v, "unit": "445203100000",
                                                       "indicator": "E01"})
    assert e01["value"] == Decimal("5.2")
    assert document["adjustments"] == [
        {"unit": "445203101000", "kind": "penalty", "points": Decimal("2.00"),
         "reason": "环保督察"}
    ]
    assert document["vetoes"] == [{"unit": "445203100000", "reason": "安全事故"}]
    scheme = document["scheme"]
    assert (scheme["total"], scheme["bonus_cap"], scheme["tie_method"]) == (
        Decimal(100), Decimal(5), "competition",
    )
    assert [d["code"] for d in scheme["dimensions"]] == ["E", "U"]

    # An inactive town drops out of the computation, with its values.
    records.update(SETUP, world.unit("玉滘镇"), {"active": False})
    document = reading.engine_input(period)
    assert [u["name"] for u in document["units"]] == ["云路镇", "曲溪街道"]
    assert {v["unit"] for v in document["values"]} == {"445203100000", "445203001000"}
    assert document["adjustments"] == []


def test_village_level_takes_only_typical_villages(world):
    period = open_period(world)
    document = reading.engine_input(period, "village")
    assert [u["name"] for u in document["units"]] == ["新桃村", "瑞联村", "汾水村"]
    assert [i["code"] for i in document["scheme"]["dimensions"][0]["indicators"]] == [
        "V01", "V02",
    ]
    with pytest.raises(NotFound, match="村级"):
        records.update(SETUP, world.period(), {"village_scheme": None})
        reading.engine_input(world.period(), "village")


def test_previous_period_is_the_last_one_ended_before_and_not_a_draft(world):
    q3 = world.period("2026Q3")
    assert reading.previous_period(q3) is None  # 2026Q2 is still a draft
    open_period(world, "2026Q2")
    assert reading.previous_period(q3).code == "2026Q2"
    assert reading.previous_period(world.period("2026Q2")) is None


def test_an_approved_period_answers_from_its_snapshot(world):
    period = open_period(world)
    fill_towns(world, period)
    fill_villages(world, period)
    periods.submit(world.user("assessor"), period)
    snapshot = periods.approve(world.user("supervisor"), period)
    # Base data may change later; the approved ranking does not.
    records.update(SETUP, world.unit("玉滘镇"), {"active": False})
    answer = reading.ranking(period)
    assert (answer["from_snapshot"], answer["snapshot_hash"]) == (True, snapshot.sha256)
    assert [r["name"] for r in answer["results"]] == ["曲溪街道", "云路镇", "玉滘镇"]
    # Asking for rank intervals recomputes, and says so.
    with_intervals = reading.ranking(period, sensitivity={"samples": 50, "seed": 1})
    assert with_intervals["from_snapshot"] is False
    assert "sensitivity" in with_intervals["results"][0]


def test_flags_use_previous_totals_review_dates_and_configured_thresholds(app, world):
    app.config["FLAG_BOTTOM_N"] = 1
    q2 = open_period(world, "2026Q2")
    fill_towns(world, q2)
    enter_villages(world, q2, {"新桃村": ("50", "A"), "瑞联村": ("40", "B"),
                               "汾水村": ("30", "C")})
    periods.submit(world.user("assessor"), q2)
    periods.approve(world.user("supervisor"), q2)

    q3 = open_period(world)
    enter_villages(world, q3, {"新桃村": ("45", "A"), "瑞联村": ("30", "C"),
                               "汾水村": ("30", "C")})
    for name, day in (("新桃村", date(2026, 9, 1)), ("瑞联村", date(2026, 10, 15)),
                      ("汾水村", date(2026, 6, 1))):
        db.session.add(ReviewRecord(unit_id=world.unit(name).id, date=day, conclusion="较好"))
    db.session.commit()

    document = reading.engine_input(q3, "village", flags=True)
    rules = document["flags"]
    assert rules["typical"] == {"445203100201": 1, "445203101202": 2, "445203001203": 1}
    assert rules["previous_totals"] == {
        "445203100201": Decimal("100.00"),
        "445203101202": Decimal("82.50"),
        "445203001203": Decimal("65.00"),
    }
    # The review after the period's end does not count for it.
    assert rules["last_review"] == {"445203100201": "2026-09-01", "445203001203": "2026-06-01"}
    assert rules["period_end"] == "2026-09-30"
    assert (rules["low_score"], rules["drop"], rules["bottom_n"], rules["review_days"]) == (
        Decimal(60), Decimal(10), 1, 90,
    )

    shown = {f["name"]: f for f in reading.flags(q3)["flags"]}
    assert list(shown) == ["新桃村", "瑞联村", "汾水村"]
    assert (shown["新桃村"]["flagged"], shown["新桃村"]["reasons"]) == (False, [])
    assert shown["新桃村"]["priority"] is None
    assert shown["瑞联村"]["reasons"] == ["DROP", "BOTTOM", "NO_RECENT_REVIEW"]
    assert shown["瑞联村"]["priority"] == "medium"
    assert shown["瑞联村"]["total"] == "65.00"
    assert shown["汾水村"]["reasons"] == ["BOTTOM", "NO_RECENT_REVIEW"]
    assert shown["汾水村"]["analysis_group"] == "第一研判组"

    summary = periods.sync_review_cases(world.user("supervisor"), q3)
    assert summary["opened"] == ["445203101202", "445203001203"]
    # A worse value changes the reasons of both open cases: 汾水村 falls to 55, 10 below
    # its previous total, alone at the bottom, so 瑞联村 is no longer the bottom one.
    fenshui = world.unit("汾水村")
    ledger.set_score(world.user("assessor"), q3, fenshui, world.indicator("V01"), "20", version=1)
    summary = periods.sync_review_cases(world.user("supervisor"), q3)
    assert summary == {"opened": [], "updated": ["445203101202", "445203001203"], "kept": []}
    cases = {
        case.unit.name: (case.reasons, case.priority)
        for case in db.session.scalars(
            db.select(ReviewCase).where(ReviewCase.period_id == q3.id)
        )
    }
    assert cases == {
        "瑞联村": (["DROP", "NO_RECENT_REVIEW"], "medium"),
        "汾水村": (["LOW_SCORE", "DROP", "BOTTOM", "NO_RECENT_REVIEW"], "high"),
    }


def test_a_period_without_village_scheme_has_no_flags(world):
    records.update(SETUP, world.period(), {"village_scheme": None})
    assert reading.flags(world.period()) == {"period": "2026Q3", "flags": []}


def test_open_period_ranking_follows_every_change(world):
    """A computed ranking is reused only until the next change of any kind."""
    period = open_period(world)
    fill_towns(world, period)
    first = reading.ranking(period)
    assert reading.ranking(period) == first
    kept = copy.deepcopy(first)
    # A caller's change stays its own, down to the innermost values.
    first["results"][0]["total"] = "999.99"
    first["results"][0]["indicators"]["E01"] = "999.99"
    first["results"][0]["dimensions"].clear()
    first["results"][0]["missing"].append("U02")
    first["results"].pop()
    assert reading.ranking(period) == kept

    town = world.unit("玉滘镇")
    ledger.add_adjustment(world.user("assessor"), period, town, "bonus", "3", "表彰")
    after = {r["unit"]: r for r in reading.ranking(period)["results"]}
    before = {r["unit"]: r for r in kept["results"]}
    assert after[town.code]["bonus"] == "3.00" and before[town.code]["bonus"] == "0.00"

    records.update(SETUP, town, {"active": False})
    assert town.code not in {r["unit"] for r in reading.ranking(period)["results"]}


def test_entry_in_another_period_keeps_a_computed_ranking(app, world):
    q3 = open_period(world)
    fill_towns(world, q3)
    reading.ranking(q3)
    computed = app.extensions["computed_rankings"]
    keys = list(computed._entries)
    q2 = open_period(world, "2026Q2")
    fill_towns(world, q2)
    reading.ranking(q3)
    assert list(computed._entries) == keys  # reused: nothing of 2026Q3 changed
    ledger.set_veto(world.user("assessor"), q3, world.unit("云路镇"), "安全事故")
    vetoed = {r["unit"]: r for r in reading.ranking(q3)["results"]}
    assert vetoed[world.unit("云路镇").code]["vetoed"] is True


def test_stored_values_follow_every_change_as_a_fresh_read_would(app, world, monkeypatch):
    """The values kept between rankings, brought up to date from the history, always
    equal what a read of the whole period gives; only base-data changes, unknown events
    or a long run of changes read the period in full again."""
    period = open_period(world)
    assessor = world.user("assessor")
    full_reads = []
    read = reading._read_stored_values
    monkeypatch.setattr(
        reading, "_read_stored_values", lambda *a: full_reads.append(a[3]) or read(*a)
    )

    def check(level="town"):
        kept = reading.engine_input(period, level)
        app.extensions.pop("stored_values")
        fresh = reading.engine_input(period, level)
        assert kept == fresh
        assert scoring.compute(kept) == scoring.compute(fresh)
        return kept

    def stored(unit, code):
        return db.session.scalar(
            db.select(Score).where(
                Score.period_id == period.id,
                Score.unit_id == world.unit(unit).id,
                Score.indicator_id == world.indicator(code).id,
            )
        )

    check()  # nothing entered yet
    fill_towns(world, period)  # every value new
    check()
    reading.engine_input(period)
    reads = len(full_reads)

    u02 = stored("玉滘镇", "U02")
    ledger.set_score(assessor, period, world.unit("玉滘镇"), world.indicator("U02"), "12.5",
                     version=u02.version)  # fmt: skip
    document = check()
    assert {"unit": world.unit("玉滘镇").code, "indicator": "U02", "value": Decimal("12.5")} in (
        document["values"]
    )
    ledger.clear_score(assessor, stored("云路镇", "E01"), version=stored("云路镇", "E01").version,
                       reason="数据待核实")  # fmt: skip
    document = check()
    assert not [v for v in document["values"]
                if v["unit"] == world.unit("云路镇").code and v["indicator"] == "E01"]  # fmt: skip
    ledger.set_score(assessor, period, world.unit("云路镇"), world.indicator("E01"), "7.1",
                     version=None)  # fmt: skip
    ledger.add_adjustment(assessor, period, world.unit("玉滘镇"), "bonus", "2", "表彰")
    ledger.set_veto(assessor, period, world.unit("曲溪街道"), "安全事故")
    u01 = stored("曲溪街道", "U01")
    ledger.set_score(assessor, period, world.unit("曲溪街道"), world.indicator("U01"), "差",
                     version=u01.version)  # fmt: skip
    check()
    # Village values of the same period change nothing at the town level, and the
    # village level keeps its own.
    enter_villages(world, period, {"新桃村": ("40", "优")})
    check()
    check("village")
    # Since ``reads``, five checks each read in full once, after dropping the kept values
    # on purpose; the village level's first reading is the only other one.
    assert len(full_reads) == reads + 5 + 1

    # A base-data change (a town leaves) keys a read in full.
    records.update(SETUP, world.unit("玉滘镇"), {"active": False})
    before = len(full_reads)
    reading.engine_input(period)
    assert len(full_reads) == before + 1
    check()

    # So does a long run of changes.
    reading.engine_input(period)
    monkeypatch.setattr(reading, "_CHANGES_READ_ONE_BY_ONE", 1)
    for value in ("1", "2"):
        score = stored("曲溪街道", "U02")
        ledger.set_score(assessor, period, world.unit("曲溪街道"), world.indicator("U02"), value,
                         version=score.version)  # fmt: skip
    before = len(full_reads)
    document = reading.engine_input(period)
    assert len(full_reads) == before + 1
    assert {"unit": world.unit("曲溪街道").code, "indicator": "U02", "value": Decimal(2)} in (
        document["values"]
    )


def test_unit_ranks_are_the_ranking_s_ranks_and_follow_changes(world):
    period = open_period(world)
    fill_towns(world, period)
    ranks = reading.unit_ranks(period)
    assert ranks == {r["unit"]: r["rank"] for r in reading.ranking(period)["results"]}
    ranks.clear()  # a caller's change stays its own
    assert reading.unit_ranks(period) != {}

    town = world.unit("云路镇")
    ledger.set_veto(world.user("assessor"), period, town, "安全事故")
    after = reading.unit_ranks(period)
    assert after[town.code] == len(after)  # vetoed units come last
    assert after == {r["unit"]: r["rank"] for r in reading.ranking(period)["results"]}


def test_nothing_read_inside_a_rolled_back_write_is_kept(app, world):
    """A write's events take the next seq numbers; rolled back, those numbers go to the
    next events, so what was read inside the write must not be kept under them."""
    from evaluation.core.writing import writing
    from evaluation.history import chain as history

    period = open_period(world)
    fill_towns(world, period)
    for name in ("computed_rankings", "stored_values", "unit_ranks"):
        app.extensions.pop(name, None)
    town = world.unit("玉滘镇")
    with pytest.raises(RuntimeError):
        with writing(world.user("assessor"), "score.write"):
            history.append(SETUP, "period.note", "period", period.code, period=period.code)
            inside = reading.ranking(period)
            reading.unit_ranks(period)
            raise RuntimeError("the write fails after reading")
    for name in ("computed_rankings", "stored_values", "unit_ranks"):
        assert not getattr(app.extensions.get(name), "_entries", None)

    # The next event takes the rolled-back one's seq: its change must show.
    u02 = db.session.scalar(db.select(Score).where(
        Score.period_id == period.id, Score.unit_id == town.id,
        Score.indicator_id == world.indicator("U02").id))  # fmt: skip
    ledger.set_score(world.user("assessor"), period, town, world.indicator("U02"), "1",
                     version=u02.version)  # fmt: skip
    after = {r["unit"]: r for r in reading.ranking(period)["results"]}
    before = {r["unit"]: r for r in inside["results"]}
    assert after[town.code]["indicators"]["U02"] == "1.00"
    assert before[town.code]["indicators"]["U02"] != "1.00"
