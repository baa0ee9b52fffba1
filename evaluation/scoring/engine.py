"""The computation: indicator points, subtotals, totals, ranks, grades, intervals, flags."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext

from cachetools import LRUCache, cached

from .amounts import CONTEXT, ZERO, format_amount, q
from .flags import Flag, FlagInput, flag_units
from .methods import score_column
from .ranking import grade_for, rank_keys, ranking_key
from .validation import Document, Indicator, Sensitivity, parse_document


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

    def as_dict(self) -> dict[str, object]:
        """Return the result in the JSON shape of docs/rules.md#engine-document (amounts as
        strings)."""
        shown: dict[str, object] = {
            "unit": self.unit,
            "name": self.name,
            "rank": self.rank,
            "total": format_amount(self.total),
            "dimensions": {code: format_amount(v) for code, v in self.dimensions.items()},
            "indicators": {code: format_amount(v) for code, v in self.indicators.items()},
            "bonus": format_amount(self.bonus),
            "penalty": format_amount(self.penalty),
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
        shown: dict[str, object] = {"results": [r.as_dict() for r in self.results]}
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


def _rank_number(rank: Decimal) -> int | float:
    """Show a percentile rank as a JSON number: whole ranks as integers."""
    return int(rank) if rank == rank.to_integral_value() else float(rank)


def _column_key(indicator: Indicator, column: tuple) -> tuple:
    """The key of a scored column: the indicator's scoring rule and the column's values."""
    fractions = indicator.grade_fractions
    return (
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
@cached(LRUCache(maxsize=64), key=_column_key, lock=threading.Lock())
def _scored_column(indicator: Indicator, column: tuple) -> tuple[Decimal | None, ...]:
    return tuple(score_column(indicator, column))


def forget_scored_columns() -> None:
    """Forget the columns kept, so the next computation scores every column (benchmarks)."""
    _scored_column.cache_clear()


def _capped(amount: Decimal, cap: Decimal | None) -> Decimal:
    return q(amount if cap is None else min(amount, cap))


def score_document(document: Document) -> ScoreResult:
    """Compute a checked document: points, totals, ranks, grades, intervals and flags."""
    with localcontext(CONTEXT):
        return _score(document)


def _score(document: Document) -> ScoreResult:
    scheme = document.scheme
    units = document.units
    codes = [u.code for u in units]
    indicators = scheme.indicators

    # Score indicator by indicator: a relative indicator needs the whole column at once.
    columns = []
    for indicator in indicators:
        column = tuple(document.values.get((code, indicator.code)) for code in codes)
        columns.append(_scored_column(indicator, column))

    # Each unit's figures first; its UnitResult is made once its rank is known.
    figures: list[dict] = []
    for position, unit in enumerate(units):
        points: dict[str, Decimal] = {}
        missing: list[str] = []
        for indicator, column in zip(indicators, columns, strict=True):
            earned = column[position]
            if earned is None:
                missing.append(indicator.code)
                earned = ZERO
            points[indicator.code] = earned
        subtotals = {
            dim.code: sum((points[i.code] for i in dim.indicators), ZERO)
            for dim in scheme.dimensions
        }
        bonus = _capped(document.bonus.get(unit.code, ZERO), scheme.bonus_cap)
        penalty = _capped(document.penalty.get(unit.code, ZERO), scheme.penalty_cap)
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
                "missing": tuple(missing),
            }
        )

    ranks = rank_keys([ranking_key(f["total"], f["vetoed"]) for f in figures], scheme.tie_method)
    intervals: list[RankInterval | None] = [None] * len(figures)
    if document.sensitivity is not None:
        intervals = list(_rank_intervals(document, document.sensitivity, figures))
    results = [
        UnitResult(rank=rank, sensitivity=interval, **unit_figures)
        for unit_figures, rank, interval in zip(figures, ranks, intervals, strict=True)
    ]

    flags = None
    if document.flags is not None:
        flags = tuple(
            flag_units(
                [
                    FlagInput(r.unit, r.total, r.vetoed, r.complete, r.entered)
                    for r in results
                ],
                document.flags,
            )
        )
    # Listed by rank, then in the units' input order (sorted() is stable).
    ordered = sorted(range(len(results)), key=ranks.__getitem__)
    return ScoreResult(tuple(results[i] for i in ordered), flags)


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
    docs/rules.md#engine-document."""
    return evaluate(document).as_dict()
