"""The workflows' transition tables: which action leads from which state to which, and
who may take it. Services enforce them; pages ask them which buttons to draw.

The states themselves are ``StrEnum``\\ s in ``models.states`` (stored as text with a
CHECK). The rules in words: docs/rules.md#period-workflow.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from models.states import (
    ClaimStatus,
    ObjectionStatus,
    PeriodStatus,
    ProjectStatus,
    ReviewCaseStatus,
    SchemeStatus,
    SurveyStatus,
    ToleranceStatus,
    TownReportingState,
)

__all__ = [
    "CLAIM_WORKFLOW",
    "ClaimStatus",
    "ClaimTransition",
    "OBJECTION_ANSWERS",
    "ObjectionStatus",
    "TownReportingState",
    "claim_transition",
    "PERIOD_WORKFLOW",
    "PeriodStatus",
    "TOLERANCE_WORKFLOW",
    "ToleranceStatus",
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
    source: PeriodStatus | ObjectionStatus | ToleranceStatus | SurveyStatus
    target: PeriodStatus | ObjectionStatus | ToleranceStatus | SurveyStatus
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


#: 异议 (docs/publication.md#objections): pending ─maintain─► maintained,
#: pending ─adjust─► adjusted; an assessor answers, a reason either way.
OBJECTION_ANSWERS: dict[str, Transition] = {
    step.action: step
    for step in (
        Transition(
            "maintain",
            ObjectionStatus.PENDING,
            ObjectionStatus.MAINTAINED,
            "objection.answer",
            _l("维持原结果"),
            needs_reason=True,
        ),
        Transition(
            "adjust",
            ObjectionStatus.PENDING,
            ObjectionStatus.ADJUSTED,
            "objection.answer",
            _l("调整"),
            needs_reason=True,
        ),
    )
}

#: 容错纠错 (docs/publication.md#tolerance): applied ─verify─► verifying (an assessor's
#: findings) ─uphold─► upheld | ─reject─► rejected (a supervisor's determination).
TOLERANCE_WORKFLOW: dict[str, Transition] = {
    step.action: step
    for step in (
        Transition(
            "verify",
            ToleranceStatus.APPLIED,
            ToleranceStatus.VERIFYING,
            "tolerance.verify",
            _l("核实"),
            needs_reason=True,
        ),
        Transition(
            "upheld",
            ToleranceStatus.VERIFYING,
            ToleranceStatus.UPHELD,
            "tolerance.determine",
            _l("认定容错"),
            needs_reason=True,
        ),
        Transition(
            "rejected",
            ToleranceStatus.VERIFYING,
            ToleranceStatus.REJECTED,
            "tolerance.determine",
            _l("不予认定"),
            needs_reason=True,
        ),
    )
}


@dataclass(frozen=True)
class ClaimTransition:
    """One step of a claim (自评): from any of ``sources`` to ``target``."""

    action: str
    sources: frozenset[ClaimStatus]
    target: ClaimStatus
    permission: str
    label: object
    needs_reason: bool = False


#: A claim's life (docs/rules.md#claim-states): the reporter saves a draft (a returned
#: claim saved again is a draft again) and submits its town's drafts; the assessor
#: accepts (the claimed value becomes the score), adjusts (its own value, with a reason)
#: or returns (with a reason) a submitted claim.
CLAIM_WORKFLOW: dict[str, ClaimTransition] = {
    step.action: step
    for step in (
        ClaimTransition(
            "save",
            frozenset({ClaimStatus.DRAFT, ClaimStatus.RETURNED}),
            ClaimStatus.DRAFT,
            "claim.write",
            _l("保存"),
        ),
        ClaimTransition(
            "submit",
            frozenset({ClaimStatus.DRAFT}),
            ClaimStatus.SUBMITTED,
            "claim.write",
            _l("报送"),
        ),
        ClaimTransition(
            "accept",
            frozenset({ClaimStatus.SUBMITTED}),
            ClaimStatus.ACCEPTED,
            "claim.verify",
            _l("采纳"),
        ),
        ClaimTransition(
            "adjust",
            frozenset({ClaimStatus.SUBMITTED}),
            ClaimStatus.ADJUSTED,
            "claim.verify",
            _l("调整"),
            needs_reason=True,
        ),
        ClaimTransition(
            "return",
            frozenset({ClaimStatus.SUBMITTED}),
            ClaimStatus.RETURNED,
            "claim.verify",
            _l("退回补充"),
            needs_reason=True,
        ),
    )
}


def claim_transition(action: str) -> ClaimTransition:
    """Return the claim workflow's step named ``action`` (KeyError when there is none)."""
    return CLAIM_WORKFLOW[action]


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
