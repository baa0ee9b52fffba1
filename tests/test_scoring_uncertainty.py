"""Rank uncertainty (docs/rules.md#rank-uncertainty): resampled weights, percentile ranks and grade
risk."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from evaluation.scoring import compute, evaluate
from evaluation.scoring.uncertainty import rank_rows


def scheme_document(rows, sensitivity, tie_method="competition", vetoed=(), grades=None):
    """Units scored on three direct indicators worth 50/30/20; ``rows`` maps unit → values."""
    scheme = {
        "tie_method": tie_method,
        "dimensions": [
            {
                "code": "D",
                "indicators": [
                    {"code": "A", "points": 50, "method": "direct"},
                    {"code": "B", "points": 30, "method": "direct"},
                    {"code": "C", "points": 20, "method": "direct"},
                ],
            }
        ],
    }
    if grades is not None:
        scheme["grades"] = grades
    return {
        "scheme": scheme,
        "units": [{"code": u, "name": u} for u in rows],
        "values": [
            {"unit": u, "indicator": code, "value": v}
            for u, values in rows.items()
            for code, v in zip("ABC", values, strict=True)
            if v is not None
        ],
        "vetoes": [{"unit": u} for u in vetoed],
        "sensitivity": sensitivity,
    }


ROWS = {
    "a": (50, 0, 20),
    "b": (25, 30, 0),
    "c": (40, 15, 10),
    "d": (40, 15, 10),
    "e": (10, 30, 20),
    "f": (None, 30, 20),
}


def test_zero_spread_gives_the_nominal_rank_everywhere():
    result = compute(scheme_document(ROWS, {"spread": 0, "samples": 50}))
    for row in result["results"]:
        sensitivity = row["sensitivity"]
        assert sensitivity["median_rank"] == sensitivity["q5_rank"] == row["rank"]
        assert sensitivity["q95_rank"] == row["rank"]
        assert sensitivity["grade_at_risk"] is False


def test_same_seed_gives_the_same_intervals():
    first = compute(scheme_document(ROWS, {"seed": 7, "samples": 300, "spread": 0.5}))
    again = compute(scheme_document(ROWS, {"seed": 7, "samples": 300, "spread": 0.5}))
    assert first == again
    # The seed moves the intervals only, never the nominal figures.
    other = compute(scheme_document(ROWS, {"seed": 8, "samples": 300, "spread": 0.5}))
    nominal = [{k: v for k, v in r.items() if k != "sensitivity"} for r in first["results"]]
    assert [{k: v for k, v in r.items() if k != "sensitivity"} for r in other["results"]] == (
        nominal
    )


def test_defaults_are_used_when_settings_are_empty():
    result = evaluate(scheme_document(ROWS, {}))
    assert all(r.sensitivity is not None for r in result.results)
    assert result.as_dict() == compute(scheme_document(ROWS, {"samples": 1000, "seed": 0}))


def test_intervals_bracket_the_median_and_tied_units_share_them():
    result = compute(scheme_document(ROWS, {"seed": 3, "samples": 400, "spread": 0.6}))
    by_unit = {r["unit"]: r["sensitivity"] for r in result["results"]}
    for interval in by_unit.values():
        assert interval["q5_rank"] <= interval["median_rank"] <= interval["q95_rank"]
    # c and d have identical achievements, so they tie in every sample.
    assert by_unit["c"] == by_unit["d"]
    # a relies on A, b on B: their ranks must move when the weights move.
    assert by_unit["a"]["q5_rank"] < by_unit["a"]["q95_rank"]


def test_vetoed_units_stay_last_in_every_sample():
    result = compute(
        scheme_document(ROWS, {"seed": 1, "samples": 200, "spread": 0.9}, vetoed=["a", "b"])
    )
    by_unit = {r["unit"]: r["sensitivity"] for r in result["results"]}
    for unit in ("a", "b"):
        assert by_unit[unit]["q5_rank"] >= 5
        assert by_unit[unit]["grade_at_risk"] is False
    for unit in ("c", "d", "e", "f"):
        assert by_unit[unit]["q95_rank"] <= 4


def test_grade_at_risk_when_the_sampled_totals_cross_a_band_min():
    rows = {"edge": (50, 0, 0), "top": (50, 30, 20), "zero": (0, 0, 0)}
    grades = [{"name": "好", "min": 50}, {"name": "差", "min": 0}]
    result = compute(
        scheme_document(rows, {"seed": 11, "samples": 500, "spread": 0.3}, grades=grades)
    )
    risk = {r["unit"]: r["sensitivity"]["grade_at_risk"] for r in result["results"]}
    # "edge" totals 50 × (rescaled weight of A / 50): spread around the band min of 50.
    assert risk == {"edge": True, "top": False, "zero": False}


def naive_intervals(fractions, points, adjustment, vetoed, tie_method, samples, spread, seed):
    """Follow docs/rules.md#rank-uncertainty literally, one sample and one unit at a time."""
    rng = np.random.default_rng(seed)
    draws = rng.random((samples, len(points)))
    ranks = []
    for k in range(samples):
        weights = [p * (1 + spread * (2 * u - 1)) for p, u in zip(points, draws[k], strict=True)]
        scale = sum(points) / sum(weights)
        totals = []
        for unit_fractions, extra in zip(fractions, adjustment, strict=True):
            total = sum(f * w * scale for f, w in zip(unit_fractions, weights, strict=True))
            totals.append(round(max(0.0, total + extra) * 100))
        keys = [(v, -t) for v, t in zip(vetoed, totals, strict=True)]
        if tie_method == "competition":
            ranks.append([1 + sum(other < key for other in keys) for key in keys])
        else:
            ranks.append([1 + len({other for other in keys if other < key}) for key in keys])
    return np.percentile(np.array(ranks), [5, 50, 95], axis=0)


