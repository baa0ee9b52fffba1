"""The period workflow (docs/rules.md#period-workflow) and the review cases it opens
(docs/rules.md#review-flags).

::

    draft ──open──► open ──submit──► submitted ──approve──► approved
                     ▲                   │                      │
                     └──────return───────┘◄─────────reopen──────┘ (to open)

- ``open``: admin or supervisor;
- ``submit``: assessor; refused while any town value is missing, listing them;
- ``return``: supervisor, with a reason;
- ``approve``: a supervisor who did not submit it; refused while any town or typical
  village lacks a value, listing them, unless an override reason is given (recorded on
  the event, docs/missing-values.md); stores the RankingSnapshot of each level with the
  SHA-256 of its canonical JSON, and opens the review cases;
- ``reopen``: admin, with a reason; the old snapshots stay, marked superseded.

Each transition is one history event in the same transaction as the change.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select

from evaluation.core.states import (
    PERIOD_WORKFLOW,
    PeriodStatus,
    ReviewCaseStatus,
    Transition,
    period_transition,
)
from evaluation.core.writing import Conflict, Forbidden, InvalidInput, StateError, writing
from evaluation.history import chain as history
from evaluation.history import checkpoints
from evaluation.ranking import reading
from models import HistoryEvent, Indicator, Period, RankingSnapshot, ReviewCase, Score, Unit, db
from models.types import utcnow

__all__ = [
    "DueProcessPending",
    "approval_blocker",
    "MissingValues",
    "UnitGap",
    "Step",
    "approve",
    "incomplete_units",
    "last_step",
    "missing_values",
    "open_period",
    "reopen",
    "return_note",
    "return_period",
    "snapshot_digest",
    "snapshot_text",
    "submit",
    "sync_review_cases",
]


@contextmanager
def _step(actor, period: Period, action: str):
    """Take the workflow step ``action`` (evaluation.core.states.PERIOD_WORKFLOW): check
    the actor's permission and the period's state, inside the write transaction."""
    step = period_transition(action)
    with writing(actor, step.permission) as session:
        session.refresh(period)
        if period.status != step.source:
            raise StateError(
                f"考核周期「{period.name}」当前为{period.status_name}，"
                f"只有{step.source.label}的周期才能{step.label}"
            )
        yield step


@dataclass(frozen=True)
class Step:
    """A workflow step a period has taken, as its history event records it."""

    action: str
    #: The username of who took it.
    actor: str
    #: When, as the event's UTC text (``local_time`` shows it in Shanghai).
    at: str
    reason: str


def last_step(period: Period) -> Step | None:
    """Return the last workflow step ``period`` took (None for a period never moved).

    Read from the history (the ``period.<action>`` events of PERIOD_WORKFLOW), so an
    edit of the period's name or dates in between does not hide it.
    """
    row = db.session.execute(
        select(HistoryEvent.action, HistoryEvent.actor, HistoryEvent.at, HistoryEvent.reason)
        .where(
            # The period's own events, by the (entity, entity_key) index: a handful of
            # rows, where the period column would also walk every score event.
            HistoryEvent.entity == "period",
            HistoryEvent.entity_key == period.code,
            HistoryEvent.action.in_([f"period.{action}" for action in PERIOD_WORKFLOW]),
        )
        .order_by(HistoryEvent.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return Step(row.action.removeprefix("period."), row.actor, row.at, row.reason or "")


def return_note(period: Period) -> Step | None:
    """Return why ``period`` was returned while it waits to be submitted again, else None.

    A returned period is open again; the note stands until the next step (a new
    submission) replaces it as the last one (docs/rules.md#period-workflow).
    """
    if period.status != PeriodStatus.OPEN:
        return None
    step = last_step(period)
    return step if step is not None and step.action == "return" else None


def approval_blocker(period: Period, username: str) -> str | None:
    """Say why ``username`` may not approve ``period`` even with the right role, or None.

    The one who submitted a period may not approve it (four eyes).
    """
    if period.submitted_by is not None and period.submitted_by == username:
        return "提交人不能审定自己提交的周期，请由另一位督导审核人员审定"
    return None


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("请填写理由", details=[{"path": "reason", "message": "理由不能为空"}])
    return text


def _transition(actor, period: Period, step: Transition, *, reason=None, **after):
    old_status = period.status
    period.status = step.target
    db.session.flush()
    history.append(
        actor,
        f"period.{step.action}",
        "period",
        period.code,
        period=period.code,
        before={"status": str(old_status)},
        after={"status": str(step.target), **after},
        reason=reason,
    )


def open_period(actor, period: Period) -> None:
    """Open a draft period for entry."""
    with _step(actor, period, "open") as step:
        _transition(actor, period, step)


@dataclass(frozen=True)
class UnitGap:
    """A unit of a period that lacks values: where it is and which indicators it lacks."""

    level: str
    unit: str
    name: str
    #: Codes of the indicators without a value, in the scheme's order.
    indicators: tuple[str, ...]

    def as_dict(self) -> dict:
        """Return the gap as JSON-ready data (refusal details, history)."""
        return {
            "level": self.level,
            "unit": self.unit,
            "name": self.name,
            "indicators": list(self.indicators),
        }


class MissingValues(InvalidInput):
    """A transition refused for missing values; ``details`` are the ``UnitGap`` dicts."""

    def __init__(self, message: str, gaps: list[UnitGap]):
        super().__init__(message, details=[gap.as_dict() for gap in gaps])
        self.gaps = gaps


def missing_values(period: Period, level: str = "town") -> list[UnitGap]:
    """List the units of a level still lacking values, with the indicators they lack.

    The units are those the level's ranking computes (active towns; active typical
    villages), in ranking-input order; a period without a scheme at the level has none.
    """
    scheme = period.scheme_for(level)
    if scheme is None:
        return []
    indicators = list(
        db.session.execute(
            select(Indicator.id, Indicator.code)
            .where(Indicator.scheme_id == scheme.id)
            .order_by(Indicator.order, Indicator.id)
        )
    )
    units = list(
        db.session.execute(
            select(Unit.id, Unit.code, Unit.name)
            .where(*reading.in_level(level))
            .order_by(Unit.sort_order, Unit.code)
        )
    )
    entered = set(
        db.session.execute(
            select(Score.unit_id, Score.indicator_id).where(
                Score.period_id == period.id,
                Score.indicator_id.in_([indicator.id for indicator in indicators]),
            )
        ).tuples()
    )
    gaps = []
    for unit in units:
        lacking = tuple(i.code for i in indicators if (unit.id, i.id) not in entered)
        if lacking:
            gaps.append(UnitGap(level, unit.code, unit.name, lacking))
    return gaps


def incomplete_units(period: Period) -> list[UnitGap]:
    """List every unit of a period lacking values: the towns, then the typical villages."""
    return missing_values(period, "town") + missing_values(period, "village")


def _cells(gaps: list[UnitGap]) -> int:
    return sum(len(gap.indicators) for gap in gaps)


def submit(actor, period: Period) -> None:
    """Submit an open period for approval; refused while any town value is missing."""
    with _step(actor, period, "submit") as step:
        gaps = missing_values(period, "town")
        if gaps:
            raise MissingValues(f"还有 {_cells(gaps)} 项镇街数值未填报，不能提交", gaps)
        period.submitted_by = actor.username
        period.submitted_at = utcnow()
        _transition(actor, period, step)


def return_period(actor, period: Period, reason: str) -> None:
    """Return a submitted period to the assessors, saying why."""
    with _step(actor, period, "return") as step:
        text = _reason(reason)
        period.submitted_by = None
        period.submitted_at = None
        _transition(actor, period, step, reason=text)


def snapshot_digest(payload_text: str) -> str:
    """Return the SHA-256 of a snapshot's canonical JSON text (UTF-8)."""
    return hashlib.sha256(payload_text.encode("utf-8")).hexdigest()


