"""Typical-village review (研判, docs/rules.md#review-flags): visit records and the cases they
answer.

A reviewer acts only on the villages of their own analysis group; a supervisor on
every group's. That rule lives here, not in the pages, so every door (board, API,
CLI) meets it. Each change appends exactly one history event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import false, select

from evaluation.core.permissions import can
from evaluation.core.states import ReviewCaseStatus
from evaluation.core.writing import Forbidden, InvalidInput, NotFound, StateError, writing
from evaluation.history import chain as history
from evaluation.history import records
from evaluation.i18n import SHANGHAI
from models import HistoryEvent, Period, ReviewCase, ReviewRecord, Unit, db
from models.reviews import CONCLUSIONS
from models.types import utcnow

VISITORS_MAX = 255


def sees_all_groups(user) -> bool:
    """Tell whether ``user`` sees every analysis group's villages, not only their own."""
    return can(user, "review.all_groups")


def scope_villages(query, user):
    """Restrict a query over ``Unit`` to the typical villages ``user`` may see.

    A reviewer sees their own analysis group only; one without a group sees none.
    """
    query = query.where(Unit.level == "village", Unit.typical_batch.is_not(None))
    if sees_all_groups(user):
        return query
    group_id = getattr(user, "group_id", None)
    if group_id is None:
        return query.where(false())
    return query.where(Unit.analysis_group_id == group_id)


def may_see_village(user, unit: Unit) -> bool:
    """Tell whether ``user`` may see ``unit`` on the review board."""
    if not can(user, "review.view") or unit.typical_batch is None:
        return False
    if sees_all_groups(user):
        return True
    group_id = getattr(user, "group_id", None)
    return group_id is not None and group_id == unit.analysis_group_id


def may_review(user, unit: Unit) -> bool:
    """Tell whether ``user`` may record reviews and close cases for ``unit``."""
    return can(user, "review.write") and may_see_village(user, unit)


def _require_own_group(actor, unit: Unit) -> None:
    if not may_see_village(actor, unit):
        raise Forbidden(f"只能研判本组负责的典型村，{unit.name} 不属于您所在的研判小组")


def _require_typical(unit: Unit | None) -> Unit:
    if unit is None:
        raise NotFound("没有这个村")
    if unit.level != "village" or unit.typical_batch is None:
        raise InvalidInput(f"{unit.name} 不是典型村")
    return unit


def case_key(case: ReviewCase) -> str:
    """Return the key the history uses for a case: ``<period>/<village code>``."""
    return f"{case.period.code}/{case.unit.code}"


def case_for(period: Period, unit: Unit) -> ReviewCase | None:
    """Return the village's case in ``period``, if one was opened."""
    return db.session.scalar(
        select(ReviewCase).where(ReviewCase.period_id == period.id, ReviewCase.unit_id == unit.id)
    )


def close_reason(case: ReviewCase) -> str | None:
    """Return the reason a closed case was closed with, as its history event keeps it."""
    if case.status != ReviewCaseStatus.CLOSED:
        return None
    return db.session.scalar(
        select(HistoryEvent.reason)
        .where(
            HistoryEvent.entity == "review_case",
            HistoryEvent.entity_key == case_key(case),
            HistoryEvent.action == "review.close",
        )
        .order_by(HistoryEvent.seq.desc())
        .limit(1)
    )


def _latest_open_case(unit: Unit) -> ReviewCase | None:
    return db.session.scalar(
        select(ReviewCase)
        .join(Period, ReviewCase.period_id == Period.id)
        .where(ReviewCase.unit_id == unit.id, ReviewCase.status == ReviewCaseStatus.OPEN)
        .order_by(Period.end_date.desc())
        .limit(1)
    )


def _shanghai_today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def _clean_text(value: str | None) -> str:
    return (value or "").strip()


