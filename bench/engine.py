"""Benchmark the scoring engine at province scale (docs/rules.md#scale-targets).

Builds a synthetic scheme of 19 indicators (7/6/6 over 40/30/30 points, all four
methods) for 1,609 towns with seeded random values, then times ``compute`` without and
with 1,000-sample rank uncertainty (best of a few runs, ``time.perf_counter``) and prints
the figures beside the targets. Run from the repository root::

    .venv/bin/python bench/engine.py
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.scoring import compute  # noqa: E402
from evaluation.scoring.engine import forget_scored_columns  # noqa: E402

TOWNS = 1609
METHODS = ("direct", "target", "relative", "grade")
DIMENSIONS = (("E", "镇域经济发展", 7, 40), ("U", "城乡融合", 6, 30), ("R", "乡村振兴", 6, 30))


def _split(points: int, count: int) -> list[Decimal]:
    """Split a dimension's points over its indicators, the remainder on the first ones."""
    base, extra = divmod(points * 100, count)
    return [Decimal(base + (1 if k < extra else 0)) / 100 for k in range(count)]


def build_document(towns: int = TOWNS, seed: int = 20261127) -> dict:
    """Build a synthetic engine document: towns × 19 indicators with seeded values."""
    rng = random.Random(seed)
    dimensions = []
    indicators = []
    number = 0
    for code, name, count, points in DIMENSIONS:
        listed = []
        for share in _split(points, count):
            number += 1
            method = METHODS[number % len(METHODS)]
            indicator = {
                "code": f"{code}{number:02d}",
                "name": f"指标{number}",
                "points": share,
                "method": method,
                "direction": "lower" if number % 5 == 0 else "higher",
            }
            if method == "target":
                indicator["target"] = Decimal("6.5")
            if method == "relative":
                indicator["floor"] = Decimal("0.6")
            listed.append(indicator)
            indicators.append(indicator)
        dimensions.append({"code": code, "name": name, "indicators": listed})
    scheme = {
        "total": 100,
        "bonus_cap": 5,
        "penalty_cap": None,
        "tie_method": "competition",
        "dimensions": dimensions,
    }
    units = [{"code": f"44{k:010d}", "name": f"镇{k}"} for k in range(1, towns + 1)]
    values = []
    for unit in units:
        for indicator in indicators:
            if rng.random() < 0.002:
                continue  # a few values not entered yet
            method = indicator["method"]
            if method == "grade":
                value: object = rng.choice("ABCD")
            elif method == "direct":
                value = (indicator["points"] * Decimal(rng.randint(40, 100)) / 100).quantize(
                    Decimal("0.001")
                )
            else:
                value = Decimal(rng.randint(0, 1000)) / 100
            values.append({"unit": unit["code"], "indicator": indicator["code"], "value": value})
    adjustments = [
        {
            "unit": rng.choice(units)["code"],
            "kind": rng.choice(("bonus", "penalty")),
            "points": Decimal(rng.randint(1, 30)) / 10,
            "reason": "合成数据",
        }
        for _ in range(towns // 10)
    ]
    vetoes = [{"unit": rng.choice(units)["code"], "reason": "合成数据"} for _ in range(3)]
    return {
        "scheme": scheme,
        "units": units,
        "values": values,
        "adjustments": adjustments,
        "vetoes": vetoes,
    }


def cold_compute(document: dict) -> dict:
    """Compute a document as a fresh engine would: no column kept from an earlier run."""
    forget_scored_columns()
    return compute(document)


def sum_and_sort(document: dict) -> list:
    """The engine's floor: one pass summing each town's values, then the towns sorted.

    The least work any ranking of the document needs (every value read once, one sort);
    docs/rules.md#scale-targets asks the engine for at most ``FLOOR_FACTOR`` times it.
    """
    totals: dict[str, Decimal] = {}
    for value in document["values"]:
        raw = value["value"]
        amount = raw if isinstance(raw, Decimal) else Decimal(len(raw))
        totals[value["unit"]] = totals.get(value["unit"], Decimal(0)) + amount
    return sorted(totals.items(), key=lambda item: item[1], reverse=True)


#: The engine's target against its floor (docs/rules.md#scale-targets).
FLOOR_FACTOR = 5


def floor_time(document: dict, runs: int) -> float:
    """Return the best wall time of the floor (``sum_and_sort``)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        sum_and_sort(document)
        best = min(best, time.perf_counter() - start)
    return best


def best_time(document: dict, runs: int) -> float:
    """Return the best wall time of computing a document afresh a few times."""
    best = float("inf")
    for _ in range(runs):
        forget_scored_columns()
        start = time.perf_counter()
        compute(document)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Time the engine and print the figures beside the docs/rules.md#scale-targets targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (best is kept)")
    parser.add_argument("--samples", type=int, default=1000, help="uncertainty samples")
    arguments = parser.parse_args()

    document = build_document()
    plain = best_time(document, arguments.runs)
    floor = floor_time(document, arguments.runs)
    document["sensitivity"] = {"samples": arguments.samples, "spread": Decimal("0.2"), "seed": 1}
    uncertain = best_time(document, max(1, arguments.runs // 2 + 1))

    print(f"{'figure':<48} {'measured':>10} {'target':>22}  ok")
    limit = min(0.5, FLOOR_FACTOR * floor)
    print(
        f"{f'engine: {TOWNS:,} towns × 19 indicators':<48} {plain:>9.3f}s "
        f"{f'< 0.5s, ≤ {FLOOR_FACTOR} × {floor:.3f}s':>22}  {'yes' if plain <= limit else 'NO'}"
        f"  ({plain / floor:.1f} × the floor)"
    )
    print(
        f"{f'  with {arguments.samples:,}-sample rank uncertainty':<48} {uncertain:>9.3f}s "
        f"{'< 5.0s':>22}  {'yes' if uncertain < 5.0 else 'NO'}"
    )


if __name__ == "__main__":
    main()
