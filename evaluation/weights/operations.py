"""Weights in the scheme editor (docs/weights.md#in-the-scheme-editor): an AHP matrix over
a draft scheme version's dimensions or over one dimension's indicators, previewed and
then applied as points, with the matrix, method and CR stored beside the version.

The arithmetic is ``evaluation.scoring.weights``; every write goes through
``core.writing.writing`` (permission ``scheme.write``) and ``history.records`` (so an
indicator's new points meet the same rules and history events as an edit in the form).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select

from evaluation.core.writing import InvalidInput, StateError, writing
from evaluation.history import chain as history
from evaluation.history import records
from evaluation.schemes.messages import chinese
from evaluation.schemes.operations import frozen_message
from evaluation.scoring import ScoringError, rules
from evaluation.scoring import weights as weighing
from models import Dimension, Indicator, Scheme, db
from models.weights import OVER_DIMENSIONS, WeightJudgement

__all__ = [
    "SAATY_CHOICES",
    "Item",
    "Preview",
    "apply_ahp",
    "cell_text",
    "items_for",
    "judgements_of",
    "matrix_from_form",
    "preview",
    "target_of",
]

#: The choices of one upper-triangle cell: how much more important the row item is
#: than the column item (Saaty's scale), strongest first.
SAATY_CHOICES: tuple[tuple[str, str], ...] = (
    ("9", "9 极端重要"),
    ("8", "8"),
    ("7", "7 非常重要"),
    ("6", "6"),
    ("5", "5 明显重要"),
    ("4", "4"),
    ("3", "3 稍微重要"),
    ("2", "2"),
    ("1", "1 同样重要"),
    ("1/2", "1/2"),
    ("1/3", "1/3 稍微次要"),
    ("1/4", "1/4"),
    ("1/5", "1/5 明显次要"),
    ("1/6", "1/6"),
    ("1/7", "1/7 非常次要"),
    ("1/8", "1/8"),
    ("1/9", "1/9 极端次要"),
)
_CELL = re.compile(r"^a_(\d+)_(\d+)$")
_PATH = re.compile(r"^matrix\[(\d+)\](?:\[(\d+)\])?$")


@dataclass(frozen=True)
class Item:
    """One compared item: a dimension (its points: its indicators' sum) or an indicator."""

    code: str
    name: str
    points: Decimal

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


def target_of(dimension: Dimension | None) -> str:
    return OVER_DIMENSIONS if dimension is None else f"dimension:{dimension.id}"


def _indicators(dimension: Dimension) -> list[Indicator]:
    return list(
        db.session.scalars(
            select(Indicator)
            .where(Indicator.dimension_id == dimension.id)
            .order_by(Indicator.order, Indicator.id)
        )
    )


def items_for(scheme: Scheme, dimension: Dimension | None) -> tuple[list[Item], Decimal]:
    """The items a matrix compares and the points they share: the dimensions and the
    scheme's total, or a dimension's indicators and their current sum."""
    if dimension is None:
        items = [
            Item(d.code, d.name, sum((i.points for i in _indicators(d)), Decimal(0)))
            for d in scheme.dimensions
        ]
        return items, Decimal(scheme.total)
    items = [Item(i.code, i.name, Decimal(i.points)) for i in _indicators(dimension)]
    return items, sum((item.points for item in items), Decimal(0))


def judgements_of(scheme: Scheme) -> dict[str, WeightJudgement]:
    """The stored matrices of a scheme version by target."""
    rows = db.session.scalars(select(WeightJudgement).where(WeightJudgement.scheme_id == scheme.id))
    return {row.target: row for row in rows}


def matrix_from_form(form, n: int) -> list[list[str | None]]:
    """The matrix from the form's upper-triangle cells ``a_<i>_<j>`` (i < j); the rest is
    left empty for ``weights.read_matrix`` to fill."""
    matrix: list[list[str | None]] = [[None] * n for _ in range(n)]
    for i in range(n):
        matrix[i][i] = "1"
    for name, value in form.items():
        found = _CELL.match(name)
        if found:
            i, j = int(found.group(1)), int(found.group(2))
            if i < j < n:
                matrix[i][j] = (value or "").strip() or None
    return matrix


def _problem_text(problem, items: list[Item]) -> str:
    """Word a matrix problem in Chinese, naming the cell by the two items compared."""
    found = _PATH.match(problem.path)
    owner = ""
    if found and found.group(2) is not None:
        i, j = int(found.group(1)), int(found.group(2))
        if i < len(items) and j < len(items):
            owner = f"“{items[i].label}”比“{items[j].label}”"
    elif found:
        owner = f"第 {int(found.group(1)) + 1} 行"
    if problem.code == "required":
        return f"{owner}的判断尚未选择" if owner else "判断矩阵缺少数值"
    params = dict(problem.params)
    if "mirror" in params:
        params["mirror"] = owner
    return chinese(problem.code, params, owner=owner)


@dataclass(frozen=True)
class Preview:
    """What a matrix would give, before anything is written."""

    items: list[Item]
    parent: Decimal
    result: weighing.AhpResult
    points: list[Decimal]
    problems: list[str]

    @property
    def rows(self) -> list[tuple[Item, float, Decimal]]:
        return list(zip(self.items, self.result.weights, self.points, strict=True))


def preview(scheme: Scheme, dimension: Dimension | None, matrix: list, method: str) -> Preview:
    """Weights, consistency and points of ``matrix`` over the items; ``problems`` lists
    what would stop it being applied (an item at 0 points, a dimension without indicators).
    Raises ``InvalidInput`` (Chinese) when the matrix itself is bad."""
    items, parent = items_for(scheme, dimension)
    if len(items) < weighing.MIN_ORDER:
        raise InvalidInput(f"至少需要 {weighing.MIN_ORDER} 项才能两两比较（现有 {len(items)} 项）")
    try:
        result = weighing.ahp(matrix, method)
        points = weighing.to_points(result.weights, parent) if parent > 0 else []
    except ScoringError as error:
        texts = [_problem_text(p, items) for p in error.problems]
        raise InvalidInput("；".join(texts), details=texts) from None
    problems = []
    if parent <= 0:
        problems.append("这些项目的现有分值合计为 0，无法按权重分配")
        points = [Decimal("0.00")] * len(items)
    for item, share in zip(items, points, strict=True):
        if share <= 0 and parent > 0:
            kind = "维度" if dimension is None else "指标"
            problems.append(
                chinese("points.not_positive", {"value": "0"}, owner=f"{kind} {item.code}")
                + "（权重太小，分到的分值不足 0.01，请调整判断）"
            )
        if dimension is None and item.points <= 0:
            problems.append(chinese("dimension.no_indicators", {"code": item.code,
                                                               "name": item.name}))  # fmt: skip
    return Preview(items, parent, result, points, problems)


def cell_text(entry: float) -> str:
    exact = Fraction(entry).limit_denominator(9)
    if exact.denominator == 1:
        return str(exact.numerator)
    return f"{exact.numerator}/{exact.denominator}"


def apply_ahp(
    actor,
    scheme: Scheme,
    dimension: Dimension | None,
    matrix: list,
    method: str = "eigenvector",
    reason: str | None = None,
) -> WeightJudgement:
    """Set the items' points from ``matrix`` and store the matrix with the draft version.

    Refused on a published scheme, for a bad matrix, when an item would get 0 points,
    and when CR > 0.10 unless ``reason`` says why the judgements are used anyway.
    """
    reason = (reason or "").strip() or None
    with writing(actor, "scheme.write") as session:
        session.refresh(scheme)
        if scheme.status != "draft":
            raise StateError(frozen_message(scheme))
        if dimension is not None:
            session.refresh(dimension)
            if dimension.scheme_id != scheme.id:
                raise InvalidInput(f"维度 {dimension.code} 不属于指标方案 {scheme.code}")
        shown = preview(scheme, dimension, matrix, method)
        if shown.problems:
            raise InvalidInput("；".join(shown.problems), details=shown.problems)
        result = shown.result
        limit = f"{weighing.CR_LIMIT:.2f}"
        if not result.consistent and reason is None:
            texts = [
                chinese("ahp.inconsistent", {"cr": f"{result.cr:.3f}", "limit": limit}),
                chinese("ahp.reason_required", {"limit": limit}),
            ]
            raise InvalidInput("；".join(texts), details=texts)
        label = "各维度" if dimension is None else f"维度 {dimension.code} 的指标"
        why = f"层次分析法（AHP）设定{label}分值，CR = {result.cr:.3f}" + (
            f"；一致性超限仍予采用：{reason}" if reason and not result.consistent else ""
        )
        if dimension is None:
            for own, share in zip(scheme.dimensions, shown.points, strict=True):
                indicators = _indicators(own)
                spread = weighing.to_points([i.points for i in indicators], share)
                for indicator, value in zip(indicators, spread, strict=True):
                    records.update(actor, indicator, {"points": value}, reason=why)
        else:
            for indicator, value in zip(_indicators(dimension), shown.points, strict=True):
                records.update(actor, indicator, {"points": value}, reason=why)
        target = target_of(dimension)
        old = session.scalar(
            select(WeightJudgement).where(
                WeightJudgement.scheme_id == scheme.id, WeightJudgement.target == target
            )
        )
        if old is not None:
            session.delete(old)
            session.flush()
        row = WeightJudgement(
            scheme_id=scheme.id,
            dimension_id=None if dimension is None else dimension.id,
            target=target,
            items=[{"code": item.code, "name": item.name} for item in shown.items],
            matrix=[[cell_text(x) for x in row] for row in result.matrix],
            method=method,
            weights=[f"{w:.6f}" for w in result.weights],
            points=[format(p, "f") for p in shown.points],
            parent_points=shown.parent,
            lambda_max=Decimal(f"{result.lambda_max:.6f}"),
            ci=Decimal(f"{result.ci:.6f}"),
            cr=Decimal(f"{result.cr:.6f}"),
            reason=reason if not result.consistent else None,
            created_by=actor.username,
        )
        session.add(row)
        session.flush()
        history.append(
            actor,
            "scheme.weights",
            "scheme",
            scheme.code,
            after={
                "compared": target,
                "items": [item.code for item in shown.items],
                "matrix": row.matrix,
                "weight_method": method,
                "weights": row.weights,
                "points": row.points,
                "lambda_max": rules.plain(row.lambda_max),
                "ci": rules.plain(row.ci),
                "cr": rules.plain(row.cr),
            },
            reason=row.reason,
        )
    return row
