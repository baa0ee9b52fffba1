"""The scoring engine end to end and each rule of docs/rules.md#scoring, worked by hand."""

from __future__ import annotations

import ast
import json
from decimal import Decimal
from pathlib import Path

import pytest

from evaluation.scoring import (
    ScoreResult,
    ScoringError,
    compute,
    evaluate,
    loads,
    q,
    score_period,
)

#: The worked example (every method, a tie, a cap, a veto, a missing value and flags;
#: docs/rules.md#engine-document). This copy in the repository is the reference.
EXAMPLES = Path(__file__).resolve().parent / "examples"
SCORING = Path(__file__).resolve().parent.parent / "evaluation" / "scoring"


def example(name: str) -> object:
    return loads((EXAMPLES / name).read_text(encoding="utf-8"))


def document(indicators, values, **options):
    """Build a one-dimension document; ``values`` maps unit code → {indicator: value}."""
    total = options.pop("total", sum(Decimal(str(i["points"])) for i in indicators))
    scheme = {
        "total": total,
        "bonus_cap": options.pop("bonus_cap", 5),
        "penalty_cap": options.pop("penalty_cap", None),
        "tie_method": options.pop("tie_method", "competition"),
        "dimensions": [{"code": "D", "name": "方面", "indicators": indicators}],
    }
    if "grades" in options:
        scheme["grades"] = options.pop("grades")
    built = {
        "scheme": scheme,
        "units": [{"code": code, "name": f"单位{code}"} for code in values],
        "values": [
            {"unit": unit, "indicator": code, "value": value}
            for unit, by_code in values.items()
            for code, value in by_code.items()
        ],
    }
    built.update(options)
    return built


def by_unit(result: dict) -> dict[str, dict]:
    return {r["unit"]: r for r in result["results"]}


def points_of(indicator, values: dict[str, object]) -> dict[str, str]:
    """Score one indicator for units u1, u2, … given their values; return printed points."""
    doc = document([indicator], {unit: {indicator["code"]: v} for unit, v in values.items()})
    return {u: r["indicators"][indicator["code"]] for u, r in by_unit(compute(doc)).items()}


# -- the worked example ----------------------------------------------------------------


def test_worked_example_gives_the_published_output():
    produced = json.loads(json.dumps(compute(example("engine-input.json")), ensure_ascii=False))
    expected = json.loads((EXAMPLES / "engine-output.json").read_text(encoding="utf-8"))
    assert produced == expected


def test_worked_example_read_with_plain_floats_gives_the_same_output():
    # A caller that parsed the JSON itself (floats, not Decimals) must get the same figures.
    raw = json.loads((EXAMPLES / "engine-input.json").read_text(encoding="utf-8"))
    assert compute(raw) == compute(example("engine-input.json"))


def test_decimal_results_match_printed_strings():
    result = evaluate(example("engine-input.json"))
    assert isinstance(result, ScoreResult)
    first = result.results[0]
    assert first.unit == "445203001000"
    assert first.total == Decimal("102.50")
    assert first.bonus == Decimal("5.00")
    assert result.result_for("445203002000").indicators["R01"] == Decimal("26.13")
    assert result.result_for("445203005000").vetoed
    with pytest.raises(KeyError):
        result.result_for("nope")


# -- q and each method ------------------------------------------------------------------


def test_q_rounds_half_up_where_binary_floats_fail():
    # The float results are what a careless implementation would print.
    assert round(2.675, 2) == 2.67
    assert q(Decimal("2.675")) == Decimal("2.68")
    assert round(0.125, 2) == 0.12
    assert q(Decimal("0.125")) == Decimal("0.13")
    assert q(Decimal("-0.001")) == Decimal("0.00") and str(q(Decimal("-0.001"))) == "0.00"


def test_direct_points_are_the_value_rounded_half_up():
    indicator = {"code": "R01", "points": 30, "method": "direct"}
    printed = points_of(
        indicator,
        {
            "u1": Decimal("26.125"),
            "u2": Decimal("2.675"),
            "u3": Decimal("0.125"),
            "u4": 30,
            "u5": 0,
        },
    )
    assert printed == {"u1": "26.13", "u2": "2.68", "u3": "0.13", "u4": "30.00", "u5": "0.00"}


def test_direct_float_input_is_read_by_its_decimal_spelling():
    indicator = {"code": "R01", "points": 5, "method": "direct"}
    assert points_of(indicator, {"u1": 2.675, "u2": 0.125}) == {"u1": "2.68", "u2": "0.13"}


