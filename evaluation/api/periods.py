"""Periods: the list, a period's scheme and its typical-village flags.

``_period_or_404`` and ``_level_arg`` are shared with ``ranking`` and ``scores``.
"""

from __future__ import annotations

from decimal import Decimal

from flask import g, jsonify, request
from sqlalchemy import select

from evaluation.api import bp, spec, token_required
from evaluation.api.schemas import Flags, LevelQuery, Periods, Scheme, answers
from evaluation.core.numbers import exact
from evaluation.core.permissions import can
from evaluation.core.writing import NotFound
from evaluation.ranking import reading
from models import Period, db

#: The path parameters every ``/periods/<code>/…`` operation documents.
PATH_PARAMETERS = {
    "code": "考核周期代码，如 2026Q3",
    "unit_code": "单位代码（12 位行政区划代码）",
    "indicator_code": "指标代码，如 E01",
}


@bp.get("/periods")
@token_required("period.view")
@spec.validate(resp=answers(Periods, "周期", 401, 403), tags=["周期"])
def periods():
    """考核周期列表"""
    rows = db.session.scalars(select(Period).order_by(Period.start_date, Period.code))
    return jsonify(
        [
            {
                "code": p.code,
                "name": p.name,
                "status": p.status,
                "start": p.start_date.isoformat(),
                "end": p.end_date.isoformat(),
            }
            for p in rows
        ]
    )


def _period_or_404(code: str) -> Period:
    period = db.session.scalar(select(Period).where(Period.code == code))
    if period is None:
        raise NotFound(f"没有代码为 {code} 的考核周期")
    return period


def _level_arg() -> str:
    """The ``level`` query parameter, already checked against ``LevelQuery``."""
    return request.context.query.level


def _json_number(amount: Decimal) -> int | float | str:
    """Write an amount as a JSON number with exactly its decimal digits.

    The float is only the JSON carrier: it is used when its shortest text is the
    amount itself (always so for points and targets), and a reader such as
    ``evaluation.scoring.loads`` gets the exact Decimal back.
    """
    if amount == amount.to_integral_value():
        return int(amount)
    carrier = float(amount)
    return carrier if Decimal(repr(carrier)) == amount else exact(amount)


def _with_json_numbers(data):
    if isinstance(data, Decimal):
        return _json_number(data)
    if isinstance(data, dict):
        return {key: _with_json_numbers(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_with_json_numbers(value) for value in data]
    return data


@bp.get("/periods/<code>/scheme")
@token_required("scheme.view")
@spec.validate(
    query=LevelQuery,
    resp=answers(Scheme, "方案", 401, 403, 404, 422),
    path_parameter_descriptions=PATH_PARAMETERS,
    tags=["周期"],
)
def period_scheme(code: str):
    """周期的指标方案（计分引擎的方案形式，数值为精确的 JSON 数字）"""
    period = _period_or_404(code)
    scheme = reading.scheme_for(period, _level_arg())
    return jsonify(_with_json_numbers(reading.scheme_document(scheme)))


@bp.get("/periods/<code>/flags")
@token_required("review.view")
@spec.validate(
    resp=answers(Flags, "每个典型村一条，已标记或无异常", 401, 403, 404),
    path_parameter_descriptions=PATH_PARAMETERS,
    tags=["周期"],
)
def period_flags(code: str):
    """典型村研判提示（研判员只看本组）"""
    period = _period_or_404(code)
    answer = reading.flags(period)
    user = g.api_user
    if not can(user, "review.all_groups"):
        # A reviewer sees the typical villages of their own analysis group only.
        own = user.group.name if user.group is not None else None
        answer["flags"] = [f for f in answer["flags"] if own and f["analysis_group"] == own]
    return jsonify(answer)
