"""The JSON API ``/api/v1`` (docs/api.md): Bearer tokens, roles as on the web, JSON errors.

This module holds what every endpoint shares: the blueprint, the token check, the error
answers and the spectree instance whose ``validate`` checks a request against its schema
(``evaluation.api.schemas``) and writes the same schema into ``GET /api/v1/openapi.json``.
The endpoints live by feature: ``summary``, ``periods`` (list, scheme, flags), ``reports``,
``ranking``, ``scores``, ``history`` and ``evidence``.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, Flask, g, jsonify, request
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from werkzeug.routing import BaseConverter

from evaluation.accounts import operations as accounts
from evaluation.api.schemas import PROBLEMS, OpenApiDocument, answers
from evaluation.core.permissions import can
from evaluation.core.writing import InvalidInput, NotFound, ServiceError
from evaluation.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _refuse_invalid_request(req, resp, error, instance, model_adapter) -> None:
    """spectree's hook after it checked a request: answer a refusal in the API's own form.

    A body must be a JSON object sent as ``application/json`` (spectree would pass other
    media types by unchecked); otherwise each problem pydantic found becomes
    ``{"path", "message"}`` with the field's message from ``schemas.PROBLEMS``, the same
    form the services use for a value they refuse.
    """
    if req.method in ("POST", "PUT", "PATCH") and not (
        req.is_json and isinstance(req.get_json(silent=True), dict)
    ):
        raise InvalidInput(
            "请求体须为 JSON 对象（Content-Type: application/json）",
            details=[{"path": "", "message": PROBLEMS[""]}],
        )
    if error is None:
        return
    problems: dict[str, str] = {}
    for problem in error.errors():
        path = str(problem["loc"][0]) if problem["loc"] else ""
        if problem["type"] == "missing" and path != "value":
            message = "不能为空"
        else:
            message = PROBLEMS.get(path, problem["msg"])
        problems.setdefault(path, message)
    details = [{"path": path, "message": message} for path, message in problems.items()]
    said = "；".join(f"{p['path']} {p['message']}".strip() for p in details)
    raise InvalidInput(f"请求内容有误：{said}", details=details)


spec = SpecTree(
    "flask",
    mode="strict",  # only views decorated with spec.validate; the admin pages are not the API
    title="担当作为考核评价台账 API",
    version="1",
    description="Bearer 令牌（flask create-token 生成）；角色权限与网页一致；错误为 JSON。",
    security_schemes=[
        SecurityScheme(
            name="bearer",
            data=SecuritySchemeData(
                type="http", scheme="bearer", description="flask create-token 生成的令牌"
            ),
        )
    ],
    security={"bearer": []},
    before=_refuse_invalid_request,
    annotations=False,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
)


class IndicatorCode(BaseConverter):
    """An indicator code in a claim's path: any segment but ``submit``, which names the
    town's submission (``POST …/claims/<unit>/submit``), so that path is no indicator's."""

    regex = r"(?!submit(?:/|$))[^/]+"


def init_app(app: Flask) -> None:
    """Register the API; it authenticates by token, so CSRF does not apply."""
    app.url_map.converters["indicator"] = IndicatorCode
    csrf.exempt(bp)
    app.register_blueprint(bp)


def json_error(status: int, message: str, **extra):
    """Return a JSON error response."""
    return jsonify({"error": message, "status": status, **extra}), status


@bp.errorhandler(ServiceError)
def _service_error(error: ServiceError):
    extra = {"details": error.details} if error.details is not None else {}
    if isinstance(error, InvalidInput) and isinstance(error.details, list):
        # The engine's contract names the list of problems "errors" (docs/api.md).
        extra["errors"] = error.details
    return json_error(error.status, error.message, **extra)


@bp.url_value_preprocessor
def _no_such_code(endpoint, values) -> None:
    """A code in the path with a NUL character names nothing (and PostgreSQL refuses it)."""
    for value in (values or {}).values():
        if isinstance(value, str) and "\x00" in value:
            raise NotFound("路径中的代码不能含 NUL 字符")


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


# --- OpenAPI (readable without a token) ---------------------------------------------------


@bp.get("/openapi.json")
@spec.validate(resp=answers(OpenApiDocument, "OpenAPI 3.1 文档"), security=[], tags=["文档"])
def openapi():
    """本文档（无需令牌）"""
    return jsonify(_with_string_paths(spec.spec))


def _with_string_paths(document: dict) -> dict:
    """Say ``string`` for a path parameter of the ledger's own converters (``indicator``),
    which spectree leaves without a schema."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "path" and parameter.get("schema") is None:
                    parameter["schema"] = {"type": "string"}
    return document


# The endpoints register themselves on ``bp`` when imported.
from evaluation.api import (  # noqa: E402, F401
    claims,
    evidence,
    history,
    periods,
    publication,
    ranking,
    reports,
    scores,
    summary,
    surveys,
)
