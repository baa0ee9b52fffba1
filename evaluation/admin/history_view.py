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
    "username": "用户名",
    "display_name": "显示名",
    "group": "研判组",
    "typical_batch": "典型村批次",
    "analysis_group": "研判组",
    "parent": "所属镇街",
    "secretary": "村党组织书记",
    "county": "区县",
    "sort_order": "排序",
    "order": "排序",
    "unit": "单位",
    "cadre": "干部",
    "gender": "性别",
    "position": "职务",
    "tags": "标签",
    "assignment": "专班",
    "mentor": "结对培养人",
    "date": "日期",
    "period": "考核周期",
    "orientation": "导向",
    "title": "标题",
    "detail": "详情",
    "evaluation": "评价",
    "evidence": "佐证材料",
    "recorded_by": "记录人",
    "entered_by": "录入人",
    "lead_cadre": "牵头干部",
    "due_date": "完成时限",
    "progress": "进度",
    "leader": "组长",
    "scheme": "指标方案",
    "dimension": "方面",
    "method": "计分方法",
    "direction": "方向",
    "target": "目标值",
    "floor": "保底比例",
    "grade_fractions": "等次系数",
    "measure_unit": "计量单位",
    "data_source": "数据来源",
    "rule_text": "评分细则",
    "total": "总分",
    "bonus_cap": "加分上限",
    "penalty_cap": "减分上限",
    "tie_method": "并列规则",
    "grades": "等次划分",
    "start_date": "开始日期",
    "end_date": "结束日期",
    "town_scheme": "镇街方案",
    "village_scheme": "村级方案",
    "submitted_by": "提交人",
    "approved_by": "审定人",
    "format": "格式",
    "filters": "筛选条件",
}
#: Chinese names of the common actions; ``<entity>.create/update/delete`` are composed.
ACTION_LABELS = {
    "score.set": "录入分数",
    "score.clear": "清除分数",
    "adjustment.add": "加减分",
    "adjustment.remove": "撤销加减分",
    "veto.set": "一票否决",
    "veto.remove": "撤销一票否决",
    "period.open": "开启填报",
    "period.submit": "提交审核",
    "period.return": "退回",
    "period.approve": "审定",
    "period.reopen": "重新开启",
    "scheme.publish": "发布方案",
    "scheme.copy": "复制方案",
    "user.password_set": "重置密码",
    "user.password_change": "修改密码",
    "history.export": "导出变更历史",
    "setting.set": "修改设置",
}
VERBS = {"create": "新增", "update": "修改", "delete": "删除"}


def action_label(action: str) -> str:
    """Return a Chinese name for an action code ("" when there is none)."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    _, _, verb = action.rpartition(".")
    return VERBS.get(verb, "")


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


_FIELD_ORDER = {name: index for index, name in enumerate(FIELD_LABELS)}


def field_changes(event: dict) -> list[tuple[str, str | None, str | None]]:
    """Return ``(field, old, new)`` per changed field; old/new None when that side is absent.

    Known fields come first in a fixed order (the value before its note); a record's
    empty fields are left out when it was created, where they say nothing.
    """
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
                FIELD_LABELS.get(key, key),
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
                action_label=action_label,
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
