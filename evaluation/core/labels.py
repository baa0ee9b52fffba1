"""Chinese names of the codes the history stores: actions, entity types, fields and states
(docs/rules.md#history-chain, "Labels").

One table for every page and export that shows a code to a person: the history page,
the dashboard's latest events, the history exports, and the column headers of every admin
list and form (``column_labels = labels.column_labels("unit")``), so that a field has the
same name on its list and in its history. States are not repeated here: the ``StrEnum`` of
each state (``models/states.py``) carries its own ``label``.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from models.cadres import ORIENTATIONS
from models.reviews import PRIORITIES, REASONS
from models.schemes import DIRECTIONS, METHODS, TIE_METHODS
from models.states import (
    ClaimStatus,
    EvidenceTarget,
    ObjectionStatus,
    PeriodStatus,
    ProjectStatus,
    ReviewCaseStatus,
    SchemeStatus,
    SurveyStatus,
    ToleranceStatus,
)
from models.units import LEVELS
from models.users import ROLES

__all__ = [
    "ACTION_LABELS",
    "ENTITY_FIELD_LABELS",
    "ENTITY_LABELS",
    "FIELD_LABELS",
    "action_codes",
    "action_label",
    "column_labels",
    "entity_label",
    "field_label",
    "value_label",
]

#: Chinese names of the actions with their own wording; ``<entity>.create/update/delete``
#: are composed from the verb and the entity's name.
ACTION_LABELS = {
    "score.set": _l("录入分数"),
    "score.clear": _l("清除分数"),
    "adjustment.add": _l("加减分"),
    "adjustment.remove": _l("撤销加减分"),
    "adjustment.change": _l("调整加减分"),
    "veto.set": _l("一票否决"),
    "veto.remove": _l("撤销一票否决"),
    "period.open": _l("开启填报"),
    "period.submit": _l("提交审核"),
    "period.return": _l("退回"),
    "period.approve": _l("审定"),
    "period.reopen": _l("重新开启"),
    "scheme.publish": _l("发布方案"),
    "scheme.copy": _l("复制方案"),
    "scheme.weights": _l("层次分析法设定分值"),
    "annual_period.calibrate": _l("年度等次校准"),
    "user.password_set": _l("重置密码"),
    "user.password_change": _l("修改密码"),
    "history.export": _l("导出变更历史"),
    "history.checkpoint": _l("签名检查点"),
    "setting.set": _l("修改设置"),
    "review.record": _l("记录研判"),
    "review.close": _l("办结研判任务"),
    "review_case.open": _l("生成研判任务"),
    "review_case.update": _l("更新研判任务"),
    "publication.open": _l("开始公示"),
    "publication.change": _l("修改公示期"),
    "objection.lodge": _l("提出异议"),
    "objection.answer": _l("答复异议"),
    "tolerance_case.apply": _l("申请容错纠错"),
    "tolerance_case.verify": _l("核实容错申请"),
    "tolerance_case.determine": _l("认定容错申请"),
    "tolerance.situations": _l("修改容错情形"),
    "evidence.add": _l("上传佐证材料"),
    "evidence.unlink": _l("撤下佐证材料"),
    "survey.publish": _l("发布民主测评"),
    "survey.close": _l("结束民主测评并计票"),
    "survey.codes": _l("生成测评码"),
    "survey.report": _l("修改述职内容"),
    "survey.vote": _l("民主测评投票"),
    "claim.save": _l("保存自评"),
    "claim.submit": _l("报送自评"),
    "claim.verdict": _l("认定自评"),
    "reporting.reopen": _l("重新开放报送"),
}
VERBS = {"create": _l("新增"), "update": _l("修改"), "delete": _l("删除")}

#: Chinese names of the entity types (the ``entity`` field of an event).
ENTITY_LABELS = {
    "score": _l("分数"),
    "adjustment": _l("加减分"),
    "veto": _l("一票否决"),
    "period": _l("考核周期"),
    "scheme": _l("指标方案"),
    "dimension": _l("维度"),
    "indicator": _l("指标"),
    "unit": _l("单位"),
    "analysis_group": _l("研判小组"),
    "cadre": _l("干部"),
    "cadre_record": _l("干部纪实"),
    "key_project": _l("重点项目"),
    "project_update": _l("项目进展"),
    "user": _l("用户"),
    "api_token": _l("接口令牌"),
    "review_case": _l("研判任务"),
    "review_record": _l("研判记录"),
    "history": _l("变更历史"),
    "setting": _l("系统设置"),
    "annual_period": _l("年度综合考评"),
    "publication": _l("公示"),
    "objection": _l("异议"),
    "tolerance_case": _l("容错纠错"),
    "evidence": _l("佐证材料"),
    "survey": _l("民主测评"),
    "claim": _l("镇街自评"),
}

#: Chinese names of the fields, one word per concept wherever the field is shown: a
#: list's column header, a form's label, a line of the history page. The order is the
#: order in which the history page lists an event's fields (the value before its note).
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
    "display_name": _l("姓名"),
    "group": _l("研判小组"),
    "typical_batch": _l("典型村批次"),
    "analysis_group": _l("研判小组"),
    "parent": _l("所属镇街"),
    "secretary": _l("村党组织书记"),
    "county": _l("区县代码"),
    "sort_order": _l("排序"),
    "order": _l("排序"),
    "unit": _l("单位"),
    "cadre": _l("干部"),
    "gender": _l("性别"),
    "position": _l("职务"),
    "tags": _l("标签"),
    "assignment": _l("工作安排"),
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
    "due_date": _l("计划完成"),
    "progress": _l("进度(%)"),
    "leader": _l("组长"),
    "scheme": _l("指标方案"),
    "dimension": _l("维度"),
    "method": _l("计分方法"),
    "direction": _l("方向"),
    "target": _l("目标值"),
    "floor": _l("保底比例"),
    "grade_fractions": _l("等次系数"),
    "measure_unit": _l("计量单位"),
    "evidence_required": _l("须附佐证材料"),
    "report_due": _l("报送截止日"),
    "value_min": _l("允许最小值"),
    "value_max": _l("允许最大值"),
    "integer_only": _l("只允许整数"),
    "data_source": _l("数据来源"),
    "rule_text": _l("评分细则"),
    "total": _l("总分"),
    "bonus_cap": _l("加分上限"),
    "penalty_cap": _l("减分上限"),
    "tie_method": _l("并列排名方式"),
    "grades": _l("等次划分"),
    "start_date": _l("开始日期"),
    "end_date": _l("结束日期"),
    "town_scheme": _l("镇街指标方案"),
    "village_scheme": _l("村居指标方案"),
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
    "indicator": _l("指标"),
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
    "media_type": _l("文件类型"),
    "size": _l("文件大小（字节）"),
    "sha256": "SHA-256",
    "target_type": _l("佐证对象"),
    "target_id": _l("佐证对象编号"),
    "quotas": _l("名额"),
    "sources": _l("来源周期及权重"),
    "quota_grade": _l("名额调整后"),
    # fields the history does not carry, shown on the admin pages only
    "based_on": _l("复制自"),
    "submitted_at": _l("提交时间"),
    "approved_at": _l("审定时间"),
    "created_at": _l("创建时间"),
    "recorded_at": _l("记录时间"),
    "revoked_at": _l("吊销时间"),
    "password": _l("密码"),
    "new_password": _l("新密码"),
    "user": _l("所属用户"),
    "project": _l("重点项目"),
}

#: Where one entity names a field more closely than the table above (a period's code is
#: its 周期代码, a cadre's unit the unit the cadre serves in). ``unit.name`` and the like
#: are the admin lists' filters on a related record's field.
ENTITY_FIELD_LABELS = {
    "unit": {"code": _l("区划代码")},
    "analysis_group": {"name": _l("小组名称")},
    "cadre": {
        "name": _l("姓名"),
        "unit": _l("任职单位"),
        "unit.name": _l("任职单位"),
        "active": _l("在岗"),
    },
    "cadre_record": {
        "title": _l("事项"),
        "detail": _l("具体表现"),
        "cadre.name": _l("干部姓名"),
    },
    "key_project": {
        "code": _l("项目编号"),
        "name": _l("项目名称"),
        "unit": _l("所在单位"),
        "unit.name": _l("所在单位"),
    },
    "project_update": {"note": _l("进展情况"), "project.name": _l("项目名称")},
    "scheme": {"code": _l("方案代码"), "name": _l("方案名称"), "level": _l("适用层级")},
    "dimension": {"code": _l("维度代码"), "name": _l("维度名称")},
    "indicator": {"code": _l("指标代码"), "name": _l("指标名称")},
    "period": {"code": _l("周期代码"), "name": _l("周期名称")},
    "api_token": {"name": _l("令牌名称")},
    "user": {"unit": _l("所在镇街")},
    #: a survey's ``group`` is a rater group, not an analysis group
    "survey": {"group": _l("测评人群体")},
}


def field_label(entity: str | None, field: str) -> str:
    """Return the Chinese name of an entity's field, or the field's code when it has none."""
    label = ENTITY_FIELD_LABELS.get(entity or "", {}).get(field, FIELD_LABELS.get(field))
    return str(label) if label is not None else field


def column_labels(entity: str) -> dict:
    """Return an admin view's ``column_labels``: every field's name as ``entity`` says it
    (lazy, so that each request shows them in its own language)."""
    return {**FIELD_LABELS, **ENTITY_FIELD_LABELS.get(entity, {})}


#: A filter by action label also finds these actions: entering scores includes clearing
#: them (a cleared value is an entry too).
ACTION_FAMILIES = {"score.set": ("score.set", "score.clear")}

#: The state enum of each entity's ``status`` field.
_STATES = {
    "period": PeriodStatus,
    "review_case": ReviewCaseStatus,
    "scheme": SchemeStatus,
    "key_project": ProjectStatus,
    "survey": SurveyStatus,
    "objection": ObjectionStatus,
    "tolerance_case": ToleranceStatus,
    "claim": ClaimStatus,
}


def entity_label(entity: str | None) -> str:
    """Return the Chinese name of an entity type, or the code itself when it has none."""
    if not entity:
        return ""
    label = ENTITY_LABELS.get(entity)
    return str(label) if label is not None else entity


def action_label(action: str | None) -> str:
    """Return the Chinese name of an action code ("" when there is none)."""
    if not action:
        return ""
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    entity, _, verb = action.rpartition(".")
    if verb not in VERBS:
        return ""
    name = ENTITY_LABELS.get(entity)
    return str(VERBS[verb]) + (str(name) if name is not None else "")


#: The batches of typical villages (a village's ``typical_batch``).
TYPICAL_BATCHES = {1: _l("第一批"), 2: _l("第二批")}

#: Fields whose stored codes have Chinese names, whatever the entity (each table is the one
#: the model keeps beside its column).
_FIELD_CODES = {
    "level": LEVELS,
    "role": ROLES,
    "method": METHODS,
    "direction": DIRECTIONS,
    "tie_method": TIE_METHODS,
    "priority": PRIORITIES,
    "reasons": REASONS,
    "orientation": ORIENTATIONS,
    "target_type": EvidenceTarget.labels(),
    "typical_batch": TYPICAL_BATCHES,
    #: What a 民主测评 rates (models/surveys.py TARGET_KINDS).
    "target_kind": {"cadre": _l("干部"), "leadership": _l("镇街领导班子")},
}


def value_label(entity: str | None, field: str, value):
    """Return a stored code shown by its Chinese name: a state (``open`` of a review case →
    研判中), a level, role, method, priority or the reasons of a review case; anything
    else as it is."""
    states = _STATES.get(entity or "")
    if states is not None and field == "status" and isinstance(value, str):
        return states.label_of(value)
    names = _FIELD_CODES.get(field)
    if names is None:
        return value
    if isinstance(value, list):
        return "、".join(str(names.get(item, item)) for item in value)
    if isinstance(value, str | int) and not isinstance(value, bool):
        return names.get(value, value)
    return value


def known_actions() -> list[str]:
    """Every action code with a name of its own or a composed one."""
    composed = [f"{entity}.{verb}" for entity in ENTITY_LABELS for verb in VERBS]
    return list(ACTION_LABELS) + [code for code in composed if code not in ACTION_LABELS]


def action_codes(text: str) -> list[str]:
    """Return the action codes a person's filter text means.

    A code as it is (``score.set``); a label (``录入分数``, or its English on an English
    page) as its action and that action's
    family (entering scores includes clearing them); part of a label (``研判``) as every
    action whose label contains it. Empty when nothing matches.
    """
    text = text.strip()
    if not text:
        return []
    if "." in text and text.isascii():
        return [text]
    with force_locale("zh_CN"):
        chinese = {code: action_label(code) for code in known_actions()}
    names = {code: (action_label(code), chinese[code]) for code in chinese}
    exact = [code for code, said in names.items() if text in said]
    found = exact or [code for code, said in names.items() if any(text in s for s in said)]
    codes: list[str] = []
    for code in found:
        for member in ACTION_FAMILIES.get(code, (code,)):
            if member not in codes:
                codes.append(member)
    return codes
