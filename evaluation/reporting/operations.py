"""镇街报送: a town's claims (自评), their evidence, submission, the assessors' verdicts and
a town's reporting reopened after the deadline (docs/reporting.md).

Every write runs in ``core.writing.writing`` and appends its event; the states move by
``core.states.CLAIM_WORKFLOW``; a reporter's reach is ``core.permissions.reporter_unit``.
Accept and adjust write the score through ``scores.operations.set_score`` (the
``score.set`` event names the claim), never a second writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select

from evaluation.core.numbers import plain
from evaluation.core.permissions import can, may_see_unit
from evaluation.core.states import CLAIM_WORKFLOW, ClaimStatus, PeriodStatus, TownReportingState
from evaluation.core.writing import Conflict, Forbidden, InvalidInput, NotFound, require, writing
from evaluation.evidence import operations as evidence
from evaluation.history import chain as history
from evaluation.i18n import SHANGHAI, local_time
from evaluation.ranking import reading
from evaluation.scores import operations as ledger
from evaluation.scores import values
from models import (
    Claim,
    Evidence,
    EvidenceLink,
    Indicator,
    Period,
    ReportingReopening,
    Score,
    Unit,
    db,
)
from models.types import utcnow

#: How long a reopened town may report, unless the assessor names a day.
REOPEN_DAYS = 3
STATEMENT_MAX = 2000
REASON_MAX = 500

__all__ = [
    "REOPEN_DAYS",
    "TownState",
    "attach_evidence",
    "bulk_accept",
    "claim_for",
    "days_left",
    "due_for",
    "local_today",
    "reopen_reporting",
    "save_claim",
    "submit_town",
    "town_state",
    "town_states",
    "verdict",
]


def local_today() -> date:
    """Today in Asia/Shanghai: a deadline is a local date (docs/reporting.md#deadline)."""
    return datetime.now(SHANGHAI).date()


# --- reach and deadline ---------------------------------------------------------------


def check_town(actor, unit: Unit) -> None:
    """Refuse a unit that is no town, and a reporter another town's (403)."""
    if unit.level != "town":
        raise InvalidInput(
            f"「{unit.name}」不是镇街：只有镇街报送自评",
            details=[{"path": "unit", "message": "不是镇街"}],
        )
    if not may_see_unit(actor, unit.id):
        raise Forbidden("只能填报和查看本镇街的自评")


def due_for(period: Period, unit: Unit | int) -> date | None:
    """The last day ``unit`` may report in ``period``: the period's ``report_due``, or a
    later day an assessor reopened the town to (None: no deadline)."""
    if period.report_due is None:
        return None
    unit_id = unit if isinstance(unit, int) else unit.id
    reopened = db.session.scalar(
        select(func.max(ReportingReopening.until)).where(
            ReportingReopening.period_id == period.id, ReportingReopening.unit_id == unit_id
        )
    )
    return max(period.report_due, reopened) if reopened else period.report_due


def days_left(period: Period, unit: Unit | int, today: date | None = None) -> int | None:
    """Days left to report, the due day counted (0: today is the last day; negative:
    overdue); None when the period sets no deadline."""
    due = due_for(period, unit)
    if due is None:
        return None
    return (due - (today or local_today())).days


def _require_reporting(period: Period, unit: Unit) -> None:
    """Refuse (409) unless the period is open and the town's deadline has not passed."""
    if period.status != PeriodStatus.OPEN:
        raise Conflict(
            f"考核周期「{period.name}」当前状态为{period.status_name}，只有填报中的周期才能报送自评",
            details={"status": period.status},
        )
    due = due_for(period, unit)
    if due is not None and local_today() > due:
        raise Conflict(
            f"报送截止日 {due.isoformat()} 已过，不能再修改或报送；如需补报请联系考核组重新开放",
            details={"report_due": due.isoformat()},
        )


# --- reading --------------------------------------------------------------------------


def claim_for(period: Period, unit: Unit, indicator: Indicator) -> Claim | None:
    return db.session.scalar(
        select(Claim).where(
            Claim.period_id == period.id,
            Claim.unit_id == unit.id,
            Claim.indicator_id == indicator.id,
        )
    )


def current(claim: Claim | None) -> dict:
    """What a stale writer is told: the claim as it stands."""
    if claim is None:
        return {"value": None, "statement": None, "status": None, "version": None}
    return {
        "value": claim.value,
        "statement": claim.statement,
        "status": claim.status,
        "version": claim.version,
        "updated_by": claim.updated_by,
        "updated_at": claim.updated_at.isoformat() if claim.updated_at else None,
    }


def _stale(claim: Claim | None) -> Conflict:
    if claim is None:
        message = "这条自评尚未填写，未保存您的修改；请刷新后重新填写"
    else:
        message = (
            f"这条自评已被 {claim.updated_by} 于 {local_time(claim.updated_at)} 改为 {claim.value}"
            f"（第 {claim.version} 版），未保存您的修改；请核对后再提交"
        )
    return Conflict(message, details=current(claim))


def _state_refused(claim: Claim, action: str) -> Conflict:
    step = CLAIM_WORKFLOW[action]
    allowed = "、".join(str(ClaimStatus(s).label) for s in sorted(step.sources))
    return Conflict(
        f"这条自评当前为「{claim.status_name}」，只有{allowed}的自评才能{step.label}",
        details=current(claim),
    )


def _text(value: str | None, path: str, limit: int, *, required: str | None = None) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(required, details=[{"path": path, "message": "不能为空"}])
    if len(text) > limit:
        raise InvalidInput(
            f"不能超过 {limit} 个字", details=[{"path": path, "message": f"不能超过 {limit} 个字"}]
        )
    if problem := values.note_problem(text):
        raise InvalidInput(problem, details=[{"path": path, "message": problem}])
    return text


def _claim_event(action: str, claim: Claim, *, before=None, after=None, reason=None):
    return history.PendingEvent(
        action,
        "claim",
        claim.key,
        period=claim.period.code,
        before=before,
        after=after,
        reason=reason,
    )


def _shown(claim: Claim) -> dict:
    return {"value": claim.value, "statement": claim.statement, "status": claim.status}


# --- the reporter's writes ------------------------------------------------------------


def save_claim(
    actor,
    period: Period,
    unit: Unit,
    indicator: Indicator,
    value,
    statement: str = "",
    *,
    version: int | None,
) -> Claim:
    """Fill in or change a town's claim on one indicator (``version`` None creates).

    Own town only (403); the period open and the deadline not passed (409); only a draft
    or a returned claim (409; a returned one becomes a draft again); the value checked
    as a score's would be (422); a stale ``version`` is 409 with the current claim.
    """
    statement = _text(statement, "statement", STATEMENT_MAX)
    with writing(actor, CLAIM_WORKFLOW["save"].permission) as session:
        session.refresh(period)
        check_town(actor, unit)
        _require_reporting(period, unit)
        ledger.check_indicator(period, unit, indicator)
        number, grade = ledger.check_value(indicator, value)
        claim = claim_for(period, unit, indicator)
        if (claim is None) != (version is None) or (claim is not None and claim.version != version):
            raise _stale(claim)
        if claim is not None and claim.status not in CLAIM_WORKFLOW["save"].sources:
            raise _state_refused(claim, "save")
        before = None
        if claim is None:
            claim = Claim(period=period, unit=unit, indicator=indicator, version=1)
            session.add(claim)
        else:
            before = _shown(claim)
            if (
                claim.number == number
                and claim.grade == grade
                and claim.statement == statement
                and claim.status == ClaimStatus.DRAFT
            ):
                return claim
            claim.version += 1
        claim.number, claim.grade, claim.statement = number, grade, statement
        claim.status = CLAIM_WORKFLOW["save"].target
        claim.updated_by = actor.username
        claim.updated_at = utcnow()
        session.flush()
        history.append_many(
            actor, [_claim_event("claim.save", claim, before=before, after=_shown(claim))]
        )
    return claim


def attach_evidence(actor, period: Period, unit: Unit, indicator: Indicator, upload) -> Evidence:
    """Attach a file to the town's claim on ``indicator`` (through the evidence store).

    The file is received and checked before the write lock is taken; the claim's checks
    (own town, editable, before the deadline) and the link stand or fall together.
    """
    require(actor, "claim.write")
    checked = evidence.receive_upload(upload)
    try:
        with writing(actor, "claim.write") as session:
            session.refresh(period)
            check_town(actor, unit)
            _require_reporting(period, unit)
            claim = claim_for(period, unit, indicator)
            if claim is None:
                raise NotFound(f"请先填写指标 {indicator.code} 的自评，再上传佐证材料")
            if claim.status not in CLAIM_WORKFLOW["save"].sources:
                raise _state_refused(claim, "save")
            return evidence.add_evidence(
                actor,
                checked,
                target_type="claim",
                target_id=claim.id,
                unit_id=unit.id,
                period_id=period.id,
                indicator=indicator.code,
                permission="claim.write",
            )
    finally:
        checked.discard()


def _with_evidence(claim_ids) -> set[int]:
    ids = list(claim_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(EvidenceLink.target_id).where(
                EvidenceLink.target_type == "claim",
                EvidenceLink.target_id.in_(ids),
                EvidenceLink.unlinked_at.is_(None),
            )
        )
    )


