"""Security headers and generic error pages (docs/rules.md#security)."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; font-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

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


def init_app(app: Flask) -> None:
    """Add security headers to every response and register the error pages."""

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        body, code = _error_response(error.code or 500)
        # Keep what the error itself says in headers (405's Allow, 401's WWW-Authenticate),
        # never its Content-Type: the body is ours.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return body, code, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if app.config.get("TESTING") and app.config.get("PROPAGATE_EXCEPTIONS", True):
            raise error
        app.logger.exception("unhandled error")
        return _error_response(500)


def _error_response(code: int):
    title = ERROR_TITLES.get(code, "请求未能完成")
    if request.path.startswith("/api/"):
        return jsonify({"error": title, "status": code}), code
    return render_template("error.html", code=code, title=title), code
