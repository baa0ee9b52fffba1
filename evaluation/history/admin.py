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

#: Chinese names of the fields events most often carry; others show their code.
FIELD_LABELS = {
    "name": _l("名称"),
    "code": _l("代码"),
    "number": _l("数值"),
    "grade": _l("等次"),
    "value": _l("数值"),
    "note": _l("备注"),
    "status": _l("状态"),
    "reason": _l("原因"),
    "points": _l("分值"),
    "kind": _l("类型"),
    "level": _l("层级"),
    "active": _l("启用"),
    "version": _l("版本"),
    "role": _l("角色"),
    "username": _l("用户名"),
    "display_name": _l("显示名"),
    "group": _l("研判组"),
    "typical_batch": _l("典型村批次"),
    "analysis_group": _l("研判组"),
    "parent": _l("所属镇街"),
    "secretary": _l("村党组织书记"),
    "county": _l("区县"),
    "sort_order": _l("排序"),
    "order": _l("排序"),
    "unit": _l("单位"),
    "cadre": _l("干部"),
    "gender": _l("性别"),
    "position": _l("职务"),
    "tags": _l("标签"),
    "assignment": _l("专班"),
    "mentor": _l("结对培养人"),
    "date": _l("日期"),
    "period": _l("考核周期"),
    "orientation": _l("导向"),
    "title": _l("标题"),
    "detail": _l("详情"),
    "evaluation": _l("评价"),
    "evidence": _l("佐证材料"),
    "recorded_by": _l("记录人"),
    "entered_by": _l("录入人"),
    "lead_cadre": _l("牵头干部"),
    "due_date": _l("完成时限"),
    "progress": _l("进度"),
    "leader": _l("组长"),
    "scheme": _l("指标方案"),
    "dimension": _l("方面"),
    "method": _l("计分方法"),
    "direction": _l("方向"),
    "target": _l("目标值"),
    "floor": _l("保底比例"),
    "grade_fractions": _l("等次系数"),
    "measure_unit": _l("计量单位"),
    "value_min": _l("允许最小值"),
    "value_max": _l("允许最大值"),
    "integer_only": _l("只允许整数"),
    "data_source": _l("数据来源"),
    "rule_text": _l("评分细则"),
    "total": _l("总分"),
    "bonus_cap": _l("加分上限"),
    "penalty_cap": _l("减分上限"),
    "tie_method": _l("并列规则"),
    "grades": _l("等次划分"),
    "start_date": _l("开始日期"),
    "end_date": _l("结束日期"),
    "town_scheme": _l("镇街方案"),
    "village_scheme": _l("村级方案"),
    "submitted_by": _l("提交人"),
    "approved_by": _l("审定人"),
    "incomplete": _l("审定时数据不全的单位"),
    "format": _l("格式"),
    "filters": _l("筛选条件"),
    "time": _l("时间"),
    "reasons": _l("研判原因"),
    "priority": _l("优先级"),
    "closed_by": _l("办结人"),
    "case": _l("研判任务"),
    "conclusion": _l("研判结论"),
    "visitors": _l("走访人员"),
    "findings": _l("发现的问题或情况"),
    "actions": _l("整改措施"),
    "next_visit": _l("下次走访"),
    "compared": _l("比较对象"),
    "items": _l("比较项目"),
    "matrix": _l("判断矩阵"),
    "weight_method": _l("权重算法"),
    "weights": _l("权重"),
    "lambda_max": "λmax",
    "ci": "CI",
    "cr": _l("一致性比率 CR"),
    "weight_judgements": _l("随方案复制的判断矩阵"),
    # 民主测评 (docs/surveys.md) and 佐证材料 (docs/evidence.md) events.
    "target_kind": _l("测评对象类型"),
    "targets": _l("测评对象"),
    "groups": _l("测评人群体"),
    "options": _l("评价等次"),
    "excellent_cap": _l("每张选票“优秀”上限"),
    "opens_at": _l("投票开始"),
    "closes_at": _l("投票截止"),
    "count": _l("数量"),
    "ballots": _l("选票数"),
    "scores": _l("综合得分"),
    "cadre_records": _l("记入干部台账"),
    "indicator": _l("指标"),
    "media_type": _l("文件类型"),
    "size": _l("文件大小（字节）"),
    "sha256": "SHA-256",
    "target_type": _l("佐证对象"),
    "target_id": _l("佐证对象编号"),
}

#: A field whose meaning depends on the entity: a survey's ``group`` is a rater group.
ENTITY_FIELD_LABELS = {
    "survey": {"group": _l("测评人群体")},
}


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


_FIELD_ORDER = {name: index for index, name in enumerate(FIELD_LABELS)}


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
    empty fields are left out when it was created, where they say nothing. A stored
    state shows its label (``evaluation/core/labels.py``).
    """
    entity = event.get("entity")
    before = event["before"] or {}
    after = event["after"] or {}
    keys = sorted(
        set(before) | set(after), key=lambda k: (_FIELD_ORDER.get(k, len(_FIELD_ORDER)), k)
    )
    rows = []
    own = ENTITY_FIELD_LABELS.get(entity or "", {})
    for key in keys:
        if event["before"] is None and after.get(key) in ("", None):
            continue
        rows.append(
            (
                own.get(key) or FIELD_LABELS.get(key, key),
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
