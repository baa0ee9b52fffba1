"""容错纠错 cases (docs/publication.md#tolerance), under 三个区分开来.

::

    applied ──verify (assessor: findings)──► verifying ──upheld (supervisor)──► upheld
                                                        └─rejected (supervisor)─► rejected

- ``apply``: a town's reporter for its own town, or an admin on a town's behalf, against
  a penalty item (减分) or a veto of the period, while it is open or submitted; the
  situation chosen from the configurable list (``situations``), grounds required; one
  undetermined case per item at a time;
- ``add_findings``: an assessor's findings move the case to verifying;
- ``determine``: a supervisor upholds (认定容错: the penalty or veto is removed through
  ``scores.operations`` with the case as its cause) or rejects (不予认定) it, a reason
  required either way.

The transitions are ``core.states.TOLERANCE_WORKFLOW``; every step is one history event.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from evaluation.core.states import TOLERANCE_WORKFLOW, PeriodStatus, ToleranceStatus
from evaluation.core.writing import Conflict, Forbidden, InvalidInput, NotFound, StateError, writing
from evaluation.history import chain as history
from evaluation.publication import evidence
from evaluation.publication.operations import own_unit_id
from evaluation.scores import operations as ledger
from models import Adjustment, Period, Setting, ToleranceCase, Unit, Veto, db
from models.types import utcnow

__all__ = [
    "DEFAULT_SITUATIONS",
    "SITUATIONS_SETTING",
    "add_findings",
    "apply",
    "case_dict",
    "determine",
    "period_cases",
    "set_situations",
    "situations",
    "town_cases",
]

SITUATIONS_SETTING = "tolerance_situations"
#: The 三个区分开来 situations, the list's default (an admin may change it).
DEFAULT_SITUATIONS = (
    "推进改革中因缺乏经验、先行先试出现的失误",
    "上级尚无明确限制的探索性试验中的失误",
    "为推动发展的无意过失",
)
#: Period states in which a case may be applied for and determined.
_LIVE = (PeriodStatus.OPEN, PeriodStatus.SUBMITTED)


def situations() -> list[str]:
    """The situations a case may name, in the admin's order."""
    row = db.session.get(Setting, SITUATIONS_SETTING)
    if row is None or not row.value:
        return list(DEFAULT_SITUATIONS)
    return list(json.loads(row.value))


