"""The report per town (docs/reports.md): worked by hand, then checked against the engine."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.scoring import compute
from evaluation.scoring.reports import town_report
from tests.test_scoring import document
from tests.test_scoring_properties import documents, engine_settings, value_for

D = Decimal

# A: 40 + 45 = 85 (rank 2, 较好); B: 45 + 42 = 87 (rank 1, 较好); C: 30 + 50 = 80 (rank 3).
TWO = [
    {"code": "D1", "name": "直接打分", "points": 50, "method": "direct"},
    {"code": "T1", "name": "目标完成", "points": 50, "method": "target", "target": 100},
]
TWO_VALUES = {"A": {"D1": 40, "T1": 90}, "B": {"D1": 45, "T1": 84}, "C": {"D1": 30, "T1": 100}}


def gaps_of(report) -> dict[str, dict]:
    return {g["indicator"]: g for g in report.as_dict()["gaps"]}


def rank_and_grade(doc: dict, unit: str) -> tuple[int, str]:
    found = next(r for r in compute(doc)["results"] if r["unit"] == unit)
    return found["rank"], found["grade"]


def with_value(doc: dict, unit: str, indicator: str, value) -> dict:
    values = [v for v in doc["values"] if (v["unit"], v["indicator"]) != (unit, indicator)]
    values.append({"unit": unit, "indicator": indicator, "value": value})
    return {**doc, "values": values}


def test_standing_and_indicator_ranks_worked_by_hand():
    report = town_report(document(TWO, TWO_VALUES), "A").as_dict()
    assert (report["total"], report["rank"], report["grade"]) == ("85.00", 2, "较好")
    assert report["next_grade"] == "好"
    assert report["units"] == 3
    lines = {line["code"]: line for line in report["indicators"]}
    # D1: B 45 > A 40 > C 30 → A second; T1: C 50 > A 45 > B 42 → A second.
    assert lines["D1"] == {
        "code": "D1", "name": "直接打分", "dimension": "D", "method": "direct",
        "points": "40.00", "max": "50.00", "rank_among": 2, "average": "38.33", "value": "40",
    }  # fmt: skip
    assert lines["T1"]["points"] == "45.00" and lines["T1"]["rank_among"] == 2
    # Both rank 2; T1 earns 90 % of its maximum, D1 80 %: T1 is the strength.
    assert report["strengths"] == ["T1"] and report["weaknesses"] == ["D1"]


def test_gaps_of_a_direct_and_a_target_indicator_worked_by_hand():
    gaps = gaps_of(town_report(document(TWO, TWO_VALUES), "A"))
    # Rank 1 needs a total of 87 (a tie with B ranks first): D1 from 40 to 42.
    assert gaps["D1"]["value_for_next_rank"] == "42"
    assert gaps["D1"]["change_for_next_rank"] == "2"
    assert gaps["D1"]["rank_at_value"] == 1
    # 好 needs 90: D1 45.
    assert gaps["D1"]["value_for_next_grade"] == "45" and gaps["D1"]["grade_at_value"] == "好"
    # T1 needs 47 points: 50 × v / 100 ≥ 46.995 rounds up to 47.00, so v = 93.99 (not 94).
    assert gaps["T1"]["value_for_next_rank"] == "93.99"
    # 好 needs all 50 points: 50 × 99.99 / 100 = 49.995 → 50.00.
    assert gaps["T1"]["value_for_next_grade"] == "99.99"


def test_the_engine_confirms_the_hand_worked_gaps_and_refuses_one_cent_less():
    doc = document(TWO, TWO_VALUES)
    for indicator, at, below, rank in (("D1", "42", "41.99", 1), ("T1", "93.99", "93.98", 1)):
        assert rank_and_grade(with_value(doc, "A", indicator, D(at)), "A")[0] == rank
        assert rank_and_grade(with_value(doc, "A", indicator, D(below)), "A")[0] == 2
    assert rank_and_grade(with_value(doc, "A", "T1", D("99.99")), "A")[1] == "好"
    assert rank_and_grade(with_value(doc, "A", "T1", D("99.98")), "A")[1] == "较好"


def test_gap_reasons_first_top_and_at_maximum():
    doc = document(TWO, TWO_VALUES)
    b = gaps_of(town_report(doc, "B"))
    assert b["D1"]["value_for_next_rank"] is None and b["D1"]["next_rank_reason"] == "first"
    assert b["D1"]["value_for_next_grade"] == "48"  # 45 + 3 = 48 → 90
    c = gaps_of(town_report(doc, "C"))
    assert c["T1"]["next_rank_reason"] == "at_maximum"  # 100 meets the target: full points
    assert c["T1"]["next_grade_reason"] == "at_maximum"
    assert c["D1"]["value_for_next_rank"] == "35"  # 85, a tie with A → rank 2
    assert c["D1"]["value_for_next_grade"] == "40"
    top = document(TWO, {"A": {"D1": 50, "T1": 95}, "B": {"D1": 10, "T1": 10}})
    a = gaps_of(town_report(top, "A"))
    assert a["T1"]["next_grade_reason"] == "top_grade"


def test_not_enough_when_one_indicator_at_full_points_cannot_close_the_gap():
    # A: 10 + 20 = 30 (较差), B: 45 + 50 = 95. Full D1 (50) gives A 70: not rank 1,
    # but the next band (一般, 60) from D1 = 40.
    doc = document(TWO, {"A": {"D1": 10, "T1": 40}, "B": {"D1": 45, "T1": 100}})
    gaps = gaps_of(town_report(doc, "A"))
    assert gaps["D1"]["value_for_next_rank"] is None
    assert gaps["D1"]["next_rank_reason"] == "not_enough"
    assert gaps["D1"]["value_for_next_grade"] == "40"
    assert gaps["D1"]["grade_at_value"] == "一般"
    # T1 needs 50 points (10 + 50 = 60): 50 × 99.99 / 100 = 49.995 → 50.00.
    assert gaps["T1"]["value_for_next_grade"] == "99.99"


def test_relative_gap_counts_that_raising_the_lowest_value_lowers_the_others():
    indicators = [
        {"code": "R1", "points": 10, "method": "relative"},
        {"code": "D1", "points": 90, "method": "direct"},
    ]
    # X: 0 + 80 = 80; Y: 5 + 76 = 81; Z: 10 + 70 = 80.
    values = {"X": {"R1": 0, "D1": 80}, "Y": {"R1": 5, "D1": 76}, "Z": {"R1": 10, "D1": 70}}
    doc = document(indicators, values)
    gaps = gaps_of(town_report(doc, "X"))
    # X stays the lowest while v < 5, so its own points stay 0; Y's fall to
    # q(10 (5 − v) / (10 − v)): 4.00 at v = 1.66 (4.0048), 4.01 at 1.65 — a tie at 80 is rank 1.
    assert gaps["R1"]["value_for_next_rank"] == "1.66"
    assert rank_and_grade(with_value(doc, "X", "R1", D("1.66")), "X")[0] == 1
    assert rank_and_grade(with_value(doc, "X", "R1", D("1.65")), "X")[0] == 2
    # 好 (90) needs all 10 points: 10 (v − 5) / 5 ≥ 9.995 → v = 10.00 (9.99 gives 9.98).
    assert gaps["R1"]["value_for_next_grade"] == "10"


def test_grade_gap_suggests_the_next_grade_in_the_same_script():
    indicators = [
        {"code": "G1", "points": 20, "method": "grade"},
        {"code": "D1", "points": 80, "method": "direct"},
    ]
    # P: 良 0.85 × 20 = 17 + 70 = 87; Q: 优 20 + 68 = 88.
    doc = document(indicators, {"P": {"G1": "良", "D1": 70}, "Q": {"G1": "优", "D1": 68}})
    gaps = gaps_of(town_report(doc, "P"))
    assert gaps["G1"]["value_for_next_rank"] == "优"  # 20 + 70 = 90: rank 1 and 好
    assert gaps["G1"]["value_for_next_grade"] == "优"
    assert gaps["G1"]["change_for_next_rank"] is None


def test_integer_step_and_limits():
    doc = document(TWO, TWO_VALUES)
    gaps = gaps_of(town_report(doc, "A", steps={"T1": D(1)}))
    assert gaps["T1"]["value_for_next_rank"] == "94"  # 93.99 is not a whole number
    limited = gaps_of(town_report(doc, "A", limits={"T1": (D(0), D(95))}))
    assert limited["T1"]["next_grade_reason"] == "not_enough"  # 95 → 47.50, total 87.50


def test_vetoed_unit_keeps_the_last_band():
    doc = document(TWO, TWO_VALUES, vetoes=[{"unit": "A", "reason": "否决"}])
    report = town_report(doc, "A").as_dict()
    assert report["grade"] == "较差" and report["next_grade"] is None and report["rank"] == 3
    assert {g["next_grade_reason"] for g in report["gaps"]} == {"vetoed"}


def test_missing_value_has_no_gap():
    doc = document(TWO, {"A": {"D1": 40}, "B": {"D1": 45, "T1": 84}})
    gaps = gaps_of(town_report(doc, "A"))
    assert gaps["T1"]["next_rank_reason"] == "missing"
    assert town_report(doc, "A").as_dict()["missing"] == ["T1"]


def test_unknown_unit_is_a_key_error():
    with pytest.raises(KeyError):
        town_report(document(TWO, TWO_VALUES), "Z")


def test_change_worked_by_hand_with_bonus_penalty_and_a_dropped_indicator():
    doc = document(
        TWO,
        TWO_VALUES,
        adjustments=[
            {"unit": "A", "kind": "bonus", "points": 2, "reason": "表彰"},
            {"unit": "A", "kind": "penalty", "points": D("1.5"), "reason": "通报批评"},
        ],
    )
    previous = {
        "total": "80.25",
        "rank": 3,
        "indicators": {"D1": "38.00", "T1": "41.25", "OLD": "3.00"},
        "bonus": "0.00",
        "penalty": "2.00",
    }
    change = town_report(doc, "A", previous=previous).as_dict()["change"]
    # now: 40 + 45 + 2 − 1.5 = 85.50; before 80.25 → +5.25
    assert change == {
        "previous_total": "80.25",
        "previous_rank": 3,
        "total": "5.25",
        "indicators": {"D1": "2.00", "T1": "3.75", "OLD": "-3.00"},
        "bonus": "2.00",
        "penalty": "0.50",
        "floor": "0.00",
    }


def test_change_counts_the_zero_floor():
    doc = document(TWO, {"A": {"D1": 1, "T1": 0}}, adjustments=[
        {"unit": "A", "kind": "penalty", "points": 5, "reason": "扣分"}
    ])  # fmt: skip
    previous = {"total": "10.00", "indicators": {"D1": "10.00", "T1": "0.00"}}
    change = town_report(doc, "A", previous=previous).as_dict()["change"]
    # total 0 (1 − 5 floored); −10 = D1 −9 + penalty −5 + floor +4
    assert change["total"] == "-10.00"
    assert (change["indicators"]["D1"], change["penalty"], change["floor"]) == (
        "-9.00", "-5.00", "4.00",
    )  # fmt: skip


# -- properties, checked with the engine ---------------------------------------------


#: The default grade fractions (the random documents use no others).
FRACTIONS = {"A": 1, "优": 1, "B": 0.85, "良": 0.85, "C": 0.7, "中": 0.7, "D": 0.5, "差": 0.5}


def _spec(doc: dict, code: str) -> dict:
    return next(
        i for d in doc["scheme"]["dimensions"] for i in d["indicators"] if i["code"] == code
    )


def _better_one_step_less(spec: dict, value: str) -> object:
    step = D("0.01")
    if spec["method"] == "direct" or spec.get("direction", "higher") == "higher":
        return D(value) - step
    return D(value) + step


@st.composite
def complete_documents(draw) -> dict:
    """A random document (tests/test_scoring_properties.py) with every value filled in."""
    doc = draw(documents(min_units=2, max_units=6))
    given_values = {(v["unit"], v["indicator"]) for v in doc["values"]}
    filled = list(doc["values"])
    for unit in doc["units"]:
        for dimension in doc["scheme"]["dimensions"]:
            for spec in dimension["indicators"]:
                if (unit["code"], spec["code"]) not in given_values:
                    value = draw(value_for(spec))
                    filled.append({"unit": unit["code"], "indicator": spec["code"], "value": value})
    return {**doc, "values": filled}


@engine_settings
@given(data=st.data(), doc=complete_documents())
def test_every_gap_moves_the_town_and_one_step_less_does_not(data, doc):
    unit = data.draw(st.sampled_from([u["code"] for u in doc["units"]]))
    report = town_report(doc, unit)
    rank, grade = report.rank, report.grade
    bands = ["好", "较好", "一般", "较差"]
    for gap in report.as_dict()["gaps"]:
        spec = _spec(doc, gap["indicator"])
        for goal, moved in (
            ("value_for_next_rank", lambda r, g: r < rank),
            ("value_for_next_grade", lambda r, g: bands.index(g) < bands.index(grade)),
        ):
            value = gap[goal]
            if value is None:
                continue
            if spec["method"] == "grade":
                assert moved(*rank_and_grade(with_value(doc, unit, spec["code"], value), unit))
                # every grade worth less than the suggested one does not move the town
                for lower in [g for g in FRACTIONS if FRACTIONS[g] < FRACTIONS[value]]:
                    standing = rank_and_grade(with_value(doc, unit, spec["code"], lower), unit)
                    assert not moved(*standing), (gap, lower)
                continue
            assert moved(*rank_and_grade(with_value(doc, unit, spec["code"], D(value)), unit))
            less = _better_one_step_less(spec, value)
            if spec["method"] == "direct" and less < 0:
                continue
            assert not moved(*rank_and_grade(with_value(doc, unit, spec["code"], less), unit))


@engine_settings
@given(before=documents(min_units=1, max_units=3), now=documents(min_units=1, max_units=3))
def test_the_change_always_adds_up_to_the_cent(before, now):
    previous = next(r for r in compute(before)["results"] if r["unit"] == "u0")
    change = town_report(now, "u0", previous=previous).change
    parts = sum(change.indicators.values(), D(0)) + change.bonus + change.penalty + change.floor
    assert parts == change.total
    now_total = next(r for r in compute(now)["results"] if r["unit"] == "u0")["total"]
    assert change.total == D(now_total) - D(previous["total"])