def snapshot_text(period: Period, level: str) -> tuple[str, str, int]:
    """The canonical JSON text a snapshot of ``period`` at ``level`` would store now, the
    text of its engine input, and the number of units: what ``approve`` stores, and what
    the 公示表 prints as the snapshot-to-be hash (docs/publication.md#sheet)."""
    scheme = reading.scheme_for(period, level)
    document = reading.engine_input(period, level)
    results = reading.compute(document)["results"]
    payload = {"period": period.code, "level": level, "scheme": scheme.code, "results": results}
    text = reading.canonical_json(payload)
    input_text = reading.canonical_json(history.jsonable(document))
    return text, input_text, len(results)


def _store_snapshot(actor, period: Period, level: str) -> RankingSnapshot:
    text, input_text, units = snapshot_text(period, level)
    snapshot = RankingSnapshot(
        period=period,
        level=level,
        payload=text,
        sha256=snapshot_digest(text),
        created_by=actor.username,
        meta={"input_sha256": snapshot_digest(input_text), "units": units},
    )
    db.session.add(snapshot)
    return snapshot


def _supersede(period: Period) -> list[str]:
    stale = db.session.scalars(
        select(RankingSnapshot).where(
            RankingSnapshot.period_id == period.id, RankingSnapshot.superseded.is_(False)
        )
    ).all()
    for snapshot in stale:
        snapshot.superseded = True
    return [snapshot.sha256 for snapshot in stale]


class DueProcessPending(Conflict):
    """Approval refused while 公示 or its answers are pending (docs/publication.md#approval);
    ``details`` lists the blocks in words."""

    def __init__(self, blocks: list):
        words = [str(block) for block in blocks]
        super().__init__(
            "不能审定：" + "；".join(words) + "。如确需审定，请填写审定说明",
            details={"blocks": words},
        )
        self.blocks = blocks


