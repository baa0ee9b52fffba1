"""Indicator schemes (指标方案): field rules, the freeze of a published scheme,
publishing (docs/rules.md#scheme-rules scheme validation) and copying to a new version.

A published scheme, its dimensions and its indicators are frozen on every door:
the rules below are registered with ``records.add_rule``, so the admin forms, the
CLI, the API and the seeder all meet the same refusal. A change to a published
scheme is made on a copy (``new_version``: ``copy_scheme`` under the next free
``-vN`` code), which is a new draft version.

Drafts may be saved while still incomplete (points not yet adding up), but every
field is checked when written: the database would otherwise round a third decimal
away or refuse the row with a constraint name no user can read.
``publish_scheme`` then checks the whole scheme and reports every problem at once.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, inspect, select

from evaluation import scoring
from evaluation.core.numbers import plain as _plain
from evaluation.core.writing import InvalidInput, StateError, writing
from evaluation.history import chain as history
from evaluation.history import records
from evaluation.ranking import reading
from evaluation.schemes.messages import FIELD_LABELS, chinese, engine_problem
from evaluation.scoring import rules
from models import Dimension, Indicator, Period, Scheme, db
from models.units import LEVELS
from models.weights import OVER_DIMENSIONS, WeightJudgement

__all__ = [
    "copy_scheme",
    "format_grade_bands",
    "format_grade_fractions",
    "parse_grade_bands",
    "parse_grade_fractions",
    "publish_scheme",
    "new_version",
    "next_version",
    "validate_scheme",
]

COPY_FIELDS_SCHEME = ("name", "level", "total", "bonus_cap", "penalty_cap", "tie_method")
#: A stored AHP matrix's fields a copied version keeps as they are (docs/weights.md#ahp).
COPY_FIELDS_JUDGEMENT = (
    "items", "matrix", "method", "weights", "points", "parent_points",
    "lambda_max", "ci", "cr", "reason",
)  # fmt: skip
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
    "evidence_required",
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
# The rules are asked of the rule table (evaluation/scoring/rules.py) and worded by its
# codes (schemes/messages.py): docs/rules.md#where-a-rule-lives.


def _said(found: tuple[str, dict] | None, owner: str = "", field: str = "", **extra) -> list[str]:
    """Word what a rule of ``rules`` found (nothing when it found nothing)."""
    if found is None:
        return []
    code, params = found
    return [chinese(code, {**params, **extra}, owner=owner, field=field)]


def _band_problems(grades) -> list[str]:
    if not isinstance(grades, list) or not grades:
        return [chinese("grades.empty")]
    problems = []
    previous = None
    for index, band in enumerate(grades, start=1):
        if not isinstance(band, dict):
            problems.append(chinese("type.object", owner=f"第 {index} 个等次"))
            previous = None
            continue
        name = band.get("name")
        minimum = _decimal(band.get("min")) if band.get("min") is not None else None
        if not isinstance(name, str) or not name.strip():
            problems.append(chinese("type.code", owner=f"第 {index} 个等次", field="名称"))
        if minimum is None:
            problems.append(chinese("type.number", owner=f"等次“{name}”", field="最低分"))
        else:
            problems.extend(_said(rules.band_order_problem(minimum, previous, name)))
        previous = minimum
    return problems


def scheme_field_problems(scheme: Scheme) -> list[str]:
    """Return the problems of a scheme's own fields (not its indicators)."""
    problems = []
    if (scheme.level or "town") not in LEVELS:
        problems.append(
            chinese("level.unknown", {"value": scheme.level, "choices": ", ".join(LEVELS)})
        )
    total = scheme.total if scheme.total is not None else rules.DEFAULT_TOTAL
    problems.extend(_said(rules.number_problem("total", Decimal(total))))
    for name in ("bonus_cap", "penalty_cap"):
        cap = getattr(scheme, name)
        if cap is not None:
            found = rules.number_problem(name, Decimal(cap))
            problems.extend(_said(found, field=FIELD_LABELS[name]))
    tie = scheme.tie_method or rules.DEFAULT_TIE_METHOD
    problems.extend(_said(rules.choice_problem("tie_method", tie)))
    if scheme.grades is not None:
        problems.extend(_band_problems(scheme.grades))
    return problems


