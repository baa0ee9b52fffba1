"""The computation: indicator points, subtotals, totals, ranks, grades, intervals, flags."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from itertools import repeat

from cachetools import LRUCache, cached
from cachetools.keys import hashkey

from .amounts import CONTEXT, ZERO, format_amount, q
from .flags import Flag, FlagInput, flag_units
from .methods import score_column
from .ranking import grade_for, rank_keys, ranking_key
from .validation import Document, Indicator, Sensitivity, Unit, parse_document


@dataclass(frozen=True)
class RankInterval:
    """A unit's rank percentiles under resampled weights, and whether its grade may change."""

    median_rank: Decimal
    q5_rank: Decimal
    q95_rank: Decimal
    grade_at_risk: bool


@dataclass(frozen=True)
class UnitResult:
    """One unit's computed figures; amounts are Decimals at two decimals."""

    unit: str
    name: str
    rank: int
    total: Decimal
    dimensions: Mapping[str, Decimal]
    indicators: Mapping[str, Decimal]
    bonus: Decimal
    penalty: Decimal
    grade: str
    vetoed: bool
    missing: tuple[str, ...]
    sensitivity: RankInterval | None = None

    @property
    def complete(self) -> bool:
        """Tell whether the unit has a value for every indicator."""
        return not self.missing

    @property
    def entered(self) -> bool:
        """Tell whether the unit has a value for at least one indicator."""
        return len(self.missing) < len(self.indicators)

    def as_dict(self, formatted: dict[Decimal, str] | None = None) -> dict[str, object]:
        """Return the result in the JSON shape of docs/rules.md#engine-document (amounts as
        strings).

        ``formatted`` keeps amounts already formatted (``ScoreResult.as_dict`` shares one
        over all units): ``format_amount`` depends only on an amount's value, and a
        province's 40,000 amounts have a few thousand distinct values.
        """
        shown_amount = _Formatted() if formatted is None else formatted
        shown: dict[str, object] = {
            "unit": self.unit,
            "name": self.name,
            "rank": self.rank,
            "total": shown_amount[self.total],
            "dimensions": shown_amount.of(self.dimensions),
            "indicators": shown_amount.of(self.indicators),
            "bonus": shown_amount[self.bonus],
            "penalty": shown_amount[self.penalty],
            "grade": self.grade,
            "vetoed": self.vetoed,
            "complete": self.complete,
            "missing": list(self.missing),
        }
        if self.sensitivity is not None:
            shown["sensitivity"] = {
                "median_rank": _rank_number(self.sensitivity.median_rank),
                "q5_rank": _rank_number(self.sensitivity.q5_rank),
                "q95_rank": _rank_number(self.sensitivity.q95_rank),
                "grade_at_risk": self.sensitivity.grade_at_risk,
            }
        return shown


@dataclass(frozen=True)
class ScoreResult:
    """The engine's answer: results in ranking order, and flags when they were asked for."""

    results: tuple[UnitResult, ...]
    flags: tuple[Flag, ...] | None = None

    def result_for(self, unit: str) -> UnitResult:
        """Return the result of one unit by its code."""
        for result in self.results:
            if result.unit == unit:
                return result
        raise KeyError(unit)

    def as_dict(self) -> dict[str, object]:
        """Return ``{"results": [...], "flags": [...]}`` as printed by the CLI
        (docs/rules.md#engine-document)."""
        formatted = _Formatted()
        shown: dict[str, object] = {"results": [r.as_dict(formatted) for r in self.results]}
        if self.flags is not None:
            shown["flags"] = [
                {
                    "unit": flag.unit,
                    "batch": flag.batch,
                    "total": format_amount(flag.total),
                    "reasons": list(flag.reasons),
                    "priority": flag.priority,
                    "flagged": flag.flagged,
                }
                for flag in self.flags
            ]
        return shown


class _Formatted(dict):
    """Amount → ``format_amount(amount)``, each distinct value formatted once."""

    def __missing__(self, amount: Decimal) -> str:
        text = self[amount] = format_amount(amount)
        return text

    def of(self, amounts: Mapping[str, Decimal]) -> dict[str, str]:
        """Code → amount formatted (``{code: self[amount] for ...}``, looked up in C)."""
        return dict(zip(amounts.keys(), map(self.__getitem__, amounts.values()), strict=True))


def _rank_number(rank: Decimal) -> int | float:
    """Show a percentile rank as a JSON number: whole ranks as integers."""
    return int(rank) if rank == rank.to_integral_value() else float(rank)


def _column_key(indicator: Indicator, column: tuple) -> tuple:
    """The key of a scored column: the indicator's scoring rule and the column's values.

    A ``hashkey`` keeps its hash once worked out, so the 1,609-value column is hashed once
    per lookup rather than on the lookup and again on the store.
    """
    fractions = indicator.grade_fractions
    return hashkey(
        indicator.method,
        indicator.points,
        indicator.direction,
        indicator.target,
        indicator.floor,
        tuple(sorted(fractions.items())) if fractions is not None else None,
        column,
    )


