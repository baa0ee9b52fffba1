"""Indicator points by scoring method (docs/rules.md#methods), one indicator column at a time.

Every function expects the engine's Decimal context (``amounts.CONTEXT``) to be active
and values already checked by ``validation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from .amounts import ONE, ZERO, q
from .validation import Indicator, Value


def direct_points(value: Decimal) -> Decimal:
    """Score a directly given number of points (0 ≤ v ≤ P was checked)."""
    return q(value)


def target_points(points: Decimal, value: Decimal, target: Decimal, direction: str) -> Decimal:
    """Score a value by its completion rate of a target, capped to [0, 1]."""
    if direction == "higher":
        rate = value / target
    elif value == 0:
        rate = ONE  # nothing of a "lower is better" quantity is the best possible result
    else:
        rate = target / value
    return q(points * min(max(rate, ZERO), ONE))


def relative_points(
    points: Decimal,
    value: Decimal,
    lowest: Decimal,
    highest: Decimal,
    direction: str,
    floor: Decimal,
) -> Decimal:
    """Score a value by its place between the lowest and highest value of all units."""
    if highest == lowest:
        fraction = ONE
    elif direction == "higher":
        fraction = (value - lowest) / (highest - lowest)
    else:
        fraction = (highest - value) / (highest - lowest)
    return q(points * (floor + (ONE - floor) * fraction))


def grade_points(points: Decimal, fraction: Decimal) -> Decimal:
    """Score a grade as its fraction of the indicator's points."""
    return q(points * fraction)


def score_column(indicator: Indicator, column: Sequence[Value | None]) -> list[Decimal | None]:
    """Score one indicator for every unit; None marks a missing value (which scores 0).

    Each distinct value is scored once, and every cell takes its value's points
    (docs/rules.md#how-the-fast-path-equals-the-rules): a cell's points depend only on its
    value's amount and, for ``relative``, on the column's lowest and highest value, so
    cells with equal amounts have equal points.
    """
    distinct = set(column)
    distinct.discard(None)
    tables = {
        "direct": _direct_table,
        "target": _target_table,
        "relative": _relative_table,
        "grade": _grade_table,
    }
    if indicator.method not in tables:
        raise ValueError(f"unknown scoring method {indicator.method!r}")
    scored = tables[indicator.method](indicator, distinct)
    # A missing cell (None) is in no table: .get gives None back for it.
    return list(map(scored.get, column))


# The tables below are the functions above with what is the same for every value of a
# column worked out once; tests/test_scoring_properties.py checks every cell against the
# rules written out plainly (tests/scoring_reference.py).


def _direct_table(indicator: Indicator, values: set) -> dict[Value, Decimal]:
    return {v: q(v) for v in values}


def _target_table(indicator: Indicator, values: set) -> dict[Value, Decimal]:
    # q(P × min(max(r, 0), 1)): r ≥ 1 gives q(P × 1), r ≤ 0 gives q(P × 0), else q(P × r).
    points, target, higher = indicator.points, indicator.target, indicator.direction == "higher"
    full, nothing = q(points * ONE), q(points * ZERO)
    table = {}
    for v in values:
        if higher:
            rate = v / target
        elif v == 0:
            rate = ONE  # nothing of a "lower is better" quantity is the best possible result
        else:
            rate = target / v
        table[v] = full if rate >= ONE else nothing if rate <= ZERO else q(points * rate)
    return table


def _relative_table(indicator: Indicator, values: set) -> dict[Value, Decimal]:
    if not values:
        return {}
    points, floor = indicator.points, indicator.floor
    lowest, highest = min(values), max(values)
    if highest == lowest:
        return dict.fromkeys(values, q(points * (floor + (ONE - floor) * ONE)))
    span, rest = highest - lowest, ONE - floor
    if indicator.direction == "higher":
        return {v: q(points * (floor + rest * ((v - lowest) / span))) for v in values}
    return {v: q(points * (floor + rest * ((highest - v) / span))) for v in values}


def _grade_table(indicator: Indicator, values: set) -> dict[Value, Decimal]:
    # Each grade's points are the same for every unit: work them out once.
    fractions = indicator.grade_fractions
    return {grade: grade_points(indicator.points, fractions[grade]) for grade in values}
