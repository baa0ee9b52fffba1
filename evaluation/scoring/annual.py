"""年度综合考评: the annual combination, grade quotas and calibration (docs/annual.md).

Pure and exact, like the rest of the engine:

* ``weight_problems`` — the source periods' weights: each > 0 with at most two decimals,
  adding up to exactly 100.
* ``combine`` — a unit's annual total is ``q(Σ weight × source total / 100)``, rounded
  once; a unit vetoed in any source period is vetoed for the year; a unit absent from a
  source counts 0 there and the source is listed in its ``missing``. Ranks and grades
  follow the ordinary rules (``ranking.rank_keys``, ``ranking.grade_for``).
* ``apply_quotas`` — bands with a quota hold at most ``max(1, floor(N % × units))``
  units, best ranks first; the rest take the next band; a tie group that would cross the
  limit goes down whole.
* ``calibration_problems`` — a calibration moves a unit at most one band from its quota
  grade and must leave every quota kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_FLOOR, Decimal

from .amounts import CONTEXT, ZERO, has_two_decimals_at_most, q
from .ranking import grade_for, rank_keys, ranking_key
from .validation import GradeBand

HUNDRED = Decimal(100)


def weight_problems(weights: Sequence[Decimal]) -> list[str]:
    """Return what is wrong with the weights (English codes' messages); empty when fine."""
    problems = []
    if not weights:
        return ["at least one source period is needed"]
    for index, weight in enumerate(weights):
        if not isinstance(weight, Decimal) or not weight.is_finite():
            problems.append(f"weight {index + 1} is not a number")
        elif weight <= 0:
            problems.append(f"weight {index + 1} must be greater than 0")
        elif not has_two_decimals_at_most(weight):
            problems.append(f"weight {index + 1} has more than two decimals")
    if not problems:
        total = sum(weights, ZERO)
        if total != HUNDRED:
            problems.append(f"weights add up to {total}, not 100")
    return problems


def quota_limit(percent: Decimal, units: int) -> int:
    """How many units a band with a quota of ``percent`` % may hold: rounded down, at least 1."""
    share = (percent * units / HUNDRED).to_integral_value(rounding=ROUND_FLOOR, context=CONTEXT)
    return max(1, int(share))


def quota_problems(quotas: Mapping[str, Decimal], bands: Sequence[GradeBand]) -> list[str]:
    """Quotas name a band other than the last, with a percent in (0, 100], two decimals."""
    names = [band.name for band in bands]
    problems = []
    for name, percent in quotas.items():
        if name not in names:
            problems.append(f"quota for unknown band {name!r}")
        elif name == names[-1]:
            problems.append(f"the last band {name!r} cannot have a quota")
        if not isinstance(percent, Decimal) or not percent.is_finite():
            problems.append(f"quota of {name!r} is not a number")
        elif not (0 < percent <= HUNDRED) or not has_two_decimals_at_most(percent):
            problems.append(f"quota of {name!r} must be in (0, 100] with two decimals at most")
    return problems


def combine(
    units: Sequence[tuple[str, str]],
    sources: Sequence[Mapping],
    bands: Sequence[GradeBand],
    tie_method: str,
) -> list[dict]:
    """Combine source periods' results into the annual ranking, listed by rank.

    ``units``: ``(code, name)`` in input order. ``sources``: ``{"code", "weight",
    "results": [{"unit", "total", "vetoed"}]}`` — totals as two-decimal strings or
    Decimals. Returns per unit ``{"unit", "name", "parts": {source code: total or None},
    "total", "vetoed", "missing", "rank", "grade"}`` (amounts as Decimals).
    """
    by_source = [
        (source["code"], source["weight"], {r["unit"]: r for r in source["results"]})
        for source in sources
    ]
    rows = []
    for code, name in units:
        weighted = ZERO
        vetoed = False
        parts: dict[str, Decimal | None] = {}
        missing = []
        for source_code, weight, results in by_source:
            result = results.get(code)
            if result is None:
                parts[source_code] = None
                missing.append(source_code)
                continue
            total = Decimal(str(result["total"]))
            parts[source_code] = total
            weighted += weight * total
            vetoed = vetoed or bool(result.get("vetoed"))
        total = q(CONTEXT.divide(weighted, HUNDRED))
        rows.append(
            {"unit": code, "name": name, "parts": parts, "total": total, "vetoed": vetoed,
             "missing": missing}
        )  # fmt: skip
    ranks = rank_keys([ranking_key(r["total"], r["vetoed"]) for r in rows], tie_method)
    for row, rank in zip(rows, ranks, strict=True):
        row["rank"] = rank
        row["grade"] = grade_for(row["total"], bands, row["vetoed"])
    order = sorted(range(len(rows)), key=lambda i: (ranks[i], i))
    return [rows[i] for i in order]


def apply_quotas(
    rows: Sequence[Mapping], bands: Sequence[GradeBand], quotas: Mapping[str, Decimal]
) -> tuple[list[str], list[dict]]:
    """Apply the grade quotas to ranked rows (listed by rank, each with ``rank``, ``grade``).

    Returns the grade of each row after the quotas (same order) and the notes: one per
    band whose quota lowered units, ``{"band", "limit", "lowered": [indexes],
    "tie": [indexes] or [] , "to"}`` — ``tie`` names the tie group that crossed the limit.
    """
    names = [band.name for band in bands]
    grades = [row["grade"] for row in rows]
    notes = []
    count = len(rows)
    for position, band in enumerate(names[:-1]):
        if band not in quotas:
            continue
        limit = quota_limit(quotas[band], count)
        members = [i for i in range(count) if grades[i] == band]
        kept, lowered, tie = 0, [], []
        start = 0
        while start < len(members):
            end = start
            while end < len(members) and rows[members[end]]["rank"] == rows[members[start]]["rank"]:
                end += 1
            group = members[start:end]
            if lowered or kept + len(group) > limit:
                if not lowered and kept < limit:
                    tie = list(group)  # the group straddles the limit: it goes down whole
                lowered.extend(group)
            else:
                kept += len(group)
            start = end
        if lowered:
            below = names[position + 1]
            for i in lowered:
                grades[i] = below
            notes.append(
                {"band": band, "limit": limit, "lowered": lowered, "tie": tie, "to": below}
            )
    return grades, notes


def calibration_problems(
    rows: Sequence[Mapping],
    quota_grades: Sequence[str],
    final_grades: Sequence[str],
    index: int,
    grade: str,
    bands: Sequence[GradeBand],
    quotas: Mapping[str, Decimal],
) -> list[str]:
    """What forbids giving row ``index`` the grade ``grade`` (empty: allowed).

    ``quota_grades``: each row's grade after the quotas; ``final_grades``: after the
    calibrations so far. The new grade is at most one band from the quota grade (equal to
    it withdraws a calibration); a vetoed unit keeps the last band; afterwards no band
    holds more units than its quota allows.
    """
    names = [band.name for band in bands]
    if grade not in names:
        return [f"unknown grade {grade!r}"]
    if rows[index]["vetoed"]:
        return ["a vetoed unit keeps the last band"]
    if abs(names.index(grade) - names.index(quota_grades[index])) > 1:
        return ["a calibration moves one band up or down at most"]
    after = list(final_grades)
    after[index] = grade
    problems = []
    for band, percent in quotas.items():
        limit = quota_limit(percent, len(rows))
        held = sum(1 for g in after if g == band)
        if held > limit and held > sum(1 for g in final_grades if g == band):
            problems.append(f"band {band!r} would hold {held} units, its quota allows {limit}")
    return problems
