from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.types import utcnow

#: The 四个导向 of a cadre record.
ORIENTATIONS = {
    "political": _l("政治导向"),
    "performance": _l("实绩导向"),
    "grassroots": _l("基层导向"),
    "integrity": _l("廉洁导向"),
    #: Not a 导向: the result of a 民主测评, written when the survey closes (docs/surveys.md).
    "survey": _l("民主测评"),
}
EVALUATIONS = ("好", "较好", "一般", "较差")

#: The positions that lead a town (docs/rules.md#domain), matched exactly: its Party
#: secretary and its head of government, for a 镇 and for a 街道. Deputies (镇党委副书记,
#: 副镇长, 街道办事处副主任) and office heads (乡村振兴办主任) never count.
TOWN_LEADER_POSITIONS = {
    "镇党委书记": "secretary",
    "街道党工委书记": "secretary",
    "镇长": "head",
    "街道办事处主任": "head",
}


def town_leader_role(cadre: Cadre) -> str | None:
    """Return ``secretary`` or ``head`` when an active cadre leads their town, else None."""
    if not cadre.active or cadre.unit is None or cadre.unit.level != "town":
        return None
    return TOWN_LEADER_POSITIONS.get(cadre.position)


def town_leaders(codes: list[str]) -> dict[str, dict[str, list[str]]]:
    """Return each town's leaders' names: ``{code: {"secretaries": [...], "heads": [...]}}``.

    The one reading of who leads a town, for the ranking (its 书记 and 镇长 columns) and
    the cadre ledger (whose town's rank is a leader's own): ``TOWN_LEADER_POSITIONS``.
    """
    from models.units import Unit

    found: dict[str, dict[str, list[str]]] = {c: {"secretaries": [], "heads": []} for c in codes}
    if not codes:
        return found
    rows = db.session.execute(
        select(Unit.code, Cadre.name, Cadre.position)
        .join(Cadre, Cadre.unit_id == Unit.id)
        .where(
            Unit.code.in_(codes),
            Unit.level == "town",
            Cadre.active,
            Cadre.position.in_(TOWN_LEADER_POSITIONS),
        )
        .order_by(Cadre.id)
    )
    for code, name, position in rows:
        role = TOWN_LEADER_POSITIONS[position]
        found[code]["secretaries" if role == "secretary" else "heads"].append(name)
    return found


class Cadre(db.Model):
    """干部."""

    __tablename__ = "cadre"
    __table_args__ = (CheckConstraint("gender IN ('男', '女', '')", name="gender_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), index=True)
    gender: Mapped[str] = mapped_column(String(2), default="")
    #: Serving unit.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    #: e.g. 镇党委书记, 镇长, 村党组织书记.
    position: Mapped[str] = mapped_column(String(64), default="", index=True)
    #: Comma-separated tags: 年轻干部, 后备干部.
    tags: Mapped[str] = mapped_column(String(128), default="")
    #: 指挥办, 要素专班 ...
    assignment: Mapped[str] = mapped_column(String(64), default="")
    #: 结对培养: the cadre who mentors this one.
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("cadre.id"))
    active: Mapped[bool] = mapped_column(default=True)

    unit = relationship("Unit", foreign_keys=[unit_id])
    mentor = relationship("Cadre", remote_side=[id], back_populates="mentees")
    mentees = relationship("Cadre", back_populates="mentor")
    records = relationship("CadreRecord", back_populates="cadre", order_by="CadreRecord.date")
    projects = relationship("KeyProject", back_populates="lead_cadre")

    def __str__(self) -> str:
        return self.name


class CadreRecord(db.Model):
    """担当作为台账条目: one dated entry in a cadre's ledger."""

    __tablename__ = "cadre_record"
    __table_args__ = (
        CheckConstraint(
            "orientation IN ('political', 'performance', 'grassroots', 'integrity', 'survey')",
            name="orientation_known",
        ),
        CheckConstraint(
            "evaluation IN ('好', '较好', '一般', '较差', '')", name="evaluation_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadre.id"), index=True)
    date: Mapped[date]
    period_id: Mapped[int | None] = mapped_column(ForeignKey("period.id"))
    orientation: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(Text, default="")
    evaluation: Mapped[str] = mapped_column(String(4), default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64), default="")

    cadre = relationship("Cadre", back_populates="records")
    period = relationship("Period")

    def __str__(self) -> str:
        return self.title


class KeyProject(db.Model):
    """挂图作战重点项目."""

    __tablename__ = "key_project"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    lead_cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadre.id"), index=True)
    due_date: Mapped[date | None]
    progress: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    # No stored status: it is derived as of today from the progress, the due date and the
    # first update (docs/rules.md#domain; evaluation/projects/board.py: project_status).

    unit = relationship("Unit")
    lead_cadre = relationship("Cadre", back_populates="projects")
    updates = relationship("ProjectUpdate", back_populates="project", order_by="ProjectUpdate.date")

    def __str__(self) -> str:
        return self.name


class ProjectUpdate(db.Model):
    """A dated progress update of a key project."""

    __tablename__ = "project_update"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("key_project.id"), index=True)
    date: Mapped[date]
    progress: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    project = relationship("KeyProject", back_populates="updates")

    def __str__(self) -> str:
        return f"{self.date} {self.progress}%"
