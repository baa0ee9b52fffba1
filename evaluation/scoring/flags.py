"""Typical-village review flags (docs/rules.md#review-flags).

For each typical unit, in the units' input order, the reasons are checked in this order:

- ``VETO``: the unit is vetoed;
- ``LOW_SCORE``: total < ``low_score`` (default 60);
- ``DROP``: previous period's total − total ≥ ``drop`` (default 10), when a previous total
  is known;
- ``INCOMPLETE``: a value is missing;
- ``BOTTOM``: fewer than ``bottom_n`` (default 3) typical units have a strictly worse
  ranking key ``(vetoed, −total)``;
- ``NO_RECENT_REVIEW``: no review dated within ``review_days`` (default 90) days before
  ``period_end``, i.e. ``period_end − review_days ≤ last_review ≤ period_end``, both ends
  included. A review dated after the period's end does not count for that period: the
  caller passes the latest review on or before it.

``priority`` is ``high`` with VETO or LOW_SCORE, ``medium`` with DROP, INCOMPLETE or
BOTTOM, ``low`` with NO_RECENT_REVIEW alone and null when the unit is clear.

A unit with no value at all (every indicator missing) has no score to judge: its total
is only what the missing values default to. It is flagged ``INCOMPLETE`` (and ``VETO`` /
``NO_RECENT_REVIEW`` as usual) but never ``LOW_SCORE``, ``DROP`` or ``BOTTOM``, and it is
not counted as a "worse" unit when the others are checked for ``BOTTOM``. A unit with
some values keeps every rule, missing values counting 0 (see docs/missing-values.md).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .validation import FlagRules

REASONS = ("VETO", "LOW_SCORE", "DROP", "INCOMPLETE", "BOTTOM", "NO_RECENT_REVIEW")
HIGH_REASONS = frozenset({"VETO", "LOW_SCORE"})
MEDIUM_REASONS = frozenset({"DROP", "INCOMPLETE", "BOTTOM"})


@dataclass(frozen=True)
class Flag:
    """A typical unit's review status for the period."""

    unit: str
    batch: int
    total: Decimal
    reasons: tuple[str, ...]
    priority: str | None

    @property
    def flagged(self) -> bool:
        """Tell whether the unit needs a review visit."""
        return bool(self.reasons)


@dataclass(frozen=True)
class FlagInput:
    """What the flag rules need to know of one computed unit."""

    unit: str
    total: Decimal
    vetoed: bool
    complete: bool
    #: Whether the unit has any value at all; without one its total judges nothing.
    entered: bool = True


def priority_for(reasons: Sequence[str]) -> str | None:
    """Return the review priority of a list of reasons (None when there is none)."""
    present = set(reasons)
    if present & HIGH_REASONS:
        return "high"
    if present & MEDIUM_REASONS:
        return "medium"
    if present:
        return "low"
    return None


def reviewed_recently(last_review: dt.date | None, period_end: dt.date, days: int) -> bool:
    """Tell whether a review falls within ``days`` days before the period's end."""
    if last_review is None:
        return False
    return 0 <= (period_end - last_review).days <= days


def flag_units(units: Sequence[FlagInput], rules: FlagRules) -> list[Flag]:
    """Flag every typical unit, in the given order, listing clear ones too."""
    typical = [u for u in units if u.unit in rules.typical]
    # Ranking keys (vetoed, -total) of the typical units with a value, sorted, to count
    # worse ones: a unit with no value at all is not worse than anyone.
    keys = sorted((u.vetoed, -u.total) for u in typical if u.entered)
    flags: list[Flag] = []
    for unit in typical:
        reasons: list[str] = []
        if unit.vetoed:
            reasons.append("VETO")
        scored = unit.entered  # no value at all: no score to call low, dropped or bottom
        if scored and unit.total < rules.low_score:
            reasons.append("LOW_SCORE")
        previous = rules.previous_totals.get(unit.unit)
        if scored and previous is not None and previous - unit.total >= rules.drop:
            reasons.append("DROP")
        if not unit.complete:
            reasons.append("INCOMPLETE")
        worse = len(keys) - bisect.bisect_right(keys, (unit.vetoed, -unit.total))
        if scored and worse < rules.bottom_n:
            reasons.append("BOTTOM")
        last_review = rules.last_review.get(unit.unit)
        if not reviewed_recently(last_review, rules.period_end, rules.review_days):
            reasons.append("NO_RECENT_REVIEW")
        flags.append(
            Flag(
                unit=unit.unit,
                batch=rules.typical[unit.unit],
                total=unit.total,
                reasons=tuple(reasons),
                priority=priority_for(reasons),
            )
        )
    return flags
