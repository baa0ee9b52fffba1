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
    # Well-formed values are accepted without building paths (validation._plain_columns,
    # then validation._quick_rule); whatever those quick checks accept or leave, the answer
    # and every problem listed must be exactly those of reading each value carefully.
    from evaluation.scoring import validation
    from evaluation.scoring.amounts import ONE, ZERO

    units = [u["code"] for u in document["units"]]
    codes = [i["code"] for d in document["scheme"]["dimensions"] for i in d["indicators"]]
    extra = data.draw(st.lists(messy_value_items(units, codes), max_size=12))
    document["values"] = data.draw(st.permutations(document["values"] + extra))
    quick = validation.read_document(document)
    plain_columns, quick_rule = validation._plain_columns, validation._quick_rule
    validation._plain_columns = lambda raw, known_units, indicators: None
    validation._quick_rule = lambda indicator: (None, ONE, ZERO)  # takes nothing
    try:
        careful = validation.read_document(document)
    finally:
        validation._plain_columns, validation._quick_rule = plain_columns, quick_rule
    assert quick == careful
    if careful[0] is not None:
        assert quick[0].values == careful[0].values


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
            {**v, "value": v["value"] + Decimal("0.0000")} if isinstance(v["value"], Decimal) else v
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


# --- the engine against the rules written out plainly (tests/scoring_reference.py) -------


def tie_prone_value_for(spec: dict) -> st.SearchStrategy:
    """Values from a few amounts, written with and without trailing zeros: ties, equal
    lowest and highest, and 5.2 beside 5.20."""
    if spec["method"] == "grade":
        return st.sampled_from(GRADES)
    if spec["method"] == "direct":
        top = spec["points"]
        amounts = [Decimal(0), top, top / 2, (top / 3).quantize(Decimal("0.001"))]
    else:
        amounts = [Decimal(0), Decimal("0.005"), Decimal("1.5"), Decimal("2.675"), Decimal(7)]
        if not (spec["method"] == "target" and spec["direction"] == "lower"):
            amounts.append(Decimal("-3.25"))
    return st.sampled_from(amounts).flatmap(
        lambda a: st.sampled_from((a, a + Decimal("0.000"), a.normalize()))
    )


@st.composite
def reference_documents(draw) -> dict:
    document = draw(documents(min_units=1, max_units=30))
    if draw(st.booleans()):
        specs = {i["code"]: i for d in document["scheme"]["dimensions"] for i in d["indicators"]}
        document["values"] = [
            {**v, "value": draw(tie_prone_value_for(specs[v["indicator"]]))}
            for v in document["values"]
        ]
    return document


def _assert_figures_equal(result, expected: dict) -> None:
    """Every figure equal, and every amount with the same digits (str of the Decimal)."""
    assert (result.unit, result.name, result.rank) == (
        expected["unit"], expected["name"], expected["rank"]
    )  # fmt: skip
    assert (result.grade, result.vetoed) == (expected["grade"], expected["vetoed"])
    assert list(result.missing) == list(expected["missing"])
    for name in ("total", "bonus", "penalty"):
        got, want = getattr(result, name), expected[name]
        assert (got, str(got)) == (want, str(want)), name
    for name in ("dimensions", "indicators"):
        got, want = getattr(result, name), expected[name]
        assert list(got) == list(want)
        assert [str(v) for v in got.values()] == [str(v) for v in want.values()], name


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(document=reference_documents())
def test_the_engine_gives_every_figure_the_plain_rules_give(document):
    from evaluation.scoring import evaluate
    from evaluation.scoring.validation import parse_document
    from tests.scoring_reference import reference_compute, reference_score

    _forget_scored_columns()
    expected = reference_score(parse_document(document))
    evaluated = evaluate(document)
    assert len(evaluated.results) == len(expected)
    for result, want in zip(evaluated.results, expected, strict=True):
        _assert_figures_equal(result, want)
    shown = reference_compute(document)
    assert compute(document) == shown
    assert evaluated.as_dict() == shown
    # The same again with every column now kept by the engine.
    assert compute(document) == shown


def test_the_engine_gives_the_reference_figures_at_province_scale():
    # The benchmark's province (1,609 towns × 19 indicators, all four methods, a few
    # missing values, adjustments and vetoes): every figure of every town.
    import sys
    from pathlib import Path

    from evaluation.scoring import evaluate
    from evaluation.scoring.validation import parse_document
    from tests.scoring_reference import reference_compute, reference_score

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import engine as engine_bench

    document = engine_bench.build_document(towns=1609, seed=7)
    _forget_scored_columns()
    shown = reference_compute(document)
    assert compute(document) == shown
    expected = reference_score(parse_document(document))
    for result, want in zip(evaluate(document).results, expected, strict=True):
        _assert_figures_equal(result, want)
