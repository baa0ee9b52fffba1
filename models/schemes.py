from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evaluation.scoring import rules
from models import db
from models.states import SchemeStatus
from models.types import Fraction, Points, Value

# The rule table (evaluation/scoring/rules.py, pure: importing it pulls in neither Flask
# views nor models, so there is no cycle) holds the choices and defaults; the labels
# below are their Chinese names. docs/rules.md#where-a-rule-lives.
METHODS = dict(
    zip(
        rules.METHODS,
        (_l("直接打分"), _l("目标完成率"), _l("横向比较"), _l("等次评定")),
        strict=True,
    )
)
DIRECTIONS = dict(zip(rules.DIRECTIONS, (_l("越高越好"), _l("越低越好")), strict=True))
TIE_METHODS = dict(
    zip(
        rules.TIE_METHODS,
        (_l("竞争排名 (1, 2, 2, 4)"), _l("中国式排名 (1, 2, 2, 3)")),
        strict=True,
    )
)
#: The default bands and fractions as stored (amounts as strings).
DEFAULT_GRADES = [
    {"name": name, "min": rules.plain(minimum)} for name, minimum in rules.DEFAULT_GRADE_BANDS
]
DEFAULT_GRADE_FRACTIONS = {
    key: rules.plain(fraction) for key, fraction in rules.DEFAULT_GRADE_FRACTIONS.items()
}


def _one_of(column: str, choices) -> str:
    """The CHECK text of a choice column: ``method IN ('direct', 'target', ...)``."""
    return f"{column} IN ({', '.join(repr(c) for c in choices)})"


class Scheme(db.Model):
    """指标方案: the weighted indicators a level is scored on. Frozen once published."""

    __tablename__ = "scheme"
    __table_args__ = (
        CheckConstraint("level IN ('town', 'village')", name="level_known"),
        CheckConstraint(_one_of("tie_method", rules.TIE_METHODS), name="tie_method_known"),
        SchemeStatus.check(),
        CheckConstraint("total > 0", name="total_positive"),
        CheckConstraint("bonus_cap IS NULL OR bonus_cap >= 0", name="bonus_cap_nonnegative"),
        CheckConstraint(
            "penalty_cap IS NULL OR penalty_cap >= 0", name="penalty_cap_nonnegative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(8), default="town")
    total: Mapped[Decimal] = mapped_column(Points, default=rules.DEFAULT_TOTAL)
    #: None means no cap.
    bonus_cap: Mapped[Decimal | None] = mapped_column(Points, default=rules.DEFAULT_BONUS_CAP)
    penalty_cap: Mapped[Decimal | None] = mapped_column(Points)
    tie_method: Mapped[str] = mapped_column(String(16), default=rules.DEFAULT_TIE_METHOD)
    #: Grade bands ``[{"name", "min"}]`` by descending ``min`` (amounts as strings).
    grades: Mapped[list] = mapped_column(JSON, default=lambda: [dict(g) for g in DEFAULT_GRADES])
    status: Mapped[str] = mapped_column(String(16), default=SchemeStatus.DRAFT)
    version: Mapped[int] = mapped_column(default=1)
    #: The published scheme this version was copied from.
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("scheme.id"))

    dimensions = relationship(
        "Dimension", back_populates="scheme", order_by="Dimension.order", cascade="all"
    )
    indicators = relationship("Indicator", back_populates="scheme", order_by="Indicator.order")
    based_on = relationship("Scheme", remote_side=[id])

    @property
    def published(self) -> bool:
        return self.status == SchemeStatus.PUBLISHED

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Dimension(db.Model):
    """三大方面: a group of indicators with its subtotal."""

    __tablename__ = "dimension"
    __table_args__ = (UniqueConstraint("scheme_id", "code", name="uq_dimension_scheme_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    order: Mapped[int] = mapped_column(default=0)

    scheme = relationship("Scheme", back_populates="dimensions")
    indicators = relationship(
        "Indicator", back_populates="dimension", order_by="Indicator.order"
    )

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Indicator(db.Model):
    """小项: one weighted indicator and its scoring method (docs/rules.md#methods)."""

    __tablename__ = "indicator"
    __table_args__ = (
        UniqueConstraint("scheme_id", "code", name="uq_indicator_scheme_code"),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint(_one_of("method", rules.METHODS), name="method_known"),
        CheckConstraint(_one_of("direction", rules.DIRECTIONS), name="direction_known"),
        CheckConstraint("method <> 'target' OR target > 0", name="target_positive"),
        CheckConstraint('floor IS NULL OR (floor >= 0 AND floor < 1)', name="floor_fraction"),
        CheckConstraint(
            "value_min IS NULL OR value_max IS NULL OR value_min <= value_max",
            name="value_range_ordered",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Denormalized from the dimension so codes are unique per scheme in the database.
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), index=True)
    dimension_id: Mapped[int] = mapped_column(ForeignKey("dimension.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    points: Mapped[Decimal] = mapped_column(Points)
    method: Mapped[str] = mapped_column(String(16), default="direct")
    direction: Mapped[str] = mapped_column(String(8), default="higher")
    target: Mapped[Decimal | None] = mapped_column(Value)
    #: Relative method: share of the points the lowest unit still gets, in [0, 1).
    floor: Mapped[Decimal | None] = mapped_column(Fraction)
    #: Grade method: ``{key: fraction}`` (fractions as strings); None means the defaults.
    grade_fractions: Mapped[dict | None] = mapped_column(JSON)
    #: The raw values an assessor may enter, bounds included; None leaves that side open
    #: (docs/values-and-ranges.md). Not used by grade indicators.
    value_min: Mapped[Decimal | None] = mapped_column(Value)
    value_max: Mapped[Decimal | None] = mapped_column(Value)
    #: Counts (件, 个): only whole numbers may be entered.
    integer_only: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Measurement unit of the raw value (%, 个, 万元 ...).
    measure_unit: Mapped[str] = mapped_column(String(16), default="")
    data_source: Mapped[str] = mapped_column(String(128), default="")
    #: 佐证材料 a town must attach to its claim on this indicator (项目清单、验收报告 …),
    #: shown to reporters; a town cannot submit while such a claim has none
    #: (docs/reporting.md#submit). Empty: no evidence required.
    evidence_required: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: 评分细则, shown beside every input.
    rule_text: Mapped[str] = mapped_column(Text, default="")
    order: Mapped[int] = mapped_column(default=0)

    scheme = relationship("Scheme", back_populates="indicators")
    dimension = relationship("Dimension", back_populates="indicators")

    @property
    def fractions(self) -> dict[str, str]:
        return self.grade_fractions or DEFAULT_GRADE_FRACTIONS

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
