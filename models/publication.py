"""公示 windows, 异议 (objections) and 容错纠错 cases (docs/publication.md).

Written only by ``evaluation.publication.operations`` and ``evaluation.tolerance.operations``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.states import ObjectionStatus, ToleranceStatus
from models.types import Points, utcnow

#: What an objection may be about: an indicator's value, a bonus/penalty item or a veto.
OBJECTION_TARGETS = {"indicator": "指标", "adjustment": "加减分", "veto": "一票否决"}
#: What a 容错 case may be against: a penalty item or a veto.
TOLERANCE_TARGETS = {"adjustment": "减分", "veto": "一票否决"}


class PublicationWindow(db.Model):
    """A 公示 window of a submitted period: from ``starts_on`` to ``ends_on`` (Beijing
    dates, both included). ``submitted_at`` ties it to the submission it shows: a period
    returned and submitted again gets a new window."""

    __tablename__ = "publication_window"
    __table_args__ = (CheckConstraint("starts_on <= ends_on", name="start_before_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    show_ranking: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[datetime | None]
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)

    period = relationship("Period")


class Objection(db.Model):
    """异议: a town's objection to one item of its results during a 公示 window."""

    __tablename__ = "objection"
    __table_args__ = (
        UniqueConstraint(
            "window_id", "unit_id", "target_type", "target_key", name="uq_objection_item"
        ),
        CheckConstraint("target_type IN ('indicator', 'adjustment', 'veto')", name="target_known"),
        ObjectionStatus.check(),
        CheckConstraint("length(reason) > 0", name="reason_required"),
        Index("ix_objection_period_status", "period_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("publication_window.id"))
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    target_type: Mapped[str] = mapped_column(String(16))
    #: The indicator's code, the adjustment's id, or ``veto``.
    target_key: Mapped[str] = mapped_column(String(32))
    #: What the item was when the objection was lodged, in words.
    target_label: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text)
    lodged_by: Mapped[str] = mapped_column(String(64))
    lodged_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=ObjectionStatus.PENDING)
    answer_reason: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None]
    #: The item's value before and after an ``adjust`` answer, as text.
    value_before: Mapped[str | None] = mapped_column(Text)
    value_after: Mapped[str | None] = mapped_column(Text)

    window = relationship("PublicationWindow")
    period = relationship("Period")
    unit = relationship("Unit")

    @property
    def status_name(self) -> str:
        return ObjectionStatus.label_of(self.status)

    @property
    def target_name(self) -> str:
        return OBJECTION_TARGETS.get(self.target_type, self.target_type)


class ToleranceCase(db.Model):
    """容错纠错: a case against a penalty item or a veto (三个区分开来)."""

    __tablename__ = "tolerance_case"
    __table_args__ = (
        CheckConstraint("target_type IN ('adjustment', 'veto')", name="target_known"),
        ToleranceStatus.check(),
        CheckConstraint("length(grounds) > 0", name="grounds_required"),
        Index("ix_tolerance_case_period_status", "period_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    target_type: Mapped[str] = mapped_column(String(16))
    #: The penalty item's id (no foreign key: an upheld case removes the item), or null.
    adjustment_id: Mapped[int | None]
    #: The penalty's points (null for a veto) and what the item said, at application.
    target_points: Mapped[Decimal | None] = mapped_column(Points)
    target_label: Mapped[str] = mapped_column(Text, default="")
    situation: Mapped[str] = mapped_column(Text)
    grounds: Mapped[str] = mapped_column(Text)
    applicant: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=ToleranceStatus.APPLIED)
    findings: Mapped[str | None] = mapped_column(Text)
    verified_by: Mapped[str | None] = mapped_column(String(64))
    verified_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    determined_by: Mapped[str | None] = mapped_column(String(64))
    determined_at: Mapped[datetime | None]

    period = relationship("Period")
    unit = relationship("Unit")

    @property
    def status_name(self) -> str:
        return ToleranceStatus.label_of(self.status)

    @property
    def target_name(self) -> str:
        return TOLERANCE_TARGETS.get(self.target_type, self.target_type)
