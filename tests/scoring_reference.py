"""The scoring rules written out plainly, one cell at a time: the reference the engine's
fast path is checked against (tests/test_scoring_properties.py).

This is the engine as it was before its fast path
(docs/rules.md#how-the-fast-path-equals-the-rules): every cell scored by its method's
formula and rounded by ``q`` on its own, every unit's figures summed from a dict of its
indicators' points, every amount formatted by ``format_amount``. It shares only the
document reader (``parse_document``) and the rank and grade rules (``rank_keys``,
``grade_for``) with the engine; the formulas are copied from docs/rules.md#methods, not
imported, so a change to ``methods.py`` cannot change the reference with it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from evaluation.scoring.ranking import grade_for, rank_keys, ranking_key
from evaluation.scoring.validation import Document, parse_document

CONTEXT = Context(prec=28, rounding=ROUND_HALF_UP)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ONE = Decimal(1)


def q(amount: Decimal) -> Decimal:
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP, context=CONTEXT)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def format_amount(amount: Decimal) -> str:
    return format(q(amount), "f")


def points_of(indicator, value, lowest=None, highest=None) -> Decimal:
    """One cell's points by docs/rules.md#methods."""
    points = indicator.points
    if indicator.method == "direct":
        return q(value)
    if indicator.method == "target":
        if indicator.direction == "higher":
            rate = value / indicator.target
        elif value == 0:
            rate = ONE
        else:
            rate = indicator.target / value
        return q(points * min(max(rate, ZERO), ONE))
    if indicator.method == "relative":
        if highest == lowest:
            fraction = ONE
        elif indicator.direction == "higher":
            fraction = (value - lowest) / (highest - lowest)
        else:
            fraction = (highest - value) / (highest - lowest)
        floor = indicator.floor
        return q(points * (floor + (ONE - floor) * fraction))
    if indicator.method == "grade":
        return q(points * indicator.grade_fractions[value])
    raise ValueError(indicator.method)


def reference_score(document: Document) -> list[dict]:
    """Every unit's figures as Decimals, listed by rank then input order."""
    with localcontext(CONTEXT):
        scheme = document.scheme
        # lo and hi of each indicator: over the units of this computation with a value.
        present = {
            i.code: [
                document.values[(u.code, i.code)]
                for u in document.units
                if (u.code, i.code) in document.values
            ]
            for i in scheme.indicators
        }
        lows = {code: min(column, default=None) for code, column in present.items()}
        highs = {code: max(column, default=None) for code, column in present.items()}
        figures = []
        for unit in document.units:
            points: dict[str, Decimal] = {}
            missing = []
            for indicator in scheme.indicators:
                value = document.values.get((unit.code, indicator.code))
                if value is None:
                    missing.append(indicator.code)
                    points[indicator.code] = ZERO
                    continue
                points[indicator.code] = points_of(
                    indicator, value, lows[indicator.code], highs[indicator.code]
                )
            subtotals = {
                d.code: sum((points[i.code] for i in d.indicators), ZERO) for d in scheme.dimensions
            }
            bonus = document.bonus.get(unit.code, ZERO)
            if scheme.bonus_cap is not None:
                bonus = min(bonus, scheme.bonus_cap)
            penalty = document.penalty.get(unit.code, ZERO)
            if scheme.penalty_cap is not None:
                penalty = min(penalty, scheme.penalty_cap)
            bonus, penalty = q(bonus), q(penalty)
            total = max(ZERO, sum(subtotals.values(), ZERO) + bonus - penalty)
            vetoed = unit.code in document.vetoed
            figures.append(
                {
                    "unit": unit.code,
                    "name": unit.name,
                    "total": total,
                    "dimensions": subtotals,
                    "indicators": points,
                    "bonus": bonus,
                    "penalty": penalty,
                    "grade": grade_for(total, scheme.grades, vetoed),
                    "vetoed": vetoed,
                    "missing": missing,
                }
            )
        ranks = rank_keys(
            [ranking_key(f["total"], f["vetoed"]) for f in figures], scheme.tie_method
        )
        for figure, rank in zip(figures, ranks, strict=True):
            figure["rank"] = rank
        order = sorted(range(len(figures)), key=ranks.__getitem__)
        return [figures[k] for k in order]


def reference_compute(raw: dict) -> dict:
    """The JSON shape of docs/rules.md#engine-document, amounts formatted one by one."""
    shown = []
    for f in reference_score(parse_document(raw)):
        shown.append(
            {
                "unit": f["unit"],
                "name": f["name"],
                "rank": f["rank"],
                "total": format_amount(f["total"]),
                "dimensions": {k: format_amount(v) for k, v in f["dimensions"].items()},
                "indicators": {k: format_amount(v) for k, v in f["indicators"].items()},
                "bonus": format_amount(f["bonus"]),
                "penalty": format_amount(f["penalty"]),
                "grade": f["grade"],
                "vetoed": f["vetoed"],
                "complete": not f["missing"],
                "missing": list(f["missing"]),
            }
        )
    return {"results": shown}
