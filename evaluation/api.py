"""The JSON API ``/api/v1`` (SPEC §8.2): Bearer tokens, roles as on the web, JSON errors."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, Flask, g, jsonify, request
from sqlalchemy import func, select

from evaluation.extensions import csrf
from evaluation.permissions import can
from evaluation.services import accounts
from evaluation.services.core import ServiceError
from models import AnalysisGroup, Cadre, Indicator, KeyProject, Period, Unit, db

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