def set_situations(actor, lines) -> list[str]:
    """Replace the list of situations (one per line; blank lines dropped, order kept)."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    chosen = []
    for line in lines:
        text = str(line).strip()
        if "\x00" in text:
            raise InvalidInput(
                "情形不能含 NUL 字符", details=[{"path": "situations", "message": "含 NUL"}]
            )
        if text and text not in chosen:
            chosen.append(text)
    if not chosen:
        raise InvalidInput(
            "至少保留一种容错情形", details=[{"path": "situations", "message": "不能为空"}]
        )
    with writing(actor, "tolerance.situations") as session:
        before = situations()
        if before == chosen:
            return chosen
        row = session.get(Setting, SITUATIONS_SETTING)
        if row is None:
            row = Setting(key=SITUATIONS_SETTING)
            session.add(row)
        row.value = json.dumps(chosen, ensure_ascii=False)
        session.flush()
        history.append(
            actor, "tolerance.situations", "setting", SITUATIONS_SETTING,
            before={"situations": before}, after={"situations": chosen},
        )  # fmt: skip
    return chosen


def _text(value, path: str, message: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(message, details=[{"path": path, "message": "不能为空"}])
    if "\x00" in text:
        raise InvalidInput(message, details=[{"path": path, "message": "不能含 NUL 字符"}])
    return text


def _target(period: Period, unit: Unit, target_type: str, adjustment_id) -> tuple:
    """The penalty item or veto a case is against: ``(adjustment | None, veto | None)``."""
    if target_type == "adjustment":
        adjustment = None
        if str(adjustment_id or "").strip().isdigit():
            adjustment = db.session.get(Adjustment, int(str(adjustment_id).strip()))
        if adjustment is None or adjustment.period_id != period.id or adjustment.unit_id != unit.id:
            raise NotFound(f"「{unit.name}」本周期没有编号为 {adjustment_id} 的减分项")
        if adjustment.kind != "penalty":
            raise InvalidInput(
                "容错纠错只针对减分项或一票否决",
                details=[{"path": "adjustment", "message": "不是减分项"}],
            )
        return adjustment, None
    if target_type == "veto":
        veto = db.session.scalar(
            select(Veto).where(Veto.period_id == period.id, Veto.unit_id == unit.id)
        )
        if veto is None:
            raise NotFound(f"「{unit.name}」本周期没有一票否决")
        return None, veto
    raise InvalidInput(
        "容错纠错须针对 adjustment（减分项）或 veto（一票否决）",
        details=[{"path": "target", "message": "未知类型"}],
    )


def apply(
    actor,
    period: Period,
    unit: Unit,
    target_type: str,
    adjustment_id,
    situation,
    grounds,
    uploads=(),
) -> ToleranceCase:
    """Apply for 容错纠错 against a penalty item or a veto of ``unit`` in ``period``, with
    ``uploads`` stored as its evidence in the same transaction."""
    with writing(actor, "tolerance.apply") as session:
        if actor.role == "reporter" and own_unit_id(actor) != unit.id:
            raise Forbidden("只能为本镇街申请容错纠错")
        session.refresh(period)
        if period.status not in _LIVE:
            raise StateError(
                f"考核周期「{period.name}」当前为{period.status_name}，"
                "只有填报中或已提交的周期才能申请容错纠错"
            )
        adjustment, veto = _target(period, unit, target_type, adjustment_id)
        chosen = _text(situation, "situation", "请选择容错情形")
        if chosen not in situations():
            raise InvalidInput(
                "容错情形须从列表中选择", details=[{"path": "situation", "message": "不在列表中"}]
            )
        why = _text(grounds, "grounds", "请填写申请理由")
        query = select(ToleranceCase).where(
            ToleranceCase.period_id == period.id,
            ToleranceCase.unit_id == unit.id,
            ToleranceCase.target_type == target_type,
            ToleranceCase.status.in_([ToleranceStatus.APPLIED, ToleranceStatus.VERIFYING]),
        )
        if adjustment is not None:
            query = query.where(ToleranceCase.adjustment_id == adjustment.id)
        earlier = session.scalar(query)
        if earlier is not None:
            raise Conflict(
                f"该事项已有未认定的容错纠错申请（第 {earlier.id} 号）",
                details={"case": earlier.id},
            )
        if adjustment is not None:
            label = f"减分 {adjustment.points}：{adjustment.reason}"
        else:
            label = f"一票否决：{veto.reason}"
        case = ToleranceCase(
            period=period,
            unit=unit,
            target_type=target_type,
            adjustment_id=adjustment.id if adjustment is not None else None,
            target_points=adjustment.points if adjustment is not None else None,
            target_label=label,
            situation=chosen,
            grounds=why,
            applicant=actor.username,
            status=ToleranceStatus.APPLIED,
        )
        session.add(case)
        session.flush()
        history.append(
            actor, "tolerance_case.apply", "tolerance_case", str(case.id), period=period.code,
            after={
                "unit": unit.code, "target": target_type, "adjustment": case.adjustment_id,
                "points": case.target_points, "situation": chosen, "grounds": why,
                "status": str(ToleranceStatus.APPLIED),
            },
        )  # fmt: skip
        evidence.attach(actor, uploads, case=case)
    return case


def _step(session, case: ToleranceCase, action: str):
    step = TOLERANCE_WORKFLOW[action]
    session.refresh(case)
    if case.status != step.source:
        raise Conflict(
            f"第 {case.id} 号容错纠错申请当前为{case.status_name}，"
            f"只有{step.source.label}的申请才能{step.label}",
            details={"status": case.status},
        )
    return step


def add_findings(actor, case: ToleranceCase, findings) -> ToleranceCase:
    """An assessor's findings (核实情况): the case moves to verifying."""
    text = _text(findings, "findings", "请填写核实情况")
    with writing(actor, TOLERANCE_WORKFLOW["verify"].permission) as session:
        step = _step(session, case, "verify")
        case.status = step.target
        case.findings = text
        case.verified_by = actor.username
        case.verified_at = utcnow()
        session.flush()
        history.append(
            actor, "tolerance_case.verify", "tolerance_case", str(case.id),
            period=case.period.code, before={"status": str(step.source)},
            after={"status": str(step.target), "findings": text},
        )  # fmt: skip
    return case