def submit_town(actor, period: Period, unit: Unit) -> list[Claim]:
    """Send every draft claim of a town at once.

    Refused (422, listing them) while a draft claim whose indicator requires evidence
    (``Indicator.evidence_required``) has none; refused (422) when there is nothing to
    send.
    """
    step = CLAIM_WORKFLOW["submit"]
    with writing(actor, step.permission) as session:
        session.refresh(period)
        check_town(actor, unit)
        _require_reporting(period, unit)
        drafts = list(
            session.scalars(
                select(Claim)
                .join(Indicator, Indicator.id == Claim.indicator_id)
                .where(
                    Claim.period_id == period.id,
                    Claim.unit_id == unit.id,
                    Claim.status.in_(step.sources),
                )
                .order_by(Indicator.order, Indicator.code)
            )
        )
        if not drafts:
            raise InvalidInput("没有待报送的自评：请先填写并保存", details=[])
        attached = _with_evidence(c.id for c in drafts)
        missing = [
            c for c in drafts if c.indicator.evidence_required.strip() and c.id not in attached
        ]
        if missing:
            details = [
                {
                    "path": c.indicator.code,
                    "message": f"{c.indicator.name}须附佐证材料：{c.indicator.evidence_required}",
                }
                for c in missing
            ]
            names = "；".join(f"{c.indicator.code} {c.indicator.name}" for c in missing)
            raise InvalidInput(f"以下指标须附佐证材料，尚未上传：{names}", details=details)
        now = utcnow()
        for claim in drafts:
            claim.status = step.target
            claim.submitted_by = actor.username
            claim.submitted_at = now
            claim.version += 1
        session.flush()
        history.append(
            actor,
            "claim.submit",
            "claim",
            unit.code,
            period=period.code,
            after={"indicators": [c.indicator.code for c in drafts]},
        )
    return drafts