#: The last 64 columns scored, so a ranking redone after one change scores one column.
#: ``score_column`` is a pure function of the indicator's scoring rule and the column's
#: values (in the engine's fixed context), so a column seen before has the same points.
#: Values are compared by amount: 5.2 and 5.20 score alike (every result is rounded).
#: Kept with the points: the positions of the missing values (``is None``, which unlike
#: ``None in column`` never asks a Decimal whether it equals None — a slow question).
@cached(LRUCache(maxsize=64), key=_column_key, lock=threading.Lock())
def _scored_column(
    indicator: Indicator, column: tuple
) -> tuple[tuple[Decimal | None, ...], tuple[int, ...]]:
    missing = tuple(k for k, value in enumerate(column) if value is None)
    return tuple(score_column(indicator, column)), missing


def forget_scored_columns() -> None:
    """Forget the columns kept, so the next computation scores every column (benchmarks)."""
    _scored_column.cache_clear()


def _capped(amount: Decimal, cap: Decimal | None) -> Decimal:
    return q(amount if cap is None else min(amount, cap))


def score_document(document: Document) -> ScoreResult:
    """Compute a checked document: points, totals, ranks, grades, intervals and flags."""
    with localcontext(CONTEXT):
        return _score(document)


@dataclass(frozen=True)
class _Figures:
    """One computation's figures column by column, units in their input order."""

    units: tuple[Unit, ...]
    indicator_codes: list[str]
    dimension_codes: list[str]
    points: list[Sequence[Decimal]]  # one column per indicator, in scheme order
    subtotals: list[list[Decimal]]  # one column per dimension
    bonuses: list[Decimal]
    penalties: list[Decimal]
    totals: list[Decimal]
    vetoed: list[bool]
    grades: list[str]
    ranks: list[int]
    missing: list[list[str]]

    def ranking_order(self) -> list[int]:
        """Unit positions listed by rank, then in the units' input order (stable sort)."""
        return sorted(range(len(self.units)), key=self.ranks.__getitem__)


def _figures(document: Document) -> _Figures:
    # Column by column rather than cell by cell (docs/rules.md#how-the-fast-path-equals-the-rules):
    # the same sums in the same order as the rules, with the per-cell work done once per
    # column (indicator points) or once per distinct amount (rounding, formatting).
    scheme = document.scheme
    units = document.units
    codes = [u.code for u in units]
    indicators = scheme.indicators

    # Score indicator by indicator: a relative indicator needs the whole column at once.
    # A missing value scores 0 and its code goes into the unit's ``missing``.
    missing: list[list[str]] = [[] for _ in units]
    columns: list[Sequence[Decimal]] = []
    for indicator in indicators:
        if document.columns is not None:
            column = tuple(map(document.columns[indicator.code].get, codes))
        else:
            column = tuple(map(document.values.get, zip(codes, repeat(indicator.code))))
        earned, absent = _scored_column(indicator, column)
        if absent:
            earned = list(earned)
            for position in absent:
                missing[position].append(indicator.code)
                earned[position] = ZERO
        columns.append(earned)

    # A dimension's subtotal: the sum of its indicators' points, from ZERO, in scheme order.
    subtotal_columns = []
    first = 0
    for dimension in scheme.dimensions:
        last = first + len(dimension.indicators)
        subtotal_columns.append([sum(row, ZERO) for row in zip(*columns[first:last], strict=True)])
        first = last

    # Bonus and penalty: the unit's items summed (by the reader), capped, rounded.
    no_bonus = _capped(ZERO, scheme.bonus_cap)
    no_penalty = _capped(ZERO, scheme.penalty_cap)
    bonuses = [
        _capped(document.bonus[code], scheme.bonus_cap) if code in document.bonus else no_bonus
        for code in codes
    ]
    penalties = [
        _capped(document.penalty[code], scheme.penalty_cap)
        if code in document.penalty
        else no_penalty
        for code in codes
    ]
    totals = [
        max(ZERO, sum(subtotals, ZERO) + bonus - penalty)
        for subtotals, bonus, penalty in zip(
            zip(*subtotal_columns, strict=True), bonuses, penalties, strict=True
        )
    ]
    vetoed = [code in document.vetoed for code in codes]
    ranks = rank_keys(
        [ranking_key(total, veto) for total, veto in zip(totals, vetoed, strict=True)],
        scheme.tie_method,
    )
    grades = [
        grade_for(total, scheme.grades, veto) for total, veto in zip(totals, vetoed, strict=True)
    ]
    return _Figures(
        units=units,
        indicator_codes=[i.code for i in indicators],
        dimension_codes=[d.code for d in scheme.dimensions],
        points=columns,
        subtotals=subtotal_columns,
        bonuses=bonuses,
        penalties=penalties,
        totals=totals,
        vetoed=vetoed,
        grades=grades,
        ranks=ranks,
        missing=missing,
    )


