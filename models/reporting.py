"""镇街报送: a town's claims (自评) and a town's reporting reopened after the deadline
(docs/reporting.md).

A claim is period × town × indicator → a claimed value (a number or a grade, as the
indicator's method needs), a statement and its evidence (``EvidenceLink`` with
``target_type`` ``claim``). Its status moves by the one table in
``evaluation.core.states: CLAIM_WORKFLOW``; the assessed value is the ``Score`` an accept
or adjust writes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evaluation.core.numbers import plain
from models import db
from models.states import ClaimStatus
from models.types import Value, utcnow


class Claim(db.Model):
    """自评: what a town claims for one indicator of one period. ``version`` guards against
    lost updates as a score's does."""

    __tablename__ = "claim"
    __table_args__ = (
        UniqueConstraint("period_id", "unit_id", "indicator_id", name="uq_claim_cell"),
        ClaimStatus.check(),
        CheckConstraint("(number IS NULL) <> (grade IS NULL)", name="number_or_grade"),
        CheckConstraint("version >= 1", name="version_positive"),
        # Returning or adjusting is explained (docs/reporting.md#verdicts).
        CheckConstraint(
            "status NOT IN ('returned', 'adjusted') OR length(verdict_reason) > 0",
            name="verdict_reason_required",
        ),
        Index("ix_claim_period_unit", "period_id", "unit_id"),
        Index("ix_claim_period_status", "period_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), index=True)
    #: The claimed raw value of a numeric method.
    number: Mapped[Decimal | None] = mapped_column(Value)
    #: The claimed grade key of a grade method.
    grade: Mapped[str | None] = mapped_column(String(8))
    #: 说明: what the town did, in its own words.
    statement: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ClaimStatus.DRAFT)
    version: Mapped[int] = mapped_column(default=1)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    #: The assessor's last verdict on it (accept / adjust / return), and why.
    verdict_by: Mapped[str | None] = mapped_column(String(64))
    verdict_at: Mapped[datetime | None]
    verdict_reason: Mapped[str] = mapped_column(Text, default="")

    period = relationship("Period")
    unit = relationship("Unit")
    indicator = relationship("Indicator")

    @property
    def value(self) -> str:
        """The claimed value as text: the number in decimal form, or the grade."""
        return self.grade if self.grade is not None else plain(self.number)

    @property
    def status_name(self) -> str:
        return ClaimStatus.label_of(self.status)

    @property
    def key(self) -> str:
        """``unit/indicator``, as the history names the cell."""
        return f"{self.unit.code}/{self.indicator.code}"


class ReportingReopening(db.Model):
    """An assessor reopened one town's reporting after the period's deadline: the town
    may edit its draft and returned claims and submit until ``until`` (inclusive)."""

    __tablename__ = "reporting_reopening"
    __table_args__ = (
        CheckConstraint("length(reason) > 0", name="reason_required"),
        Index("ix_reporting_reopening_period_unit", "period_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    until: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    reopened_by: Mapped[str] = mapped_column(String(64))
    reopened_at: Mapped[datetime] = mapped_column(default=utcnow)

    period = relationship("Period")
    unit = relationship("Unit")
