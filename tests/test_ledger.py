"""The score corridor: scores, adjustments and vetoes through scores.operations
(docs/rules.md#scoring, docs/rules.md#period-workflow)."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.core.writing import Conflict, Forbidden, InvalidInput, StateError, SystemActor
from evaluation.history import chain as history
from evaluation.periods import operations as periods
from evaluation.ranking import reading
from evaluation.scores import operations as ledger
from evaluation.scores import values
from models import HistoryEvent, Indicator, Score, db
from tests.ledger_world import (
    build_world,
    fill_towns,
    history_actions,
    open_period,
    set_ranges,
)


@pytest.fixture
def world(ctx):
    return build_world()


@pytest.fixture
def period(world):
    return open_period(world)


def last_event() -> dict:
    row = db.session.scalar(db.select(HistoryEvent).order_by(HistoryEvent.seq.desc()).limit(1))
    return history.event_dict(row)


def event_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(HistoryEvent))


def stored(world, period, unit, indicator) -> Score | None:
    return db.session.scalar(
        db.select(Score).where(
            Score.period_id == period.id,
            Score.unit_id == world.unit(unit).id,
            Score.indicator_id == world.indicator(indicator).id,
        )
    )


# --- set_score -------------------------------------------------------------------------


def test_new_score_is_stored_with_one_event(world, period):
    assessor = world.user("assessor")
    score = ledger.set_score(
        assessor, period, world.unit("云路镇"), world.indicator("E01"), "5.20",
        note="统计局快报", version=None,
    )
    assert (score.value, score.version, score.entered_by) == ("5.2", 1, "assessor")
    event = last_event()
    assert {k: event[k] for k in ("actor", "action", "entity", "entity_key", "period")} == {
        "actor": "assessor",
        "action": "score.set",
        "entity": "score",
        "entity_key": "445203100000/E01",
        "period": "2026Q3",
    }
    assert event["before"] is None
    assert event["after"] == {"value": "5.2", "note": "统计局快报"}
    assert event["reason"] is None
    # 5.2 / 6.5 = 0.8 of 20 points
    assert ledger.score_points(period, world.unit("云路镇"), world.indicator("E01")) == Decimal(
        "16.00"
    )


def test_change_with_current_version_bumps_it_and_records_before_and_after(world, period):
    assessor = world.user("assessor")
    unit, indicator = world.unit("云路镇"), world.indicator("U01")
    ledger.set_score(assessor, period, unit, indicator, "B", version=None)
    score = ledger.set_score(assessor, period, unit, indicator, "A", note="复核", version=1)
    assert (score.value, score.version) == ("A", 2)
    event = last_event()
    assert event["before"] == {"value": "B", "note": ""}
    assert event["after"] == {"value": "A", "note": "复核"}


def test_identical_value_changes_nothing_and_writes_no_event(world, period):
    assessor = world.user("assessor")
    unit, indicator = world.unit("云路镇"), world.indicator("U02")
    ledger.set_score(assessor, period, unit, indicator, "25.5", note="自评", version=None)
    before = event_count()
    # The same number written differently is the same value.
    score = ledger.set_score(assessor, period, unit, indicator, "25.50", note="自评", version=1)
    assert score.version == 1
    assert event_count() == before
    # A changed note alone is a change.
    score = ledger.set_score(assessor, period, unit, indicator, "25.5", note="已核", version=1)
    assert score.version == 2
    assert last_event()["after"] == {"value": "25.5", "note": "已核"}


def test_stale_version_is_refused_with_the_current_value(world, period):
    assessor = world.user("assessor")
    unit, indicator = world.unit("云路镇"), world.indicator("U02")
    ledger.set_score(assessor, period, unit, indicator, "20", version=None)
    ledger.set_score(assessor, period, unit, indicator, "22", version=1)
    before = event_count()
    with pytest.raises(Conflict) as refused:
        ledger.set_score(assessor, period, unit, indicator, "28", version=1)
    details = refused.value.details
    assert details["value"] == "22"
    assert details["version"] == 2
    assert details["entered_by"] == "assessor"
    assert details["updated_at"].endswith("Z")
    assert "22" in refused.value.message and "assessor" in refused.value.message
    assert refused.value.status == 409
    db.session.rollback()
    assert stored(world, period, "云路镇", "U02").value == "22"
    assert event_count() == before


def test_creating_a_score_that_exists_is_a_conflict(world, period):
    assessor = world.user("assessor")
    unit, indicator = world.unit("云路镇"), world.indicator("U02")
    ledger.set_score(assessor, period, unit, indicator, "20", version=None)
    with pytest.raises(Conflict) as refused:
        ledger.set_score(assessor, period, unit, indicator, "21", version=None)
    assert refused.value.details["value"] == "20"
    assert refused.value.details["version"] == 1


@pytest.mark.parametrize(
    ("indicator", "value", "words"),
    [
        ("E01", "abc", "须为数字"),
        ("E01", "", "须为数字"),
        ("E01", True, "须为数字"),
        ("E01", "1.1234567", "6 位小数"),
        ("E01", "1234567890.123456", "有效数字"),
        ("E01", "NaN", "有限"),
        ("U01", "E", "A"),
        ("U01", 1, "等次"),
        ("U02", "30.01", "0 至 30"),
        ("U02", "-1", "0 至 30"),
    ],
)
def test_invalid_values_are_refused_with_the_reason(world, period, indicator, value, words):
    before = event_count()
    with pytest.raises(InvalidInput) as refused:
        ledger.set_score(
            world.user("assessor"), period, world.unit("云路镇"), world.indicator(indicator),
            value, version=None,
        )
    assert words in refused.value.message
    assert refused.value.details == [{"path": "value", "message": refused.value.message}]
    db.session.rollback()
    assert event_count() == before
    assert stored(world, period, "云路镇", indicator) is None


#: The default grade keys, Latin and Chinese (docs/rules.md#scoring).
GRADES = "A、优、B、良、C、中、D、差"


@pytest.mark.parametrize(
    ("indicator", "value", "message"),
    [
        ("U01", "E", f"「U01 农村人居环境整治」按等次评定，数值须为以下等次之一：{GRADES}，收到 E"),
        ("U01", 1, f"「U01 农村人居环境整治」按等次评定，数值须为以下等次之一：{GRADES}，收到 1"),
        ("U02", "30.01", "「U02 典型村培育创建成效」直接打分，须在 0 至 30 分之间，收到 30.01"),
        ("U02", "-1", "「U02 典型村培育创建成效」直接打分，须在 0 至 30 分之间，收到 -1"),
        ("E01", "1.1234567", "「E01 地区生产总值增速」的数值至多保留 6 位小数，收到 1.1234567"),
        ("E01", "1234567890.123456",
         "「E01 地区生产总值增速」的数值有效数字不能超过 15 位，收到 1234567890.123456"),
        ("E01", "100000000000000",
         "「E01 地区生产总值增速」的数值过大（整数部分至多 14 位），收到 100000000000000"),
    ],
)
def test_every_value_rule_speaks_in_one_voice(world, period, indicator, value, message):
    """The storage limits, the method's bounds and the grade keys are worded like the range
    rules (docs/values-and-ranges.md#one-rule-one-place): the indicator's code and name,
    the rule, the value received."""
    with pytest.raises(InvalidInput) as refused:
        ledger.set_score(
            world.user("assessor"), period, world.unit("云路镇"), world.indicator(indicator),
            value, version=None,
        )
    assert refused.value.message == message


def test_the_largest_exact_values_are_stored_exactly(world, period):
    """Fifteen significant digits survive the database as typed (SQLite: a float)."""
    assessor = world.user("assessor")
    for name, value in [("云路镇", "123456789.123456"), ("玉滘镇", "99999999999999")]:
        ledger.set_score(
            assessor, period, world.unit(name), world.indicator("E01"), value, version=None
        )
        db.session.expire_all()  # read back what the database holds
        assert stored(world, period, name, "E01").value == value


@pytest.mark.parametrize(
    ("indicator", "value", "message"),
    [
        ("E01", "150", "「E01 地区生产总值增速」的数值须在 0 至 100 之间（%），收到 150"),
        ("E01", "-5", "「E01 地区生产总值增速」的数值须在 0 至 100 之间（%），收到 -5"),
        ("E01", Decimal("100.01"),
         "「E01 地区生产总值增速」的数值须在 0 至 100 之间（%），收到 100.01"),
        ("E02", "1.5", "「E02 招商引资项目落地数」的数值须为整数，收到 1.5"),
        ("E02", "-1", "「E02 招商引资项目落地数」的数值须不小于 0（个），收到 -1"),
        ("E01", "1e3",
         "「E01 地区生产总值增速」的数值须写成普通数字（如 1000），不接受科学计数法，收到 1e3"),
        ("E01", "5E+1",
         "「E01 地区生产总值增速」的数值须写成普通数字（如 1000），不接受科学计数法，收到 5E+1"),
        ("E01", "Infinity", "「E01 地区生产总值增速」的数值须为有限的数字，收到 Infinity"),
        ("E01", "-inf", "「E01 地区生产总值增速」的数值须为有限的数字，收到 -inf"),
        ("E01", "1_000", "「E01 地区生产总值增速」的数值须为数字，收到 1_000"),
    ],
)
def test_values_outside_the_indicator_rule_are_refused(world, period, indicator, value, message):
    set_ranges(world)
    before = event_count()
    with pytest.raises(InvalidInput) as refused:
        ledger.set_score(
            world.user("assessor"), period, world.unit("云路镇"), world.indicator(indicator),
            value, version=None,
        )
    assert refused.value.message == message
    assert refused.value.status == 422
    assert refused.value.details == [{"path": "value", "message": message}]
    # The bulk path (import, seeders) asks the same rule.
    with pytest.raises(InvalidInput, match="收到"):
        ledger.write_values(
            world.user("assessor"), period,
            [ledger.ValueWrite(world.unit("玉滘镇"), world.indicator(indicator), value)],
        )
    db.session.rollback()
    assert event_count() == before
    assert stored(world, period, "云路镇", indicator) is None


def test_values_on_the_bounds_of_the_range_are_accepted(world, period):
    set_ranges(world)
    assessor = world.user("assessor")
    for name, e01, e02 in [("云路镇", "0", "0"), ("玉滘镇", "100.000", "3.0"),
                           ("曲溪街道", "100", "12")]:
        ledger.set_score(assessor, period, world.unit(name), world.indicator("E01"), e01,
                         version=None)
        ledger.set_score(assessor, period, world.unit(name), world.indicator("E02"), e02,
                         version=None)
    assert [stored(world, period, n, "E01").value for n in ("云路镇", "玉滘镇", "曲溪街道")] == [
        "0", "100", "100",
    ]
    assert stored(world, period, "玉滘镇", "E02").value == "3"


def test_lower_is_better_target_refuses_a_negative_value():
    lower = Indicator(
        code="X01", method="target", direction="lower", target=Decimal("1.8"),
        points=Decimal(10),
    )
    with pytest.raises(InvalidInput, match="不能为负"):
        ledger.check_value(lower, "-0.1")
    assert ledger.check_value(lower, "0") == (Decimal("0"), None)
    assert ledger.check_value(lower, 2.675) == (Decimal("2.675"), None)


def test_cells_outside_the_period_scheme_are_refused(world, period):
    assessor = world.user("assessor")
    with pytest.raises(InvalidInput, match="不属于"):
        ledger.set_score(
            assessor, period, world.unit("云路镇"), world.indicator("V01"), "10", version=None
        )
    with pytest.raises(InvalidInput, match="不属于"):
        ledger.set_score(
            assessor, period, world.unit("新桃村"), world.indicator("E01"), "5", version=None
        )
    with pytest.raises(InvalidInput, match="不是典型村"):
        ledger.set_score(
            assessor, period, world.unit("普通村"), world.indicator("V01"), "10", version=None
        )
    score = ledger.set_score(
        assessor, period, world.unit("新桃村"), world.indicator("V01"), "45", version=None
    )
    assert score.version == 1


@pytest.mark.parametrize("role", ["admin", "supervisor", "auditor", "reviewer"])
def test_roles_other_than_assessor_may_not_write_scores(world, period, role):
    before = event_count()
    actor = world.user(role)
    with pytest.raises(Forbidden):
        ledger.set_score(
            actor, period, world.unit("云路镇"), world.indicator("U02"), "20", version=None
        )
    with pytest.raises(Forbidden):
        ledger.add_adjustment(actor, period, world.unit("云路镇"), "bonus", "1", "表彰")
    with pytest.raises(Forbidden):
        ledger.set_veto(actor, period, world.unit("云路镇"), "安全事故")
    assert event_count() == before


def test_scores_change_only_while_the_period_is_open(world, period):
    assessor = world.user("assessor")
    draft = world.period("2026Q2")
    with pytest.raises(StateError, match="草稿"):
        ledger.set_score(
            assessor, draft, world.unit("云路镇"), world.indicator("U02"), "20", version=None
        )
    fill_towns(world, period)
    periods.submit(assessor, period)
    score = stored(world, period, "云路镇", "U02")
    before = event_count()
    with pytest.raises(StateError, match="已提交") as refused:
        ledger.set_score(
            assessor, period, world.unit("云路镇"), world.indicator("U02"), "21", version=1
        )
    assert refused.value.status == 403
    with pytest.raises(StateError):
        ledger.clear_score(assessor, score, version=1)
    with pytest.raises(StateError):
        ledger.add_adjustment(assessor, period, world.unit("云路镇"), "bonus", "1", "表彰")
    with pytest.raises(StateError):
        ledger.set_veto(assessor, period, world.unit("云路镇"), "安全事故")
    periods.approve(world.user("supervisor"), period, override_reason="典型村数据另行报送")
    with pytest.raises(StateError, match="已审定"):
        ledger.set_score(
            assessor, period, world.unit("云路镇"), world.indicator("U02"), "21", version=1
        )
    db.session.rollback()
    assert stored(world, period, "云路镇", "U02").value == "25.5"
    # Only the approval (approved over the empty typical villages, with a reason) and
    # the review cases it opened for them.
    assert history_actions()[before:] == ["period.approve"] + ["review_case.open"] * 3


def test_clear_score_makes_the_value_missing_again(world, period):
    assessor = world.user("assessor")
    unit, indicator = world.unit("云路镇"), world.indicator("U02")
    score = ledger.set_score(assessor, period, unit, indicator, "20", version=None)
    with pytest.raises(Conflict):
        ledger.clear_score(assessor, score, version=7, reason="录错")
    ledger.clear_score(assessor, score, version=1, reason=" 录错了单位 ")
    assert stored(world, period, "云路镇", "U02") is None
    event = last_event()
    assert (event["action"], event["entity_key"], event["before"], event["after"]) == (
        "score.clear", "445203100000/U02", {"value": "20", "note": ""}, None,
    )
    assert event["reason"] == "录错了单位"
    result = reading.ranking(period)["results"]
    yunlu = next(r for r in result if r["name"] == "云路镇")
    assert "U02" in yunlu["missing"]


def test_a_value_entered_again_after_a_clear_does_not_restart_at_version_1(world, period):
    """A colleague who read the first value (version 1) must not overwrite the new one."""
    assessor = world.user("assessor")
    unit, indicator = world.unit("云路镇"), world.indicator("U02")
    first = ledger.set_score(assessor, period, unit, indicator, "20", version=None)
    ledger.set_score(assessor, period, unit, indicator, "21", version=1)
    ledger.clear_score(assessor, first, version=2, reason="录错了单位")
    again = ledger.set_score(assessor, period, unit, indicator, "30", version=None)
    # Three changes before it (set, set, clear): the new value is the fourth version.
    assert again.version == 4
    for stale in (1, 2):
        with pytest.raises(Conflict):
            ledger.set_score(assessor, period, unit, indicator, "25", version=stale)
        db.session.rollback()
    assert stored(world, period, "云路镇", "U02").value == "30"


def test_the_bulk_path_continues_a_cleared_cell_too(world, period):
    assessor = world.user("assessor")
    unit, indicator = world.unit("云路镇"), world.indicator("U02")
    first = ledger.set_score(assessor, period, unit, indicator, "20", version=None)
    ledger.clear_score(assessor, first, version=1, reason="录错")
    other = world.indicator("U01")
    ledger.write_values(
        assessor,
        period,
        [ledger.ValueWrite(unit, indicator, "22"), ledger.ValueWrite(unit, other, "A")],
    )
    assert stored(world, period, "云路镇", "U02").version == 3
    assert stored(world, period, "云路镇", "U01").version == 1


@pytest.mark.parametrize("reason", [None, "", "  \n "])
def test_clear_score_without_a_reason_is_refused(world, period, reason):
    assessor = world.user("assessor")
    unit, indicator = world.unit("云路镇"), world.indicator("U02")
    score = ledger.set_score(assessor, period, unit, indicator, "20", version=None)
    before = event_count()
    with pytest.raises(InvalidInput) as refused:
        ledger.clear_score(assessor, score, version=1, reason=reason)
    assert refused.value.message == "清除已保存的数值须填写理由"
    assert refused.value.details == [{"path": "reason", "message": "理由不能为空"}]
    db.session.rollback()
    assert stored(world, period, "云路镇", "U02").value == "20"
    assert event_count() == before


def test_relative_points_depend_on_the_other_units(world, period):
    assessor = world.user("assessor")
    e02 = world.indicator("E02")
    ledger.set_score(assessor, period, world.unit("云路镇"), e02, "4", version=None)
    # Alone, a unit is both the lowest and the highest: full points.
    assert ledger.score_points(period, world.unit("云路镇"), e02) == Decimal("20.00")
    ledger.set_score(assessor, period, world.unit("曲溪街道"), e02, "10", version=None)
    # Now it is the lowest: floor 0.6 of 20.
    assert ledger.score_points(period, world.unit("云路镇"), e02) == Decimal("12.00")
    assert ledger.score_points(period, world.unit("玉滘镇"), e02) is None


# --- adjustments and vetoes ------------------------------------------------------------


def test_bonus_and_penalty_items_count_capped_and_are_recorded(world, period):
    assessor = world.user("assessor")
    fill_towns(world, period)
    yunlu = world.unit("云路镇")
    first = ledger.add_adjustment(assessor, period, yunlu, "bonus", "3.5", "省级表彰")
    event = last_event()
    assert event["action"] == "adjustment.add"
    assert event["entity_key"] == f"445203100000/{first.id}"
    assert event["after"] == {
        "unit": "445203100000", "kind": "bonus", "points": "3.50", "reason": "省级表彰",
    }
    assert event["reason"] == "省级表彰"
    ledger.add_adjustment(assessor, period, yunlu, "bonus", "2", "市级表彰")
    ledger.add_adjustment(assessor, period, yunlu, "penalty", "1.25", "信访问题")
    row = next(r for r in reading.ranking(period)["results"] if r["unit"] == yunlu.code)
    assert (row["bonus"], row["penalty"], row["total"]) == ("5.00", "1.25", "82.75")

    with pytest.raises(InvalidInput, match="理由"):
        ledger.remove_adjustment(assessor, first, " ")
    ledger.remove_adjustment(assessor, first, "重复录入")
    event = last_event()
    assert (event["action"], event["reason"], event["before"]["points"]) == (
        "adjustment.remove", "重复录入", "3.50",
    )
    row = next(r for r in reading.ranking(period)["results"] if r["unit"] == yunlu.code)
    assert row["bonus"] == "2.00"


@pytest.mark.parametrize(
    ("kind", "points", "reason", "words"),
    [
        ("bonus", "0", "表彰", "大于 0"),
        ("bonus", "-2", "表彰", "大于 0"),
        ("bonus", "1.234", "表彰", "两位小数"),
        ("bonus", "x", "表彰", "大于 0"),
        ("reward", "1", "表彰", "bonus"),
        ("penalty", "1", "  ", "理由"),
    ],
)
def test_bad_adjustments_are_refused(world, period, kind, points, reason, words):
    before = event_count()
    with pytest.raises(InvalidInput, match=words):
        ledger.add_adjustment(world.user("assessor"), period, world.unit("云路镇"), kind,
                              points, reason)
    db.session.rollback()
    assert event_count() == before


def test_a_vetoed_unit_ranks_last_with_the_last_grade(world, period):
    assessor = world.user("assessor")
    fill_towns(world, period)
    qx = world.unit("曲溪街道")
    with pytest.raises(InvalidInput, match="理由"):
        ledger.set_veto(assessor, period, qx, "")
    veto = ledger.set_veto(assessor, period, qx, "发生较大安全生产事故")
    assert last_event()["action"] == "veto.set"
    before = event_count()
    assert ledger.set_veto(assessor, period, qx, "发生较大安全生产事故").id == veto.id
    assert event_count() == before
    results = reading.ranking(period)["results"]
    assert [r["name"] for r in results] == ["云路镇", "玉滘镇", "曲溪街道"]
    assert (results[-1]["rank"], results[-1]["grade"], results[-1]["vetoed"]) == (3, "较差", True)
    ledger.remove_veto(assessor, veto, "经复核不属实")
    event = last_event()
    assert (event["action"], event["reason"], event["before"]) == (
        "veto.remove", "经复核不属实", {"reason": "发生较大安全生产事故"},
    )
    assert reading.ranking(period)["results"][0]["name"] == "曲溪街道"


# --- concurrency ---------------------------------------------------------------------------


def test_racing_writers_on_one_score_one_wins_the_rest_conflict(app, world, period):
    assessor = world.user("assessor")
    ledger.set_score(
        assessor, period, world.unit("云路镇"), world.indicator("U02"), "10", version=None
    )
    events_before = event_count()
    db.session.remove()

    writers = 6
    barrier = threading.Barrier(writers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        with app.app_context():
            try:
                actor = SystemActor("assessor", role="assessor")
                w_period = world.period("2026Q3")
                unit = world.unit("云路镇")
                indicator = world.indicator("U02")
                barrier.wait(timeout=10)
                ledger.set_score(actor, w_period, unit, indicator, str(11 + n), version=1)
                outcome = "won"
            except Conflict:
                outcome = "conflict"
            except Exception as error:  # pragma: no cover - reported by the assertion
                outcome = f"error: {error!r}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["conflict"] * (writers - 1) + ["won"]
    score = stored(world, world.period("2026Q3"), "云路镇", "U02")
    assert score.version == 2
    assert event_count() == events_before + 1
    event = last_event()
    assert event["before"] == {"value": "10", "note": ""}
    assert event["after"]["value"] == score.value
    assert history.verify().ok


def test_history_of_score_changes_verifies(world, period):
    fill_towns(world, period)
    assert history_actions().count("score.set") == 12
    result = history.verify()
    assert result.ok, result.message
    assert json.loads(
        db.session.scalar(db.select(HistoryEvent.after).order_by(HistoryEvent.seq.desc()))
    ) == {"value": "20", "note": ""}


# --- the value rules, as properties ----------------------------------------------------

_amounts = st.decimals(
    min_value=-10**6, max_value=10**6, places=3, allow_nan=False, allow_infinity=False
)


@settings(max_examples=300, deadline=None)
@given(_amounts, st.one_of(st.none(), _amounts), st.one_of(st.none(), _amounts), st.booleans())
def test_range_rule_refuses_exactly_what_lies_outside(number, low, high, whole):
    problem = values.range_problem(number, low, high, whole)
    below = low is not None and number < low
    above = high is not None and number > high
    fractional = whole and number % 1 != 0
    if below or above:
        assert problem == (
            "outside_range" if low is not None and high is not None
            else "below_min" if below else "above_max"
        )
    elif fractional:
        assert problem == "not_integer"
    else:
        assert problem is None


@settings(max_examples=300, deadline=None)
@given(_amounts, st.integers(min_value=-5, max_value=5), st.sampled_from(["e", "E"]))
def test_plain_text_is_read_exactly_and_exponents_never(number, exponent, mark):
    assert values.read_number_text(format(number, "f")) == number
    assert values.read_number_text(f" {number:,f} ") == number  # 1,234.5 with blanks
    with pytest.raises(values.NumberTextError) as refused:
        values.read_number_text(f"{format(number, 'f')}{mark}{exponent}")
    assert refused.value.code == "exponent"
