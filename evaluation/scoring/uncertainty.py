"""Rank uncertainty by resampling the indicator weights (docs/rules.md#rank-uncertainty), vectorized
with numpy.

Per sample *k* every indicator's points become ``P_i × (1 + s(2U_ki − 1))``, where the
``U`` are drawn as one ``samples × indicators`` array (sample-major, indicators in scheme
order) from ``numpy.random.default_rng(seed).random``; each sample's points are then
rescaled so they add up to the scheme's total. A unit keeps its achieved fraction
(points / P) of every indicator, its bonus, penalty and veto, so its sampled total is
``max(0, Σ fraction_i × weight_ki + bonus − penalty)``, rounded to two decimals (held as
whole cents) and ranked by the scheme's tie rule. Each unit then gets the 5th, 50th and
95th percentile of its sampled ranks (numpy's default linear percentile) and
``grade_at_risk``: the 5th–95th percentile range of its sampled totals crosses a grade
band's min, i.e. ``t5 < min ≤ t95`` for some band. A vetoed unit's grade is the last band
whatever its total, so it is never at risk. With ``s = 0`` every sample equals the
nominal result, so every interval is the nominal rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Samples are processed in blocks of about this many (sample, unit) cells, so memory stays
# bounded when a province's villages are resampled.
_BLOCK_CELLS = 1 << 20


@dataclass(frozen=True)
class RankIntervals:
    """Per-unit rank percentiles and grade risk, in the units' input order."""

    median_rank: np.ndarray
    q5_rank: np.ndarray
    q95_rank: np.ndarray
    grade_at_risk: np.ndarray


def rank_rows(keys: np.ndarray, tie_method: str) -> np.ndarray:
    """Rank every row of a (samples × units) key array, smaller keys first, ties shared."""
    rows, width = keys.shape
    ranks = np.empty((rows, width), dtype=np.int32)
    if width == 0:
        return ranks
    order = np.argsort(keys, axis=1, kind="stable")
    ordered = np.take_along_axis(keys, order, axis=1)
    starts_run = np.ones((rows, width), dtype=bool)
    starts_run[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    if tie_method == "competition":
        positions = np.broadcast_to(np.arange(width, dtype=np.int32), (rows, width))
        run_start = np.where(starts_run, positions, 0)
        ranks_in_order = np.maximum.accumulate(run_start, axis=1) + 1
    elif tie_method == "dense":
        ranks_in_order = np.cumsum(starts_run, axis=1, dtype=np.int32)
    else:
        raise ValueError(f"unknown tie method {tie_method!r}")
    np.put_along_axis(ranks, order, ranks_in_order.astype(np.int32, copy=False), axis=1)
    return ranks


def rank_intervals(
    fractions: np.ndarray,
    points: np.ndarray,
    total: float,
    adjustment: np.ndarray,
    vetoed: np.ndarray,
    tie_method: str,
    band_min_cents: Sequence[float],
    samples: int,
    spread: float,
    seed: int,
) -> RankIntervals:
    """Resample indicator weights and return every unit's rank percentiles and grade risk."""
    # fractions: (units × indicators) of points / P; points: the indicators' P;
    # adjustment: each unit's capped bonus minus capped penalty; vetoed: a bool array;
    # band_min_cents: every grade band's min in whole cents.
    rng = np.random.default_rng(seed)
    draws = rng.random((samples, points.size))
    weights = points * (1.0 + spread * (2.0 * draws - 1.0))
    weights *= total / weights.sum(axis=1, keepdims=True)

    units = fractions.shape[0]
    ranks = np.empty((samples, units), dtype=np.int32)
    cents = np.empty((samples, units), dtype=np.float64)
    block = max(1, _BLOCK_CELLS // max(units, 1))
    for start in range(0, samples, block):
        stop = min(start + block, samples)
        totals = weights[start:stop] @ fractions.T
        totals += adjustment
        np.maximum(totals, 0.0, out=totals)
        sampled_cents = np.rint(totals * 100.0)
        cents[start:stop] = sampled_cents
        # Key (vetoed, -total) as one number: vetoed units sit above every other key.
        keys = -sampled_cents
        keys += np.where(vetoed, sampled_cents.max(initial=0.0) + 1.0, 0.0)
        ranks[start:stop] = rank_rows(keys, tie_method)

    if units == 0:
        empty = np.empty(0)
        return RankIntervals(empty, empty, empty, np.empty(0, dtype=bool))
    q5, median, q95 = np.percentile(ranks, [5, 50, 95], axis=0)
    low_cents, high_cents = np.percentile(cents, [5, 95], axis=0)
    at_risk = np.zeros(units, dtype=bool)
    for band_cents in band_min_cents:
        at_risk |= (low_cents < band_cents) & (band_cents <= high_cents)
    at_risk &= ~vetoed
    return RankIntervals(median, q5, q95, at_risk)