@pytest.mark.parametrize("tie_method", ["competition", "dense"])
def test_vectorized_ranks_match_a_literal_reading_of_the_spec(tie_method):
    rows = dict(ROWS)
    rows["g"] = (40, 15, 10)
    doc = scheme_document(
        rows, {"seed": 5, "samples": 120, "spread": 0.4}, tie_method=tie_method, vetoed=["e"]
    )
    doc["adjustments"] = [{"unit": "b", "kind": "penalty", "points": Decimal("2.5")}]
    result = evaluate(doc)
    order = {u: k for k, u in enumerate(rows)}
    listed = sorted(result.results, key=lambda r: order[r.unit])
    fractions = [
        [float(r.indicators[c]) / p for c, p in zip("ABC", (50, 30, 20), strict=True)]
        for r in listed
    ]
    q5, median, q95 = naive_intervals(
        fractions,
        [50.0, 30.0, 20.0],
        [float(r.bonus - r.penalty) for r in listed],
        [r.vetoed for r in listed],
        tie_method,
        120,
        0.4,
        5,
    )
    for k, r in enumerate(listed):
        assert float(r.sensitivity.q5_rank) == pytest.approx(q5[k], abs=0.005)
        assert float(r.sensitivity.median_rank) == pytest.approx(median[k], abs=0.005)
        assert float(r.sensitivity.q95_rank) == pytest.approx(q95[k], abs=0.005)


def test_rank_rows_competition_and_dense():
    keys = np.array([[-90.0, -80.0, -80.0, -70.0], [3.0, 1.0, 2.0, 1.0]])
    assert rank_rows(keys, "competition").tolist() == [[1, 2, 2, 4], [4, 1, 3, 1]]
    assert rank_rows(keys, "dense").tolist() == [[1, 2, 2, 3], [3, 1, 2, 1]]
    assert rank_rows(np.empty((2, 0)), "dense").shape == (2, 0)


def test_no_units_with_sensitivity():
    doc = scheme_document({}, {"samples": 10})
    assert compute(doc) == {"results": []}