def older_open_cases(unit: Unit, case: ReviewCase | None) -> list[ReviewCase]:
    """Return the village's open cases of periods that ended before ``case``'s, oldest first.

    A review that answers ``case`` settles these too when the reviewer says so
    (``record_review(..., close_older=True)``); the page offers them.
    """
    if case is None:
        return []
    return list(
        db.session.scalars(
            select(ReviewCase)
            .join(Period, ReviewCase.period_id == Period.id)
            .where(
                ReviewCase.unit_id == unit.id,
                ReviewCase.status == ReviewCaseStatus.OPEN,
                ReviewCase.id != case.id,
                Period.end_date < case.period.end_date,
            )
            .order_by(Period.end_date)
        )
    )


def record_review(
    actor,
    unit: Unit,
    *,
    period: Period | None = None,
    date: dt.date,
    visitors: str,
    findings: str,
    conclusion: str,
    actions: str = "",
    next_visit: dt.date | None = None,
    close_older: bool = False,
) -> ReviewRecord:
    """Record a review visit to a typical village (one ``review.record`` event).

    The record answers the village's case for ``period`` when one exists, else the
    village's latest open case (a visit answers whatever task is outstanding); with
    neither it stands alone and still counts as the village's latest review. A reviewer
    of another group is refused. With ``close_older`` the village's open cases of
    earlier periods are closed by this visit, each with its ``review.close`` event
    (docs/rules.md#review-flags).
    """
    with writing(actor, "review.write") as session:
        unit = _require_typical(session.get(Unit, unit.id))
        _require_own_group(actor, unit)
        fields = _visit_fields(date, visitors, findings, conclusion, actions, next_visit)
        case = (case_for(period, unit) if period is not None else None) or _latest_open_case(unit)
        record = ReviewRecord(case=case, unit_id=unit.id, recorded_by=actor.username, **fields)
        session.add(record)
        session.flush()
        events = [_visit_event(unit.code, record.id, case, fields)]
        if close_older:
            reason = f"已由 {fields['date'].isoformat()} 的研判记录一并办结（结论：{conclusion}）"
            for older in older_open_cases(unit, case):
                events.append(_close(actor, older, reason))
            session.flush()
        history.append_many(actor, events)
    return record


def _close(actor, case: ReviewCase, reason: str) -> history.PendingEvent:
    """Close an open case (the caller holds the write) and return its ``review.close`` event."""
    case.status = ReviewCaseStatus.CLOSED
    case.closed_at = utcnow()
    case.closed_by = actor.username
    return history.PendingEvent(
        "review.close",
        "review_case",
        case_key(case),
        period=case.period.code,
        before={"status": "open"},
        after={"status": "closed", "closed_by": actor.username},
        reason=reason,
    )


def _visit_fields(date, visitors, findings, conclusion, actions, next_visit) -> dict:
    """Check a visit's fields; return them cleaned (InvalidInput lists every problem)."""
    visitors = _clean_text(visitors)
    findings = _clean_text(findings)
    actions = _clean_text(actions)
    problems = []
    if not isinstance(date, dt.date):
        problems.append("请填写研判日期")
    elif date > _shanghai_today():
        problems.append("研判日期不能晚于今天")
    if not conclusion:
        problems.append("请选择研判结论")
    elif conclusion not in CONCLUSIONS:
        problems.append(f"研判结论须为 {'/'.join(CONCLUSIONS)} 之一")
    if not visitors:
        problems.append("请填写走访人员")
    elif len(visitors) > VISITORS_MAX:
        problems.append(f"走访人员不超过 {VISITORS_MAX} 个字符")
    if not findings:
        problems.append("请填写发现的问题或情况")
    if next_visit is not None and isinstance(date, dt.date) and next_visit <= date:
        problems.append("下次走访日期须晚于本次研判日期")
    if problems:
        raise InvalidInput("；".join(problems), details=problems)
    return {
        "date": date,
        "visitors": visitors,
        "findings": findings,
        "conclusion": conclusion,
        "actions": actions,
        "next_visit": next_visit,
    }