def _score(document: Document) -> ScoreResult:
    found = _figures(document)
    figures = [
        {
            "unit": unit.code,
            "name": unit.name,
            "total": found.totals[position],
            "dimensions": dict(zip(found.dimension_codes, subtotals, strict=True)),
            "indicators": dict(zip(found.indicator_codes, points, strict=True)),
            "bonus": found.bonuses[position],
            "penalty": found.penalties[position],
            "grade": found.grades[position],
            "vetoed": found.vetoed[position],
            "missing": tuple(found.missing[position]),
        }
        for position, (unit, points, subtotals) in enumerate(
            zip(
                found.units,
                zip(*found.points, strict=True),
                zip(*found.subtotals, strict=True),
                strict=True,
            )
        )
    ]
    intervals: list[RankInterval | None] = [None] * len(figures)
    if document.sensitivity is not None:
        intervals = list(_rank_intervals(document, document.sensitivity, figures))
    results = [
        _unit_result(rank=rank, sensitivity=interval, **unit_figures)
        for unit_figures, rank, interval in zip(figures, found.ranks, intervals, strict=True)
    ]

    flags = None
    if document.flags is not None:
        flags = tuple(
            flag_units(
                [FlagInput(r.unit, r.total, r.vetoed, r.complete, r.entered) for r in results],
                document.flags,
            )
        )
    return ScoreResult(tuple(results[i] for i in found.ranking_order()), flags)


def _shown(found: _Figures) -> dict[str, object]:
    """``ScoreResult.as_dict()`` of a computation without intervals or flags, made straight
    from its columns: each column formatted at once, no UnitResult in between."""
    formatted = _Formatted()
    shown_amount = formatted.__getitem__
    points = zip(*[list(map(shown_amount, column)) for column in found.points], strict=True)
    subtotals = zip(*[list(map(shown_amount, column)) for column in found.subtotals], strict=True)
    indicator_codes, dimension_codes = found.indicator_codes, found.dimension_codes
    totals = list(map(shown_amount, found.totals))
    bonuses = list(map(shown_amount, found.bonuses))
    penalties = list(map(shown_amount, found.penalties))
    rows = [
        {
            "unit": unit.code,
            "name": unit.name,
            "rank": found.ranks[position],
            "total": totals[position],
            "dimensions": dict(zip(dimension_codes, unit_subtotals, strict=True)),
            "indicators": dict(zip(indicator_codes, unit_points, strict=True)),
            "bonus": bonuses[position],
            "penalty": penalties[position],
            "grade": found.grades[position],
            "vetoed": found.vetoed[position],
            "complete": not found.missing[position],
            "missing": list(found.missing[position]),
        }
        for position, (unit, unit_points, unit_subtotals) in enumerate(
            zip(found.units, points, subtotals, strict=True)
        )
    ]
    return {"results": [rows[k] for k in found.ranking_order()]}


def _unit_result(**fields: object) -> UnitResult:
    """``UnitResult(**fields)`` with every field given, set at once.

    A frozen dataclass's ``__init__`` sets each of its 12 fields through
    ``object.__setattr__``; a province makes 1,609 of them. The object is the same: its
    fields, equality and repr are the dataclass's (tests/test_scoring_properties.py).
    """
    result = object.__new__(UnitResult)
    result.__dict__.update(fields)
    return result


def _rank_intervals(
    document: Document, settings: Sensitivity, figures: list[dict]
) -> list[RankInterval]:
    # numpy is loaded only when intervals are asked for, so the plain engine starts fast.
    import numpy as np

    from .uncertainty import rank_intervals

    scheme = document.scheme
    indicators = scheme.indicators
    full = [float(i.points) for i in indicators]
    fractions = np.array(
        [
            [float(f["indicators"][i.code]) / p for i, p in zip(indicators, full, strict=True)]
            for f in figures
        ],
        dtype=np.float64,
    ).reshape(len(figures), len(indicators))
    found = rank_intervals(
        fractions=fractions,
        points=np.array(full, dtype=np.float64),
        total=float(scheme.total),
        adjustment=np.array([float(f["bonus"] - f["penalty"]) for f in figures], dtype=np.float64),
        vetoed=np.array([f["vetoed"] for f in figures], dtype=bool),
        tie_method=scheme.tie_method,
        band_min_cents=[float(band.min * 100) for band in scheme.grades],
        samples=settings.samples,
        spread=float(settings.spread),
        seed=settings.seed,
    )
    return [
        RankInterval(
            median_rank=q(Decimal(repr(float(found.median_rank[k])))),
            q5_rank=q(Decimal(repr(float(found.q5_rank[k])))),
            q95_rank=q(Decimal(repr(float(found.q95_rank[k])))),
            grade_at_risk=bool(found.grade_at_risk[k]),
        )
        for k in range(len(figures))
    ]


def evaluate(document: Mapping) -> ScoreResult:
    """Check and compute a raw engine document, raising ScoringError listing every problem."""
    return score_document(parse_document(document))


def compute(document: Mapping) -> dict[str, object]:
    """Check and compute a raw engine document and return the JSON shape of
    docs/rules.md#engine-document.

    The same as ``evaluate(document).as_dict()``; without intervals or flags it is made
    straight from the computation's columns (``_shown``).
    """
    checked = parse_document(document)
    if checked.sensitivity is not None or checked.flags is not None:
        return score_document(checked).as_dict()
    with localcontext(CONTEXT):
        return _shown(_figures(checked))
