"""Ranks and grades (docs/rules.md#ranking-and-ties).

Tie rule: each unit's key is ``(vetoed, -total)``, so vetoed units come after all others
and, among equals in vetoing, a higher total ranks first. Equal keys tie.
``competition`` rank = 1 + the number of units with a strictly smaller key (1, 2, 2, 4);
``dense`` rank = 1 + the number of distinct smaller keys (1, 2, 2, 3, 中国式排名).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from .validation import GradeBand

RankKey = tuple[bool, Decimal]


def ranking_key(total: Decimal, vetoed: bool) -> RankKey:
    """Return a unit's ranking key: smaller keys rank first."""
    return (vetoed, -total)


def rank_keys(keys: Sequence[RankKey], tie_method: str) -> list[int]:
    """Rank keys by the tie rule ``competition`` or ``dense``; equal keys share a rank."""
    if tie_method not in ("competition", "dense"):
        raise ValueError(f"unknown tie method {tie_method!r}")
    order = sorted(range(len(keys)), key=keys.__getitem__)
    ranks = [0] * len(keys)
    distinct_before = 0
    first_position = 0
    previous: RankKey | None = None
    for position, index in enumerate(order):
        key = keys[index]
        if key != previous:
            distinct_before += 1
            first_position = position + 1
            previous = key
        ranks[index] = first_position if tie_method == "competition" else distinct_before
    return ranks


def grade_for(total: Decimal, bands: Sequence[GradeBand], vetoed: bool) -> str:
    """Return the grade of a total: the first band whose min ≤ total, the last if vetoed."""
    if not vetoed:
        for band in bands:
            if band.min <= total:
                return band.name
    # A vetoed unit, or a total below every band's min, gets the lowest grade.
    return bands[-1].name
