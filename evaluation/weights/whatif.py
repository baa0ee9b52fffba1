"""What-if (docs/weights.md#what-if): a period's values scored under another scheme version of
the same level (a draft, typically), beside the ranking as it stands. Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.core.writing import InvalidInput
from evaluation.ranking import reading
from evaluation.scoring.diagnostics import spearman
from models import Period, Scheme

__all__ = ["Comparison", "compare"]


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


def compare(period: Period, level: str, scheme: Scheme) -> Comparison:
    """Rank ``period``'s units as they stand and under ``scheme``; ``InvalidInput`` (Chinese)
    when the scheme is for another level or cannot score the period's values."""
    if scheme.level != level:
        raise InvalidInput(f"指标方案 {scheme.code} 不适用于这一层级")
    now = reading.ranking(period, level)["results"]
    document = reading.engine_input(period, level)
    other = reading.scheme_document(scheme)
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
    )
