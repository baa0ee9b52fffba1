"""Security headers and generic error pages (docs/rules.md#security)."""

from __future__ import annotations

import secrets

from flask import Flask, g, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

#: Scripts come from the site's own files, or carry this request's nonce
#: (``csp_nonce()``); no inline handler or ``javascript:`` URL runs.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'nonce-{nonce}'; font-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def csp_nonce() -> str:
    """This request's script nonce (templates: ``nonce="{{ csp_nonce() }}"``; Flask-Admin's
    own inline scripts get it through ``Admin(csp_nonce_generator=…)``)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce

ERROR_TITLES = {
    400: "请求有误",
    401: "需要登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持的请求方式",
    409: "数据已被他人修改",
    413: "上传文件过大",
    422: "数据不合规",
    429: "请求过于频繁",
    500: "系统内部错误",
}


class Refused(HTTPException):
    """A request refused with a message of our own (Chinese), shown on the error page or
    as the API's ``error``."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


NUL_MESSAGE = "请求中含有不允许的空字符（NUL），请删去后重试"


class LedgerJSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body nested too deeply to read (``[[[[…``) is bad
    input (400), not a RecursionError (500)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def _refuse_nul() -> None:
    """No text the ledger keeps or searches may hold NUL: PostgreSQL refuses it in any
    text value, and in a search it failed the query with a 500. One guard for every
    query string and form of the pages (docs/rules.md#security). The JSON API's schemas
    refuse NUL field by field, with its documented 422."""
    if request.path.startswith("/api/"):
        return
    values = [*request.args.items(multi=True)]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        values += request.form.items(multi=True)
    for key, value in values:
        if "\x00" in key or "\x00" in value:
            raise Refused(400, NUL_MESSAGE)


def _personal() -> bool:
    """Whether this response is for a signed-in user (a page or an API answer), not a
    static file or a public page."""
    endpoint = request.endpoint or ""
    if endpoint == "static" or endpoint.endswith(".static"):
        return False
    if request.path.startswith("/api/"):
        return endpoint != "api.openapi"
    from flask_login import current_user

    return bool(current_user and current_user.is_authenticated)


def init_app(app: Flask) -> None:
    """Add security headers to every response and register the error pages."""
    app.json = LedgerJSONProvider(app)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.before_request(_refuse_nul)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP.format(nonce=csp_nonce()))
        if _personal():
            # Pages and answers for a signed-in user stay out of every cache (a shared
            # computer's back button, a proxy): docs/rules.md#security.
            response.headers["Cache-Control"] = "no-store"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        message = error.message if isinstance(error, Refused) else None
        body, code = _error_response(error.code or 500, message)
        # Keep what the error itself says in headers (405's Allow, 401's WWW-Authenticate),
        # never its Content-Type: the body is ours.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return body, code, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if app.config.get("TESTING") and app.config.get("PROPAGATE_EXCEPTIONS", True):
            raise error
        app.logger.exception("unhandled error")
        from models import db

        db.session.rollback()  # a failed PostgreSQL transaction would fail the error page too
        return _error_response(500)


def _error_response(code: int, message: str | None = None):
    title = ERROR_TITLES.get(code, "请求未能完成")
    if request.path.startswith("/api/"):
        return jsonify({"error": message or title, "status": code}), code
    return render_template("error.html", code=code, title=title, message=message), code
