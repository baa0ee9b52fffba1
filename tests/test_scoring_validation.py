"""Invalid engine documents are refused with every problem listed, each at its path."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from evaluation.scoring import ScoringError, compute, loads, validate

EXAMPLE = Path(__file__).resolve().parent / "examples"  # the specification's worked example


def good_document() -> dict:
    """A small valid document with one indicator of each method."""
    return {
        "scheme": {
            "total": 100,
            "bonus_cap": 5,
            "penalty_cap": None,
            "tie_method": "competition",
            "grades": [{"name": "好", "min": 90}, {"name": "较差", "min": 0}],
            "dimensions": [
                {
                    "code": "E",
                    "name": "经济",
                    "indicators": [
                        {"code": "E01", "points": 20, "method": "target", "target": 5},
                        {"code": "E02", "points": 20, "method": "relative", "floor": 0.5},
                    ],
                },
                {
                    "code": "U",
                    "name": "融合",
                    "indicators": [
                        {"code": "U01", "points": 30, "method": "grade"},
                        {
                            "code": "U02",
                            "points": 10,
                            "method": "target",
                            "direction": "lower",
                            "target": 2,
                        },
                        {"code": "R01", "points": 20, "method": "direct"},
                    ],
                },
            ],
        },
        "units": [{"code": "u1", "name": "甲"}, {"code": "u2", "name": "乙"}],
        "values": [
            {"unit": "u1", "indicator": "E01", "value": 4},
            {"unit": "u1", "indicator": "U01", "value": "A"},
            {"unit": "u2", "indicator": "R01", "value": 12},
        ],
        "adjustments": [{"unit": "u1", "kind": "bonus", "points": 1, "reason": "表彰"}],
        "vetoes": [{"unit": "u2", "reason": "否决"}],
    }


def paths(document) -> list[str]:
    return [problem.path for problem in validate(document)]


def test_the_good_document_is_valid():
    assert validate(good_document()) == []
    assert len(compute(good_document())["results"]) == 2


def test_every_problem_is_listed_at_once_with_its_path():
    doc = good_document()
    scheme = doc["scheme"]
    scheme["tie_method"] = "olympic"
    scheme["grades"] = [{"name": "好", "min": 60}, {"name": "较好", "min": 80}]
    first, second = scheme["dimensions"][0]["indicators"]
    first["points"] = Decimal("20.005")
    second["floor"] = 1
    second["method"] = "relative"
    scheme["dimensions"][1]["code"] = "E"
    u01, u02, r01 = scheme["dimensions"][1]["indicators"]
    u02["code"] = "E01"
    r01["direction"] = "sideways"
    doc["units"].append({"code": "u1", "name": "重复"})
    doc["values"] = [
        {"unit": "u1", "indicator": "E01", "value": 4},
        {"unit": "u1", "indicator": "E01", "value": 5},
        {"unit": "u9", "indicator": "U01", "value": "A"},
        {"unit": "u1", "indicator": "U01", "value": "E"},
        {"unit": "u2", "indicator": "U01", "value": 3},
        {"unit": "u2", "indicator": "R01", "value": 21},
        {"unit": "u2", "indicator": "R01x", "value": 1},
        {"unit": "u2", "indicator": "E02", "value": "高"},
    ]
    doc["adjustments"] = [
        {"unit": "u1", "kind": "bonus", "points": 0},
        {"unit": "u1", "kind": "gift", "points": -1},
    ]
    doc["vetoes"] = [{"unit": "u7", "reason": "否决"}]
    problems = validate(doc)
    assert [p.path for p in problems] == [
        "scheme.tie_method",
        "scheme.grades[1].min",
        "scheme.dimensions[0].indicators[0].points",
        "scheme.dimensions[0].indicators[1].floor",
        "scheme.dimensions[1].code",
        "scheme.dimensions[1].indicators[1].code",
        "scheme.dimensions[1].indicators[2].direction",
        "units[2].code",
        "values[1]",
        "values[2].unit",
        "values[3].value",
        "values[4].value",
        "values[5].value",
        "values[6].indicator",
        "values[7].value",
        "adjustments[0].points",
        "adjustments[1].kind",
        "adjustments[1].points",
        "vetoes[0].unit",
    ]
    messages = {p.path: p.message for p in problems}
    assert "duplicate" in messages["units[2].code"]
    assert "'E' is not a grade of U01" in messages["values[3].value"]
    assert "between 0 and 20" in messages["values[5].value"]
    assert "unknown unit 'u9'" in messages["values[2].unit"]
    with pytest.raises(ScoringError) as caught:
        compute(doc)
    assert caught.value.problems == problems


def test_points_must_add_up_to_the_total():
    doc = good_document()
    doc["scheme"]["dimensions"][1]["indicators"][2]["points"] = Decimal("19.99")
    (problem,) = validate(doc)
    assert problem.path == "scheme.total"
    assert problem.message == "the indicators' points add up to 99.99, not 100"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda s, i: s.update(total=0), "scheme.total"),
        (lambda s, i: s.update(total="100"), "scheme.total"),
        (lambda s, i: s.update(bonus_cap=-1), "scheme.bonus_cap"),
        (lambda s, i: s.update(penalty_cap="none"), "scheme.penalty_cap"),
        (lambda s, i: s.update(grades=[]), "scheme.grades"),
        (lambda s, i: s.update(grades=[{"name": "", "min": 0}]), "scheme.grades[0].name"),
        (lambda s, i: s.update(grades=[{"name": "好", "min": True}]), "scheme.grades[0].min"),
        (lambda s, i: s.update(dimensions={}), "scheme.dimensions"),
        (lambda s, i: i[0].update(points=-20), "scheme.dimensions[0].indicators[0].points"),
        (lambda s, i: i[0].update(method="guess"), "scheme.dimensions[0].indicators[0].method"),
        (lambda s, i: i[0].update(target=0), "scheme.dimensions[0].indicators[0].target"),
        (lambda s, i: i[0].pop("target"), "scheme.dimensions[0].indicators[0].target"),
        (lambda s, i: i[1].update(floor=-0.1), "scheme.dimensions[0].indicators[1].floor"),
        (
            lambda s, i: i[2].update(grade_fractions={"A": 1.5}),
            "scheme.dimensions[1].indicators[0].grade_fractions.A",
        ),
        (
            lambda s, i: i[2].update(grade_fractions={}),
            "scheme.dimensions[1].indicators[0].grade_fractions",
        ),
        (lambda s, i: i[4].update(name=7), "scheme.dimensions[1].indicators[2].name"),
    ],
)
def test_each_scheme_rule_is_checked(change, path):
    doc = good_document()
    scheme = doc["scheme"]
    indicators = [i for d in scheme["dimensions"] for i in d["indicators"]]
    change(scheme, indicators)
    assert path in paths(doc)


@pytest.mark.parametrize(
    ("value", "indicator", "message"),
    [
        (-1, "U02", "must not be negative for a target where lower is better"),
        ("4", "E01", "must be a number"),
        (True, "E01", "must be a number"),
        (Decimal("NaN"), "E01", "must be a finite number"),
        (float("inf"), "E01", "must be a finite number"),
        (Decimal("1e20"), "E02", "is out of range (at most 15 digits before the decimal point)"),
        (Decimal("-0.01"), "R01", "must be between 0 and 20 points"),
        (1, "U01", "must be a grade of U01 (A, 优, B, 良, C, 中, D, 差)"),
    ],
)
def test_values_of_the_wrong_kind_are_refused(value, indicator, message):
    doc = good_document()
    doc["values"] = [{"unit": "u1", "indicator": indicator, "value": value}]
    assert [(p.path, p.message) for p in validate(doc)] == [("values[0].value", message)]


def test_a_negative_value_is_fine_where_higher_is_better():
    doc = good_document()
    doc["values"] = [{"unit": "u1", "indicator": "E01", "value": -3}]
    assert validate(doc) == []
    assert compute(doc)["results"][0]["indicators"]["E01"] == "0.00"


def test_missing_parts_and_wrong_shapes():
    assert [(p.path, p.message) for p in validate({})] == [
        ("scheme", "is required"),
        ("units", "is required"),
    ]
    assert paths([]) == [""]
    doc = good_document()
    doc["units"] = {"u1": "甲"}
    doc["values"] = "none"
    doc["adjustments"] = [7]
    doc["vetoes"] = [{"unit": "u1", "reason": 3}]
    assert paths(doc) == ["units", "values", "adjustments[0]", "vetoes[0].unit", "vetoes[0].reason"]


def test_sensitivity_and_flag_settings_are_checked():
    doc = good_document()
    doc["sensitivity"] = {"samples": 0, "spread": Decimal("1.5"), "seed": -1}
    doc["flags"] = {
        "typical": {"u1": 0, "u9": 1},
        "previous_totals": {"u1": "high"},
        "last_review": {"u2": "2026-13-01"},
        "low_score": -5,
        "bottom_n": 1.5,
    }
    assert paths(doc) == [
        "sensitivity.samples",
        "sensitivity.spread",
        "sensitivity.seed",
        "flags.typical.u1",
        "flags.typical.u9",
        "flags.previous_totals.u1",
        "flags.last_review.u2",
        "flags.period_end",
        "flags.low_score",
        "flags.bottom_n",
    ]


def test_invalid_json_is_one_problem_at_the_root():
    with pytest.raises(ScoringError) as caught:
        loads('{"scheme": ')
    (problem,) = caught.value.problems
    assert problem.path == "" and problem.message.startswith("invalid JSON")
    with pytest.raises(ScoringError):
        loads('{"scheme": NaN}')


def test_json_numbers_are_read_exactly():
    doc = loads('{"a": 2.675, "b": 3}')
    assert doc == {"a": Decimal("2.675"), "b": 3}
    assert isinstance(doc["a"], Decimal)


def test_validation_does_not_change_the_document():
    path = EXAMPLE / "engine-input.json"
    doc = loads(path.read_text(encoding="utf-8"))
    before = copy.deepcopy(doc)
    compute(doc)
    assert doc == before
    assert json.dumps(doc, default=str) == json.dumps(before, default=str)