# --- the assessor's verdicts ----------------------------------------------------------


def verdict(
    actor,
    period: Period,
    unit: Unit,
    indicator: Indicator,
    decision: str,
    *,
    value=None,
    reason: str = "",
    version: int | None = None,
) -> Claim:
    """Accept, adjust or return a submitted claim (docs/reporting.md#verdicts).

    ``accept`` writes the claimed value as the score, ``adjust`` the assessor's
    ``value`` (a reason is required), ``return`` sends it back to the town (a reason is
    required); accept and adjust go through ``scores.operations.set_score``, whose event
    names the claim. ``version``, when given, must be the claim's current one (409).
    """
    step = CLAIM_WORKFLOW.get(decision)
    if step is None or decision in ("save", "submit"):
        raise InvalidInput(
            "认定结果只能是 accept（采纳）、adjust（调整）或 return（退回补充）",
            details=[{"path": "decision", "message": "只能是 accept、adjust 或 return"}],
        )
    reason = _text(
        reason, "reason", REASON_MAX, required="请填写理由" if step.needs_reason else None
    )
    with writing(actor, step.permission) as session:
        session.refresh(period)
        claim = claim_for(period, unit, indicator)
        if claim is None:
            raise NotFound(f"{unit.name} 没有指标 {indicator.code} 的自评")
        session.refresh(claim)
        if version is not None and claim.version != version:
            raise _stale(claim)
        if claim.status not in step.sources:
            raise _state_refused(claim, decision)
        if period.status != PeriodStatus.OPEN:
            raise Conflict(
                f"考核周期「{period.name}」当前状态为{period.status_name}，不能认定自评",
                details={"status": period.status},
            )
        before = _shown(claim)
        if decision in ("accept", "adjust"):
            assessed = claim.value if decision == "accept" else value
            if decision == "adjust" and (assessed is None or str(assessed).strip() == ""):
                raise InvalidInput(
                    "调整须填写核定值", details=[{"path": "value", "message": "不能为空"}]
                )
            score = session.scalar(
                select(Score).where(
                    Score.period_id == period.id,
                    Score.unit_id == unit.id,
                    Score.indicator_id == indicator.id,
                )
            )
            ledger.set_score(
                actor,
                period,
                unit,
                indicator,
                assessed,
                note=score.note if score is not None else "",
                version=score.version if score is not None else None,
                claim=claim.id,
                reason=reason or None,
            )
        claim.verdict_reason = reason
        claim.verdict_by = actor.username
        claim.verdict_at = utcnow()
        claim.status = step.target
        claim.version += 1
        session.flush()
        after = {"status": claim.status, "decision": decision}
        if decision == "adjust":
            after["value"] = plain(ledger.check_value(indicator, value)[0]) or str(value).strip()
        history.append_many(
            actor,
            [
                _claim_event(
                    "claim.verdict", claim, before=before, after=after, reason=reason or None
                )
            ],
        )
    return claim


