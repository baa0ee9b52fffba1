"""``GET /api/v1/history``: the change history, paged by ``seq`` (docs/api.md)."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from evaluation.api import bp, spec, token_required
from evaluation.api.schemas import HISTORY_PAGE_MAX, HistoryPage, HistoryQuery, answers
from evaluation.history import chain as history
from models import HistoryEvent, db

__all__ = ["HISTORY_PAGE_MAX", "history_events"]


@bp.get("/history")
@token_required("history.view")
@spec.validate(
    query=HistoryQuery, resp=answers(HistoryPage, "事件", 401, 403, 422), tags=["变更历史"]
)
def history_events():
    """变更历史（按 seq 键集分页）"""
    after_seq = request.context.query.after_seq
    limit = request.context.query.limit
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
