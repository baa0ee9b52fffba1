"""Typical-village review flags (docs/rules.md#review-flags): reasons, their order, boundaries,
priority."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation.scoring import compute
from evaluation.scoring.flags import priority_for

PERIOD_END = "2026-09-30"


def flagged(totals, typical=None, vetoed=(), missing=(), **rules):
    """Compute units with the given totals (one direct indicator) and return their flags."""
    units = list(totals)
    doc = {
        "scheme": {
            "dimensions": [
                {
                    "code": "D",
                    "indicators": [
                        {"code": "A", "points": 99, "method": "direct"},
                        {"code": "B", "points": 1, "method": "direct"},
                    ],
                }
            ]
        },
        "units": [{"code": u, "name": u} for u in units],
        "values": [{"unit": u, "indicator": "A", "value": Decimal(str(totals[u]))} for u in units]
        + [{"unit": u, "indicator": "B", "value": 0} for u in units if u not in missing],
        "vetoes": [{"unit": u, "reason": "否决"} for u in vetoed],
        "flags": {"typical": typical or {u: 1 for u in units}, "period_end": PERIOD_END},
    }
    doc["flags"].update(rules)
    return {f["unit"]: f for f in compute(doc)["flags"]}


def test_a_clear_village_is_listed_unflagged():
    flags = flagged({"a": 95, "b": 90, "c": 85, "d": 80}, last_review={"a": "2026-09-01"})
    assert flags["a"] == {
        "unit": "a",
        "batch": 1,
        "total": "95.00",
        "reasons": [],
        "priority": None,
        "flagged": False,
    }


def test_only_typical_units_are_listed_in_input_order():
    flags = flagged({"x": 70, "y": 90, "z": 80}, typical={"z": 2, "x": 1})
    assert list(flags) == ["x", "z"]
    assert flags["z"]["batch"] == 2


def test_low_score_boundary():
    flags = flagged({"a": 60, "b": Decimal("59.99")}, bottom_n=0)
    assert "LOW_SCORE" not in flags["a"]["reasons"]
    assert "LOW_SCORE" in flags["b"]["reasons"]
    assert flags["b"]["priority"] == "high"


def test_drop_boundary_is_inclusive():
    flags = flagged(
        {"a": 80, "b": 80, "c": 80},
        previous_totals={"a": 90, "b": Decimal("89.99"), "c": None},
        bottom_n=0,
    )
    assert "DROP" in flags["a"]["reasons"]
    assert "DROP" not in flags["b"]["reasons"]
    assert "DROP" not in flags["c"]["reasons"]
    assert flags["a"]["priority"] == "medium"


def test_custom_thresholds():
    flags = flagged({"a": 75}, previous_totals={"a": 80}, low_score=80, drop=5, bottom_n=0)
    assert flags["a"]["reasons"][:2] == ["LOW_SCORE", "DROP"]


@pytest.mark.parametrize(
    ("last_review", "recent"),
    [
        ("2026-09-30", True),  # on the period's end
        ("2026-07-02", True),  # exactly 90 days before
        ("2026-07-01", False),  # 91 days before
        ("2026-10-01", False),  # after the period's end: not a review of this period
        (None, False),
    ],
)
def test_recent_review_window(last_review, recent):
    flags = flagged({"a": 90}, last_review={"a": last_review}, bottom_n=0)
    assert ("NO_RECENT_REVIEW" not in flags["a"]["reasons"]) is recent
    if not recent:
        assert flags["a"]["priority"] == "low"


def test_review_days_setting():
    flags = flagged({"a": 90}, last_review={"a": "2026-09-20"}, review_days=7, bottom_n=0)
    assert flags["a"]["reasons"] == ["NO_RECENT_REVIEW"]


def test_bottom_counts_strictly_worse_typical_villages():
    totals = {"a": 90, "b": 85, "c": 85, "d": 70, "e": 50}
    reviewed = {u: "2026-09-01" for u in totals}
    flags = flagged(totals, typical={u: 1 for u in "abcd"}, last_review=reviewed)
    # Among typical a, b, c, d: a has 3 worse, b and c 1 (d), d none; e is not typical.
    assert [u for u, f in flags.items() if "BOTTOM" in f["reasons"]] == ["b", "c", "d"]
    assert flags["a"]["flagged"] is False


def test_bottom_when_all_tie():
    reviewed = {u: "2026-09-01" for u in "abc"}
    flags = flagged({"a": 80, "b": 80, "c": 80}, last_review=reviewed, bottom_n=1)
    assert all(f["reasons"] == ["BOTTOM"] for f in flags.values())


def test_vetoed_village_is_the_worst():
    reviewed = {u: "2026-09-01" for u in "ab"}
    flags = flagged({"a": 99, "b": 20}, vetoed=["a"], last_review=reviewed, bottom_n=1)
    assert flags["a"]["reasons"] == ["VETO", "BOTTOM"]
    assert flags["b"]["reasons"] == ["LOW_SCORE"]


def test_every_reason_in_order():
    flags = flagged({"a": 30}, vetoed=["a"], missing=["a"], previous_totals={"a": 80}, bottom_n=1)
    assert flags["a"]["reasons"] == [
        "VETO",
        "LOW_SCORE",
        "DROP",
        "INCOMPLETE",
        "BOTTOM",
        "NO_RECENT_REVIEW",
    ]
    assert flags["a"]["priority"] == "high"


def test_incomplete_alone_is_medium():
    flags = flagged({"a": 90}, missing=["a"], last_review={"a": "2026-09-30"}, bottom_n=0)
    assert (flags["a"]["reasons"], flags["a"]["priority"]) == (["INCOMPLETE"], "medium")


def test_default_thresholds_apply_when_not_given():
    totals = {u: 95 for u in "abcd"}
    totals["a"] = 96
    flags = flagged(totals, last_review={u: "2026-09-01" for u in totals})
    # bottom_n defaults to 3: b, c, d tie at the bottom with nobody worse.
    assert [u for u, f in flags.items() if f["flagged"]] == ["b", "c", "d"]


def test_priority_rules():
    assert priority_for([]) is None
    assert priority_for(["NO_RECENT_REVIEW"]) == "low"
    assert priority_for(["BOTTOM", "NO_RECENT_REVIEW"]) == "medium"
    assert priority_for(["DROP"]) == "medium"
    assert priority_for(["VETO", "NO_RECENT_REVIEW"]) == "high"


def test_no_flags_key_unless_asked():
    doc = {
        "scheme": {
            "dimensions": [
                {"code": "D", "indicators": [{"code": "A", "points": 100, "method": "direct"}]}
            ]
        },
        "units": [{"code": "a", "name": "甲"}],
    }
    assert "flags" not in compute(doc)


def empty_and_scored(previous_totals=None, vetoed=(), **rules):
    """Four typical villages on two indicators: ``e`` has no value at all, ``p`` one of two."""
    doc = {
        "scheme": {
            "dimensions": [
                {
                    "code": "D",
                    "indicators": [
                        {"code": "A", "points": 50, "method": "direct"},
                        {"code": "B", "points": 50, "method": "direct"},
                    ],
                }
            ]
        },
        "units": [{"code": u, "name": u} for u in ("a", "b", "p", "e")],
        "values": [
            {"unit": "a", "indicator": "A", "value": 48},
            {"unit": "a", "indicator": "B", "value": 47},
            {"unit": "b", "indicator": "A", "value": 45},
            {"unit": "b", "indicator": "B", "value": 40},
            {"unit": "p", "indicator": "A", "value": 30},
        ],
        "vetoes": [{"unit": u, "reason": "否决"} for u in vetoed],
        "flags": {
            "typical": {"a": 1, "b": 1, "p": 2, "e": 2},
            "previous_totals": previous_totals or {},
            "last_review": {u: "2026-09-01" for u in "abpe"},
            "period_end": PERIOD_END,
            **rules,
        },
    }
    return {f["unit"]: f for f in compute(doc)["flags"]}


def test_a_village_with_no_value_at_all_is_incomplete_not_low_or_bottom():
    flags = empty_and_scored(previous_totals={"e": 85, "p": 85}, bottom_n=1)
    assert flags["e"] == {
        "unit": "e",
        "batch": 2,
        "total": "0.00",
        "reasons": ["INCOMPLETE"],
        "priority": "medium",
        "flagged": True,
    }
    # A village with some values keeps every rule, its missing value counting 0.
    assert flags["p"]["reasons"] == ["LOW_SCORE", "DROP", "INCOMPLETE", "BOTTOM"]
    assert flags["p"]["priority"] == "high"


def test_an_empty_village_is_not_counted_as_worse_than_the_others():
    flags = empty_and_scored(bottom_n=2)
    # Among the villages with values (a 95, b 85, p 30): b has one worse, p none.
    assert [u for u, f in flags.items() if "BOTTOM" in f["reasons"]] == ["b", "p"]
    assert flags["a"]["flagged"] is False


def test_an_empty_village_keeps_its_veto():
    flags = empty_and_scored(vetoed=["e"], bottom_n=1)
    assert (flags["e"]["reasons"], flags["e"]["priority"]) == (["VETO", "INCOMPLETE"], "high")
