"""The period workflow's buttons, shared by the entry page (every step) and the ranking page
(退回 and 审定并锁定, where the dashboard's 待审定 link leads): docs/rules.md#period-workflow.

A page asks ``workflow_buttons`` which steps the user may take on a period (the
transition table and the permissions decide) and draws each as a button that opens a
confirmation dialog (``admin/workflow_macros.html``); the dialog's form posts to the page's
``workflow/<action>``, which calls ``take_step``. The services check role and state again.
"""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from evaluation.core.permissions import can
from evaluation.core.states import PERIOD_WORKFLOW
from evaluation.core.writing import ServiceError
from evaluation.periods import operations as periods
from evaluation.publication import operations as publication
from forms.entry import ApprovalForm, ReasonForm, form_errors
from models import Indicator, Period, db

__all__ = ["MISSING_UNITS_SHOWN", "missing_summary", "take_step", "workflow_buttons"]

#: How many units' missing values a refused submission or approval lists on the page.
MISSING_UNITS_SHOWN = 40


def workflow_buttons(period: Period, actions=None) -> list[dict]:
    """Return the steps the current user may take on ``period`` (only ``actions`` if given),
    in the transition table's order, each with what its dialog needs."""
    buttons = []
    for action, step in PERIOD_WORKFLOW.items():
        if actions is not None and action not in actions:
            continue
        if step.source != period.status or not can(current_user, step.permission):
            continue
        blocked = None
        incomplete, due = [], []
        if action == "approve":
            blocked = periods.approval_blocker(period, current_user.username)
            if blocked is None:
                incomplete = periods.incomplete_units(period)
                # 公示, objections and 容错 cases still pending (docs/publication.md#approval)
                due = publication.approval_blockers(period)
        buttons.append(
            {
                "action": action,
                "label": step.label,
                "reason": step.needs_reason,
                "blocked": blocked,
                "incomplete": incomplete,
                "due": due,
            }
        )
    return buttons


def take_step(action: str, period: Period) -> dict | None:
    """Take the workflow step ``action`` with the posted form; flash and return None on
    success, else return the problem to show (``message``, ``status``, missing values)."""
    step = PERIOD_WORKFLOW[action]
    label = step.label
    reason = ""
    if action == "approve":
        # The override reason is optional: needed only while values are missing.
        form = ApprovalForm()
        if not form.validate_on_submit():
            message = _("未能%(action)s：", action=label) + "；".join(form_errors(form))
            return {"action": label, "message": message, "status": 422}
        reason = form.override_reason.data or ""
    elif step.needs_reason:
        form = ReasonForm()
        if not form.validate_on_submit():
            message = _("未能%(action)s：请填写理由。", action=label)
            return {"action": label, "message": message, "status": 422}
        reason = form.reason.data
    actor = current_user._get_current_object()
    try:
        if action == "open":
            periods.open_period(actor, period)
        elif action == "submit":
            periods.submit(actor, period)
        elif action == "return":
            periods.return_period(actor, period, reason)
        elif action == "approve":
            periods.approve(actor, period, override_reason=reason)
        else:
            periods.reopen(actor, period, reason)
    except ServiceError as error:
        db.session.rollback()
        problem = {
            "action": label,
            "message": _("未能%(action)s：%(why)s", action=label, why=error.message),
            "status": error.status,
        }
        if isinstance(error, periods.MissingValues):
            problem.update(missing_summary(period, error.gaps))
        return problem
    db.session.refresh(period)
    flash(
        _(
            "%(period)s：已%(action)s，当前状态为「%(status)s」。",
            period=period.name,
            action=label,
            status=period.status_name,
        ),
        "success",
    )
    return None


def missing_summary(period: Period, gaps: list[periods.UnitGap]) -> dict:
    """Lay out a refusal's missing values, one line per unit (so each line is one visit)."""
    names = dict(
        db.session.execute(
            select(Indicator.code, Indicator.name).where(
                Indicator.scheme_id.in_(
                    [s for s in (period.town_scheme_id, period.village_scheme_id) if s]
                )
            )
        ).all()
    )
    shown = [
        {
            "level": gap.level,
            "level_name": _("典型村") if gap.level == "village" else _("镇街"),
            "unit": gap.unit,
            "name": gap.name,
            "indicators": [f"{code} {names.get(code, '')}".strip() for code in gap.indicators],
        }
        for gap in gaps[:MISSING_UNITS_SHOWN]
    ]
    return {
        "missing": shown,
        "missing_total": sum(len(gap.indicators) for gap in gaps),
        "missing_units": len(gaps),
    }