def approve(actor, period: Period, override_reason: str | None = None) -> RankingSnapshot:
    """Approve (lock) a submitted period; return its town RankingSnapshot.

    Refused (409) while its 公示 window is open, an objection is unanswered or a 容错
    case undetermined, and (422) while any town or typical village lacks a value, unless
    ``override_reason``
    says why it is approved all the same: the reason becomes the event's ``reason`` and
    the incomplete units go into its ``after`` (docs/missing-values.md).
    """
    with _step(actor, period, "approve") as step:
        blocker = approval_blocker(period, actor.username)
        if blocker:
            raise Forbidden(blocker)
        # Due process first (docs/publication.md#approval): the 公示 window, the
        # objections, the 容错 cases — read inside this lock, which every answer also
        # takes, so an approval never misses an answer.
        from evaluation.publication import operations as publication

        blocks = publication.approval_blockers(period)
        given = (override_reason or "").strip()
        if blocks and not given:
            raise DueProcessPending(blocks)
        gaps = incomplete_units(period)
        override = given if gaps or blocks else ""
        if gaps and not override:
            raise MissingValues(
                f"还有 {len(gaps)} 个单位数据不全（共缺 {_cells(gaps)} 项），不能审定；"
                "如确需审定，请填写审定说明",
                gaps,
            )
        incomplete: dict = {}
        if blocks:
            incomplete["overridden"] = [str(block) for block in blocks]
        if gaps:
            incomplete["incomplete"] = [
                {"level": g.level, "unit": g.unit, "indicators": list(g.indicators)}
                for g in gaps
            ]
        _supersede(period)
        levels = ["town"] + (["village"] if period.village_scheme_id is not None else [])
        snapshots = {level: _store_snapshot(actor, period, level) for level in levels}
        period.approved_by = actor.username
        period.approved_at = utcnow()
        _transition(
            actor,
            period,
            step,
            reason=override or None,
            snapshots={level: s.sha256 for level, s in snapshots.items()},
            **incomplete,
        )
        sync_review_cases(actor, period)
        # Signed last, so it covers the approval's events (docs/history.md#checkpoints).
        checkpoints.record(actor, "approval", period=period.code)
    return snapshots["town"]


def reopen(actor, period: Period, reason: str) -> None:
    """Reopen an approved period for correction; its snapshots stay, marked superseded."""
    with _step(actor, period, "reopen") as step:
        text = _reason(reason)
        superseded = _supersede(period)
        period.approved_by = None
        period.approved_at = None
        period.submitted_by = None
        period.submitted_at = None
        _transition(actor, period, step, reason=text, superseded=superseded)


def sync_review_cases(actor, period: Period) -> dict[str, list[str]]:
    """Open (or keep) a ReviewCase for each flagged typical village (docs/rules.md#review-flags).

    A new case goes to the village's analysis group; an open case whose reasons changed
    is brought up to date; a closed case is left as its group closed it. Returns the unit
    codes ``{"opened", "updated", "kept"}``.
    """
    summary: dict[str, list[str]] = {"opened": [], "updated": [], "kept": []}
    with writing(actor, "review.sync") as session:
        flagged = [f for f in reading.flags(period)["flags"] if f["flagged"]]
        if not flagged:
            return summary
        units = {
            unit.code: unit
            for unit in session.scalars(
                select(Unit).where(Unit.code.in_([f["unit"] for f in flagged]))
            )
        }
        cases = {
            case.unit_id: case
            for case in session.scalars(
                select(ReviewCase).where(ReviewCase.period_id == period.id)
            )
        }
        for flag in flagged:
            unit = units[flag["unit"]]
            key = f"{period.code}/{unit.code}"
            case = cases.get(unit.id)
            if case is None:
                case = ReviewCase(
                    period=period,
                    unit=unit,
                    group_id=unit.analysis_group_id,
                    reasons=list(flag["reasons"]),
                    priority=flag["priority"],
                    status="open",
                )
                session.add(case)
                session.flush()
                history.append(
                    actor,
                    "review_case.open",
                    "review_case",
                    key,
                    period=period.code,
                    after={
                        "unit": unit.code,
                        "group": unit.analysis_group.name if unit.analysis_group else None,
                        "reasons": list(flag["reasons"]),
                        "priority": flag["priority"],
                        "status": "open",
                    },
                )
                summary["opened"].append(unit.code)
            elif case.status == ReviewCaseStatus.OPEN and (
                list(case.reasons or []) != list(flag["reasons"])
                or case.priority != flag["priority"]
            ):
                before = {"reasons": list(case.reasons or []), "priority": case.priority}
                case.reasons = list(flag["reasons"])
                case.priority = flag["priority"]
                session.flush()
                history.append(
                    actor,
                    "review_case.update",
                    "review_case",
                    key,
                    period=period.code,
                    before=before,
                    after={"reasons": case.reasons, "priority": case.priority},
                )
                summary["updated"].append(unit.code)
            else:
                summary["kept"].append(unit.code)
    return summary
