"""变更历史 for auditors (docs/rules.md#history-chain, docs/architecture.md#pages-and-doors):
filters, newest first, verify, export."""

from __future__ import annotations

import json

from flask import Response, abort, request, stream_with_context
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from evaluation.admin.access import AccessMixin
from evaluation.core import labels
from evaluation.core.downloads import content_disposition
from evaluation.core.labels import action_label
from evaluation.core.permissions import can
from evaluation.core.writing import ServiceError
from evaluation.history import chain as history
from evaluation.history import exports
from evaluation.web import LARGEST_SEQ, int_arg
from models import Period, db


def readable(value) -> str:
    """Show a history value to a person: decimals stay as their text, null as （空）."""
    if value is None:
        return gettext("（空）")
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if value == "":
        return gettext("（空白）")
    return str(value)


_FIELD_ORDER = {name: index for index, name in enumerate(labels.FIELD_LABELS)}


def field_changes(event: dict) -> list[tuple[str, str | None, str | None]]:
    """Return ``(field, old, new)`` per changed field; old/new None when that side is absent.

    Known fields come first in a fixed order (the value before its note); a record's
    empty fields are left out when it was created, where they say nothing. A field shows
    the name its admin list gives it and a stored state its label
    (``evaluation/core/labels.py``).
    """
    entity = event.get("entity")
    before = event["before"] or {}
    after = event["after"] or {}
    keys = sorted(
        set(before) | set(after), key=lambda k: (_FIELD_ORDER.get(k, len(_FIELD_ORDER)), k)
    )
    rows = []
    for key in keys:
        if event["before"] is None and after.get(key) in ("", None):
            continue
        rows.append(
            (
                labels.field_label(entity, key),
                readable(labels.value_label(entity, key, before.get(key)))
                if event["before"] is not None
                else None,
                readable(labels.value_label(entity, key, after.get(key)))
                if event["after"] is not None
                else None,
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

    def _render(self, flt: exports.HistoryFilter | None, status=200, **results):
        error = results.pop("error", None)
        if flt is None:
            error = gettext("日期格式应为 YYYY-MM-DD")
            flt = exports.HistoryFilter()
        before = int_arg("before", largest=LARGEST_SEQ)
        after = int_arg("after", largest=LARGEST_SEQ)
        result = exports.page(flt, before=before, after=after)
        periods = db.session.scalars(select(Period.code).order_by(Period.start_date.desc())).all()
        return (
            self.render(
                "admin/history.html",
                flt=flt,
                args=flt.as_args(),
                result=result,
                names=exports.Names.load(events=result.events),
                field_changes=field_changes,
                action_label=action_label,
                entity_label=labels.entity_label,
                action_names=sorted({action_label(code) for code in labels.known_actions()}),
                periods=periods,
                verification=results.get("verification"),
                file_check=results.get("file_check"),
                error=error,
                formats=exports.FORMATS,
                can_export=can(current_user, "history.export"),
                check_max_mb=history.CHECK_MAX_BYTES // (1024 * 1024),
            ),
            status,
        )

    @expose("/")
    def index(self):
        return self._render(self._filter(request.args))

    @expose("/verify", methods=["POST"])
    def verify(self):
        return self._render(self._filter(request.form), verification=history.verify())

    @expose("/check-file", methods=["POST"])
    def check_file(self):
        """Compare an uploaded JSONL export with the stored chain (docs/rules.md#history-chain)."""
        # A larger body is refused before it is read (413), with the page's own message.
        request.max_content_length = history.CHECK_MAX_BYTES + 64 * 1024
        too_large = gettext("文件过大（上限 %(n)s MB）", n=history.CHECK_MAX_BYTES // 2**20)
        if (request.content_length or 0) > request.max_content_length:
            return self._render(exports.HistoryFilter(), 413, error=too_large)
        try:
            flt = self._filter(request.form)
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            return self._render(exports.HistoryFilter(), 413, error=too_large)
        if upload is None or not upload.filename:
            return self._render(flt, 422, error=gettext("请选择要校验的 JSONL 文件"))
        limit = history.CHECK_MAX_BYTES + 1
        lines = iter(lambda: upload.stream.readline(limit), b"")
        try:
            found = history.check_file(lines)
        except ServiceError as error:
            return self._render(flt, error.status, error=error.message)
        return self._render(flt, file_check=found)

    @expose("/export/<fmt>", methods=["POST"])
    def export(self, fmt: str):
        if fmt not in exports.FORMATS:
            abort(404)
        flt = self._filter(request.form)
        if flt is None:
            abort(400)
        try:
            export = exports.export_history(
                current_user, fmt, flt, utc=request.form.get("utc") == "1"
            )
        except ServiceError as error:
            abort(error.status)
        fallback = export.filename.replace("变更历史", "history").replace("筛选", "filtered")
        return Response(
            stream_with_context(export.chunks),
            mimetype=export.mimetype,
            headers={
                "Content-Disposition": content_disposition(export.filename, fallback),
                "Cache-Control": "no-store",
            },
        )
