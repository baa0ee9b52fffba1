"""Scores: list a period's raw values with points, and the one write door (PUT).

The PUT body is checked against ``schemas.ScoreChange`` before the view runs; the view
then reads it once more exactly (JSON decimals as ``Decimal``) and hands it to
``scores.operations.set_score``, which checks the role, the period's state, the value
against its indicator and the version (docs/api.md).
"""

from __future__ import annotations

import json

from flask import g, jsonify, request
from sqlalchemy import and_, case, select
from sqlalchemy.orm import contains_eager

from evaluation import scoring
from evaluation.api import bp, spec, token_required
from evaluation.api.periods import PATH_PARAMETERS, _level_arg, _period_or_404
from evaluation.api.schemas import ScoreChange, Scores, ScoreSaved, ScoresQuery, answers
from evaluation.core.writing import InvalidInput, NotFound
from evaluation.history import chain as history
from evaluation.ranking import reading
from evaluation.scores import operations as ledger
from evaluation.scoring import format_amount
from models import Indicator, Period, Score, Unit, db


def _score_dict(score: Score, points: str | None) -> dict:
    return {
        "unit": score.unit.code,
        "indicator": score.indicator.code,
        "value": score.value,
        "points": points,
        "note": score.note,
        "version": score.version,
        "entered_by": score.entered_by,
        "updated_at": history.format_at(score.updated_at),
    }


def _points_table(period: Period, level: str) -> dict[tuple[str, str], str]:
    try:
        results = reading.ranking(period, level)["results"]
    except InvalidInput:  # a scheme the engine refuses: values listed without points
        return {}
    return {
        (result["unit"], code): points
        for result in results
        for code, points in result["indicators"].items()
        if code not in result["missing"]
    }


@bp.get("/periods/<code>/scores")
@token_required("entry.view")
@spec.validate(
    query=ScoresQuery,
    resp=answers(Scores, "数值", 401, 403, 404, 422),
    path_parameter_descriptions=PATH_PARAMETERS,
    tags=["数值"],
)
def period_scores(code: str):
    """周期的原始数值与得分"""
    period = _period_or_404(code)
    level = _level_arg()
    scheme = reading.scheme_for(period, level)
    query = (
        select(Score)
        .join(Unit, Unit.id == Score.unit_id)
        .join(Indicator, Indicator.id == Score.indicator_id)
        .where(Score.period_id == period.id, Indicator.scheme_id == scheme.id)
        .options(contains_eager(Score.unit), contains_eager(Score.indicator))
        .order_by(Unit.sort_order, Unit.code, Indicator.order, Indicator.id)
    )
    if request.args.get("unit"):
        unit = db.session.scalar(select(Unit).where(Unit.code == request.args["unit"]))
        if unit is None:
            raise NotFound(f"没有代码为 {request.args['unit']} 的单位")
        query = query.where(Score.unit_id == unit.id)
    if request.args.get("indicator"):
        indicator = db.session.scalar(
            select(Indicator).where(
                Indicator.scheme_id == scheme.id, Indicator.code == request.args["indicator"]
            )
        )
        if indicator is None:
            raise NotFound(f"方案 {scheme.code} 中没有指标 {request.args['indicator']}")
        query = query.where(Score.indicator_id == indicator.id)
    scores = db.session.scalars(query).all()
    if request.args.get("unit") and request.args.get("indicator"):
        # One cell: its points need its own value (a relative indicator: its column), not
        # the whole period ranked.
        points = {
            (score.unit.code, score.indicator.code): _cell_points(period, score)
            for score in scores
        }
    else:
        points = _points_table(period, level)
    return jsonify(
        [
            _score_dict(score, points.get((score.unit.code, score.indicator.code)))
            for score in scores
        ]
    )


def _cell_points(period: Period, score: Score) -> str | None:
    """The points of one stored value, as the period's ranking lists them: none for a unit
    the ranking leaves out (inactive, or a village not typical) or a scheme it refuses."""
    unit = score.unit
    if not unit.active or (unit.level == "village" and unit.typical_batch is None):
        return None
    try:
        points = ledger.score_points(period, unit, score.indicator)
    except scoring.ScoringError:
        return None
    return None if points is None else format_amount(points)


def _score_body() -> dict:
    """Read the PUT body exactly: a JSON decimal as its own text, never a float.

    Its shape was checked against ``ScoreChange`` before the view ran, so it is a JSON
    object with a ``value``, a string ``note`` or none, and ``version`` null or ≥ 1. The
    ledger reads the value's text by the one rule every door shares, so ``1e3`` is refused
    here as on the entry page and in an import (docs/values-and-ranges.md).
    """
    return json.loads(request.get_data(as_text=True), parse_float=str)


def _cell_or_404(code: str, unit_code: str, indicator_code: str):
    """The period, unit and indicator (of the period's scheme for the unit's level) a PUT
    names, read in one query; 404 naming the first one missing."""
    scheme_id = case(
        (Unit.level == "village", Period.village_scheme_id), else_=Period.town_scheme_id
    )
    row = db.session.execute(
        select(Period, Unit, Indicator)
        .select_from(Period)
        .outerjoin(Unit, Unit.code == unit_code)
        .outerjoin(
            Indicator, and_(Indicator.scheme_id == scheme_id, Indicator.code == indicator_code)
        )
        .where(Period.code == code)
    ).first()
    if row is None:
        raise NotFound(f"没有代码为 {code} 的考核周期")
    period, unit, indicator = row
    if unit is None:
        raise NotFound(f"没有代码为 {unit_code} 的单位")
    if indicator is None:
        raise NotFound(f"本周期「{unit.name}」适用的方案中没有指标 {indicator_code}")
    return period, unit, indicator


@bp.put("/periods/<code>/scores/<unit_code>/<indicator_code>")
@token_required("score.write")
@spec.validate(
    json=ScoreChange,
    resp=answers(
        ScoreSaved,
        "已保存（changed 为 false 表示与原值相同，未记录变更）",
        401, 403, 404, 409, 422,
    ),
    path_parameter_descriptions=PATH_PARAMETERS,
    tags=["数值"],
)
def put_score(code: str, unit_code: str, indicator_code: str):
    """录入或修改一个数值（乐观锁：version）"""
    period, unit, indicator = _cell_or_404(code, unit_code, indicator_code)
    body = _score_body()
    version = body.get("version")
    # The points are worked out before the write lock, which then guards the write alone.
    points = ledger.value_points(period, unit, indicator, body["value"])
    # No note given (None): the ledger keeps the stored one.
    score = ledger.set_score(
        g.api_user, period, unit, indicator, body["value"], note=body.get("note"),
        version=version,
    )
    # An identical value keeps its version: nothing was written, no event recorded.
    changed = score.version != version
    return jsonify(
        {
            **_score_dict(score, None if points is None else format_amount(points)),
            "changed": changed,
        }
    )