def _fraction_problems(fractions, owner: str) -> list[str]:
    if fractions is None:
        return []
    if not isinstance(fractions, dict) or not fractions:
        return [chinese("grade_fractions.empty", owner=owner)]
    problems = []
    for key, value in fractions.items():
        number = _decimal(value)
        if not isinstance(key, str) or not key.strip():
            problems.append(chinese("grade_fractions.key_empty", owner=owner))
        elif number is None:
            problems.append(
                chinese("grade_fractions.not_number", {"key": key, "value": value}, owner=owner)
            )
        else:
            problems.extend(_said(rules.number_problem("grade_fraction", number), owner, key=key))
    return problems


#: The number fields some method reads (target, floor …), from the rule table.
_SETTINGS = tuple(
    dict.fromkeys(name for m in rules.METHODS.values() for name in (*m.needs, *m.optional))
)


def indicator_field_problems(indicator: Indicator) -> list[str]:
    """Return the problems of one indicator's fields (docs/rules.md#scheme-rules)."""
    owner = f"指标 {indicator.code or '(无代码)'}"
    problems = []
    if not indicator.code or not str(indicator.code).strip():
        problems.append(chinese("type.code", field="指标代码"))
    points = indicator.points
    if points is None:
        problems.append(chinese("required", owner=owner, field=FIELD_LABELS["points"]))
    else:
        problems.extend(_said(rules.number_problem("points", Decimal(points)), owner))
    method = indicator.method or "direct"
    direction = indicator.direction or "higher"
    problems.extend(_said(rules.choice_problem("method", method), owner))
    problems.extend(_said(rules.choice_problem("direction", direction), owner))
    rule = rules.METHODS.get(method)
    for name in _SETTINGS:  # what the method needs; any given, within its bound
        value = getattr(indicator, name)
        if value is None:
            if rule is not None and name in rule.needs:
                problems.append(chinese(f"{name}.required", owner=owner))
        else:
            problems.extend(_said(rules.number_problem(name, Decimal(value)), owner))
    problems.extend(_fraction_problems(indicator.grade_fractions, owner))
    problems.extend(_range_problems(indicator, owner, method))
    return problems


def _range_problems(indicator: Indicator, owner: str, method: str) -> list[str]:
    """The allowed range of raw values (docs/values-and-ranges.md)."""
    low, high = indicator.value_min, indicator.value_max
    if rules.METHODS.get(method, rules.METHODS["direct"]).fractions:
        if low is not None or high is not None or indicator.integer_only:
            return [chinese("range.on_grade", owner=owner)]
        return []
    if low is not None and high is not None and low > high:
        return [
            chinese("range.min_above_max", {"min": _plain(low), "max": _plain(high)}, owner=owner)
        ]
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
        "请在方案页面点“建立新版本”，在新版本上修改后再发布"
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


def _indicators_of(dimension: Dimension) -> Iterable[Indicator]:
    return sorted(dimension.indicators, key=lambda i: (i.order, i.id or 0))


