"""The JSON API ``/api/v1`` (SPEC §8.2): Bearer tokens, roles as on the web, JSON errors."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import wraps

from flask import Blueprint, Flask, g, jsonify, request
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from evaluation import loading
from evaluation.extensions import csrf
from evaluation.permissions import can
from evaluation.scoring import format_amount
from evaluation.services import accounts, history, ledger
from evaluation.services.core import InvalidInput, NotFound, ServiceError
from models import (
    AnalysisGroup,
    Cadre,
    HistoryEvent,
    Indicator,
    KeyProject,
    Period,
    Score,
    Unit,
    db,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    """Register the API; it authenticates by token, so CSRF does not apply."""
    csrf.exempt(bp)
    app.register_blueprint(bp)


def json_error(status: int, message: str, **extra):
    """Return a JSON error response."""
    return jsonify({"error": message, "status": status, **extra}), status


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError):
    extra = {"details": error.details} if error.details is not None else {}
    if isinstance(error, InvalidInput) and isinstance(error.details, list):
        # The engine's contract names the list of problems "errors" (SPEC §8.4).
        extra["errors"] = error.details
    return json_error(error.status, error.message, **extra)


def token_required(permission: str = "api.read"):
    """Authenticate the Bearer token and check ``permission``."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            user = accounts.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                return json_error(401, "需要有效的 API 令牌（Authorization: Bearer …）")
            if not can(user, permission):
                return json_error(403, "该角色无权访问此接口")
            g.api_user = user
            return view(*args, **kwargs)

        return wrapper

    return decorate


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
def summary():
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


@bp.get("/periods")
@token_required("period.view")
def periods():
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


# --- periods: scheme, ranking, flags, scores (SPEC §8.2) --------------------------------


def _period_or_404(code: str) -> Period:
    period = db.session.scalar(select(Period).where(Period.code == code))
    if period is None:
        raise NotFound(f"没有代码为 {code} 的考核周期")
    return period


def _level_arg() -> str:
    level = request.args.get("level", "town")
    if level not in ("town", "village"):
        raise InvalidInput("level 只能是 town 或 village")
    return level


def _json_number(amount: Decimal) -> int | float | str:
    """Write an amount as a JSON number with exactly its decimal digits.

    The float is only the JSON carrier: it is used when its shortest text is the
    amount itself (always so for points and targets), and a reader such as
    ``evaluation.scoring.loads`` gets the exact Decimal back.
    """
    if amount == amount.to_integral_value():
        return int(amount)
    carrier = float(amount)
    return carrier if Decimal(repr(carrier)) == amount else format(amount, "f")


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
def period_scheme(code: str):
    period = _period_or_404(code)
    scheme = loading.scheme_for(period, _level_arg())
    return jsonify(_with_json_numbers(loading.scheme_document(scheme)))


@bp.get("/periods/<code>/ranking")
@token_required("ranking.view")
def period_ranking(code: str):
    period = _period_or_404(code)
    return jsonify(loading.ranking(period, _level_arg()))


@bp.get("/periods/<code>/flags")
@token_required("review.view")
def period_flags(code: str):
    period = _period_or_404(code)
    answer = loading.flags(period)
    user = g.api_user
    if not can(user, "review.all_groups"):
        # A reviewer sees the typical villages of their own analysis group only.
        own = user.group.name if user.group is not None else None
        answer["flags"] = [f for f in answer["flags"] if own and f["analysis_group"] == own]
    return jsonify(answer)


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
        results = loading.ranking(period, level)["results"]
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
def period_scores(code: str):
    period = _period_or_404(code)
    level = _level_arg()
    scheme = loading.scheme_for(period, level)
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
    points = _points_table(period, level)
    return jsonify(
        [
            _score_dict(score, points.get((score.unit.code, score.indicator.code)))
            for score in db.session.scalars(query)
        ]
    )


def _score_body() -> dict:
    """Read the PUT body exactly: a JSON decimal as its own text, never a float.

    The ledger then reads that text by the one rule every door shares, so ``1e3`` is
    refused here as it is on the entry page and in an import (docs/values-and-ranges.md).
    """
    try:
        body = json.loads(request.get_data(as_text=True) or "null", parse_float=str)
    except ValueError:
        body = None
    problems = []
    if not isinstance(body, dict):
        raise InvalidInput(
            "请求体须为 JSON 对象 {\"value\", \"note\", \"version\"}",
            details=[{"path": "", "message": "须为 JSON 对象"}],
        )
    if body.get("value") is None:
        problems.append({"path": "value", "message": "不能为空"})
    version = body.get("version")
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        problems.append({"path": "version", "message": "须为正整数，新建时为 null"})
    if "note" in body and not isinstance(body["note"], str | None):
        problems.append({"path": "note", "message": "须为字符串"})
    if problems:
        raise InvalidInput("请求内容有误", details=problems)
    return body