def determine(actor, case: ToleranceCase, decision: str, reason) -> ToleranceCase:
    """A supervisor's determination: ``upheld`` removes the penalty or veto (its event
    names the case), ``rejected`` keeps it; a reason either way."""
    if decision not in ("upheld", "rejected"):
        raise InvalidInput(
            "认定须为 upheld（认定容错）或 rejected（不予认定）",
            details=[{"path": "decision", "message": "未知认定"}],
        )
    text = _text(reason, "reason", "请填写认定理由")
    with writing(actor, TOLERANCE_WORKFLOW[decision].permission) as session:
        step = _step(session, case, decision)
        period = case.period
        session.refresh(period)
        if period.status not in _LIVE:
            raise StateError(
                f"考核周期「{period.name}」当前为{period.status_name}，"
                "只有填报中或已提交的周期才能认定容错纠错"
            )
        after: dict = {"status": str(step.target)}
        if decision == "upheld":
            cause = ledger.Cause("tolerance_case", case.id, step.permission)
            note = f"容错纠错第 {case.id} 号认定容错：{text}"
            if case.target_type == "adjustment":
                adjustment = session.get(Adjustment, case.adjustment_id)
                if adjustment is None:
                    raise Conflict("该减分项已被撤销，无需认定容错")
                ledger.remove_adjustment(actor, adjustment, note, cause=cause)
                after["removed"] = {"adjustment": case.adjustment_id, "points": case.target_points}
            else:
                veto = session.scalar(
                    select(Veto).where(Veto.period_id == period.id, Veto.unit_id == case.unit_id)
                )
                if veto is None:
                    raise Conflict("该一票否决已被撤销，无需认定容错")
                ledger.remove_veto(actor, veto, note, cause=cause)
                after["removed"] = {"veto": case.unit.code}
        case.status = step.target
        case.decision_reason = text
        case.determined_by = actor.username
        case.determined_at = utcnow()
        session.flush()
        history.append(
            actor, "tolerance_case.determine", "tolerance_case", str(case.id),
            period=period.code, before={"status": str(step.source)}, after=after, reason=text,
        )  # fmt: skip
    return case


def period_cases(period: Period, unit_id: int | None = None) -> list[ToleranceCase]:
    """A period's cases (one town's with ``unit_id``), newest first."""
    query = select(ToleranceCase).where(ToleranceCase.period_id == period.id)
    if unit_id is not None:
        query = query.where(ToleranceCase.unit_id == unit_id)
    return list(db.session.scalars(query.order_by(ToleranceCase.id.desc())))


def town_cases(unit: Unit) -> list[ToleranceCase]:
    """Every case of a town, over all periods, newest first (its history of cases)."""
    return list(
        db.session.scalars(
            select(ToleranceCase)
            .where(ToleranceCase.unit_id == unit.id)
            .order_by(ToleranceCase.id.desc())
        )
    )


def case_dict(case: ToleranceCase) -> dict:
    """A case as the API answers it."""
    at = history.format_at
    return {
        "id": case.id,
        "period": case.period.code,
        "unit": case.unit.code,
        "unit_name": case.unit.name,
        "target": case.target_type,
        "adjustment": case.adjustment_id,
        "points": str(case.target_points) if case.target_points is not None else None,
        "label": case.target_label,
        "situation": case.situation,
        "grounds": case.grounds,
        "applicant": case.applicant,
        "applied_at": at(case.applied_at),
        "status": case.status,
        "findings": case.findings,
        "verified_by": case.verified_by,
        "decision_reason": case.decision_reason,
        "determined_by": case.determined_by,
        "determined_at": at(case.determined_at) if case.determined_at else None,
    }