@dataclass
class Disputed:
    """A submitted claim whose value differs from the score already entered."""

    indicator: str
    claimed: str
    assessed: str


def bulk_accept(actor, period: Period, unit: Unit) -> list[Claim]:
    """Accept every submitted claim of a town in one transaction.

    Refused (409, naming them) when something is disputed: a submitted claim whose value
    differs from a score already entered for it (accept or adjust those one by one).
    """
    with writing(actor, "claim.verify") as session:
        session.refresh(period)
        claims = list(
            session.scalars(
                select(Claim)
                .join(Indicator, Indicator.id == Claim.indicator_id)
                .where(
                    Claim.period_id == period.id,
                    Claim.unit_id == unit.id,
                    Claim.status == ClaimStatus.SUBMITTED,
                )
                .order_by(Indicator.order, Indicator.code)
            )
        )
        if not claims:
            raise Conflict(f"{unit.name} 没有待认定的自评", details={"disputed": []})
        scores = {
            s.indicator_id: s
            for s in session.scalars(
                select(Score).where(Score.period_id == period.id, Score.unit_id == unit.id)
            )
        }
        disputed = [
            Disputed(c.indicator.code, c.value, scores[c.indicator_id].value)
            for c in claims
            if c.indicator_id in scores and scores[c.indicator_id].value != c.value
        ]
        if disputed:
            said = "；".join(f"{d.indicator} 自评 {d.claimed}，核定 {d.assessed}" for d in disputed)
            raise Conflict(
                f"{unit.name} 有自评与已录入的分数不一致，请逐项认定：{said}",
                details={"disputed": [d.__dict__ for d in disputed]},
            )
        for claim in claims:
            verdict(actor, period, unit, claim.indicator, "accept")
    return claims


def reopen_reporting(actor, period: Period, unit: Unit, reason: str, until: date | None = None):
    """Let a town report again after the deadline, until ``until`` (default: today and
    the next ``REOPEN_DAYS`` days); a reason is required and recorded."""
    reason = _text(reason, "reason", REASON_MAX, required="重新开放须说明原因")
    with writing(actor, "claim.verify") as session:
        session.refresh(period)
        check_town(actor, unit)
        if period.status != PeriodStatus.OPEN:
            raise Conflict(
                f"考核周期「{period.name}」当前状态为{period.status_name}，不能重新开放报送",
                details={"status": period.status},
            )
        today = local_today()
        due = due_for(period, unit)
        if due is None or today <= due:
            raise Conflict(
                f"{unit.name} 的报送尚未截止，无须重新开放",
                details={"report_due": due.isoformat() if due else None},
            )
        until = until or today + timedelta(days=REOPEN_DAYS)
        if until < today:
            raise InvalidInput(
                "重新开放的截止日不能早于今天",
                details=[{"path": "until", "message": "不能早于今天"}],
            )
        reopening = ReportingReopening(
            period=period,
            unit=unit,
            until=until,
            reason=reason,
            reopened_by=actor.username,
            reopened_at=utcnow(),
        )
        session.add(reopening)
        session.flush()
        history.append(
            actor,
            "reporting.reopen",
            "claim",
            unit.code,
            period=period.code,
            after={"until": until.isoformat()},
            reason=reason,
        )
    return reopening