@bp.put("/periods/<code>/scores/<unit_code>/<indicator_code>")
@token_required("score.write")
def put_score(code: str, unit_code: str, indicator_code: str):
    period = _period_or_404(code)
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise NotFound(f"没有代码为 {unit_code} 的单位")
    scheme = period.scheme_for(unit.level)
    indicator = None
    if scheme is not None:
        indicator = db.session.scalar(
            select(Indicator).where(
                Indicator.scheme_id == scheme.id, Indicator.code == indicator_code
            )
        )
    if indicator is None:
        raise NotFound(f"本周期「{unit.name}」适用的方案中没有指标 {indicator_code}")
    body = _score_body()
    note = body.get("note")
    if note is None:  # no note given: keep the one stored
        current = db.session.scalar(
            select(Score.note).where(
                Score.period_id == period.id,
                Score.unit_id == unit.id,
                Score.indicator_id == indicator.id,
            )
        )
        note = current or ""
    version = body.get("version")
    score = ledger.set_score(
        g.api_user, period, unit, indicator, body["value"], note=note, version=version
    )
    # An identical value keeps its version: nothing was written, no event recorded.
    changed = score.version != version
    points = ledger.score_points(period, unit, indicator)
    return jsonify(
        {
            **_score_dict(score, None if points is None else format_amount(points)),
            "changed": changed,
        }
    )


# --- history (SPEC §6) ---------------------------------------------------------------------


