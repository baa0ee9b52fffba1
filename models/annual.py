"""年度综合考评: an annual period made of listed approved periods with weights, its grade
quotas and the supervisor's calibrations (docs/annual.md).

Written by ``evaluation.annual.operations`` only.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.types import Points, utcnow


class AnnualPeriod(db.Model):
    """An annual period (``2026Y``): its source periods, grade bands' scheme and quotas."""

    __tablename__ = "annual_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    #: The scheme whose grade bands and tie rule the annual ranking uses.
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    #: Grade quotas ``{band name: percent}`` (percent as text, e.g. ``"20"``).
    quotas: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    scheme = relationship("Scheme")
    sources = relationship(
        "AnnualSource", order_by="AnnualSource.position", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class AnnualSource(db.Model):
    """One listed period and its weight (the weights of an annual period add up to 100)."""

    __tablename__ = "annual_source"
    __table_args__ = (
        UniqueConstraint("annual_id", "period_id", name="uq_annual_source_period"),
        CheckConstraint("weight > 0 AND weight <= 100", name="weight_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annual_id: Mapped[int] = mapped_column(ForeignKey("annual_period.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"))
    weight: Mapped[Decimal] = mapped_column(Points)
    position: Mapped[int] = mapped_column(default=0)

    period = relationship("Period")


class AnnualCalibration(db.Model):
    """A supervisor's calibration of one unit's annual grade, with its reason. Kept, never
    changed: the latest per unit holds (one equal to the quota grade withdraws it)."""

    __tablename__ = "annual_calibration"
    __table_args__ = (CheckConstraint("length(reason) > 0", name="reason_required"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    annual_id: Mapped[int] = mapped_column(ForeignKey("annual_period.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    grade: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit = relationship("Unit")
