from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.states import ReviewCaseStatus
from models.types import utcnow

REASONS = {
    "VETO": _l("一票否决"),
    "LOW_SCORE": _l("得分偏低"),
    "DROP": _l("得分大幅下降"),
    "INCOMPLETE": _l("数据不全"),
    "BOTTOM": _l("排名靠后"),
    "NO_RECENT_REVIEW": _l("近期未研判"),
}
PRIORITIES = {"high": _l("高"), "medium": _l("中"), "low": _l("低")}
CONCLUSIONS = ("好", "较好", "一般", "较差")


class ReviewCase(db.Model):
    """研判案: a typical village flagged in a period, for its analysis group."""

    __tablename__ = "review_case"
    __table_args__ = (
        UniqueConstraint("period_id", "unit_id", name="uq_review_case_period_unit"),
        ReviewCaseStatus.check(),
        CheckConstraint(
            "priority IS NULL OR priority IN ('high', 'medium', 'low')", name="priority_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("analysis_group.id"), index=True)
    #: Reason codes in docs/rules.md#review-flags's order.
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    priority: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8), default=ReviewCaseStatus.OPEN)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(64))

    period = relationship("Period")
    unit = relationship("Unit")
    group = relationship("AnalysisGroup")
    records = relationship("ReviewRecord", back_populates="case", order_by="ReviewRecord.date")


class ReviewRecord(db.Model):
    """研判记录: a dated visit with findings, conclusion and actions."""

    __tablename__ = "review_record"
    __table_args__ = (
        CheckConstraint("conclusion IN ('好', '较好', '一般', '较差')", name="conclusion_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("review_case.id"), index=True)
    #: The village reviewed (kept even without a case, for "last review" dates).
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    date: Mapped[date]
    visitors: Mapped[str] = mapped_column(String(255), default="")
    findings: Mapped[str] = mapped_column(Text, default="")
    conclusion: Mapped[str] = mapped_column(String(4))
    actions: Mapped[str] = mapped_column(Text, default="")
    next_visit: Mapped[date | None]
    recorded_by: Mapped[str] = mapped_column(String(64), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    case = relationship("ReviewCase", back_populates="records")
    unit = relationship("Unit")
