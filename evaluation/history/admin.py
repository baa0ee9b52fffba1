"""变更历史 for auditors (docs/rules.md#history-chain, docs/architecture.md#pages-and-doors):
filters, newest first, verify, export."""

from __future__ import annotations

import json

from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
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
from evaluation.history import checkpoints, exports
from evaluation.i18n import local_time
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


def _shown(entity, key, value):
    """A stored code by its label; a UTC time (``opens_at``…) in Beijing time."""
    if key.endswith("_at") and isinstance(value, str):
        try:
            return local_time(value, "%Y-%m-%d %H:%M")
        except ValueError:
            return value
    return labels.value_label(entity, key, value)


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
                readable(_shown(entity, key, before.get(key)))
                if event["before"] is not None
                else None,
                readable(_shown(entity, key, after.get(key)))
                if event["after"] is not None
                else None,
            )
        )
    return rows


#: Why a checkpoint was signed (docs/history.md#checkpoints).
OCCASION_LABELS = {
    "approval": _l("审定"),
    "export": _l("导出"),
    "on_demand": _l("手动生成"),
}


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
                checkpoint_check=results.get("checkpoint_check"),
                error=error,
                formats=exports.FORMATS,
                can_export=can(current_user, "history.export"),
                check_max_mb=history.CHECK_MAX_BYTES // (1024 * 1024),
                checkpoint=(latest := checkpoints.latest()),
                checkpoint_json=checkpoints.as_json(latest.document()) if latest else "",
                occasion_label=OCCASION_LABELS,
                can_checkpoint=can(current_user, "history.checkpoint"),
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

    @expose("/checkpoint", methods=["POST"])
    def checkpoint(self):
        """Sign a checkpoint of the chain's tail now (docs/history.md#checkpoints)."""
        try:
            row = checkpoints.make(current_user)
        except ServiceError as error:
            abort(error.status)
        flash(gettext("已生成签名检查点：第 %(seq)s 号事件", seq=row.seq), "success")
        return redirect(url_for(".index"), 303)

    @expose("/check-checkpoint", methods=["POST"])
    def check_checkpoint(self):
        """What ``flask verify-history --checkpoint`` says, for an auditor on the web: the
        uploaded checkpoint's signature, then a cut or rewritten tail
        (docs/history.md#checking)."""
        flt = self._filter(request.form)
        upload = request.files.get("checkpoint")
        if upload is None or not upload.filename:
            return self._render(flt, 422, error=gettext("请选择要核对的检查点文件（JSON）"))
        key_upload = request.files.get("public_key")
        try:
            checkpoint = checkpoints.read_checkpoint(
                upload.stream.read(checkpoints.MAX_FILE_BYTES + 1)
            )
            if key_upload is not None and key_upload.filename:
                pem = key_upload.stream.read(checkpoints.MAX_FILE_BYTES)
                key = checkpoints.load_public_key(pem)
            else:
                key = checkpoints.public_key(create=False)
        except ServiceError as error:
            return self._render(flt, error.status, error=error.message)
        return self._render(flt, checkpoint_check=checkpoints.check(checkpoint, key))

    @expose("/checkpoint.json")
    def checkpoint_file(self):
        """The latest signed checkpoint as a file to keep outside the database."""
        latest = checkpoints.latest()
        if latest is None:
            abort(404)
        name = f"变更历史检查点-{latest.seq}.json"
        return Response(
            checkpoints.as_json(latest.document()),
            mimetype="application/json",
            headers={
                "Content-Disposition": content_disposition(
                    name, f"history-checkpoint-{latest.seq}.json"
                ),
                "Cache-Control": "no-store",
            },
        )

    @expose("/public-key.pem")
    def public_key(self):
        """The public key that checks the checkpoints (made with the key on first use)."""
        pem = checkpoints.public_pem(checkpoints.public_key())
        return Response(
            pem,
            mimetype="application/x-pem-file",
            headers={
                "Content-Disposition": content_disposition(
                    "变更历史公钥.pem", "history-public-key.pem"
                ),
            },
        )