def test_target_higher_is_completion_rate_capped_to_zero_and_one():
    indicator = {"code": "E01", "points": 20, "method": "target", "direction": "higher"}
    indicator["target"] = Decimal("6.5")
    printed = points_of(
        indicator, {"u1": Decimal("5.2"), "u2": Decimal("7.1"), "u3": Decimal("-0.5"), "u4": 0}
    )
    # 20 × 5.2 / 6.5 = 16; 7.1 / 6.5 > 1 is capped at 20; a negative rate scores 0.
    assert printed == {"u1": "16.00", "u2": "20.00", "u3": "0.00", "u4": "0.00"}


def test_target_higher_rounds_half_up():
    # 5 × (1.07 / 2) = 2.675 → 2.68 ; 10 × (0.1 / 8) = 0.125 → 0.13
    first = {"code": "T1", "points": 5, "method": "target", "target": 2}
    second = {"code": "T2", "points": 10, "method": "target", "target": 8}
    assert points_of(first, {"u1": Decimal("1.07")}) == {"u1": "2.68"}
    assert points_of(second, {"u1": Decimal("0.1")}) == {"u1": "0.13"}


def test_target_lower_inverts_the_rate_and_zero_is_full_marks():
    indicator = {"code": "U02", "points": 15, "method": "target", "direction": "lower"}
    indicator["target"] = Decimal("1.8")
    printed = points_of(
        indicator, {"u1": Decimal("2.0"), "u2": Decimal("1.75"), "u3": 0, "u4": Decimal("3.6")}
    )
    # 15 × 1.8 / 2.0 = 13.5; 1.8 / 1.75 > 1 caps; v = 0 gives r = 1; 15 × 1.8 / 3.6 = 7.5
    assert printed == {"u1": "13.50", "u2": "15.00", "u3": "15.00", "u4": "7.50"}


def test_target_lower_with_a_repeating_rate():
    indicator = {"code": "U02", "points": 10, "method": "target", "direction": "lower", "target": 1}
    # r = 1/3 = 0.3333…; 10 × r = 3.333… → 3.33 ; and 2/3 → 6.67
    assert points_of(indicator, {"u1": 3, "u2": Decimal("1.5")}) == {"u1": "3.33", "u2": "6.67"}


def test_relative_higher_with_floor_matches_the_worked_example():
    indicator = {"code": "E02", "points": 20, "method": "relative", "floor": Decimal("0.6")}
    printed = points_of(indicator, {"u1": 12, "u2": 7, "u3": 3, "u4": 9})
    # lo 3, hi 12: u2 20 × (0.6 + 0.4 × 4/9) = 15.555… → 15.56; u4 20 × (0.6 + 0.4 × 6/9)
    assert printed == {"u1": "20.00", "u2": "15.56", "u3": "12.00", "u4": "17.33"}


def test_relative_lower_without_floor():
    indicator = {"code": "X", "points": 10, "method": "relative", "direction": "lower"}
    printed = points_of(indicator, {"u1": 2, "u2": 4, "u3": 6, "u4": 5})
    # lo 2, hi 6: (6 − v) / 4 → 1, 0.5, 0, 0.25
    assert printed == {"u1": "10.00", "u2": "5.00", "u3": "0.00", "u4": "2.50"}


def test_relative_with_all_values_equal_gives_full_points():
    indicator = {"code": "X", "points": 8, "method": "relative", "floor": Decimal("0.5")}
    assert points_of(indicator, {"u1": 4, "u2": 4}) == {"u1": "8.00", "u2": "8.00"}
    assert points_of(indicator, {"u1": 4}) == {"u1": "8.00"}


def test_relative_rounds_half_up():
    indicator = {"code": "X", "points": 5, "method": "relative"}
    printed = points_of(indicator, {"u1": 0, "u2": Decimal("0.535"), "u3": 1})
    assert printed == {"u1": "0.00", "u2": "2.68", "u3": "5.00"}


def test_relative_range_ignores_units_without_a_value():
    indicator = {"code": "X", "points": 10, "method": "relative"}
    doc = document(
        [indicator, {"code": "Y", "points": 10, "method": "direct"}],
        {"u1": {"X": 10, "Y": 1}, "u2": {"X": 20, "Y": 1}, "u3": {"Y": 1}},
    )
    results = by_unit(compute(doc))
    assert results["u1"]["indicators"]["X"] == "0.00"
    assert results["u2"]["indicators"]["X"] == "10.00"
    assert results["u3"]["indicators"]["X"] == "0.00"
    assert results["u3"]["missing"] == ["X"]


def test_grade_default_fractions_in_latin_and_chinese():
    indicator = {"code": "U01", "points": 15, "method": "grade"}
    values = {"u1": "A", "u2": "B", "u3": "C", "u4": "D", "u5": "优", "u6": "良", "u7": "中"}
    values["u8"] = "差"
    printed = points_of(indicator, values)
    assert printed == {
        "u1": "15.00",
        "u2": "12.75",
        "u3": "10.50",
        "u4": "7.50",
        "u5": "15.00",
        "u6": "12.75",
        "u7": "10.50",
        "u8": "7.50",
    }


