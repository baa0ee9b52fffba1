"""Indicator schemes (指标方案): field rules, the freeze of a published scheme,
publishing (docs/rules.md#scheme-rules scheme validation) and copying to a new version.

A published scheme, its dimensions and its indicators are frozen on every door:
the rules below are registered with ``records.add_rule``, so the admin forms, the
CLI, the API and the seeder all meet the same refusal. A change to a published
scheme is made on a copy (``copy_scheme``), which is a new draft version.

Drafts may be saved while still incomplete (points not yet adding up), but every
field is checked when written: the database would otherwise round a third decimal
away or refuse the row with a constraint name no user can read.
``publish_scheme`` then checks the whole scheme and reports every problem at once.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, inspect, select

from evaluation import scoring
from evaluation.core.numbers import plain as _plain
from evaluation.scoring.amounts import has_two_decimals_at_most
from evaluation.services import history, records
from evaluation.services.core import InvalidInput, StateError, writing
from models import Dimension, Indicator, Period, Scheme, db
from models.schemes import DIRECTIONS, METHODS, TIE_METHODS
from models.units import LEVELS

__all__ = [
    "copy_scheme",
    "engine_scheme",
    "format_grade_bands",
    "format_grade_fractions",
    "parse_grade_bands",
    "parse_grade_fractions",
    "publish_scheme",
    "suggest_copy_code",
    "validate_scheme",
]

COPY_FIELDS_SCHEME = ("name", "level", "total", "bonus_cap", "penalty_cap", "tie_method")
COPY_FIELDS_INDICATOR = (
    "code",
    "name",
    "points",
    "method",
    "direction",
    "target",
    "floor",
    "value_min",
    "value_max",
    "integer_only",
    "measure_unit",
    "data_source",
    "rule_text",
    "order",
)


# --- text forms of the JSON columns (what an admin types) --------------------


def _split_pairs(text: str) -> list[tuple[str, str]]:
    """Split ``A=1, B=0.85`` (also ``A：1；B：0.85`` or one per line) into pairs."""
    normalized = text
    for sep in ("，", "；", ";", "\n", "\r"):
        normalized = normalized.replace(sep, ",")
    pairs = []
    for chunk in normalized.split(","):
        chunk = chunk.strip()
        if not chunk:
            continue
        for mark in ("=", "：", ":"):
            if mark in chunk:
                key, _, value = chunk.partition(mark)
                pairs.append((key.strip(), value.strip()))
                break
        else:
            raise ValueError(f"“{chunk}”缺少等号，应写成“名称=数值”")
    return pairs


def _decimal(text) -> Decimal | None:
    try:
        number = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def parse_grade_fractions(text: str | None) -> dict[str, str] | None:
    """Read ``A=1, B=0.85`` into ``{"A": "1", "B": "0.85"}``; blank means the defaults."""
    if text is None or not str(text).strip():
        return None
    fractions: dict[str, str] = {}
    for key, value in _split_pairs(str(text)):
        number = _decimal(value)
        if not key:
            raise ValueError("等次名称不能为空")
        if number is None:
            raise ValueError(f"等次 {key} 的系数“{value}”不是数字")
        if key in fractions:
            raise ValueError(f"等次 {key} 重复")
        fractions[key] = _plain(number)
    return fractions


def format_grade_fractions(fractions: dict | None) -> str:
    """Show grade fractions as ``A=1, B=0.85``."""
    if not fractions:
        return ""
    return ", ".join(f"{key}={value}" for key, value in fractions.items())


def parse_grade_bands(text: str | None) -> list[dict[str, str]]:
    """Read ``好=90, 较好=80, 一般=60, 较差=0`` into ``[{"name", "min"}]``."""
    bands = []
    for name, value in _split_pairs(str(text or "")):
        number = _decimal(value)
        if not name:
            raise ValueError("等次名称不能为空")
        if number is None:
            raise ValueError(f"等次 {name} 的最低分“{value}”不是数字")
        bands.append({"name": name, "min": _plain(number)})
    return bands


def format_grade_bands(bands: list | None) -> str:
    """Show grade bands as ``好=90, 较好=80``."""
    if not bands:
        return ""
    return ", ".join(f"{band.get('name', '')}={band.get('min', '')}" for band in bands)


# --- field checks (every write) -----------------------------------------------


def _band_problems(grades, where: str = "") -> list[str]:
    if not isinstance(grades, list) or not grades:
        return [f"{where}等次划分不能为空"]
    problems = []
    previous = None
    for index, band in enumerate(grades, start=1):
        if not isinstance(band, dict):
            problems.append(f"{where}第 {index} 个等次格式不对")
            previous = None
            continue
        name = band.get("name")
        minimum = _decimal(band.get("min")) if band.get("min") is not None else None
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}第 {index} 个等次缺少名称")
        if minimum is None:
            problems.append(f"{where}等次“{name}”的最低分不是数字")
        elif previous is not None and minimum >= previous:
            problems.append(
                f"{where}等次最低分必须严格递减：“{name}”的 {_plain(minimum)} "
                f"不小于上一等次的 {_plain(previous)}"
            )
        previous = minimum
    return problems


def scheme_field_problems(scheme: Scheme) -> list[str]:
    """Return the problems of a scheme's own fields (not its indicators)."""
    problems = []
    if (scheme.level or "town") not in LEVELS:
        problems.append(f"层级“{scheme.level}”未知，可选：town（镇街）、village（村居）")
    total = scheme.total if scheme.total is not None else Decimal("100")
    if total <= 0:
        problems.append("总分必须大于 0")
    elif not has_two_decimals_at_most(Decimal(total)):
        problems.append("总分最多两位小数")
    for name, label in (("bonus_cap", "加分上限"), ("penalty_cap", "减分上限")):
        cap = getattr(scheme, name)
        if cap is not None and cap < 0:
            problems.append(f"{label}不能为负数（留空表示不设上限）")
    tie = scheme.tie_method or "competition"
    if tie not in TIE_METHODS:
        problems.append(
            f"并列排名方式“{tie}”未知，可选：competition（竞争排名）、dense（中国式排名）"
        )
    if scheme.grades is not None:
        problems.extend(_band_problems(scheme.grades))
    return problems