# --- a town's reporting state ---------------------------------------------------------


@dataclass
class TownState:
    unit_id: int
    state: TownReportingState
    #: Claims in all, and those still the town's to send (draft or returned).
    claims: int
    pending: int
    due: date | None
    #: Claims waiting for a verdict.
    submitted: int = 0


def _state(total: int, pending: int, due: date | None, today: date) -> TownReportingState:
    if total and not pending:
        return TownReportingState.SUBMITTED
    if due is not None and today > due:
        return TownReportingState.OVERDUE
    return TownReportingState.IN_PROGRESS if total else TownReportingState.NOT_STARTED


def town_states(period: Period, unit_ids=None) -> dict[int, TownState]:
    """Every active town's reporting state in ``period`` (or those of ``unit_ids``), in
    three queries: the towns, their claims counted by status (one row per town), and the
    reopenings (docs/reporting.md#scale).

    Every town's states are kept per process, keyed as the rankings are by the last
    history ``seq`` of the period and of the events without one (every claim, deadline
    and unit change appends one), and by today's date (a deadline passes at midnight).
    """
    if unit_ids is None:
        key = (period.id, reading._heads(period), local_today())
        kept = reading._kept("town_states", 4)
        found = kept.get(key)
        if found is None:
            found = _town_states(period, None)
            kept.put(key, found)
        return dict(found)
    return _town_states(period, unit_ids)


def _town_states(period: Period, unit_ids) -> dict[int, TownState]:
    towns = select(Unit.id).where(Unit.level == "town", Unit.active)
    if unit_ids is not None:
        towns = towns.where(Unit.id.in_(list(unit_ids)))
    ids = list(db.session.scalars(towns))
    pending_states = (ClaimStatus.DRAFT, ClaimStatus.RETURNED)
    query = (
        select(
            Claim.unit_id,
            func.count(),
            func.sum(case((Claim.status.in_(pending_states), 1), else_=0)),
            func.sum(case((Claim.status == ClaimStatus.SUBMITTED, 1), else_=0)),
        )
        .where(Claim.period_id == period.id)
        .group_by(Claim.unit_id)
    )
    if unit_ids is not None:
        query = query.where(Claim.unit_id.in_(ids))
    totals = {
        unit_id: (total, pending or 0, submitted or 0)
        for unit_id, total, pending, submitted in db.session.execute(query)
    }
    reopened = dict(
        db.session.execute(
            select(ReportingReopening.unit_id, func.max(ReportingReopening.until))
            .where(ReportingReopening.period_id == period.id)
            .group_by(ReportingReopening.unit_id)
        ).all()
    )
    today = local_today()
    answer = {}
    for unit_id in ids:
        due = period.report_due
        if due is not None and reopened.get(unit_id):
            due = max(due, reopened[unit_id])
        total, pending, submitted = totals.get(unit_id, (0, 0, 0))
        state = _state(total, pending, due, today)
        answer[unit_id] = TownState(unit_id, state, total, pending, due, submitted)
    return answer


def town_state(period: Period, unit: Unit) -> TownState:
    return town_states(period, [unit.id])[unit.id]


# --- who sees a claim's evidence ------------------------------------------------------


def _sees_claim(user, link: EvidenceLink) -> bool:
    return can(user, "claim.view") and link.unit_id is not None and may_see_unit(user, link.unit_id)


evidence.register_visibility("claim", _sees_claim)
evidence.register_permission("claim", "claim.write")
