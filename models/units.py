from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db

LEVELS = {"town": _l("镇街"), "village": _l("村居")}
KINDS = ("镇", "街道", "村", "社区")


class AnalysisGroup(db.Model):
    """专项分析研判小组: reviews the typical villages assigned to it."""

    __tablename__ = "analysis_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    leader: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(255), default="")

    members = relationship("User", back_populates="group", foreign_keys="User.group_id")
    villages = relationship("Unit", back_populates="analysis_group")

    def __str__(self) -> str:
        return self.name


class Unit(db.Model):
    """行政单元: a town (镇/街道) or a village (村/社区)."""

    __tablename__ = "unit"
    __table_args__ = (
        CheckConstraint("level IN ('town', 'village')", name="level_known"),
        CheckConstraint("kind IN ('镇', '街道', '村', '社区')", name="kind_known"),
        CheckConstraint("length(code) = 12", name="code_12_digits"),
        CheckConstraint(
            "typical_batch IS NULL OR (typical_batch IN (1, 2) AND level = 'village')",
            name="typical_batch_village",
        ),
        CheckConstraint(
            "(level = 'town' AND parent_id IS NULL) OR level = 'village'", name="town_no_parent"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 12-digit statistical division code (统计用区划代码).
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(8), index=True)
    kind: Mapped[str] = mapped_column(String(4))
    #: A village's town.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    #: County (区县) code, for deployments over several counties.
    county: Mapped[str] = mapped_column(String(12), default="", index=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    #: 典型村 batch: None, 1 (first batch) or 2 (second batch, 培育创建).
    typical_batch: Mapped[int | None] = mapped_column(index=True)
    analysis_group_id: Mapped[int | None] = mapped_column(ForeignKey("analysis_group.id"))
    #: The village party secretary (领头雁).
    secretary_id: Mapped[int | None] = mapped_column(
        ForeignKey("cadre.id", use_alter=True, name="fk_unit_secretary_id_cadre")
    )

    parent = relationship("Unit", remote_side=[id], back_populates="children")
    children = relationship("Unit", back_populates="parent")
    analysis_group = relationship("AnalysisGroup", back_populates="villages")
    secretary = relationship("Cadre", foreign_keys=[secretary_id])

    def __str__(self) -> str:
        return self.name
