"""``GET /api/v1/periods/<code>/ranking``: the engine's result, live or from the snapshot."""

from __future__ import annotations

from flask import jsonify

from evaluation.api import bp, spec, token_required
from evaluation.api.periods import PATH_PARAMETERS, _level_arg, _period_or_404
from evaluation.api.schemas import LevelQuery, Ranking, answers
from evaluation.grades import shown_grade
from evaluation.ranking import reading


@bp.get("/periods/<code>/ranking")
@token_required("ranking.view")
@spec.validate(
    query=LevelQuery,
    resp=answers(Ranking, "排名", 401, 403, 404, 422),
    path_parameter_descriptions=PATH_PARAMETERS,
    tags=["排名"],
)
def period_ranking(code: str):
    """排名（已审定周期取自快照并给出哈希）"""
    period = _period_or_404(code)
    answer = reading.ranking(period, _level_arg())
    # ``grade`` stays the engine's; ``grade_shown`` is what a reader should see
    # (数据不全 while a value is missing, docs/missing-values.md).
    for result in answer["results"]:
        result["grade_shown"] = shown_grade(result)
    return jsonify(answer)
