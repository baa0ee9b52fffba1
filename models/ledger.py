from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evaluation.core.numbers import plain
from models import db
from models.types import Points, Value, utcnow

ADJUSTMENT_KINDS = {"bonus": "加分", "penalty": "减分"}


class Score(db.Model):
    """One raw value: period × indicator × unit. ``version`` guards against lost updates."""

    __tablename__ = "score"
    __table_args__ = (
        UniqueConstraint("period_id", "indicator_id", "unit_id", name="uq_score_cell"),
        CheckConstraint(
            "(number IS NULL) <> (grade IS NULL)", name="number_or_grade"
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_score_period_unit", "period_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    #: The raw value of a numeric method (direct, target, relative).
    number: Mapped[Decimal | None] = mapped_column(Value)
    #: The raw value of a grade method: a key of the indicator's grade fractions.
    grade: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")
    entered_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    period = relationship("Period")
    indicator = relationship("Indicator")
    unit = relationship("Unit")

    @property
    def value(self) -> str:
        """The raw value as text: the number in decimal form, or the grade."""
        return self.grade if self.grade is not None else plain(self.number)


class Adjustment(db.Model):
    """加减分: a bonus or penalty item with its reason."""

    __tablename__ = "adjustment"
    __table_args__ = (
        CheckConstraint("kind IN ('bonus', 'penalty')", name="kind_known"),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("length(reason) > 0", name="reason_required"),
        Index("ix_adjustment_period_unit", "period_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    kind: Mapped[str] = mapped_column(String(8))
    points: Mapped[Decimal] = mapped_column(Points)
    reason: Mapped[str] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    period = relationship("Period")
    unit = relationship("Unit")


class Veto(db.Model):
    """一票否决: the unit ranks after all others and gets the last grade."""

    __tablename__ = "veto"
    __table_args__ = (
        UniqueConstraint("period_id", "unit_id", name="uq_veto_period_unit"),
        CheckConstraint("length(reason) > 0", name="reason_required"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    reason: Mapped[str] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    period = relationship("Period")
    unit = relationship("Unit")


class RankingSnapshot(db.Model):
    """The engine's result stored when a period is approved, with its SHA-256."""

    __tablename__ = "ranking_snapshot"
    __table_args__ = (
        CheckConstraint("level IN ('town', 'village')", name="level_known"),
        Index("ix_ranking_snapshot_period_level", "period_id", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"))
    level: Mapped[str] = mapped_column(String(8), default="town")
    #: The canonical JSON text of the engine output; ``sha256`` is over these bytes.
    payload: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when an admin reopens the period; the snapshot is kept for the record.
    superseded: Mapped[bool] = mapped_column(default=False)
    #: Metadata such as the engine input's hash (free-form).
    meta: Mapped[dict | None] = mapped_column(JSON)

    period = relationship("Period")