def _fraction_problems(fractions, label: str) -> list[str]:
    if fractions is None:
        return []
    if not isinstance(fractions, dict) or not fractions:
        return [f"{label}的等次系数不能为空（留空则用默认 A/优 1、B/良 0.85、C/中 0.7、D/差 0.5）"]
    problems = []
    for key, value in fractions.items():
        number = _decimal(value)
        if not isinstance(key, str) or not key.strip():
            problems.append(f"{label}的等次名称不能为空")
        elif number is None:
            problems.append(f"{label}的等次 {key} 系数“{value}”不是数字")
        elif not 0 <= number <= 1:
            problems.append(f"{label}的等次 {key} 系数 {value} 必须在 0 到 1 之间")
    return problems


def indicator_field_problems(indicator: Indicator) -> list[str]:
    """Return the problems of one indicator's fields (docs/rules.md#scheme-rules)."""
    label = f"指标 {indicator.code or '(无代码)'}"
    problems = []
    if not indicator.code or not str(indicator.code).strip():
        problems.append("指标代码不能为空")
    points = indicator.points
    if points is None:
        problems.append(f"{label}缺少分值")
    elif points <= 0:
        problems.append(f"{label}的分值 {_plain(points)} 必须大于 0")
    elif not has_two_decimals_at_most(Decimal(points)):
        problems.append(f"{label}的分值 {points} 最多两位小数")
    method = indicator.method or "direct"
    direction = indicator.direction or "higher"
    if method not in METHODS:
        problems.append(f"{label}的计分方法“{method}”未知")
    if direction not in DIRECTIONS:
        problems.append(f"{label}的方向“{direction}”未知")
    if method == "target" and (indicator.target is None or indicator.target <= 0):
        problems.append(f"{label}采用目标完成率，目标值必须大于 0")
    floor = indicator.floor
    if floor is not None and not 0 <= floor < 1:
        problems.append(f"{label}的保底比例 {_plain(floor)} 必须不小于 0 且小于 1")
    problems.extend(_fraction_problems(indicator.grade_fractions, label))
    problems.extend(_range_problems(indicator, label, method))
    return problems


def _range_problems(indicator: Indicator, label: str, method: str) -> list[str]:
    """The allowed range of raw values (docs/values-and-ranges.md)."""
    low, high = indicator.value_min, indicator.value_max
    if method == "grade":
        if low is not None or high is not None or indicator.integer_only:
            return [f"{label}按等次评定，不设允许最小值、允许最大值和只允许整数"]
        return []
    if low is not None and high is not None and low > high:
        return [f"{label}的允许最小值 {_plain(low)} 大于允许最大值 {_plain(high)}"]
    return []