def test_grade_custom_fractions_round_half_up():
    indicator = {
        "code": "G",
        "points": 5,
        "method": "grade",
        "grade_fractions": {"甲": 1, "乙": Decimal("0.535"), "丙": Decimal("0.025")},
    }
    printed = points_of(indicator, {"u1": "甲", "u2": "乙", "u3": "丙"})
    # 5 × 0.535 = 2.675 → 2.68; 5 × 0.025 = 0.125 → 0.13
    assert printed == {"u1": "5.00", "u2": "2.68", "u3": "0.13"}


def test_custom_grade_fractions_replace_the_defaults():
    indicator = {"code": "G", "points": 5, "method": "grade", "grade_fractions": {"甲": 1}}
    with pytest.raises(ScoringError) as caught:
        compute(document([indicator], {"u1": {"G": "A"}}))
    assert [p.path for p in caught.value.problems] == ["values[0].value"]


# -- totals -----------------------------------------------------------------------------


def two_indicators(values, **options):
    indicators = [
        {"code": "A", "points": 50, "method": "direct"},
        {"code": "B", "points": 50, "method": "direct"},
    ]
    return document(indicators, values, **options)


def bonus_and_penalty(unit, bonus=(), penalty=()):
    return [{"unit": unit, "kind": "bonus", "points": p, "reason": "加分"} for p in bonus] + [
        {"unit": unit, "kind": "penalty", "points": p, "reason": "减分"} for p in penalty
    ]


def test_bonus_is_capped_and_penalty_uncapped_by_default():
    doc = two_indicators(
        {"u1": {"A": 40, "B": 40}},
        adjustments=bonus_and_penalty("u1", bonus=[3, 4], penalty=[Decimal("1.5"), 2]),
    )
    (result,) = compute(doc)["results"]
    assert (result["bonus"], result["penalty"], result["total"]) == ("5.00", "3.50", "81.50")


def test_null_caps_mean_no_cap():
    doc = two_indicators(
        {"u1": {"A": 40, "B": 40}},
        bonus_cap=None,
        adjustments=bonus_and_penalty("u1", bonus=[3, 4]),
    )
    (result,) = compute(doc)["results"]
    assert (result["bonus"], result["total"]) == ("7.00", "87.00")


def test_penalty_cap_limits_the_penalty():
    doc = two_indicators(
        {"u1": {"A": 40, "B": 40}},
        penalty_cap=2,
        adjustments=bonus_and_penalty("u1", penalty=[Decimal("1.5"), Decimal("1.5")]),
    )
    (result,) = compute(doc)["results"]
    assert (result["penalty"], result["total"]) == ("2.00", "78.00")


def test_total_above_the_scheme_total_with_a_bonus_is_kept():
    doc = two_indicators({"u1": {"A": 50, "B": 50}}, adjustments=bonus_and_penalty("u1", bonus=[2]))
    assert compute(doc)["results"][0]["total"] == "102.00"


def test_total_is_floored_at_zero():
    doc = two_indicators(
        {"u1": {"A": 1, "B": 1}}, adjustments=bonus_and_penalty("u1", penalty=[Decimal("3.25")])
    )
    (result,) = compute(doc)["results"]
    assert (result["total"], result["penalty"], result["grade"]) == ("0.00", "3.25", "较差")


def test_adjustment_amounts_with_three_decimals_are_rounded_once_summed():
    doc = two_indicators(
        {"u1": {"A": 10, "B": 10}},
        adjustments=bonus_and_penalty("u1", bonus=[Decimal("0.0625"), Decimal("0.0625")]),
    )
    (result,) = compute(doc)["results"]
    assert (result["bonus"], result["total"]) == ("0.13", "20.13")


def test_subtotals_are_sums_of_rounded_points():
    indicators = [
        {"code": "A", "points": 1, "method": "direct"},
        {"code": "B", "points": 1, "method": "direct"},
    ]
    # Each 0.125 → 0.13, so the subtotal is 0.26 (not q(0.25) = 0.25).
    doc = document(indicators, {"u1": {"A": Decimal("0.125"), "B": Decimal("0.125")}})
    (result,) = compute(doc)["results"]
    assert result["dimensions"] == {"D": "0.26"} and result["total"] == "0.26"


def test_dimensions_are_keyed_by_code_in_scheme_order():
    doc = example("engine-input.json")
    result = compute(doc)["results"][0]
    assert list(result["dimensions"]) == ["E", "U", "R"]
    assert list(result["indicators"]) == ["E01", "E02", "U01", "U02", "R01"]


# -- missing values -------------------------------------------------------------------


