"""``GET /api/v1/periods/<code>/units/<unit_code>/report``: 一镇一报告 (docs/reports.md)."""

from __future__ import annotations

from flask import g, jsonify

from evaluation.api import bp, spec, token_required
from evaluation.api.periods import PATH_PARAMETERS, _level_arg, _period_or_404
from evaluation.api.schemas import LevelQuery, TownReport, answers
from evaluation.reports.operations import unit_report


@bp.get("/periods/<code>/units/<unit_code>/report")
@token_required("report.view")
@spec.validate(
    query=LevelQuery,
    resp=answers(TownReport, "一镇一报告", 401, 403, 404, 422),
    path_parameter_descriptions=PATH_PARAMETERS,
    tags=["排名"],
)
def unit_report_json(code: str, unit_code: str):
    """一镇一报告：得分、名次、等次、各指标名次、优势与短板、与上期相比、差距测算"""
    period = _period_or_404(code)
    return jsonify(unit_report(g.api_user, period, unit_code, _level_arg()))
