"""A report per town (一镇一报告): standing, strengths, the change since the previous period,
and 差距测算 (docs/reports.md).

Pure and exact like the rest of the engine: an engine document and one unit's code go in,
Decimal figures come out. Everything is worked out with the engine's own pieces
(``score_document``, ``score_column``, ``rank_keys``, ``grade_for``), so a figure here can
never disagree with the ranking.

- **Indicator ranks**: ``rank_among`` = 1 + the number of units with more points on that
  indicator (competition ranks; every unit of the computation counts, vetoed or not);
  ``average`` = q(the units' mean points on it), for comparison.
- **Strengths and weaknesses**: indicators ordered by (rank_among, then the share of
  the maximum earned, higher first, then scheme order); strengths are the first
  k = min(3, ⌊n / 2⌋), weaknesses the last k, worst first — so none is both.
- **Change**: total now − total before = Σ per-indicator (points now − points before, an
  indicator absent on one side counting 0 there) + (bonus now − bonus before)
  − (penalty now − penalty before) + floor, where ``floor`` is the change of what the
  zero floor of the total added (0 unless a total was floored). ``penalty`` is given as
  its effect on the total (a larger penalty is negative). The parts add up to the cent.
- **差距测算**: per indicator, the smallest raw value, on a grid of ``step`` (0.01 unless
  ``steps`` says otherwise, e.g. 1 for whole numbers), that alone — every other value
  unchanged — gives a better rank (``next_rank``) or a better grade band
  (``next_grade``). Searched only where the indicator's points for the town can still
  rise: up to the points (direct), the target (target), the best value among the units
  (relative), the best grade (grade), and within ``limits`` when given. Otherwise null with
  a reason code: ``missing``, ``first``, ``top_grade``, ``vetoed``, ``at_maximum``,
  ``not_enough``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext

from .amounts import CONTEXT, ZERO, format_amount, q
from .engine import ScoreResult, score_document
from .methods import relative_points, score_column
from .ranking import grade_for, ranking_key
from .validation import Document, Indicator, Value, parse_document

__all__ = [
    "REASONS",
    "Change",
    "Gap",
    "IndicatorLine",
    "TownReport",
    "change_between",
    "town_report",
]

#: Why a 差距测算 value is null (docs/reports.md#gaps).
REASONS = {
    "missing": "no value entered for this indicator",
    "first": "already ranked first",
    "top_grade": "already in the top grade band",
    "vetoed": "a vetoed unit keeps the last grade band",
    "at_maximum": "the indicator already earns all it can",
    "not_enough": "even full points on this indicator alone are not enough",
}

DEFAULT_STEP = Decimal("0.01")
STRENGTHS = 3


@dataclass(frozen=True)
class IndicatorLine:
    """One indicator of the town: its points, maximum, raw value and rank among the units."""

    code: str
    name: str
    dimension: str
    method: str
    points: Decimal
    maximum: Decimal
    value: Value | None
    rank_among: int
    average: Decimal

    @property
    def share(self) -> Decimal:
        """The share of the maximum earned (0 to 1)."""
        return self.points / self.maximum


@dataclass(frozen=True)
class Change:
    """The change of the total since the previous period, split into exact contributions."""

    previous_total: Decimal
    previous_rank: int | None
    total: Decimal
    indicators: Mapping[str, Decimal]
    bonus: Decimal
    penalty: Decimal
    floor: Decimal

    def as_dict(self) -> dict[str, object]:
        return {
            "previous_total": format_amount(self.previous_total),
            "previous_rank": self.previous_rank,
            "total": format_amount(self.total),
            "indicators": {code: format_amount(v) for code, v in self.indicators.items()},
            "bonus": format_amount(self.bonus),
            "penalty": format_amount(self.penalty),
            "floor": format_amount(self.floor),
        }


@dataclass(frozen=True)
class Gap:
    """差距测算 of one indicator: the raw value that alone lifts the town, or why none does."""

    indicator: str
    value: Value | None
    value_for_next_rank: Value | None = None
    next_rank_reason: str | None = None
    rank_at_value: int | None = None
    value_for_next_grade: Value | None = None
    next_grade_reason: str | None = None
    grade_at_value: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "indicator": self.indicator,
            "value": _shown(self.value),
            "value_for_next_rank": _shown(self.value_for_next_rank),
            "change_for_next_rank": _difference(self.value, self.value_for_next_rank),
            "rank_at_value": self.rank_at_value,
            "next_rank_reason": self.next_rank_reason,
            "value_for_next_grade": _shown(self.value_for_next_grade),
            "change_for_next_grade": _difference(self.value, self.value_for_next_grade),
            "grade_at_value": self.grade_at_value,
            "next_grade_reason": self.next_grade_reason,
        }


@dataclass(frozen=True)
class TownReport:
    """Everything the report of one unit in one period shows."""

    unit: str
    name: str
    units: int
    total: Decimal
    rank: int
    grade: str
    next_grade: str | None
    vetoed: bool
    bonus: Decimal
    penalty: Decimal
    dimensions: Mapping[str, Decimal]
    indicators: tuple[IndicatorLine, ...]
    strengths: tuple[str, ...]
    weaknesses: tuple[str, ...]
    gaps: tuple[Gap, ...]
    change: Change | None = None
    missing: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of the report API (docs/reports.md), amounts as strings."""
        return {
            "unit": self.unit,
            "name": self.name,
            "units": self.units,
            "total": format_amount(self.total),
            "rank": self.rank,
            "grade": self.grade,
            "next_grade": self.next_grade,
            "vetoed": self.vetoed,
            "bonus": format_amount(self.bonus),
            "penalty": format_amount(self.penalty),
            "dimensions": {code: format_amount(v) for code, v in self.dimensions.items()},
            "indicators": [
                {
                    "code": line.code,
                    "name": line.name,
                    "dimension": line.dimension,
                    "method": line.method,
                    "points": format_amount(line.points),
                    "max": format_amount(line.maximum),
                    "rank_among": line.rank_among,
                    "average": format_amount(line.average),
                    "value": _shown(line.value),
                }
                for line in self.indicators
            ],
            "strengths": list(self.strengths),
            "weaknesses": list(self.weaknesses),
            "missing": list(self.missing),
            "change": self.change.as_dict() if self.change is not None else None,
            "gaps": [gap.as_dict() for gap in self.gaps],
        }