def test_missing_values_score_zero_and_are_listed_in_scheme_order():
    indicators = [
        {"code": "A", "points": 40, "method": "direct"},
        {"code": "B", "points": 30, "method": "grade"},
        {"code": "C", "points": 30, "method": "target", "target": 10},
    ]
    doc = document(indicators, {"u1": {"B": "A"}, "u2": {"A": 10, "B": "B", "C": 5}})
    doc["values"].append({"unit": "u1", "indicator": "C", "value": None})
    results = by_unit(compute(doc))
    assert results["u1"]["missing"] == ["A", "C"]
    assert results["u1"]["complete"] is False
    assert results["u1"]["indicators"] == {"A": "0.00", "B": "30.00", "C": "0.00"}
    assert results["u2"]["complete"] is True and results["u2"]["missing"] == []


# -- ranking and grades -----------------------------------------------------------------


def ranked(totals, tie_method="competition", vetoed=(), grades=None):
    options = {"tie_method": tie_method}
    if grades is not None:
        options["grades"] = grades
    doc = document(
        [{"code": "A", "points": 100, "method": "direct"}],
        {unit: {"A": total} for unit, total in totals.items()},
        vetoes=[{"unit": unit, "reason": "否决"} for unit in vetoed],
        **options,
    )
    return compute(doc)["results"]


def test_competition_ranks_skip_after_a_tie():
    results = ranked({"a": 70, "b": 80, "c": 90, "d": 80})
    assert [(r["unit"], r["rank"]) for r in results] == [("c", 1), ("b", 2), ("d", 2), ("a", 4)]


def test_dense_ranks_do_not_skip():
    results = ranked({"a": 70, "b": 80, "c": 90, "d": 80}, tie_method="dense")
    assert [(r["unit"], r["rank"]) for r in results] == [("c", 1), ("b", 2), ("d", 2), ("a", 3)]


def test_ties_are_listed_in_input_order():
    results = ranked({"z": 50, "y": 50, "x": 50})
    assert [(r["unit"], r["rank"]) for r in results] == [("z", 1), ("y", 1), ("x", 1)]


def test_vetoed_units_rank_last_by_total_and_get_the_last_band():
    results = ranked({"a": 95, "b": 40, "c": 99, "d": 70}, vetoed=["a", "c"])
    assert [(r["unit"], r["rank"], r["grade"], r["vetoed"]) for r in results] == [
        ("d", 1, "一般", False),
        ("b", 2, "较差", False),
        ("c", 3, "较差", True),
        ("a", 4, "较差", True),
    ]


def test_vetoed_units_tie_with_each_other_only():
    results = ranked({"a": 80, "b": 80, "c": 80}, vetoed=["b", "c"], tie_method="dense")
    assert [(r["unit"], r["rank"]) for r in results] == [("a", 1), ("b", 2), ("c", 2)]


def test_default_grade_bands_boundaries():
    results = ranked(
        {"a": 90, "b": Decimal("89.99"), "c": 80, "d": 60, "e": Decimal("59.99"), "f": 0}
    )
    assert {r["unit"]: r["grade"] for r in results} == {
        "a": "好",
        "b": "较好",
        "c": "较好",
        "d": "一般",
        "e": "较差",
        "f": "较差",
    }


def test_custom_grade_bands_and_a_total_below_every_band():
    grades = [{"name": "优秀", "min": 85}, {"name": "合格", "min": 60}]
    results = ranked({"a": 85, "b": Decimal("84.99"), "c": 30}, grades=grades)
    assert {r["unit"]: r["grade"] for r in results} == {"a": "优秀", "b": "合格", "c": "合格"}


def test_no_units_gives_no_results():
    doc = document([{"code": "A", "points": 100, "method": "direct"}], {})
    assert compute(doc) == {"results": []}


# -- the loader's entry point -----------------------------------------------------------


def test_score_period_takes_already_built_parts():
    source = example("engine-input.json")
    result = score_period(
        scheme=source["scheme"],
        units=iter(source["units"]),
        values=(v for v in source["values"]),
        adjustments=source["adjustments"],
        vetoes=source["vetoes"],
        flags=source["flags"],
    )
    assert result.as_dict() == compute(source)
    assert [r.rank for r in result.results] == [1, 2, 2, 4, 5]


def test_score_period_refuses_bad_parts_with_every_problem():
    with pytest.raises(ScoringError) as caught:
        score_period(
            scheme={"dimensions": [{"code": "D", "indicators": []}]},
            units=[{"code": "u1"}, {"code": "u1"}],
        )
    assert [p.path for p in caught.value.problems] == ["scheme.total", "units[1].code"]
    assert isinstance(caught.value, ValueError)


# -- purity -----------------------------------------------------------------------------


def test_engine_imports_neither_flask_nor_the_database():
    forbidden = {"flask", "flask_sqlalchemy", "sqlalchemy", "models", "evaluation"}
    for source in sorted(SCORING.glob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{source.name} imports {name}"
