"""What 公示 shows (docs/publication.md#what-a-town-sees): a town's figures, the district
ranking when shown, and the 公示表 (printed on A4 and as PDF).

Every figure is read through ``ranking.reading`` (the one reader), so the 公示 page, its
sheet and the ranking page cannot disagree.
"""

from __future__ import annotations

from sqlalchemy import select

from evaluation.periods import operations as periods
from evaluation.publication import operations as publication
from evaluation.ranking import reading
from models import Adjustment, Dimension, Indicator, Period, Score, Unit, Veto, db
from models.ledger import ADJUSTMENT_KINDS

__all__ = ["district_rows", "snapshot_to_be", "town_sheet"]


def snapshot_to_be(period: Period) -> str | None:
    """The SHA-256 the town snapshot would carry if the period were approved now (the
    approved one's own hash once approved)."""
    snapshot = reading.current_snapshot(period, "town")
    if snapshot is not None and period.status == "approved":
        return snapshot.sha256
    text, _, _ = periods.snapshot_text(period, "town")
    return periods.snapshot_digest(text)


def district_rows(period: Period) -> tuple[list[dict], list[tuple[str, str]]]:
    """The district's ranking rows and the dimensions ``(code, name)`` in scheme order."""
    scheme = reading.scheme_for(period, "town")
    dimensions = [
        (d.code, d.name)
        for d in db.session.scalars(
            select(Dimension).where(Dimension.scheme_id == scheme.id).order_by(Dimension.order)
        )
    ]
    return reading.ranking(period, "town")["results"], dimensions


def town_sheet(period: Period, unit: Unit) -> dict:
    """A town's figures in the period: each indicator's value and points, the subtotals,
    bonus and penalty items, the veto, total, rank and grade."""
    results, dimensions = district_rows(period)
    result = next((r for r in results if r["unit"] == unit.code), None)
    scheme = reading.scheme_for(period, "town")
    values = {
        score.indicator_id: score
        for score in db.session.scalars(
            select(Score).where(Score.period_id == period.id, Score.unit_id == unit.id)
        )
    }
    indicators = db.session.execute(
        select(Indicator, Dimension)
        .join(Dimension, Dimension.id == Indicator.dimension_id)
        .where(Indicator.scheme_id == scheme.id)
        .order_by(Dimension.order, Indicator.order, Indicator.id)
    ).all()
    rows = []
    for indicator, dimension in indicators:
        score = values.get(indicator.id)
        rows.append(
            {
                "dimension": dimension.name,
                "code": indicator.code,
                "name": indicator.name,
                "full": indicator.points,
                "value": score.value if score is not None else None,
                "points": (result or {}).get("indicators", {}).get(indicator.code),
            }
        )
    adjustments = [
        {
            "id": a.id,
            "kind": a.kind,
            "kind_name": ADJUSTMENT_KINDS[a.kind],
            "points": a.points,
            "reason": a.reason,
        }
        for a in db.session.scalars(
            select(Adjustment)
            .where(Adjustment.period_id == period.id, Adjustment.unit_id == unit.id)
            .order_by(Adjustment.id)
        )
    ]
    veto = db.session.scalar(
        select(Veto).where(Veto.period_id == period.id, Veto.unit_id == unit.id)
    )
    window = publication.window_of(publication.current_window(period))
    return {
        "period": period,
        "unit": unit,
        "window": window,
        "rows": rows,
        "dimensions": [
            {"code": code, "name": name, "subtotal": (result or {}).get("dimensions", {}).get(code)}
            for code, name in dimensions
        ],
        "adjustments": adjustments,
        "veto": veto.reason if veto is not None else None,
        "result": result,
        "towns": len(results),
        "ranking": results if window is not None and window.row.show_ranking else None,
    }


def current_hash(period: Period) -> str | None:
    """The approved period's town snapshot hash, else None."""
    if period.status != "approved":
        return None
    snapshot = reading.current_snapshot(period, "town")
    return snapshot.sha256 if snapshot is not None else None


def town_json(data: dict) -> dict:
    """``town_sheet`` as the API answers it (amounts as two-decimal strings)."""
    result = data["result"] or {}
    return {
        "unit": data["unit"].code,
        "name": data["unit"].name,
        "indicators": [{**row, "full": f"{row['full']:.2f}"} for row in data["rows"]],
        "dimensions": data["dimensions"],
        "adjustments": [
            {**item, "points": f"{item['points']:.2f}"} for item in data["adjustments"]
        ],
        "veto": data["veto"],
        "bonus": result.get("bonus"),
        "penalty": result.get("penalty"),
        "total": result.get("total"),
        "rank": result.get("rank"),
        "grade": result.get("grade"),
        "towns": data["towns"],
    }
