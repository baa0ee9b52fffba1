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
    """Score one indicator for every unit; None marks a missing value (which scores 0)."""
    method = indicator.method
    points = indicator.points
    if method == "direct":
        return [None if v is None else direct_points(v) for v in column]
    if method == "target":
        target, direction = indicator.target, indicator.direction
        return [None if v is None else target_points(points, v, target, direction) for v in column]
    if method == "relative":
        present = [v for v in column if v is not None]
        if not present:
            return [None] * len(column)
        lowest, highest = min(present), max(present)
        direction, floor = indicator.direction, indicator.floor
        return [
            None if v is None else relative_points(points, v, lowest, highest, direction, floor)
            for v in column
        ]
    if method == "grade":
        fractions = indicator.grade_fractions
        # Each grade's points are the same for every unit: work them out once.
        by_grade = {grade: grade_points(points, f) for grade, f in fractions.items()}
        return [None if v is None else by_grade[v] for v in column]
    raise ValueError(f"unknown scoring method {method!r}")