# --- which schemes a change touches --------------------------------------------


def _old_values(obj, attribute: str) -> list:
    state = inspect(obj)
    if state.transient or state.pending:
        return []
    return list(state.attrs[attribute].history.deleted or ())


def _schemes_touched(obj) -> list[Scheme]:
    """Return every scheme a change to ``obj`` touches: the one it is in and the one it was in."""
    schemes: list = []
    if isinstance(obj, Scheme):
        schemes.append(obj)
    elif isinstance(obj, Dimension | Indicator):
        schemes.append(obj.scheme)
        scheme_ids = [obj.scheme_id, *_old_values(obj, "scheme_id")]
        schemes.extend(_old_values(obj, "scheme"))
        if isinstance(obj, Indicator):
            dimensions = [obj.dimension, *_old_values(obj, "dimension")]
            dimension_ids = [obj.dimension_id, *_old_values(obj, "dimension_id")]
            with db.session.no_autoflush:
                dimensions += [db.session.get(Dimension, i) for i in dimension_ids if i]
            schemes.extend(d.scheme for d in dimensions if d is not None)
        with db.session.no_autoflush:
            schemes.extend(db.session.get(Scheme, i) for i in scheme_ids if i)
    seen, unique = set(), []
    for scheme in schemes:
        if scheme is not None and id(scheme) not in seen:
            seen.add(id(scheme))
            unique.append(scheme)
    return unique


def _committed_status(scheme: Scheme) -> str | None:
    """The status as stored: a change in this transaction cannot unfreeze a scheme."""
    if inspect(scheme).pending or inspect(scheme).transient:
        return scheme.status
    old = _old_values(scheme, "status")
    return old[0] if old else scheme.status


def frozen_message(scheme: Scheme) -> str:
    return (
        f"指标方案 {scheme.code}（第 {scheme.version} 版）已发布，不能再修改；"
        "请在方案列表中选择“复制为新版本”，在新版本上修改后再发布"
    )


def _refuse_frozen(obj) -> None:
    with db.session.no_autoflush:
        for scheme in _schemes_touched(obj):
            if _committed_status(scheme) == "published":
                raise StateError(frozen_message(scheme))


# --- rules registered with records ---------------------------------------------


def _scheme_rule(scheme: Scheme, values: dict | None, is_created: bool) -> None:
    if not is_created:
        _refuse_frozen(scheme)
    if values is None:  # a delete
        _refuse_scheme_delete(scheme)
        return
    problems = scheme_field_problems(scheme)
    if problems:
        raise InvalidInput("；".join(problems), details=problems)


def _refuse_scheme_delete(scheme: Scheme) -> None:
    with db.session.no_autoflush:
        used = db.session.scalars(
            select(Period.code).where(
                (Period.town_scheme_id == scheme.id) | (Period.village_scheme_id == scheme.id)
            )
        ).all()
        if used:
            raise StateError(
                f"指标方案 {scheme.code} 已被考核周期 {'、'.join(used)} 使用，不能删除"
            )
        parts = db.session.scalar(
            select(func.count()).select_from(Dimension).where(Dimension.scheme_id == scheme.id)
        )
        copies = db.session.scalar(
            select(func.count()).select_from(Scheme).where(Scheme.based_on_id == scheme.id)
        )
    if parts:
        raise StateError(f"指标方案 {scheme.code} 下还有维度和指标，请先删除它们")
    if copies:
        raise StateError(f"指标方案 {scheme.code} 已有复制出的新版本，不能删除")


def _dimension_rule(dimension: Dimension, values: dict | None, is_created: bool) -> None:
    _refuse_frozen(dimension)
    if values is None:
        with db.session.no_autoflush:
            count = db.session.scalar(
                select(func.count())
                .select_from(Indicator)
                .where(Indicator.dimension_id == dimension.id)
            )
        if count:
            raise StateError(f"维度 {dimension.code} 下还有 {count} 个指标，请先删除或移走它们")
        return
    if dimension.scheme is None:
        raise InvalidInput("请选择维度所属的指标方案")
    if not dimension.code or not dimension.name:
        raise InvalidInput("维度代码和名称不能为空")
    if not is_created and dimension.indicators:
        moved = [s for s in _schemes_touched(dimension) if s is not dimension.scheme]
        if moved:
            raise StateError("维度下已有指标，不能移到另一个方案")