def validate_scheme(scheme: Scheme) -> list[str]:
    """Return every problem that keeps ``scheme`` from being published (Chinese), in order."""
    problems = scheme_field_problems(scheme)
    if scheme.grades is None:
        problems.append(chinese("grades.empty"))
    dimensions = list(scheme.dimensions)
    if not dimensions:
        problems.append(chinese("scheme.no_dimensions"))
    seen_dimensions: set[str] = set()
    seen_indicators: dict[str, str] = {}
    points_sum = Decimal(0)
    count = 0
    for dimension in dimensions:
        if dimension.code in seen_dimensions:
            problems.append(chinese("dimension.duplicate", {"code": dimension.code}))
        seen_dimensions.add(dimension.code)
        indicators = list(_indicators_of(dimension))
        if not indicators:
            problems.append(
                chinese("dimension.no_indicators", {"code": dimension.code, "name": dimension.name})
            )
        for indicator in indicators:
            count += 1
            if indicator.code in seen_indicators:
                first = f"维度 {seen_indicators[indicator.code]}"
                problems.append(
                    chinese("indicator.duplicate", {"code": indicator.code, "first": first})
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
        problems.append(chinese("indicator.outside_scheme", {"code": code}))
    total = Decimal(scheme.total) if scheme.total is not None else None
    if count and total is not None:
        problems.extend(_said(rules.points_sum_problem(points_sum, total)))
    if not problems:
        # The engine is the final word: a scheme it refuses must never be published,
        # and what it finds is worded in Chinese from the same codes.
        document = {"scheme": reading.scheme_document(scheme), "units": []}
        problems.extend(engine_problem(p, document) for p in scoring.validate(document))
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


def next_version(scheme: Scheme) -> tuple[str, int]:
    """Return the code and number of ``scheme``'s next free version.

    ``T2026`` (version 1) → ``T2026-v2``, version 2; when that code is taken, ``-v3`` and
    so on. A copy of ``T2026-v2`` is ``T2026-v3``: the ``-vN`` suffix is replaced, never
    stacked. The code and the version number always agree.
    """
    match = re.fullmatch(r"(.+)-v\d+", scheme.code)
    stem = match.group(1) if match else scheme.code
    number = scheme.version + 1
    while True:
        suffix = f"-v{number}"
        candidate = stem[: 32 - len(suffix)] + suffix
        taken = db.session.scalar(select(Scheme.id).where(Scheme.code == candidate))
        if taken is None:
            return candidate, number
        number += 1


def new_version(actor, scheme: Scheme) -> Scheme:
    """Copy a scheme as its next free version (``next_version``), a draft to change."""
    code, number = next_version(scheme)
    return copy_scheme(actor, scheme, code, version=number)


def _copy_judgements(session, scheme: Scheme, new: Scheme, dimensions: dict) -> list[dict]:
    """Copy ``scheme``'s stored AHP matrices to its copy ``new`` (docs/weights.md#ahp), each
    over the copied dimension; return what was copied, for the history event."""
    copied = []
    rows = session.scalars(
        select(WeightJudgement)
        .where(WeightJudgement.scheme_id == scheme.id)
        .order_by(WeightJudgement.id)
    )
    for row in rows:
        dimension = dimensions.get(row.dimension_id)
        if row.target != OVER_DIMENSIONS and dimension is None:
            continue  # a matrix over a dimension the scheme no longer has
        target = OVER_DIMENSIONS if dimension is None else f"dimension:{dimension.id}"
        session.add(
            WeightJudgement(
                scheme_id=new.id,
                dimension_id=None if dimension is None else dimension.id,
                target=target,
                created_by=row.created_by,
                created_at=row.created_at,
                **{field: copy.deepcopy(getattr(row, field)) for field in COPY_FIELDS_JUDGEMENT},
            )
        )
        copied.append({
            "compared": OVER_DIMENSIONS if dimension is None else f"dimension:{dimension.code}",
            "items": [item["code"] for item in row.items],
            "weight_method": row.method,
            "cr": rules.plain(row.cr),
        })  # fmt: skip
    session.flush()
    return copied


def copy_scheme(
    actor, scheme: Scheme, new_code: str, *, name: str | None = None, version: int | None = None
) -> Scheme:
    """Copy ``scheme`` with its dimensions and indicators into a new draft version
    (numbered ``version``, else one more than ``scheme``'s)."""
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
            version=version or scheme.version + 1,
            based_on=scheme,
        )
        if name:
            new.name = name
        session.add(new)
        copied_dimensions = {}
        for dimension in scheme.dimensions:
            new_dimension = Dimension(
                scheme=new, code=dimension.code, name=dimension.name, order=dimension.order
            )
            session.add(new_dimension)
            copied_dimensions[dimension.id] = new_dimension
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
        judgements = _copy_judgements(session, scheme, new, copied_dimensions)
        _, after = history.diff({}, records.snapshot(new))
        after["dimensions"] = [
            {"code": d.code, "name": d.name, "order": d.order} for d in new.dimensions
        ]
        after["indicators"] = [
            {k: v for k, v in records.snapshot(i).items() if k != "scheme"}
            for d in new.dimensions
            for i in _indicators_of(d)
        ]
        if judgements:
            after["weight_judgements"] = judgements
        history.append(
            actor,
            "scheme.copy",
            "scheme",
            new.code,
            before={"copied_from": scheme.code, "version": scheme.version},
            after=after,
        )
    return new
