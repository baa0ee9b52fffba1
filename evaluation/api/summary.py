"""``GET /api/v1/summary``: counts of the ledger and the list of periods."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import func, select

from evaluation.api import bp, spec, token_required
from evaluation.api.schemas import Summary, answers
from models import AnalysisGroup, Cadre, Indicator, KeyProject, Period, Unit, db


def current_scheme_counts() -> tuple[int, int]:
    """Count dimensions and indicators of the current town scheme (the newest period's)."""
    period = db.session.scalar(select(Period).order_by(Period.start_date.desc()).limit(1))
    if period is None:
        return 0, 0
    scheme = period.town_scheme
    return len(scheme.dimensions), db.session.scalar(
        select(func.count()).select_from(Indicator).where(Indicator.scheme_id == scheme.id)
    )


@bp.get("/summary")
@token_required()
@spec.validate(resp=answers(Summary, "概况", 401, 403), tags=["台账"])
def summary():
    """台账概况：单位、指标、小组、干部、项目数量与周期列表"""

    def count(query):
        return db.session.scalar(select(func.count()).select_from(query.subquery()))

    dimensions, indicators = current_scheme_counts()
    return jsonify(
        {
            "towns": count(select(Unit.id).where(Unit.level == "town", Unit.active)),
            "villages": count(select(Unit.id).where(Unit.level == "village", Unit.active)),
            "typical_villages": count(
                select(Unit.id).where(Unit.typical_batch.is_not(None), Unit.active)
            ),
            "dimensions": dimensions,
            "indicators": indicators,
            "analysis_groups": count(select(AnalysisGroup.id)),
            "cadres": count(select(Cadre.id).where(Cadre.active)),
            "key_projects": count(select(KeyProject.id)),
            "periods": list(
                db.session.scalars(select(Period.code).order_by(Period.start_date, Period.code))
            ),
        }
    )