def _int_arg(name: str, default: int, lowest: int, highest: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        number = int(raw)
    except ValueError:
        number = None
    if number is None or number < lowest or (highest is not None and number > highest):
        bounds = f"{lowest}–{highest}" if highest is not None else f"≥ {lowest}"
        raise InvalidInput(f"{name} 须为整数（{bounds}）")
    return number


HISTORY_PAGE_MAX = 1000


@bp.get("/history")
@token_required("history.view")
def history_events():
    after_seq = _int_arg("after_seq", 0, 0)
    limit = _int_arg("limit", 100, 1, HISTORY_PAGE_MAX)
    query = select(*[getattr(HistoryEvent, f) for f in history.EXPORT_FIELDS]).where(
        HistoryEvent.seq > after_seq
    )
    if request.args.get("period"):
        query = query.where(HistoryEvent.period == request.args["period"])
    rows = db.session.execute(query.order_by(HistoryEvent.seq).limit(limit)).all()
    events = [history.event_dict(row) for row in rows]
    return jsonify(
        {
            "events": events,
            "next_after_seq": events[-1]["seq"] if len(events) == limit else None,
        }
    )


# --- OpenAPI (readable without a token) ---------------------------------------------------


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    texts = {
        401: "缺少或无效的 API 令牌",
        403: "角色无权访问，或周期状态不允许修改",
        404: "周期、单位或指标不存在",
        409: "版本已过期：details 给出当前数值、版本、录入人和时间",
        422: "输入有误：details 列出每个问题",
    }
    return {str(code): _json(_ref("Error"), texts[code]) for code in codes}


def _param(name: str, where: str, description: str, schema: dict | None = None, **extra) -> dict:
    return {
        "name": name,
        "in": where,
        "description": description,
        "required": where == "path",
        "schema": schema or {"type": "string"},
        **extra,
    }


def openapi_document() -> dict:
    """Describe every /api/v1 endpoint as an OpenAPI 3.1 document."""
    amount = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "description": "两位小数的字符串"}
    nullable_str = {"type": ["string", "null"]}
    code = _param("code", "path", "考核周期代码，如 2026Q3")
    level = _param(
        "level", "query", "层级：town（镇街，默认）或 village（典型村）",
        {"type": "string", "enum": ["town", "village"], "default": "town"},
    )
    secured = [{"bearer": []}]
    schemas = {
        "Error": {
            "type": "object",
            "required": ["error", "status"],
            "properties": {
                "error": {"type": "string"},
                "status": {"type": "integer"},
                "details": {},
            },
        },
        "Summary": {
            "type": "object",
            "properties": {
                **{
                    key: {"type": "integer"}
                    for key in (
                        "towns", "villages", "typical_villages", "dimensions", "indicators",
                        "analysis_groups", "cadres", "key_projects",
                    )
                },
                "periods": {"type": "array", "items": {"type": "string"}},
            },
        },
        "Period": {
            "type": "object",
            "required": ["code", "name", "status", "start", "end"],
            "properties": {
                "code": {"type": "string"},
                "name": {"type": "string"},
                "status": {"type": "string", "enum": ["draft", "open", "submitted", "approved"]},
                "start": {"type": "string", "format": "date"},
                "end": {"type": "string", "format": "date"},
            },
        },
        "Scheme": {
            "type": "object",
            "description": "SPEC §8.4 的方案形式（数值为 JSON 数字）",
            "required": ["total", "bonus_cap", "penalty_cap", "tie_method", "grades", "dimensions"],
            "properties": {
                "total": {"type": "number"},
                "bonus_cap": {"type": ["number", "null"]},
                "penalty_cap": {"type": ["number", "null"]},
                "tie_method": {"type": "string", "enum": ["competition", "dense"]},
                "grades": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "min": {"type": "number"}},
                    },
                },
                "dimensions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "code": {"type": "string"},
                            "name": {"type": "string"},
                            "indicators": {"type": "array", "items": _ref("Indicator")},
                        },
                    },
                },
            },
        },
        "Indicator": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "name": {"type": "string"},
                "points": {"type": "number"},
                "method": {"type": "string", "enum": ["direct", "target", "relative", "grade"]},
                "direction": {"type": "string", "enum": ["higher", "lower"]},
                "target": {"type": ["number", "null"]},
                "floor": {"type": ["number", "null"]},
                "grade_fractions": {
                    "type": ["object", "null"],
                    "additionalProperties": {"type": "number"},
                },
            },
        },
        "Result": {
            "type": "object",
            "required": [
                "unit", "name", "rank", "total", "dimensions", "indicators", "bonus",
                "penalty", "grade", "vetoed", "complete", "missing",
            ],
            "properties": {
                "unit": {"type": "string"},
                "name": {"type": "string"},
                "rank": {"type": "integer"},
                "total": amount,
                "dimensions": {"type": "object", "additionalProperties": amount},
                "indicators": {"type": "object", "additionalProperties": amount},
                "bonus": amount,
                "penalty": amount,
                "grade": {"type": "string"},
                "vetoed": {"type": "boolean"},
                "complete": {"type": "boolean"},
                "missing": {"type": "array", "items": {"type": "string"}},
            },
        },
        "Ranking": {
            "type": "object",
            "required": [
                "period", "level", "status", "from_snapshot", "snapshot_hash", "results",
            ],
            "properties": {
                "period": {"type": "string"},
                "level": {"type": "string", "enum": ["town", "village"]},
                "status": {"type": "string"},
                "from_snapshot": {
                    "type": "boolean",
                    "description": "已审定周期直接取自审定时保存的排名快照",
                },
                "snapshot_hash": {**nullable_str, "description": "快照的 SHA-256"},
                "results": {"type": "array", "items": _ref("Result")},
            },
        },
        "Flag": {
            "type": "object",
            "properties": {
                "unit": {"type": "string"},
                "name": {"type": "string"},
                "analysis_group": nullable_str,
                "batch": {"type": "integer"},
                "total": amount,
                "reasons": {
                    "type": "array",
                    "items": {
                        "type": "string",
                        "enum": [
                            "VETO", "LOW_SCORE", "DROP", "INCOMPLETE", "BOTTOM",
                            "NO_RECENT_REVIEW",
                        ],
                    },
                },
                "priority": {"type": ["string", "null"], "enum": ["high", "medium", "low", None]},
                "flagged": {"type": "boolean"},
            },
        },
        "Score": {
            "type": "object",
            "required": [
                "unit", "indicator", "value", "points", "note", "version", "entered_by",
                "updated_at",
            ],
            "properties": {
                "unit": {"type": "string"},
                "indicator": {"type": "string"},
                "value": {"type": "string", "description": "数值的十进制文本，或等次"},
                "points": {**nullable_str, "description": "引擎算出的得分（两位小数）"},
                "note": {"type": "string"},
                "version": {"type": "integer"},
                "entered_by": {"type": "string"},
                "updated_at": {
                    "type": "string",
                    "description": "UTC，如 2026-11-27T08:00:00.123456Z",
                },
            },
        },
        "ScoreChange": {
            "type": "object",
            "required": ["value", "version"],
            "properties": {
                "value": {
                    "type": ["string", "number"],
                    "description": "数值（普通十进制写法，不接受 1e3 这类科学计数法；"
                    "须在指标的允许范围内）或等次",
                },
                "note": {"type": "string", "description": "省略则保留原备注"},
                "version": {
                    "type": ["integer", "null"],
                    "description": "新建时为 null，修改时为读到的版本",
                },
            },
        },
        "Event": {
            "type": "object",
            "required": list(history.EXPORT_FIELDS),
            "properties": {
                "seq": {"type": "integer"},
                "at": {"type": "string"},
                "actor": {"type": "string"},
                "action": {"type": "string"},
                "entity": {"type": "string"},
                "entity_key": {"type": "string"},
                "period": nullable_str,
                "before": {"type": ["object", "null"]},
                "after": {"type": ["object", "null"]},
                "reason": nullable_str,
                "prev_hash": {"type": "string"},
                "hash": {"type": "string"},
            },
        },
    }
    paths = {
        "/api/v1/summary": {
            "get": {
                "summary": "台账概况：单位、指标、小组、干部、项目数量与周期列表",
                "security": secured,
                "responses": {"200": _json(_ref("Summary"), "概况"), **_errors(401, 403)},
            }
        },
        "/api/v1/periods": {
            "get": {
                "summary": "考核周期列表",
                "security": secured,
                "responses": {
                    "200": _json({"type": "array", "items": _ref("Period")}, "周期"),
                    **_errors(401, 403),
                },
            }
        },
        "/api/v1/periods/{code}/scheme": {
            "get": {
                "summary": "周期的指标方案（SPEC §8.4 形式）",
                "security": secured,
                "parameters": [code, level],
                "responses": {
                    "200": _json(_ref("Scheme"), "方案"),
                    **_errors(401, 403, 404, 422),
                },
            }
        },
        "/api/v1/periods/{code}/ranking": {
            "get": {
                "summary": "排名（已审定周期取自快照并给出哈希）",
                "security": secured,
                "parameters": [code, level],
                "responses": {
                    "200": _json(_ref("Ranking"), "排名"),
                    **_errors(401, 403, 404, 422),
                },
            }
        },
        "/api/v1/periods/{code}/flags": {
            "get": {
                "summary": "典型村研判提示（SPEC §7）",
                "security": secured,
                "parameters": [code],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "period": {"type": "string"},
                                "flags": {"type": "array", "items": _ref("Flag")},
                            },
                        },
                        "每个典型村一条，已标记或无异常",
                    ),
                    **_errors(401, 403, 404),
                },
            }
        },
        "/api/v1/periods/{code}/scores": {
            "get": {
                "summary": "周期的原始数值与得分",
                "security": secured,
                "parameters": [
                    code,
                    level,
                    _param("unit", "query", "只看这个单位（代码）"),
                    _param("indicator", "query", "只看这个指标（代码）"),
                ],
                "responses": {
                    "200": _json({"type": "array", "items": _ref("Score")}, "数值"),
                    **_errors(401, 403, 404, 422),
                },
            }
        },
        "/api/v1/periods/{code}/scores/{unit}/{indicator}": {
            "put": {
                "summary": "录入或修改一个数值（乐观锁：version）",
                "security": secured,
                "parameters": [
                    code,
                    _param("unit", "path", "单位代码（12 位）"),
                    _param("indicator", "path", "指标代码"),
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("ScoreChange")}},
                },
                "responses": {
                    "200": _json(
                        {
                            "allOf": [
                                _ref("Score"),
                                {
                                    "type": "object",
                                    "properties": {"changed": {"type": "boolean"}},
                                },
                            ]
                        },
                        "已保存（changed 为 false 表示与原值相同，未记录变更）",
                    ),
                    **_errors(401, 403, 404, 409, 422),
                },
            }
        },
        "/api/v1/history": {
            "get": {
                "summary": "变更历史（按 seq 键集分页）",
                "security": secured,
                "parameters": [
                    _param(
                        "after_seq", "query", "只返回 seq 大于此值的事件",
                        {"type": "integer", "minimum": 0, "default": 0},
                    ),
                    _param(
                        "limit", "query", "每页条数",
                        {"type": "integer", "minimum": 1, "maximum": HISTORY_PAGE_MAX,
                         "default": 100},
                    ),
                    _param("period", "query", "只看这个周期的事件"),
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "events": {"type": "array", "items": _ref("Event")},
                                "next_after_seq": {
                                    "type": ["integer", "null"],
                                    "description": "下一页的 after_seq；null 表示没有更多",
                                },
                            },
                        },
                        "事件",
                    ),
                    **_errors(401, 403, 422),
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "summary": "本文档（无需令牌）",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 文档")},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "担当作为考核评价台账 API",
            "version": "1",
            "description": (
                "Bearer 令牌（flask create-token 生成）；角色权限与网页一致；错误为 JSON。"
            ),
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": secured,
        "paths": paths,
    }
