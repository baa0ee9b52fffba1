"""Chinese names of the codes the history stores: actions, entity types and states
(docs/rules.md#history-chain, "Labels").

One table for every page and export that shows a code to a person: the history page,
the dashboard's latest events, the history exports. States are not repeated here: the
``StrEnum`` of each state (``models/states.py``) carries its own ``label``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from models.cadres import ORIENTATIONS
from models.reviews import PRIORITIES, REASONS
from models.schemes import DIRECTIONS, METHODS, TIE_METHODS
from models.states import (
    ClaimStatus,
    EvidenceTarget,
    PeriodStatus,
    ProjectStatus,
    ReviewCaseStatus,
    SchemeStatus,
)
from models.units import LEVELS
from models.users import ROLES

__all__ = [
    "ACTION_LABELS",
    "ENTITY_LABELS",
    "action_codes",
    "action_label",
    "entity_label",
    "value_label",
]

#: Chinese names of the actions with their own wording; ``<entity>.create/update/delete``
#: are composed from the verb and the entity's name.
ACTION_LABELS = {
    "score.set": _l("录入分数"),
    "score.clear": _l("清除分数"),
    "adjustment.add": _l("加减分"),
    "adjustment.remove": _l("撤销加减分"),
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
    "setting.set": _l("修改设置"),
    "review.record": _l("记录研判"),
    "review.close": _l("办结研判任务"),
    "review_case.open": _l("生成研判任务"),
    "review_case.update": _l("更新研判任务"),
    "evidence.add": _l("上传佐证材料"),
    "evidence.unlink": _l("撤下佐证材料"),
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
    "dimension": _l("方面"),
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
    "evidence": _l("佐证材料"),
    "claim": _l("镇街自评"),
}

#: A filter by action label also finds these actions: entering scores includes clearing
#: them (a cleared value is an entry too).
ACTION_FAMILIES = {"score.set": ("score.set", "score.clear")}

#: The state enum of each entity's ``status`` field.
_STATES = {
    "period": PeriodStatus,
    "review_case": ReviewCaseStatus,
    "scheme": SchemeStatus,
    "key_project": ProjectStatus,
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
    if isinstance(value, str):
        return names.get(value, value)
    return value


def known_actions() -> list[str]:
    """Every action code with a name of its own or a composed one."""
    composed = [f"{entity}.{verb}" for entity in ENTITY_LABELS for verb in VERBS]
    return list(ACTION_LABELS) + [code for code in composed if code not in ACTION_LABELS]


def action_codes(text: str) -> list[str]:
    """Return the action codes a person's filter text means.

    A code as it is (``score.set``); a label (``录入分数``) as its action and that action's
    family (entering scores includes clearing them); part of a label (``研判``) as every
    action whose label contains it. Empty when nothing matches.
    """
    text = text.strip()
    if not text:
        return []
    if "." in text and text.isascii():
        return [text]
    exact = [code for code in known_actions() if action_label(code) == text]
    found = exact or [code for code in known_actions() if text in action_label(code)]
    codes: list[str] = []
    for code in found:
        for member in ACTION_FAMILIES.get(code, (code,)):
            if member not in codes:
                codes.append(member)
    return codes