def _shown(value: Value | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return format(value.normalize(CONTEXT), "f")  # as typed: 5.200000 → 5.2, 42.00 → 42


def _difference(before: Value | None, after: Value | None) -> str | None:
    if not isinstance(before, Decimal) or not isinstance(after, Decimal):
        return None
    with localcontext(CONTEXT):
        return format((after - before).normalize(), "f")


def _amount(raw: object) -> Decimal:
    return raw if isinstance(raw, Decimal) else Decimal(str(raw))


# -- the report ------------------------------------------------------------------------


def town_report(
    document: Mapping | Document,
    unit: str,
    *,
    previous: Mapping | None = None,
    steps: Mapping[str, Decimal] | None = None,
    limits: Mapping[str, tuple[Decimal | None, Decimal | None]] | None = None,
    scored: ScoreResult | None = None,
) -> TownReport:
    """Work out the report of ``unit`` from its period's engine document.

    ``previous`` is the unit's result in the previous period, in the engine's result shape
    (``total``, ``indicators``, ``bonus``, ``penalty``, ``rank``; amounts as strings or
    Decimals). ``steps`` maps an indicator code to the grid of its raw values (default
    0.01), ``limits`` to its allowed (minimum, maximum), either None for open.
    ``scored``: the engine's result of this very (parsed) document, when the caller
    reports on many units of it (the batch) and so works it out once.
    Raises KeyError for a unit not in the document, ScoringError for a bad document.
    """
    checked = document if isinstance(document, Document) else parse_document(document)
    with localcontext(CONTEXT):
        if scored is None:
            scored = score_document(checked)
        return _report(checked, scored, unit, previous, steps or {}, limits or {})


def _report(
    document: Document,
    scored: ScoreResult,
    unit: str,
    previous: Mapping | None,
    steps: Mapping[str, Decimal],
    limits: Mapping[str, tuple[Decimal | None, Decimal | None]],
) -> TownReport:
    mine = scored.result_for(unit)
    scheme = document.scheme
    lines = []
    for indicator in scheme.indicators:
        earned = mine.indicators[indicator.code]
        column = [r.indicators[indicator.code] for r in scored.results]
        better = sum(1 for points in column if points > earned)
        lines.append(
            IndicatorLine(
                code=indicator.code,
                name=indicator.name,
                dimension=indicator.dimension,
                method=indicator.method,
                points=earned,
                maximum=indicator.points,
                value=document.values.get((unit, indicator.code)),
                rank_among=1 + better,
                average=q(sum(column, ZERO) / len(column)),
            )
        )
    order = sorted(range(len(lines)), key=lambda k: (lines[k].rank_among, -lines[k].share, k))
    shown = min(STRENGTHS, len(lines) // 2)
    strengths = tuple(lines[k].code for k in order[:shown])
    weaknesses = tuple(lines[k].code for k in reversed(order[len(order) - shown :]))
    bands = scheme.grades
    position = next(k for k, band in enumerate(bands) if band.name == mine.grade)
    next_grade = bands[position - 1].name if position > 0 and not mine.vetoed else None
    return TownReport(
        unit=mine.unit,
        name=mine.name,
        units=len(scored.results),
        total=mine.total,
        rank=mine.rank,
        grade=mine.grade,
        next_grade=next_grade,
        vetoed=mine.vetoed,
        bonus=mine.bonus,
        penalty=mine.penalty,
        dimensions=dict(mine.dimensions),
        indicators=tuple(lines),
        strengths=strengths,
        weaknesses=weaknesses,
        gaps=tuple(_Gaps(document, scored, unit, steps, limits).all()),
        change=change_between(mine, previous) if previous is not None else None,
        missing=mine.missing,
    )


def change_between(current, previous: Mapping) -> Change:
    """Split the change of a unit's total since ``previous`` into exact contributions.

    ``current`` is a ``UnitResult``; ``previous`` the unit's earlier result in the engine's
    JSON shape. Σ indicators + bonus + penalty + floor == total, to the cent.
    """
    with localcontext(CONTEXT):
        before = {code: _amount(v) for code, v in dict(previous.get("indicators") or {}).items()}
        codes = list(current.indicators) + [c for c in before if c not in current.indicators]
        indicators = {
            code: current.indicators.get(code, ZERO) - before.get(code, ZERO) for code in codes
        }
        bonus_before = _amount(previous.get("bonus", ZERO))
        penalty_before = _amount(previous.get("penalty", ZERO))
        total_before = _amount(previous["total"])
        raw_now = sum(current.indicators.values(), ZERO) + current.bonus - current.penalty
        raw_before = sum(before.values(), ZERO) + bonus_before - penalty_before
        floor = (current.total - raw_now) - (total_before - raw_before)
        return Change(
            previous_total=total_before,
            previous_rank=previous.get("rank"),
            total=current.total - total_before,
            indicators=indicators,
            bonus=current.bonus - bonus_before,
            penalty=-(current.penalty - penalty_before),
            floor=floor,
        )


# -- 差距测算 ------------------------------------------------------------------------


class _Gaps:
    """The search of docs/reports.md#gaps for one unit, one indicator at a time."""

    def __init__(self, document, scored, unit, steps, limits):
        self.document = document
        self.steps = steps
        self.limits = limits
        self.codes = [u.code for u in document.units]
        self.index = self.codes.index(unit)
        self.unit = unit
        by_unit = {r.unit: r for r in scored.results}
        results = [by_unit[code] for code in self.codes]
        self.results = results
        self.vetoed = [r.vetoed for r in results]
        # Σ points + bonus − penalty before the zero floor, per unit.
        self.raw = [sum(r.indicators.values(), ZERO) + r.bonus - r.penalty for r in results]
        self.keys = [ranking_key(r.total, r.vetoed) for r in results]
        mine = results[self.index]
        self.rank = mine.rank
        self.grade_position = self._band(mine.grade)
        self.tie_method = document.scheme.tie_method
        self._ranges: dict[str, tuple] = {}
        self._sorted: list | None = None  # self.keys sorted, made on first use

    def _band(self, name: str) -> int:
        return next(k for k, b in enumerate(self.document.scheme.grades) if b.name == name)

    def all(self):
        for indicator in self.document.scheme.indicators:
            yield self.gap(indicator)

    # The town's standing with one value of one indicator changed, all else equal.
    def standing(self, indicator: Indicator, value: Value) -> tuple[int, str]:
        code = indicator.code
        position = self.index
        old = self.results[position].indicators[code]
        keys = self.keys
        if indicator.method == "relative":
            lowest, highest, others_low, others_high = self._range(indicator)
            low = value if others_low is None else min(others_low, value)
            high = value if others_high is None else max(others_high, value)
            if (low, high) == (lowest, highest):
                # The scale stays: only the town's own points change.
                earned = relative_points(
                    indicator.points, value, low, high, indicator.direction, indicator.floor
                )
            else:
                # The town moves an end of the scale: every unit's points on it change.
                column = [self.document.values.get((u, code)) for u in self.codes]
                column[position] = value
                keys = list(self.keys)
                for k, points in enumerate(score_column(indicator, column)):
                    before = self.results[k].indicators[code]
                    after = points if points is not None else ZERO
                    if after != before:
                        total = max(ZERO, self.raw[k] - before + after)
                        keys[k] = ranking_key(total, self.vetoed[k])
                earned = None
        else:
            earned = score_column(indicator, [value])[0]
        if earned is not None:
            total = max(ZERO, self.raw[position] - old + earned)
            mine = ranking_key(total, self.vetoed[position])
        else:
            mine = keys[position]
        rank = self._rank_with(keys, position, mine)
        grade = grade_for(-mine[1], self.document.scheme.grades, mine[0])
        return rank, grade

    def _range(self, indicator: Indicator) -> tuple:
        """A relative indicator's lowest and highest value now, and without the town."""
        kept = self._ranges.get(indicator.code)
        if kept is None:
            present = [self.document.values.get((u, indicator.code)) for u in self.codes]
            others = [v for k, v in enumerate(present) if v is not None and k != self.index]
            every = [v for v in present if v is not None]
            kept = (
                min(every, default=None),
                max(every, default=None),
                min(others, default=None),
                max(others, default=None),
            )
            self._ranges[indicator.code] = kept
        return kept

    def _rank_with(self, keys: Sequence, position: int, mine) -> int:
        """The town's rank with key ``mine``, the other units' keys as in ``keys``."""
        if keys is self.keys:  # the others unchanged: count in the sorted keys (bisection)
            return self._rank_among_unchanged(position, mine)
        if self.tie_method == "competition":
            better = sum(1 for k in keys if k < mine)
            return 1 + better - (1 if keys[position] < mine else 0)
        distinct = {k for j, k in enumerate(keys) if k < mine and j != position}
        return 1 + len(distinct)

    def _rank_among_unchanged(self, position: int, mine) -> int:
        """``_rank_with(self.keys, …)`` in O(log n): the same counts, from sorted keys."""
        if self._sorted is None:
            self._sorted = sorted(self.keys)
            self._distinct = sorted(set(self.keys))
            self._own_alone = self._sorted.count(self.keys[position]) == 1
        own = self.keys[position]
        if self.tie_method == "competition":
            better = bisect_left(self._sorted, mine)
            return 1 + better - (1 if own < mine else 0)
        distinct = bisect_left(self._distinct, mine)
        if own < mine and self._own_alone:  # the town's own key counted only by itself
            distinct -= 1
        return 1 + distinct

    def gap(self, indicator: Indicator) -> Gap:
        value = self.document.values.get((self.unit, indicator.code))
        found: dict[str, object] = {}
        goals: dict[str, Callable[[int, str], bool] | None] = {
            "next_rank": (lambda rank, grade: rank < self.rank) if self.rank > 1 else None,
            "next_grade": (
                (lambda rank, grade: self._band(grade) < self.grade_position)
                if self.grade_position > 0 and not self.vetoed[self.index]
                else None
            ),
        }
        first_reason = {"next_rank": "first", "next_grade": "top_grade"}
        if self.vetoed[self.index]:
            first_reason["next_grade"] = "vetoed"
        for goal, reached in goals.items():
            if reached is None:
                found[goal] = (None, first_reason[goal], None)
            elif value is None:
                found[goal] = (None, "missing", None)
            else:
                found[goal] = self.search(indicator, value, reached, goal)
        rank_value, rank_reason, rank_at = found["next_rank"]
        grade_value, grade_reason, grade_at = found["next_grade"]
        return Gap(
            indicator=indicator.code,
            value=value,
            value_for_next_rank=rank_value,
            next_rank_reason=rank_reason,
            rank_at_value=rank_at[0] if rank_at else None,
            value_for_next_grade=grade_value,
            next_grade_reason=grade_reason,
            grade_at_value=grade_at[1] if grade_at else None,
        )

    def search(self, indicator: Indicator, value: Value, reached, goal: str):
        """Return (value, None, standing) at the smallest better value that reaches the
        goal, or (None, reason, None)."""
        candidates = self.candidates(indicator, value)
        if candidates is None:
            return None, "at_maximum", None
        count, at = candidates
        if count == 0:
            return None, "at_maximum", None
        best = self.standing(indicator, at(count))
        if not reached(*best):
            return None, "not_enough", None
        # The standing only improves along the candidates (docs/reports.md#gaps): bisect.
        low, high = 1, count
        standing = best
        while low < high:
            middle = (low + high) // 2
            tried = self.standing(indicator, at(middle))
            if reached(*tried):
                high, standing = middle, tried
            else:
                low = middle + 1
        if high != count:
            standing = self.standing(indicator, at(high))
        return at(high), None, standing

    def candidates(self, indicator: Indicator, value: Value):
        """The better values to try, as (count, k → k-th better value), best last."""
        if indicator.method == "grade":
            fractions = indicator.grade_fractions
            now = fractions[value]
            same_script = value.isascii()
            better: dict[Decimal, str] = {}
            for key, fraction in fractions.items():
                if fraction > now and (
                    fraction not in better
                    or (key.isascii() == same_script and better[fraction].isascii() != same_script)
                ):
                    better[fraction] = key
            ladder = [better[f] for f in sorted(better)]
            return len(ladder), lambda k: ladder[k - 1]
        step = self.steps.get(indicator.code, DEFAULT_STEP)
        low_limit, high_limit = self.limits.get(indicator.code, (None, None))
        upward = indicator.method == "direct" or indicator.direction == "higher"
        if indicator.method == "direct":
            bound = indicator.points
            hard = indicator.points if high_limit is None else min(high_limit, indicator.points)
        elif indicator.method == "target":
            bound = indicator.target
            hard = high_limit if upward else (ZERO if low_limit is None else max(low_limit, ZERO))
        else:  # relative: the best value among the units that have one
            lowest, highest, _, _ = self._range(indicator)
            bound = highest if upward else lowest
            hard = high_limit if upward else low_limit
        if hard is not None:
            bound = min(bound, hard) if upward else max(bound, hard)
        exponent = step.as_tuple().exponent
        if upward:
            if value >= bound:
                return None
            start = (value / step).to_integral_value(rounding=ROUND_FLOOR) * step
            reach = ((bound - start) / step).to_integral_value(rounding=ROUND_CEILING)
            if hard is not None and start + reach * step > hard:
                reach -= 1
            return int(reach), lambda k: (start + k * step).quantize(Decimal(1).scaleb(exponent))
        if value <= bound:
            return None
        start = (value / step).to_integral_value(rounding=ROUND_CEILING) * step
        reach = ((start - bound) / step).to_integral_value(rounding=ROUND_CEILING)
        if hard is not None and start - reach * step < hard:
            reach -= 1
        return int(reach), lambda k: (start - k * step).quantize(Decimal(1).scaleb(exponent))
