"""What-if (docs/weights.md#what-if): a period's values scored under another scheme version of
the same level (a draft, typically), beside the ranking as it stands. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import numpy as np

from evaluation.core.writing import InvalidInput
from evaluation.ranking import reading
from evaluation.scoring.diagnostics import spearman
from models import Period, Scheme

__all__ = ["Comparison", "compare", "points_from"]

#: The query field of an indicator's points changed in place: ``p_<code>``.
POINTS_FIELD = "p_"


@dataclass
class Comparison:
    period: Period
    level: str
    scheme: Scheme
    rows: list[dict]
    rho: float | None
    moved: int
    largest: int
    #: Indicators of the other version the period has no value for (they score 0).
    without_values: list[str]
    #: Indicators of the period's scheme the other version leaves out.
    left_out: list[str]
    #: Points changed in place (not saved): code → (the version's points, the ones used).
    changed: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)


def points_from(args: Mapping[str, str], scheme: Scheme) -> dict[str, Decimal]:
    """Read the points changed in place on the page (``p_<code>``, docs/weights.md#what-if):
    those that differ from ``scheme``'s; ``InvalidInput`` (Chinese) for one that is no
    number. Whether they fit the scheme (two decimals, above 0, adding up to its total) is
    the engine's check."""
    stored = {i["code"]: i["points"] for d in reading.scheme_document(scheme)["dimensions"]
              for i in d["indicators"]}  # fmt: skip
    changed, problems = {}, []
    for code, points in stored.items():
        text = (args.get(POINTS_FIELD + code) or "").strip()
        if not text:
            continue
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            problems.append(f"指标 {code} 的分值“{text[:20]}”不是数字")
        elif number != points:
            changed[code] = number
    if problems:
        raise InvalidInput("；".join(problems), details=problems)
    return changed


def compare(
    period: Period, level: str, scheme: Scheme, points: Mapping[str, Decimal] | None = None
) -> Comparison:
    """Rank ``period``'s units as they stand and under ``scheme``, with ``points`` (code →
    points, from ``points_from``) in place of its own where given; ``InvalidInput``
    (Chinese) when the scheme is for another level or cannot score the period's values."""
    if scheme.level != level:
        raise InvalidInput(f"指标方案 {scheme.code} 不适用于这一层级")
    now = reading.ranking(period, level)["results"]
    document = reading.engine_input(period, level)
    other = reading.scheme_document(scheme)
    changed = {}
    for dimension in other["dimensions"]:
        for indicator in dimension["indicators"]:
            if points and indicator["code"] in points:
                changed[indicator["code"]] = (indicator["points"], points[indicator["code"]])
                indicator["points"] = points[indicator["code"]]
    codes = [i["code"] for d in other["dimensions"] for i in d["indicators"]]
    present = {v["indicator"] for v in document["values"]}
    current = [i["code"] for d in document["scheme"]["dimensions"] for i in d["indicators"]]
    document["scheme"] = other
    document["values"] = [v for v in document["values"] if v["indicator"] in set(codes)]
    document.pop("sensitivity", None)
    then = reading.compute(document)["results"]
    after = {r["unit"]: r for r in then}
    rows = []
    for result in now:
        moved = after.get(result["unit"])
        if moved is None:
            continue
        rows.append({
            "unit": result["unit"], "name": result["name"],
            "rank": result["rank"], "new_rank": moved["rank"],
            "move": result["rank"] - moved["rank"],
            "total": result["total"], "new_total": moved["total"],
            "grade": result["grade"], "new_grade": moved["grade"],
            "vetoed": result["vetoed"],
        })  # fmt: skip
    rows.sort(key=lambda r: (r["new_rank"], r["rank"]))
    rho = None
    if len(rows) >= 3:
        table = np.array([[r["rank"], r["new_rank"]] for r in rows], dtype=float)
        value = spearman(table)[0, 1]
        rho = None if np.isnan(value) else float(value)
    moves = [abs(r["move"]) for r in rows]
    return Comparison(
        period=period,
        level=level,
        scheme=scheme,
        rows=rows,
        rho=rho,
        moved=sum(1 for m in moves if m),
        largest=max(moves, default=0),
        without_values=[c for c in codes if c not in present],
        left_out=[c for c in current if c not in set(codes)],
        changed=changed,
    )
