"""The Chinese wording of the rule table's problem codes (docs/rules.md#where-a-rule-lives).

``evaluation/scoring/rules.py`` states every scheme and indicator rule once and names
each way to break it by a code; the engine words the codes in English. This module
words the same codes in Chinese, for the admin forms, the services and every page that
shows an engine refusal. ``MESSAGES`` must hold every code of ``rules.CODES``
(``tests/test_rule_messages.py``).

Two placeholders are filled in here, whoever reports the problem:

- ``{owner}``: the item the problem is about (``指标 E01``, ``维度 D1``, ``第 2 个等次``,
  ``第 3 条数值``), or nothing for the scheme's own fields;
- ``{where}``: the owner and the field (``指标 E01的分值``, ``总分``).

The other placeholders are the problem's parameters (``rules.CODES`` lists them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from evaluation.scoring import rules

__all__ = ["FIELD_LABELS", "MESSAGES", "chinese", "default_fractions_text", "engine_problem"]


def default_fractions_text() -> str:
    """The default grade fractions as ``A/优 1、B/良 0.85、C/中 0.7、D/差 0.5``."""
    grouped: dict[str, list[str]] = {}
    for key, fraction in rules.DEFAULT_GRADE_FRACTIONS.items():
        grouped.setdefault(rules.plain(fraction), []).append(key)
    return "、".join(f"{'/'.join(keys)} {fraction}" for fraction, keys in grouped.items())


_TARGET = "{owner}采用目标完成率，目标值必须大于 0"

#: Problem code → its Chinese wording (``str.format``).
MESSAGES: Mapping[str, str] = {
    # the shape of a document
    "required": "{where}缺失",
    "type.object": "{where}格式不对（应为对象）",
    "type.list": "{where}格式不对（应为列表）",
    "type.number": "{where}须为数字",
    "type.code": "{where}不能为空",
    "type.string": "{where}须为文字",
    "type.whole": "{where}须为整数",
    "type.date": "{where}须为日期（YYYY-MM-DD）",
    "number.not_finite": "{where}须为有限的数字",
    "number.too_large": "{where}超出范围（整数部分最多 15 位）",
    "whole.too_small": "{where}不能小于 {minimum}",
    "json.invalid": "JSON 格式不对：{detail}",
    "file.unreadable": "无法读取 {file}：{detail}",
    "document.unreadable": "无法读取评分数据",
    # the scheme
    "total.not_positive": "总分必须大于 0",
    "total.too_many_decimals": "总分最多两位小数",
    "cap.negative": "{where}不能为负数（留空表示不设上限）",
    "tie_method.unknown": (
        "并列排名方式“{value}”未知，可选：competition（竞争排名）、dense（中国式排名）"
    ),
    "grades.empty": "等次划分不能为空",
    "grades.not_decreasing": (
        "等次最低分必须严格递减：“{name}”的 {min} 不小于上一等次的 {previous}"
    ),
    "dimension.duplicate": "维度代码 {code} 重复",
    "points.sum_mismatch": "各指标分值合计 {sum}，不等于方案总分 {total}（相差 {difference}）",
    # an indicator
    "indicator.duplicate": "指标代码 {code} 重复（先见于{first}）",
    "points.not_positive": "{owner}的分值 {value} 必须大于 0",
    "points.too_many_decimals": "{owner}的分值 {value} 最多两位小数",
    "method.unknown": "{owner}的计分方法“{value}”未知",
    "direction.unknown": "{owner}的方向“{value}”未知",
    "target.required": _TARGET,
    "target.not_positive": _TARGET,
    "floor.out_of_range": "{owner}的保底比例 {value} 必须不小于 {low} 且小于 {high}",
    "grade_fractions.empty": (
        "{owner}的等次系数不能为空（留空则用默认 " + default_fractions_text() + "）"
    ),
    "grade_fractions.key_empty": "{owner}的等次名称不能为空",
    "grade_fractions.out_of_range": "{owner}的等次 {key} 系数 {value} 必须在 {low} 到 {high} 之间",
    "grade_fractions.not_number": "{owner}的等次 {key} 系数“{value}”不是数字",
    # checked before publishing only
    "level.unknown": "层级“{value}”未知，可选：town（镇街）、village（村居）",
    "scheme.no_dimensions": "方案还没有维度",
    "dimension.no_indicators": "维度 {code} {name} 还没有指标",
    "indicator.outside_scheme": "指标 {code} 的维度不属于本方案",
    "range.min_above_max": "{owner}的允许最小值 {min} 大于允许最大值 {max}",
    "range.on_grade": "{owner}按等次评定，不设允许最小值、允许最大值和只允许整数",
    # units, values, adjustments, vetoes
    "unit.duplicate": "单位 {code} 重复（先见于{first}）",
    "unit.unknown": "{where}：未知单位 {code}",
    "indicator.unknown": "{where}：未知指标 {code}",
    "value.duplicate": "单位 {unit} 指标 {indicator} 的数值重复（先见于{first}）",
    "value.not_a_grade": "{where}须为指标 {indicator} 的等次（{grades}）",
    "value.unknown_grade": "{where}“{value}”不是指标 {indicator} 的等次（{grades}）",
    "value.direct_out_of_range": "{where}须在 0 到 {points} 分之间",
    "value.negative_lower_target": "{where}不能为负数（目标完成率，越低越好）",
    "adjustment.kind_unknown": "{where}“{value}”未知，可选：bonus（加分）、penalty（减分）",
    "adjustment.not_positive": "{where}必须大于 0",
    # rank uncertainty and review flags
    "samples.too_many": "{where}不能超过 {maximum}",
    "spread.out_of_range": "{where}须在 0 到 1 之间",
    "period_end.required": "研判预警须有周期结束日期",
    "threshold.negative": "{where}不能为负数",
    # weights (docs/weights.md)
    "ahp.size": "判断矩阵须有 {minimum} 到 {maximum} 项（现有 {n} 项）",
    "ahp.not_square": "判断矩阵第 {row} 行有 {length} 个数，应为 {n} 个（矩阵须为方阵）",
    "ahp.not_positive": "{where}{value} 必须大于 0（萨蒂标度为 1/9 到 9）",
    "ahp.out_of_scale": "{where}{value} 超出萨蒂标度 1/9 到 9",
    "ahp.diagonal": "{where}为自身比较，须为 1，不能是 {value}",
    "ahp.not_reciprocal": (
        "{where}{value} 须为对称位置 {other} 的倒数（两者乘积为 {product}，不是 1）"
    ),
    "ahp.method_unknown": (
        "权重算法“{value}”未知，可选：eigenvector（特征向量法）、geometric（几何平均法）"
    ),
    "weights.kind_unknown": "赋权方法“{value}”未知，可选：ahp、entropy、critic",
    "ahp.inconsistent": (
        "一致性比率 CR = {cr}，大于 {limit}：请调整判断，或填写理由后仍予采用"
    ),
    "ahp.reason_required": "CR 大于 {limit} 的判断矩阵须填写采用理由",
    "weights.too_few_rows": "至少需要 {minimum} 个单位的数值（现有 {rows} 个）",
    "weights.too_few_columns": "至少需要 {minimum} 个指标（现有 {columns} 个）",
    "weights.ragged": "{where}有 {length} 个数，应与第一行一样为 {columns} 个",
    "weights.directions_length": "方向须每列一个（共 {columns} 列），现有 {length} 个",
    "weights.negative": "{where}有负值 {value}，不能计算熵权",
    "weights.no_information": "所有指标的数值都相同，不含任何信息，无法计算权重",
    "weights.no_information_column": "第 {column} 列数值全部相同，不含信息，权重为 0",
    "diagnostics.too_few_units": (
        "至少需要 {minimum} 个数据完整的单位才能做指标诊断（现有 {units} 个）"
    ),
}

#: Field names in an engine document → their Chinese labels.
FIELD_LABELS: Mapping[str, str] = {
    "scheme": "指标方案",
    "units": "单位列表",
    "values": "数值列表",
    "adjustments": "加减分列表",
    "vetoes": "一票否决列表",
    "total": "总分",
    "bonus_cap": "加分上限",
    "penalty_cap": "减分上限",
    "tie_method": "并列排名方式",
    "grades": "等次划分",
    "dimensions": "维度列表",
    "indicators": "指标列表",
    "code": "代码",
    "name": "名称",
    "min": "最低分",
    "points": "分值",
    "method": "计分方法",
    "direction": "方向",
    "target": "目标值",
    "floor": "保底比例",
    "grade_fractions": "等次系数",
    "unit": "单位",
    "indicator": "指标",
    "value": "数值",
    "kind": "类型",
    "reason": "理由",
    "sensitivity": "排名区间设置",
    "samples": "抽样次数",
    "spread": "浮动幅度",
    "seed": "随机种子",
    "flags": "研判预警设置",
    "typical": "典型村",
    "previous_totals": "上期总分",
    "last_review": "最近研判日期",
    "period_end": "周期结束日期",
    "low_score": "低分线",
    "drop": "降分线",
    "bottom_n": "末位数",
    "review_days": "研判间隔天数",
}

_ITEMS = {
    "dimensions": ("维度", "个"),
    "indicators": ("指标", "个"),
    "grades": ("等次", "个"),
    "units": ("单位", "个"),
    "values": ("数值", "条"),
    "adjustments": ("加减分", "条"),
    "vetoes": ("一票否决", "条"),
}
_STEP = re.compile(r"\[(\d+)\]|\.?([^.\[\]]*)")


def chinese(code: str, params: Mapping[str, object] | None = None, *, owner: str = "",
            field: str = "") -> str:  # fmt: skip
    """Word a problem code in Chinese.

    ``owner`` names the item (``指标 E01``); ``field`` the field's label (``分值``), so
    that ``{where}`` reads ``指标 E01的分值`` (or just the field, or just the owner).
    """
    if owner and field:
        where = f"{owner}的{field}"
    else:
        where = owner or field
    values = {"owner": owner, "where": where, **(params or {})}
    return MESSAGES[code].format(**values)


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for index, key in _STEP.findall(path):
        if index:
            steps.append(int(index))
        elif key:
            steps.append(key)
    return steps


def _locate(path: str, document: object) -> tuple[str, str, dict]:
    """Return (owner, field label, extra parameters) for an engine path such as
    ``scheme.dimensions[0].indicators[1].points``, naming items by their code when the
    document gives it."""
    owner, label, extra = "", "", {}
    node = document
    steps = _steps(path)
    for position, step in enumerate(steps):
        parent = steps[position - 1] if position else None
        child = None
        if isinstance(node, Mapping) and isinstance(step, str):
            child = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            child = node[step]
        if isinstance(step, int) and parent in _ITEMS:
            noun, measure = _ITEMS[parent]
            code = child.get("code") if isinstance(child, Mapping) else None
            name = child.get("name") if isinstance(child, Mapping) else None
            if parent in ("dimensions", "indicators") and isinstance(code, str) and code.strip():
                owner = f"{noun} {code}"
            elif parent == "grades" and isinstance(name, str) and name.strip():
                owner = f"等次“{name}”"
            else:
                owner = f"第 {step + 1} {measure}{noun}"
            label = ""
        elif parent == "grade_fractions" and isinstance(step, str):
            extra["key"] = step
            label = f"等次 {step} 系数"
        elif parent in ("typical", "previous_totals", "last_review") and isinstance(step, str):
            label = f"{FIELD_LABELS[parent]} {step}"
        elif isinstance(step, str):
            label = FIELD_LABELS.get(step, step)
        node = child
    return owner, label, extra


def engine_problem(problem, document: object = None) -> str:
    """Word one of the engine's problems (``scoring.Problem``) in Chinese, naming the
    item by its code when ``document`` (the engine document checked) gives it."""
    owner, label, extra = _locate(problem.path, document)
    params = {**extra, **problem.params}
    first = params.get("first")
    if isinstance(first, str) and first:
        params["first"] = _locate(first, document)[0] or first
    if problem.code == "grade_fractions.out_of_range" and "key" not in params:
        params["key"] = ""
    text = chinese(problem.code, params, owner=owner, field=label)
    if not owner and not label and problem.path:
        return f"{problem.path}：{text}"
    return text
