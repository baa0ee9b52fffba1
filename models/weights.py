"""层次分析法判断矩阵: the pairwise judgements behind a scheme's points (docs/weights.md)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evaluation.scoring import rules
from models import db
from models.types import Points, Value, utcnow

#: ``target`` of a matrix over the scheme's dimensions; a dimension's is ``dimension:<id>``.
OVER_DIMENSIONS = "dimensions"
AHP_METHODS = dict(zip(rules.CHOICES["ahp_method"][0], ("特征向量法", "几何平均法"), strict=True))


class WeightJudgement(db.Model):
    """One AHP matrix applied to a draft scheme version: over the dimensions, or over one
    dimension's indicators. Written by ``evaluation.weights.operations`` (and copied with
    its scheme by ``schemes.operations.copy_scheme``); frozen with its scheme when the scheme
    is published, and shown beside it from then on."""

    __tablename__ = "weight_judgement"
    __table_args__ = (
        UniqueConstraint("scheme_id", "target", name="uq_weight_judgement_scheme_target"),
        CheckConstraint(
            "method IN ({})".format(", ".join(repr(m) for m in AHP_METHODS)), name="method_known"
        ),
        CheckConstraint("cr >= 0", name="cr_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id", ondelete="CASCADE"), index=True)
    #: None: the matrix compares the scheme's dimensions.
    dimension_id: Mapped[int | None] = mapped_column(
        ForeignKey("dimension.id", ondelete="CASCADE"), index=True
    )
    target: Mapped[str] = mapped_column(String(32))
    #: The compared items in matrix order: ``[{"code", "name"}]``.
    items: Mapped[list] = mapped_column(JSON)
    #: The completed matrix as entered, entries as text (``"3"``, ``"1/3"``).
    matrix: Mapped[list] = mapped_column(JSON)
    method: Mapped[str] = mapped_column(String(16))
    #: Weights (six decimals, as text) and the points they gave, in matrix order.
    weights: Mapped[list] = mapped_column(JSON)
    points: Mapped[list] = mapped_column(JSON)
    parent_points: Mapped[Decimal] = mapped_column(Points)
    lambda_max: Mapped[Decimal] = mapped_column(Value)
    ci: Mapped[Decimal] = mapped_column(Value)
    cr: Mapped[Decimal] = mapped_column(Value)
    #: Why a matrix with CR > 0.10 was used anyway (docs/weights.md#ahp); None otherwise.
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    scheme = relationship("Scheme")
    dimension = relationship("Dimension")

    @property
    def consistent(self) -> bool:
        return self.cr <= Decimal("0.10")
