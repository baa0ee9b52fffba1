"""Properties of the scoring engine that must hold for any valid document (hypothesis)."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evaluation.scoring import compute

METHODS = ("direct", "target", "relative", "grade")
GRADES = ("A", "B", "C", "D", "优", "良", "中", "差")
TWO_DECIMALS = re.compile(r"^\d+\.\d\d$")

engine_settings = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def cents(low: int, high: int, scale: int = 100) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n) / scale)


@st.composite
def indicator_specs(draw, code: str) -> dict:
    method = draw(st.sampled_from(METHODS))
    spec = {"code": code, "points": draw(cents(1, 4000)), "method": method}
    if method in ("target", "relative"):
        spec["direction"] = draw(st.sampled_from(("higher", "lower")))
    if method == "target":
        spec["target"] = draw(cents(1, 1000))
    if method == "relative":
        spec["floor"] = draw(cents(0, 99))
    return spec


def value_for(spec: dict) -> st.SearchStrategy:
    method = spec["method"]
    if method == "direct":
        return st.integers(0, int(spec["points"] * 1000)).map(lambda n: Decimal(n) / 1000)
    if method == "target" and spec["direction"] == "lower":
        return cents(0, 2000)
    if method == "grade":
        return st.sampled_from(GRADES)
    return cents(-1000, 2000)


@st.composite
def documents(draw, min_units: int = 1, max_units: int = 8) -> dict:
    specs = [draw(indicator_specs(f"I{k}")) for k in range(draw(st.integers(1, 6)))]
    cut_points = sorted(draw(st.sets(st.integers(1, len(specs)), max_size=2)) | {len(specs)})
    dimensions, start = [], 0
    for number, stop in enumerate(cut_points):
        dimensions.append({"code": f"D{number}", "indicators": specs[start:stop]})
        start = stop
    units = [f"u{k}" for k in range(draw(st.integers(min_units, max_units)))]
    values = []
    for unit in units:
        for spec in specs:
            value = draw(st.none() | value_for(spec))
            if value is not None:
                values.append({"unit": unit, "indicator": spec["code"], "value": value})
    adjustments = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "unit": st.sampled_from(units),
                    "kind": st.sampled_from(("bonus", "penalty")),
                    "points": cents(1, 2000),
                }
            ),
            max_size=4,
        )
    )
    vetoed = draw(st.sets(st.sampled_from(units), max_size=2))
    return {
        "scheme": {
            "total": sum((s["points"] for s in specs), Decimal(0)),
            "bonus_cap": draw(st.none() | cents(0, 1000)),
            "penalty_cap": draw(st.none() | cents(0, 1000)),
            "tie_method": draw(st.sampled_from(("competition", "dense"))),
            "dimensions": dimensions,
        },
        "units": [{"code": u, "name": u} for u in units],
        "values": values,
        "adjustments": adjustments,
        "vetoes": [{"unit": u, "reason": "否决"} for u in sorted(vetoed)],
    }


def by_unit(result: dict) -> dict[str, dict]:
    return {r["unit"]: r for r in result["results"]}


@engine_settings
@given(data=st.data(), document=documents())
def test_permuting_units_and_values_never_changes_any_figures(data, document):
    before = by_unit(compute(document))
    units = data.draw(st.permutations(document["units"]))
    values = data.draw(st.permutations(document["values"]))
    after = by_unit(compute({**document, "units": units, "values": values}))
    assert after == before


@engine_settings
@given(data=st.data(), document=documents(min_units=2))
def test_raising_a_direct_or_higher_target_value_never_lowers_the_total(data, document):
    specs = {i["code"]: i for d in document["scheme"]["dimensions"] for i in d["indicators"]}
    eligible = [
        k
        for k, v in enumerate(document["values"])
        if specs[v["indicator"]]["method"] == "direct"
        or (
            specs[v["indicator"]]["method"] == "target"
            and specs[v["indicator"]]["direction"] == "higher"
        )
    ]
    assume(eligible)
    position = data.draw(st.sampled_from(eligible))
    entry = document["values"][position]
    spec = specs[entry["indicator"]]
    ceiling = spec["points"] if spec["method"] == "direct" else entry["value"] + 50
    raised = data.draw(
        st.integers(int(entry["value"] * 1000), int(ceiling * 1000)).map(
            lambda n: Decimal(n) / 1000
        )
    )
    changed = [dict(v) for v in document["values"]]
    changed[position]["value"] = raised
    before = by_unit(compute(document))
    after = by_unit(compute({**document, "values": changed}))
    unit = entry["unit"]
    assert Decimal(after[unit]["total"]) >= Decimal(before[unit]["total"])
    # Direct and target points depend on the unit's own value only.
    for other in before:
        if other != unit:
            assert after[other]["total"] == before[other]["total"]


@engine_settings
@given(document=documents())
def test_printed_numbers_add_up(document):
    dimensions = document["scheme"]["dimensions"]
    for result in compute(document)["results"]:
        amounts = [result["total"], result["bonus"], result["penalty"]]
        amounts += list(result["dimensions"].values()) + list(result["indicators"].values())
        assert all(TWO_DECIMALS.match(a) for a in amounts), amounts
        for dimension in dimensions:
            points = sum(Decimal(result["indicators"][i["code"]]) for i in dimension["indicators"])
            assert points == Decimal(result["dimensions"][dimension["code"]])
        unfloored = (
            sum(Decimal(s) for s in result["dimensions"].values())
            + Decimal(result["bonus"])
            - Decimal(result["penalty"])
        )
        assert Decimal(result["total"]) == max(unfloored, Decimal(0))


@engine_settings
@given(document=documents())
def test_ranks_follow_the_tie_rule(document):
    results = compute(document)["results"]
    keys = [(r["vetoed"], -Decimal(r["total"])) for r in results]
    dense = document["scheme"]["tie_method"] == "dense"
    for result, key in zip(results, keys, strict=True):
        smaller = [k for k in keys if k < key]
        assert result["rank"] == 1 + (len(set(smaller)) if dense else len(smaller))
    assert [r["rank"] for r in results] == sorted(r["rank"] for r in results)


@engine_settings
@given(document=documents(), seed=st.integers(0, 2**32))
def test_zero_spread_gives_every_interval_as_the_nominal_rank(document, seed):
    document["sensitivity"] = {"samples": 25, "spread": 0, "seed": seed}
    for result in compute(document)["results"]:
        interval = result["sensitivity"]
        assert interval["q5_rank"] == interval["median_rank"] == interval["q95_rank"]
        assert interval["median_rank"] == result["rank"]
        assert interval["grade_at_risk"] is False


@engine_settings
@given(document=documents(), seed=st.integers(0, 2**32), spread=cents(1, 100))
def test_sensitivity_is_reproducible_with_the_same_seed(document, seed, spread):
    document["sensitivity"] = {"samples": 40, "spread": spread, "seed": seed}
    first = compute(document)
    assert compute(document) == first
    for result in first["results"]:
        interval = result["sensitivity"]
        assert 1 <= interval["q5_rank"] <= interval["median_rank"] <= interval["q95_rank"]
        assert interval["q95_rank"] <= len(first["results"])


def messy_value_items(units: list[str], codes: list[str]) -> st.SearchStrategy[object]:
    """Value items as a careless file gives them: right, wrong, duplicated or malformed."""
    raw = (
        st.none()
        | st.sampled_from(GRADES + ("", "Z"))
        | st.integers(-5, 5000)
        | cents(-100000, 500000)
        | st.sampled_from((Decimal("NaN"), Decimal("Infinity"), Decimal(10) ** 16, True, 1.5))
        | st.just([1])
    )
    item = st.fixed_dictionaries(
        {
            "unit": st.sampled_from(units) | st.sampled_from(("nobody", " ", 3)),
            "indicator": st.sampled_from(codes) | st.sampled_from(("X9", "")),
            "value": raw,
        }
    )
    return item | st.sampled_from((None, "text", 7))


@engine_settings
@given(data=st.data(), document=documents())
def test_values_read_quickly_or_carefully_give_the_same_answer_and_problems(data, document):
    # Well-formed values are accepted without building paths (validation._accepted);
    # whatever that quick check accepts or leaves, the answer and every problem listed
    # must be exactly those of reading each value carefully.
    from evaluation.scoring import validation

    units = [u["code"] for u in document["units"]]
    codes = [i["code"] for d in document["scheme"]["dimensions"] for i in d["indicators"]]
    extra = data.draw(st.lists(messy_value_items(units, codes), max_size=12))
    document["values"] = data.draw(st.permutations(document["values"] + extra))
    quick = validation.read_document(document)
    original = validation._accepted
    validation._accepted = lambda raw, indicator: validation._REFUSED
    try:
        careful = validation.read_document(document)
    finally:
        validation._accepted = original
    assert quick == careful


@settings(max_examples=500, deadline=None, database=None)
@given(
    amount=st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15)
)
def test_amounts_print_with_two_decimals_in_plain_notation(amount):
    from evaluation.scoring.amounts import format_amount, q

    shown = format_amount(amount)
    assert shown == format(q(amount), "f")
    assert re.fullmatch(r"-?\d+\.\d\d", shown) and shown != "-0.00"


def _forget_scored_columns():
    from evaluation.scoring.engine import forget_scored_columns

    forget_scored_columns()


@engine_settings
@given(data=st.data(), document=documents())
def test_columns_scored_before_give_the_figures_a_fresh_engine_gives(data, document):
    # The engine keeps its last columns' points (engine._scored_column, an LRU): whatever
    # it has kept, every figure must be what scoring from nothing gives.
    _forget_scored_columns()
    fresh = compute(document)
    assert compute(document) == fresh  # now every column comes from what was kept

    # The same amounts written with more zeros (5.2 as 5.2000) score alike.
    padded = {
        **document,
        "values": [
            {**v, "value": v["value"] + Decimal("0.0000")} if isinstance(v["value"], Decimal)
            else v
            for v in document["values"]
        ],
    }
    assert compute(padded) == fresh

    # One value changed: only its column is scored again, and the answer is a fresh one.
    if document["values"]:
        k = data.draw(st.integers(0, len(document["values"]) - 1))
        specs = {i["code"]: i for d in document["scheme"]["dimensions"] for i in d["indicators"]}
        changed = dict(document["values"][k])
        changed["value"] = data.draw(value_for(specs[changed["indicator"]]))
        moved = {**document, "values": [*document["values"][:k], changed,
                                         *document["values"][k + 1:]]}  # fmt: skip
        kept = compute(moved)
        _forget_scored_columns()
        assert kept == compute(moved)
