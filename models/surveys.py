"""民主测评 (docs/surveys.md): surveys, their targets, rater groups, options, codes and
ballots.

Written by ``evaluation.surveys.operations`` only. The ballot table is built so that a
stored ballot cannot be tied to its code, its voter or its time (docs/surveys.md#anonymity):
no code id, no user, no address, no timestamp, and a random primary key — on SQLite the
table is ``WITHOUT ROWID``, so not even the hidden rowid keeps the order of arrival.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.states import SurveyStatus
from models.types import utcnow

#: The four grades of a 民主测评 ballot, best first, with their default labels and scores
#: (docs/surveys.md#options). The keys carry the meaning (the cap counts ``excellent``,
#: 称职以上 is ``excellent`` + ``competent``); labels and scores may be changed per survey.
OPTION_KEYS = ("excellent", "competent", "basic", "incompetent")
DEFAULT_OPTIONS = (
    ("excellent", "优秀", Decimal("100")),
    ("competent", "称职", Decimal("80")),
    ("basic", "基本称职", Decimal("60")),
    ("incompetent", "不称职", Decimal("0")),
)
#: What a survey rates: cadres of the cadre ledger, or a town's leadership (班子).
TARGET_KINDS = {"cadre": _l("干部"), "leadership": _l("镇街领导班子")}


class Survey(db.Model):
    """一次民主测评."""

    __tablename__ = "survey"
    __table_args__ = (
        SurveyStatus.check(),
        CheckConstraint("target_kind IN ('cadre', 'leadership')", name="target_kind_known"),
        CheckConstraint("excellent_cap IS NULL OR excellent_cap >= 0", name="cap_not_negative"),
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    target_kind: Mapped[str] = mapped_column(String(16), default="cadre")
    status: Mapped[str] = mapped_column(String(16), default=SurveyStatus.DRAFT.value)
    #: Voting is accepted from ``opens_at`` until ``closes_at`` (UTC), while ``open``.
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    #: At most this many 优秀 on one ballot (null: no cap).
    excellent_cap: Mapped[int | None]
    #: Shown above the ballot (说明).
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the admin closed it (and the tally went to the cadre ledger).
    closed_at: Mapped[datetime | None]

    targets = relationship(
        "SurveyTarget", order_by="SurveyTarget.position", cascade="all, delete-orphan"
    )
    groups = relationship(
        "SurveyGroup", order_by="SurveyGroup.position", cascade="all, delete-orphan"
    )
    options = relationship(
        "SurveyOption", order_by="SurveyOption.position", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.title


class SurveyTarget(db.Model):
    """A person (cadre) or a town's leadership rated on the ballot."""

    __tablename__ = "survey_target"
    __table_args__ = (
        CheckConstraint("(cadre_id IS NULL) <> (unit_id IS NULL)", name="cadre_or_leadership"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("cadre.id"))
    #: A town whose leadership (班子) is rated.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    #: The name and position shown on the ballot, as they were when the survey was set up.
    name: Mapped[str] = mapped_column(String(64))
    position_title: Mapped[str] = mapped_column(String(64), default="")
    #: 述职: the target's own report, shown on the ballot.
    report: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    cadre = relationship("Cadre")
    unit = relationship("Unit")


class SurveyGroup(db.Model):
    """A rater group (班子成员, 中层干部, 群众代表 …) with its weight; weights add up to 100."""

    __tablename__ = "survey_group"
    __table_args__ = (
        UniqueConstraint("survey_id", "name", name="uq_survey_group_name"),
        CheckConstraint("weight > 0 AND weight <= 100", name="weight_in_range"),
        CheckConstraint("planned_codes >= 0", name="planned_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    #: How many raters (codes) the group is meant to have.
    planned_codes: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)


class SurveyOption(db.Model):
    """One grade of the ballot with its label and score."""

    __tablename__ = "survey_option"
    __table_args__ = (
        UniqueConstraint("survey_id", "key", name="uq_survey_option_key"),
        CheckConstraint(
            "key IN ('excellent', 'competent', 'basic', 'incompetent')", name="key_known"
        ),
        CheckConstraint("score >= 0 AND score <= 100", name="score_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    key: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(16))
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    position: Mapped[int] = mapped_column(default=0)


class SurveyCode(db.Model):
    """A voting code (测评码): stored as its keyed hash only, with its spent flag.

    Deliberately no time of spending and nothing that names the ballot it cast
    (docs/surveys.md#anonymity).
    """

    __tablename__ = "survey_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("survey_group.id"), index=True)
    #: HMAC-SHA256 of the code under the app's secret key (hex).
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    spent: Mapped[bool] = mapped_column(default=False)

    group = relationship("SurveyGroup")


class SurveyBallot(db.Model):
    """One cast ballot: its survey, its rater group and its choices, nothing else.

    ``choices`` maps each target's id (as text) to an option key. The id is random
    (``uuid4``), and on SQLite the table has no rowid (docs/surveys.md#anonymity).
    """

    __tablename__ = "survey_ballot"
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("survey_group.id"))
    choices: Mapped[dict] = mapped_column(JSON)