def _indicator_rule(indicator: Indicator, values: dict | None, is_created: bool) -> None:
    # The scheme is denormalized from the dimension (codes are unique per scheme in the
    # database), so it follows the dimension rather than being chosen separately.
    if values is not None:
        if indicator.dimension is None:
            raise InvalidInput("请选择指标所属的维度")
        if indicator.scheme is None or (values and "dimension" in values):
            indicator.scheme = indicator.dimension.scheme
        elif indicator.scheme is not indicator.dimension.scheme:
            raise InvalidInput("指标所属方案与其维度所属方案不一致")
    _refuse_frozen(indicator)
    if values is None:
        return
    problems = indicator_field_problems(indicator)
    if problems:
        raise InvalidInput("；".join(problems), details=problems)


def _without_autoflush(rule):
    # Rules run before the new row is added to the session; a lazy load that flushed
    # half-built objects would warn and could write them early.
    def checked(obj, values, is_created):
        with db.session.no_autoflush:
            rule(obj, values, is_created)

    checked.__name__ = rule.__name__
    return checked


records.add_rule(Scheme, _without_autoflush(_scheme_rule))
records.add_rule(Dimension, _without_autoflush(_dimension_rule))
records.add_rule(Indicator, _without_autoflush(_indicator_rule))


# --- validation (docs/rules.md#scheme-rules)
# --------------------------------------------------------


def engine_scheme(scheme: Scheme) -> dict:
    """Return a scheme in the engine's form (docs/rules.md#engine-document); unreadable amounts stay
    as text."""

    def amount(value):
        return None if value is None else Decimal(value)

    def fractions(raw):
        if not isinstance(raw, dict):
            return raw
        return {k: (_decimal(v) if _decimal(v) is not None else v) for k, v in raw.items()}

    grades = scheme.grades
    if isinstance(grades, list):
        grades = [
            {
                "name": band.get("name"),
                "min": _decimal(band.get("min"))
                if _decimal(band.get("min")) is not None
                else band.get("min"),
            }
            if isinstance(band, dict)
            else band
            for band in grades
        ]
    return {
        "total": amount(scheme.total),
        "bonus_cap": amount(scheme.bonus_cap),
        "penalty_cap": amount(scheme.penalty_cap),
        "tie_method": scheme.tie_method,
        "grades": grades,
        "dimensions": [
            {
                "code": dimension.code,
                "name": dimension.name,
                "indicators": [
                    {
                        "code": indicator.code,
                        "name": indicator.name,
                        "points": amount(indicator.points),
                        "method": indicator.method,
                        "direction": indicator.direction,
                        "target": amount(indicator.target)
                        if indicator.method == "target"
                        else None,
                        "floor": amount(indicator.floor)
                        if indicator.method == "relative"
                        else None,
                        "grade_fractions": fractions(indicator.grade_fractions)
                        if indicator.method == "grade"
                        else None,
                    }
                    for indicator in _indicators_of(dimension)
                ],
            }
            for dimension in scheme.dimensions
        ],
    }


def _indicators_of(dimension: Dimension) -> Iterable[Indicator]:
    return sorted(dimension.indicators, key=lambda i: (i.order, i.id or 0))


def validate_scheme(scheme: Scheme) -> list[str]:
    """Return every problem that keeps ``scheme`` from being published (Chinese), in order."""
    problems = scheme_field_problems(scheme)
    if scheme.grades is None:
        problems.append("等次划分不能为空")
    dimensions = list(scheme.dimensions)
    if not dimensions:
        problems.append("方案还没有维度")
    seen_dimensions: set[str] = set()
    seen_indicators: dict[str, str] = {}
    points_sum = Decimal(0)
    count = 0
    for dimension in dimensions:
        if dimension.code in seen_dimensions:
            problems.append(f"维度代码 {dimension.code} 重复")
        seen_dimensions.add(dimension.code)
        indicators = list(_indicators_of(dimension))
        if not indicators:
            problems.append(f"维度 {dimension.code} {dimension.name} 还没有指标")
        for indicator in indicators:
            count += 1
            if indicator.code in seen_indicators:
                problems.append(
                    f"指标代码 {indicator.code} 重复（维度 {seen_indicators[indicator.code]} "
                    f"和 {dimension.code}）"
                )
            seen_indicators[indicator.code] = dimension.code
            problems.extend(indicator_field_problems(indicator))
            if indicator.points is not None:
                points_sum += Decimal(indicator.points)
    stray = []
    if scheme.id is not None:  # an unsaved scheme has no rows to stray
        stray = db.session.scalars(
            select(Indicator.code).where(
                Indicator.scheme_id == scheme.id,
                Indicator.dimension_id.not_in(
                    select(Dimension.id).where(Dimension.scheme_id == scheme.id)
                ),
            )
        ).all()
    for code in stray:
        problems.append(f"指标 {code} 的维度不属于本方案")
    total = Decimal(scheme.total) if scheme.total is not None else None
    if count and total is not None and points_sum != total:
        problems.append(
            f"各指标分值合计 {_plain(points_sum)}，不等于方案总分 {_plain(total)}"
            f"（相差 {_plain(total - points_sum)}）"
        )
    if not problems:
        # The engine is the final word: a scheme it refuses must never be published.
        engine_problems = scoring.validate({"scheme": engine_scheme(scheme), "units": []})
        problems.extend(f"评分引擎校验未通过：{p.path} {p.message}" for p in engine_problems)
    return problems


