from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.states import PeriodStatus


class Period(db.Model):
    """考核周期 and its workflow state (docs/rules.md#period-workflow)."""

    __tablename__ = "period"
    __table_args__ = (
        PeriodStatus.check(),
        CheckConstraint("start_date <= end_date", name="start_before_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. ``2026Q3``.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    #: e.g. 2026年第三季度.
    name: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date]
    end_date: Mapped[date]
    town_scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    village_scheme_id: Mapped[int | None] = mapped_column(ForeignKey("scheme.id"))
    status: Mapped[str] = mapped_column(String(16), default=PeriodStatus.DRAFT, index=True)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    #: The towns' reporting deadline (镇街报送截止日, inclusive, Asia/Shanghai): after it only
    #: an assessor reopens a town's reporting (docs/reporting.md#deadline).
    report_due: Mapped[date | None]

    town_scheme = relationship("Scheme", foreign_keys=[town_scheme_id])
    village_scheme = relationship("Scheme", foreign_keys=[village_scheme_id])

    @property
    def status_name(self) -> str:
        return PeriodStatus.label_of(self.status)

    def scheme_for(self, level: str):
        return self.village_scheme if level == "village" else self.town_scheme

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
