"""The states the ledger stores, one ``StrEnum`` each, with their Chinese labels.

A state is stored as its text value (``"open"``), guarded by a CHECK built from the
enum, and shown by its label. Which transitions a workflow allows, and who may take
them, is one table in ``evaluation.core.states`` (docs/rules.md#period-workflow).
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint


class State(StrEnum):
    """A stored state: its value is the text in the database, ``label`` its Chinese name
    (through the catalog: English on an English page)."""

    label: str

    def __new__(cls, value: str, label):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """Return ``(value, label)`` pairs for selects and filters, in declaration order."""
        return [(member.value, member.label) for member in cls]

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Return ``{value: label}``, for templates that show a stored state."""
        return dict(cls.choices())

    @classmethod
    def label_of(cls, value: str | None) -> str:
        """Return the label of a stored value, or the value itself when it is unknown."""
        try:
            return str(cls(value).label)
        except ValueError:
            return value or ""

    @classmethod
    def check(cls, column: str = "status", name: str = "status_known") -> CheckConstraint:
        """Return the CHECK that keeps ``column`` to this enum's values."""
        values = ", ".join(f"'{member.value}'" for member in cls)
        return CheckConstraint(f"{column} IN ({values})", name=name)


class PeriodStatus(State):
    """考核周期的状态 (docs/rules.md#period-workflow)."""

    DRAFT = "draft", _l("草稿")
    OPEN = "open", _l("填报中")
    SUBMITTED = "submitted", _l("已提交")
    APPROVED = "approved", _l("已审定")


class ReviewCaseStatus(State):
    """研判案件的状态: opened by a flag, closed by a review's conclusion."""

    OPEN = "open", _l("研判中")
    CLOSED = "closed", _l("已办结")


class SchemeStatus(State):
    """指标方案的状态: a published scheme is frozen; change means a new version."""

    DRAFT = "draft", _l("草稿")
    PUBLISHED = "published", _l("已发布")


class ProjectStatus(State):
    """挂图作战重点项目的进展状态."""

    ON_TRACK = "on_track", _l("正常推进")
    BEHIND = "behind", _l("滞后")
    DONE = "done", _l("已完成")


class ObjectionStatus(State):
    """异议的状态 (docs/publication.md#objections): lodged during 公示, answered by an assessor."""

    PENDING = "pending", _l("待答复")
    MAINTAINED = "maintained", _l("维持原结果")
    ADJUSTED = "adjusted", _l("已调整")


class ToleranceStatus(State):
    """容错纠错申请的状态 (docs/publication.md#tolerance): applied → verifying → decided."""

    APPLIED = "applied", _l("已申请")
    VERIFYING = "verifying", _l("核实中")
    UPHELD = "upheld", _l("认定容错")
    REJECTED = "rejected", _l("不予认定")


class EvidenceTarget(State):
    """What a 佐证材料 supports: the ``target_type`` of an evidence link (docs/evidence.md)."""

    CLAIM = "claim", _l("自评")
    SCORE = "score", _l("分数")
    OBJECTION = "objection", _l("异议")
    TOLERANCE_CASE = "tolerance_case", _l("容错申请")
    CADRE_RECORD = "cadre_record", _l("干部纪实")
    REVIEW_RECORD = "review_record", _l("研判记录")
    PROJECT_UPDATE = "project_update", _l("项目进展")


class SurveyStatus(State):
    """民主测评的状态 (docs/surveys.md#states): voting is possible only while ``open`` and
    between the survey's open and close times; the tally only once ``closed``."""

    DRAFT = "draft", _l("草稿")
    OPEN = "open", _l("已发布")
    CLOSED = "closed", _l("已结束")


class ClaimStatus(State):
    """自评: a town's claim on one indicator, and its verification
    (docs/rules.md#claim-states)."""

    DRAFT = "draft", _l("草稿")
    SUBMITTED = "submitted", _l("已报送")
    ACCEPTED = "accepted", _l("已采纳")
    ADJUSTED = "adjusted", _l("已调整")
    RETURNED = "returned", _l("退回补充")


class TownReportingState(State):
    """A town's reporting in one period, derived from its claims and the deadline (never
    stored): the dashboard's 未开始 / 填报中 / 已报送 / 逾期."""

    NOT_STARTED = "not_started", _l("未开始")
    IN_PROGRESS = "in_progress", _l("填报中")
    SUBMITTED = "submitted", _l("已报送")
    OVERDUE = "overdue", _l("逾期")
