"""The workflows' transition tables: which action leads from which state to which, and
who may take it. Services enforce them; pages ask them which buttons to draw.

The states themselves are ``StrEnum``\\ s in ``models.states`` (stored as text with a
CHECK). The rules in words: docs/rules.md#period-workflow.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from models.states import (
    PeriodStatus,
    ProjectStatus,
    ReviewCaseStatus,
    SchemeStatus,
    SurveyStatus,
)

__all__ = [
    "PERIOD_WORKFLOW",
    "PeriodStatus",
    "ProjectStatus",
    "ReviewCaseStatus",
    "SURVEY_WORKFLOW",
    "SchemeStatus",
    "SurveyStatus",
    "Transition",
    "period_transition",
    "survey_transition",
]


@dataclass(frozen=True)
class Transition:
    """One step of a workflow."""

    action: str
    source: PeriodStatus | SurveyStatus
    target: PeriodStatus | SurveyStatus
    #: The permission (``evaluation.core.permissions``) the actor must hold.
    permission: str
    #: The button's and the history's name for the step.
    label: object
    #: A reason is required (and recorded on the event).
    needs_reason: bool = False


#: draft ─open─► open ─submit─► submitted ─approve─► approved; return: submitted → open;
#: reopen: approved → open. Ordered as the buttons are drawn.
PERIOD_WORKFLOW: dict[str, Transition] = {
    step.action: step
    for step in (
        Transition("open", PeriodStatus.DRAFT, PeriodStatus.OPEN, "period.open", _l("开启填报")),
        Transition(
            "submit", PeriodStatus.OPEN, PeriodStatus.SUBMITTED, "period.submit", _l("提交审核")
        ),
        Transition(
            "return",
            PeriodStatus.SUBMITTED,
            PeriodStatus.OPEN,
            "period.return",
            _l("退回"),
            needs_reason=True,
        ),
        Transition(
            "approve",
            PeriodStatus.SUBMITTED,
            PeriodStatus.APPROVED,
            "period.approve",
            _l("审定并锁定"),
        ),
        Transition(
            "reopen",
            PeriodStatus.APPROVED,
            PeriodStatus.OPEN,
            "period.reopen",
            _l("重新开启"),
            needs_reason=True,
        ),
    )
}


def period_transition(action: str) -> Transition:
    """Return the period workflow's step named ``action`` (KeyError when there is none)."""
    return PERIOD_WORKFLOW[action]


#: 民主测评 (docs/surveys.md#states): draft ─publish─► open ─close─► closed. Publishing
#: fixes the targets, groups and options; voting is accepted while open and between the
#: survey's times; closing counts the ballots and writes the result to the cadre ledger.
SURVEY_WORKFLOW: dict[str, Transition] = {
    step.action: step
    for step in (
        Transition("publish", SurveyStatus.DRAFT, SurveyStatus.OPEN, "survey.write", _l("发布")),
        Transition(
            "close", SurveyStatus.OPEN, SurveyStatus.CLOSED, "survey.write", _l("结束并计票")
        ),
    )
}


def survey_transition(action: str) -> Transition:
    """Return the survey workflow's step named ``action`` (KeyError when there is none)."""
    return SURVEY_WORKFLOW[action]
