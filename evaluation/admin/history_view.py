"""变更历史 for auditors (SPEC §6, §8.1): filters, newest first, verify, export."""

from __future__ import annotations

import json

from flask import Response, abort, request, stream_with_context
from flask_admin import BaseView, expose
from flask_login import current_user
from sqlalchemy import select

from evaluation.admin.access import AccessMixin
from evaluation.permissions import can
from evaluation.services import exports, history
from evaluation.services.core import ServiceError
from models import Period, db

#: Chinese names of the fields events most often carry; others show their code.
FIELD_LABELS = {
    "name": "名称",
    "code": "代码",
    "number": "数值",
    "grade": "等次",
    "value": "数值",
    "note": "备注",
    "status": "状态",
    "reason": "原因",
    "points": "分值",
    "kind": "类型",
    "level": "层级",
    "active": "启用",
    "version": "版本",
    "role": "角色",
    "display_name": "显示名",
    "typical_batch": "典型村批次",
    "analysis_group": "研判组",
    "parent": "所属镇街",
    "secretary": "村党组织书记",
    "format": "格式",
    "filters": "筛选条件",
}


def readable(value) -> str:
    """Show a history value to a person: decimals stay as their text, null as （空）."""
    if value is None:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if value == "":
        return "（空白）"
    return str(value)


def field_changes(event: dict) -> list[tuple[str, str | None, str | None]]:
    """Return ``(field, old, new)`` per changed field; old/new None when that side is absent."""
    before = event["before"] or {}
    after = event["after"] or {}
    rows = []
    for key in sorted(set(before) | set(after)):
        label = FIELD_LABELS.get(key, key)
        rows.append(
            (
                label,
                readable(before.get(key)) if event["before"] is not None else None,
                readable(after.get(key)) if event["after"] is not None else None,
            )
        )
    return rows


class HistoryView(AccessMixin, BaseView):
    permission = "history.view"

    def _filter(self, source) -> exports.HistoryFilter | None:
        try:
            return exports.HistoryFilter.from_args(source)
        except ServiceError:
            return None

    def _render(self, flt: exports.HistoryFilter | None, verification=None, status=200):
        error = None
        if flt is None:
            error = "日期格式应为 YYYY-MM-DD"
            flt = exports.HistoryFilter()
        before = request.args.get("before", type=int)
        after = request.args.get("after", type=int)
        result = exports.page(flt, before=before, after=after)
        periods = db.session.scalars(select(Period.code).order_by(Period.start_date.desc())).all()
        return (
            self.render(
                "admin/history.html",
                flt=flt,
                args=flt.as_args(),
                result=result,
                field_changes=field_changes,
                periods=periods,
                verification=verification,
                error=error,
                formats=exports.FORMATS,
                can_export=can(current_user, "history.export"),
            ),
            status,
        )

    @expose("/")
    def index(self):
        return self._render(self._filter(request.args))

    @expose("/verify", methods=["POST"])
    def verify(self):
        return self._render(self._filter(request.form), verification=history.verify())

    @expose("/export/<fmt>", methods=["POST"])
    def export(self, fmt: str):
        if fmt not in exports.FORMATS:
            abort(404)
        flt = self._filter(request.form)
        if flt is None:
            abort(400)
        try:
            export = exports.export_history(current_user, fmt, flt)
        except ServiceError as error:
            abort(error.status)
        return Response(
            stream_with_context(export.chunks),
            mimetype=export.mimetype,
            headers={
                "Content-Disposition": exports.content_disposition(export.filename),
                "Cache-Control": "no-store",
            },
        )
