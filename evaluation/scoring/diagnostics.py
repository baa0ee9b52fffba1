"""Indicator diagnostics for one period's results (docs/weights.md#diagnostics).

Pure (numpy and Decimal, no Flask, no database). From each unit's indicator points:

- the Pearson and Spearman correlation of every pair of indicators, and flags for a pair
  within one dimension that is redundant (|r| ≥ 0.9) or pulling apart (r < 0);
- Cronbach's alpha of each dimension with at least two indicators;
- each indicator's effective weight: its share of the variance of the points' sum,
  cov(x_i, S) / var(S), beside its nominal share P_i / Σ P;
- the rank impact of leaving each indicator out: the mean absolute change of rank when
  its points are taken off every unit's total (bonus, penalty and veto kept; the
  scheme's tie rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from .ranking import rank_keys, ranking_key
from .validation import Problem, ScoringError

__all__ = ["MIN_UNITS", "REDUNDANT", "Diagnostics", "PairFlag", "diagnose", "spearman"]

MIN_UNITS = 3
#: |r| at or above this within a dimension: the two indicators count the same thing twice.
REDUNDANT = 0.9


@dataclass(frozen=True)
class PairFlag:
    """Two indicators of one dimension whose points move together or apart."""

    first: int
    second: int
    kind: str  # "redundant" (|r| ≥ 0.9) or "opposed" (r < 0)
    r: float


@dataclass(frozen=True)
class Diagnostics:
    """The figures of ``diagnose``; matrices are k × k numpy arrays (nan: undefined)."""

    indicators: tuple[str, ...]
    dimensions: tuple[str, ...]
    units: int
    pearson: np.ndarray
    spearman: np.ndarray
    flags: tuple[PairFlag, ...]
    alpha: dict[str, float | None]
    nominal: tuple[float, ...]
    effective: tuple[float | None, ...]
    rank_change: tuple[float, ...]


def _average_ranks(column: np.ndarray) -> np.ndarray:
    """Ranks 1…m with ties given their average rank (as Spearman's coefficient needs)."""
    order = np.argsort(column, kind="stable")
    ranks = np.empty(len(column))
    ranks[order] = np.arange(1, len(column) + 1)
    values, inverse = np.unique(column, return_inverse=True)
    sums = np.bincount(inverse, weights=ranks)
    counts = np.bincount(inverse)
    return (sums / counts)[inverse]


def _correlation(table: np.ndarray) -> np.ndarray:
    k = table.shape[1]
    out = np.full((k, k), np.nan)
    centred = table - table.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    live = norms > 0
    for i in range(k):
        out[i, i] = 1.0 if live[i] else np.nan
        for j in range(i + 1, k):
            if live[i] and live[j]:
                r = float(centred[:, i] @ centred[:, j] / (norms[i] * norms[j]))
                out[i, j] = out[j, i] = max(-1.0, min(1.0, r))
    return out


def spearman(table: np.ndarray) -> np.ndarray:
    """Spearman's rank correlation of every pair of columns: Pearson's on average ranks."""
    ranked = np.column_stack([_average_ranks(table[:, j]) for j in range(table.shape[1])])
    return _correlation(ranked)


def _alpha(block: np.ndarray) -> float | None:
    k = block.shape[1]
    if k < 2:
        return None
    total_variance = block.sum(axis=1).var(ddof=1)
    if total_variance == 0:
        return None
    return float(k / (k - 1) * (1 - block.var(axis=0, ddof=1).sum() / total_variance))


def diagnose(
    points: Sequence[Sequence[Decimal]],
    indicators: Sequence[str],
    dimensions: Sequence[str],
    nominal_points: Sequence[Decimal],
    totals: Sequence[Decimal],
    vetoed: Sequence[bool],
    tie_method: str = "competition",
) -> Diagnostics:
    """Diagnose one period: ``points[u][i]`` is unit u's points on indicator i (units with
    a value for every indicator), ``dimensions[i]`` the dimension code of indicator i,
    ``totals`` and ``vetoed`` each unit's total and veto as ranked."""
    if len(points) < MIN_UNITS:
        raise ScoringError([
            Problem.of("units", "diagnostics.too_few_units", units=len(points), minimum=MIN_UNITS)
        ])  # fmt: skip
    table = np.array([[float(x) for x in row] for row in points], dtype=float)
    k = len(indicators)
    pearson = _correlation(table)
    rank_corr = spearman(table)
    flags = []
    for i in range(k):
        for j in range(i + 1, k):
            r = pearson[i, j]
            if dimensions[i] != dimensions[j] or np.isnan(r):
                continue
            if abs(r) >= REDUNDANT:
                flags.append(PairFlag(i, j, "redundant", float(r)))
            elif r < 0:
                flags.append(PairFlag(i, j, "opposed", float(r)))
    alpha = {}
    for code in dict.fromkeys(dimensions):
        columns = [i for i in range(k) if dimensions[i] == code]
        alpha[code] = _alpha(table[:, columns])
    total_points = sum(nominal_points, Decimal(0))
    nominal = tuple(float(p / total_points) if total_points else 0.0 for p in nominal_points)
    summed = table.sum(axis=1)
    variance = summed.var(ddof=1)
    effective: tuple[float | None, ...]
    if variance > 0:
        effective = tuple(
            float(np.cov(table[:, i], summed, ddof=1)[0, 1] / variance) for i in range(k)
        )
    else:
        effective = (None,) * k
    base = rank_keys([ranking_key(t, v) for t, v in zip(totals, vetoed, strict=True)], tie_method)
    changes = []
    for i in range(k):
        keys = [
            ranking_key(max(Decimal(0), t - Decimal(row[i])), v)
            for t, v, row in zip(totals, vetoed, points, strict=True)
        ]
        moved = rank_keys(keys, tie_method)
        changes.append(sum(abs(a - b) for a, b in zip(base, moved, strict=True)) / len(base))
    return Diagnostics(
        indicators=tuple(indicators),
        dimensions=tuple(dimensions),
        units=len(points),
        pearson=pearson,
        spearman=rank_corr,
        flags=tuple(flags),
        alpha=alpha,
        nominal=nominal,
        effective=effective,
        rank_change=tuple(changes),
    )