# --- publish and copy -------------------------------------------------------------


def publish_scheme(actor, scheme: Scheme) -> Scheme:
    """Validate ``scheme`` (docs/rules.md#scheme-rules) and publish it, freezing it from then on."""
    with writing(actor, "scheme.write") as session:
        session.refresh(scheme)
        if scheme.status == "published":
            raise StateError(f"指标方案 {scheme.code} 已经发布")
        problems = validate_scheme(scheme)
        if problems:
            raise InvalidInput(
                f"指标方案 {scheme.code} 未通过校验，共 {len(problems)} 个问题："
                + "；".join(problems),
                details=problems,
            )
        scheme.status = "published"
        session.flush()
        history.append(
            actor,
            "scheme.publish",
            "scheme",
            scheme.code,
            before={"status": "draft"},
            after={"status": "published"},
        )
    return scheme


def suggest_copy_code(scheme: Scheme) -> str:
    """Propose a free code for the next version: ``TOWN-2026`` → ``TOWN-2026-v2``."""
    base = scheme.code
    stem = base.rsplit("-v", 1)[0] if "-v" in base else base
    version = scheme.version + 1
    while True:
        candidate = f"{stem}-v{version}"[-32:]
        taken = db.session.scalar(select(Scheme.id).where(Scheme.code == candidate))
        if taken is None:
            return candidate
        version += 1


def copy_scheme(actor, scheme: Scheme, new_code: str, *, name: str | None = None) -> Scheme:
    """Copy ``scheme`` with its dimensions and indicators into a new draft version."""
    new_code = (new_code or "").strip()
    with writing(actor, "scheme.write") as session:
        session.refresh(scheme)
        if not new_code or len(new_code) > 32:
            raise InvalidInput("新版本的方案代码不能为空，且不超过 32 个字符")
        if session.scalar(select(Scheme.id).where(Scheme.code == new_code)) is not None:
            raise InvalidInput(f"方案代码 {new_code} 已存在")
        new = Scheme(
            code=new_code,
            **{field: getattr(scheme, field) for field in COPY_FIELDS_SCHEME},
            grades=copy.deepcopy(scheme.grades),
            status="draft",
            version=scheme.version + 1,
            based_on=scheme,
        )
        if name:
            new.name = name
        session.add(new)
        for dimension in scheme.dimensions:
            new_dimension = Dimension(
                scheme=new, code=dimension.code, name=dimension.name, order=dimension.order
            )
            session.add(new_dimension)
            for indicator in _indicators_of(dimension):
                session.add(
                    Indicator(
                        scheme=new,
                        dimension=new_dimension,
                        grade_fractions=copy.deepcopy(indicator.grade_fractions),
                        **{field: getattr(indicator, field) for field in COPY_FIELDS_INDICATOR},
                    )
                )
        session.flush()
        _, after = history.diff({}, records.snapshot(new))
        after["dimensions"] = [
            {"code": d.code, "name": d.name, "order": d.order} for d in new.dimensions
        ]
        after["indicators"] = [
            {k: v for k, v in records.snapshot(i).items() if k != "scheme"}
            for d in new.dimensions
            for i in _indicators_of(d)
        ]
        history.append(
            actor,
            "scheme.copy",
            "scheme",
            new.code,
            before={"copied_from": scheme.code, "version": scheme.version},
            after=after,
        )
    return new