def _visit_event(unit_code: str, record_id: int, case, fields: dict) -> history.PendingEvent:
    """The ``review.record`` event of a visit (``record_review`` and ``record_reviews``)."""
    return history.PendingEvent(
        "review.record",
        "review_record",
        f"{unit_code}/{record_id}",
        period=case.period.code if case is not None else None,
        after=history.jsonable(
            {"unit": unit_code, "case": case_key(case) if case is not None else None, **fields}
        ),
    )


@dataclass(frozen=True)
class Visit:
    """One visit for ``record_reviews``: the arguments ``record_review`` takes."""

    unit_id: int
    date: dt.date
    visitors: str
    findings: str
    conclusion: str
    actions: str = ""
    next_visit: dt.date | None = None


def record_reviews(actor, visits: Sequence[Visit], *, period: Period | None = None) -> list[int]:
    """Record many visits, each as ``record_review`` records it, in one write.

    The same checks (typical village of the actor's group, the fields), the same case
    (``period``'s case of the village, else its latest open case), the same row and
    ``review.record`` event per visit; one INSERT and one history insert for the lot.
    Returns the new records' ids in the order of ``visits``.
    """
    with writing(actor, "review.write") as session:
        ids = sorted({visit.unit_id for visit in visits})
        units = {}
        for start in range(0, len(ids), 5000):
            query = select(Unit).where(Unit.id.in_(ids[start : start + 5000]))
            units.update((unit.id, unit) for unit in session.scalars(query))
        cases = _cases_by_unit(session, ids, period)
        rows, planned = [], []
        for visit in visits:
            unit = _require_typical(units.get(visit.unit_id))
            _require_own_group(actor, unit)
            fields = _visit_fields(
                visit.date,
                visit.visitors,
                visit.findings,
                visit.conclusion,
                visit.actions,
                visit.next_visit,
            )
            case = cases.get(unit.id)
            rows.append(
                {
                    "case_id": case.id if case is not None else None,
                    "unit_id": unit.id,
                    "recorded_by": actor.username,
                    "recorded_at": utcnow(),
                    **fields,
                }
            )
            planned.append((unit.code, case, fields))
        if not rows:
            return []
        new_ids = records.insert_rows(session, ReviewRecord.__table__, rows)
        history.append_many(
            actor,
            [
                _visit_event(code, record_id, case, fields)
                for (code, case, fields), record_id in zip(planned, new_ids, strict=True)
            ],
        )
    return new_ids


def _cases_by_unit(session, unit_ids: list[int], period: Period | None) -> dict:
    """The case each village's visit answers, as ``record_review`` finds it one by one."""
    found: dict[int, ReviewCase] = {}
    for start in range(0, len(unit_ids), 5000):
        part = unit_ids[start : start + 5000]
        if period is not None:
            query = select(ReviewCase).where(
                ReviewCase.period_id == period.id, ReviewCase.unit_id.in_(part)
            )
            found.update((case.unit_id, case) for case in session.scalars(query))
        latest = (
            select(ReviewCase)
            .join(Period, ReviewCase.period_id == Period.id)
            .where(ReviewCase.unit_id.in_(part), ReviewCase.status == ReviewCaseStatus.OPEN)
            .order_by(ReviewCase.unit_id, Period.end_date.desc())
        )
        for case in session.scalars(latest):
            found.setdefault(case.unit_id, case)
    return found


def close_case(actor, case: ReviewCase, reason: str) -> ReviewCase:
    """Close (办结) an open review case with a reason (one ``review.close`` event)."""
    with writing(actor, "review.write") as session:
        session.refresh(case)
        _require_own_group(actor, case.unit)
        if case.status != ReviewCaseStatus.OPEN:
            raise StateError("该研判任务已办结")
        reason = _clean_text(reason)
        if not reason:
            raise InvalidInput("请填写办结理由")
        event = _close(actor, case, reason)
        session.flush()
        history.append_many(actor, [event])
    return case

