"""公示 windows and 异议 (docs/publication.md).

- ``open_window``: a supervisor sets a submitted period's window (start, end, whether the
  district ranking is shown); setting it again changes it (a ``publication.change``);
- ``lodge_objection``: a town's reporter objects to one indicator, adjustment or veto of
  its own town while the window is open, once per item per window;
- ``answer_objection``: an assessor answers ``maintain`` or ``adjust``; an adjustment
  goes through ``scores.operations`` with the objection as its cause;
- ``approval_blockers``: what keeps ``periods.approve`` from approving (read inside the
  same write lock as the answers, so an approval never misses one).

Every write runs inside ``core.writing.writing`` and appends its history event
(docs/architecture.md#the-one-write-path).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask_babel import gettext
from sqlalchemy import func, select

from evaluation.core.permissions import reporter_unit
from evaluation.core.states import OBJECTION_ANSWERS, ObjectionStatus, PeriodStatus, ToleranceStatus
from evaluation.core.writing import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    StateError,
    writing,
)
from evaluation.history import chain as history
from evaluation.i18n import SHANGHAI
from evaluation.publication import evidence
from evaluation.scores import operations as ledger
from models import (
    Adjustment,
    Indicator,
    Objection,
    Period,
    PublicationWindow,
    Score,
    ToleranceCase,
    Unit,
    Veto,
    db,
)
from models.ledger import ADJUSTMENT_KINDS
from models.publication import OBJECTION_TARGETS
from models.types import utcnow

__all__ = [
    "Window",
    "answer_objection",
    "approval_blockers",
    "current_window",
    "lodge_objection",
    "objection_queue",
    "open_window",
    "own_unit_id",
    "period_objections",
    "today",
    "window_of",
]


def today() -> date:
    """Today in Beijing: 公示 windows are Beijing dates."""
    return datetime.now(SHANGHAI).date()


def own_unit_id(user) -> int | None:
    """The town a reporter is bound to, None for every other role (``reporter_unit``,
    docs/reporting.md#the-reporter)."""
    return reporter_unit(user)


def _text(value, path: str, message: str) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    if not text:
        raise InvalidInput(message, details=[{"path": path, "message": "不能为空"}])
    if "\x00" in text:
        raise InvalidInput(message, details=[{"path": path, "message": "不能含 NUL 字符"}])
    return text


# --- windows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A window as pages show it: its row, its state on ``day`` and the days left."""

    row: PublicationWindow
    #: ``upcoming`` (未开始), ``open`` (公示中) or ``closed`` (已结束).
    state: str
    #: Days left including today while open (the last day counts as 1), else 0.
    days_left: int

    @property
    def state_name(self) -> str:
        return {"upcoming": "未开始", "open": "公示中", "closed": "已结束"}[self.state]

    def as_dict(self) -> dict:
        return {
            "id": self.row.id,
            "start": self.row.starts_on.isoformat(),
            "end": self.row.ends_on.isoformat(),
            "show_ranking": self.row.show_ranking,
            "state": self.state,
            "days_left": self.days_left,
            "opened_by": self.row.opened_by,
            "opened_at": history.format_at(self.row.opened_at),
        }


def window_of(row: PublicationWindow | None, day: date | None = None) -> Window | None:
    """Describe a window on ``day`` (today in Beijing by default)."""
    if row is None:
        return None
    day = day or today()
    if day < row.starts_on:
        return Window(row, "upcoming", 0)
    if day > row.ends_on:
        return Window(row, "closed", 0)
    return Window(row, "open", (row.ends_on - day).days + 1)


def current_window(period: Period) -> PublicationWindow | None:
    """The window of the period's current submission, if one was set: the latest window
    whose ``submitted_at`` is the period's (a period returned and submitted again starts
    without one). An approved period keeps the window it was approved after."""
    if period.status not in (PeriodStatus.SUBMITTED, PeriodStatus.APPROVED):
        return None
    return db.session.scalar(
        select(PublicationWindow)
        .where(
            PublicationWindow.period_id == period.id,
            PublicationWindow.submitted_at == period.submitted_at,
        )
        .order_by(PublicationWindow.id.desc())
        .limit(1)
    )


def _date(value, path: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput(
            "日期须为 YYYY-MM-DD 格式", details=[{"path": path, "message": "日期格式有误"}]
        ) from None


def open_window(actor, period: Period, start, end, show_ranking: bool) -> PublicationWindow:
    """Set (or change) the 公示 window of a submitted period."""
    starts_on, ends_on = _date(start, "start"), _date(end, "end")
    if starts_on > ends_on:
        raise InvalidInput(
            "公示结束日期不能早于开始日期",
            details=[{"path": "end", "message": "早于开始日期"}],
        )
    with writing(actor, "publication.open") as session:
        session.refresh(period)
        if period.status != PeriodStatus.SUBMITTED:
            raise StateError(
                f"考核周期「{period.name}」当前为{period.status_name}，只有已提交的周期才能公示"
            )
        row = current_window(period)
        fields = {
            "start": starts_on.isoformat(),
            "end": ends_on.isoformat(),
            "show_ranking": bool(show_ranking),
        }
        if row is None:
            row = PublicationWindow(
                period=period, submitted_at=period.submitted_at, opened_by=actor.username
            )
            session.add(row)
            action, before = "publication.open", None
        else:
            before = {
                "start": row.starts_on.isoformat(),
                "end": row.ends_on.isoformat(),
                "show_ranking": row.show_ranking,
            }
            if before == fields:
                return row
            action = "publication.change"
        row.starts_on, row.ends_on, row.show_ranking = starts_on, ends_on, bool(show_ranking)
        session.flush()
        history.append(
            actor, action, "publication", f"{period.code}/{row.id}", period=period.code,
            before=before, after=fields,
        )  # fmt: skip
    return row


# --- objections -------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """What an objection is about, as found in the ledger now."""

    target_type: str
    key: str
    #: In words, e.g. ``E01 镇域生产总值增速`` or ``减分 2.00：安全生产事故``.
    label: str
    #: The item's current value as text (raw value, points, or 一票否决).
    value: str | None
    indicator: Indicator | None = None
    adjustment: Adjustment | None = None
    veto: Veto | None = None


def find_item(period: Period, unit: Unit, target_type: str, key) -> Item:
    """Find the indicator, adjustment or veto of ``unit`` in ``period`` an objection names."""
    if target_type not in OBJECTION_TARGETS:
        raise InvalidInput(
            "异议须针对 indicator、adjustment 或 veto 之一",
            details=[{"path": "target", "message": "未知类型"}],
        )
    key = "" if key is None else str(key).strip()
    if "\x00" in key:  # names nothing, and PostgreSQL refuses it in a query
        raise NotFound("事项代码不能含 NUL 字符")
    if target_type == "indicator":
        scheme = period.scheme_for(unit.level)
        indicator = None
        if scheme is not None and key:
            indicator = db.session.scalar(
                select(Indicator).where(Indicator.scheme_id == scheme.id, Indicator.code == key)
            )
        if indicator is None:
            raise NotFound(f"本周期「{unit.name}」适用的方案中没有指标 {key}")
        score = db.session.scalar(
            select(Score).where(
                Score.period_id == period.id,
                Score.unit_id == unit.id,
                Score.indicator_id == indicator.id,
            )
        )
        return Item(
            "indicator", indicator.code, f"{indicator.code} {indicator.name}",
            score.value if score is not None else None, indicator=indicator,
        )  # fmt: skip
    if target_type == "adjustment":
        adjustment = None
        if key.isdigit():
            adjustment = db.session.get(Adjustment, int(key))
        if adjustment is None or adjustment.period_id != period.id or adjustment.unit_id != unit.id:
            raise NotFound(f"「{unit.name}」本周期没有编号为 {key} 的加减分项")
        label = f"{ADJUSTMENT_KINDS[adjustment.kind]} {adjustment.points}：{adjustment.reason}"
        return Item(
            "adjustment", str(adjustment.id), label, str(adjustment.points),
            adjustment=adjustment,
        )  # fmt: skip
    veto = db.session.scalar(
        select(Veto).where(Veto.period_id == period.id, Veto.unit_id == unit.id)
    )
    if veto is None:
        raise NotFound(f"「{unit.name}」本周期没有一票否决")
    return Item("veto", "veto", f"一票否决：{veto.reason}", "一票否决", veto=veto)


def lodge_objection(
    actor, period: Period, unit: Unit, target_type: str, key, reason, uploads=()
) -> Objection:
    """Lodge a town's objection to one item of its results while the window is open, with
    ``uploads`` stored as its evidence in the same transaction (nothing kept if one fails)."""
    with writing(actor, "objection.lodge") as session:
        if own_unit_id(actor) != unit.id:
            raise Forbidden("只能对本镇街的考核结果提出异议")
        session.refresh(period)
        if period.status != PeriodStatus.SUBMITTED:
            raise Conflict(f"考核周期「{period.name}」当前为{period.status_name}，不在公示中")
        window = window_of(current_window(period))
        if window is None:
            raise Conflict(f"考核周期「{period.name}」尚未公示")
        if window.state == "upcoming":
            raise Conflict(f"公示自 {window.row.starts_on} 开始，尚不能提出异议")
        if window.state == "closed":
            raise Conflict(f"公示期已于 {window.row.ends_on} 结束，不能再提出异议")
        item = find_item(period, unit, target_type, key)
        text = _text(reason, "reason", "请填写异议理由")
        earlier = session.scalar(
            select(Objection).where(
                Objection.window_id == window.row.id,
                Objection.unit_id == unit.id,
                Objection.target_type == item.target_type,
                Objection.target_key == item.key,
            )
        )
        if earlier is not None:
            raise Conflict(
                f"本次公示中已对「{item.label}」提出过异议（第 {earlier.id} 号），"
                "同一事项只能提出一次",
                details={"objection": earlier.id},
            )
        objection = Objection(
            window_id=window.row.id,
            period=period,
            unit=unit,
            target_type=item.target_type,
            target_key=item.key,
            target_label=item.label,
            reason=text,
            lodged_by=actor.username,
            status=ObjectionStatus.PENDING,
        )
        session.add(objection)
        session.flush()
        history.append(
            actor, "objection.lodge", "objection", str(objection.id), period=period.code,
            after={
                "unit": unit.code, "target": item.target_type, "item": item.key,
                "value": item.value, "status": str(ObjectionStatus.PENDING),
            },
            reason=text,
        )  # fmt: skip
        evidence.attach(actor, uploads, objection=objection)
    return objection


def answer_objection(actor, objection: Objection, decision: str, value, reason) -> Objection:
    """Answer an objection: ``maintain`` (reason) or ``adjust`` (new value, reason).

    ``adjust`` changes an indicator's value (``set_score``), a bonus/penalty item's points
    (``change_adjustment``; 0 removes it) or lifts a veto (``remove_veto``), each with the
    objection as its cause. Two answers at once: the first wins, the second gets 409.
    """
    step = OBJECTION_ANSWERS.get(decision)
    if step is None:
        raise InvalidInput(
            "答复须为 maintain（维持）或 adjust（调整）",
            details=[{"path": "decision", "message": "未知答复"}],
        )
    text = _text(reason, "reason", "请填写答复理由")
    with writing(actor, step.permission) as session:
        session.refresh(objection)
        if objection.status != step.source:
            raise Conflict(
                f"第 {objection.id} 号异议已由 {objection.answered_by} 答复"
                f"（{objection.status_name}）",
                details={"status": objection.status, "answered_by": objection.answered_by},
            )
        period = objection.period
        session.refresh(period)
        if period.status != PeriodStatus.SUBMITTED:
            raise Conflict(f"考核周期「{period.name}」当前为{period.status_name}，不能再答复异议")
        unit = objection.unit
        item = find_item(period, unit, objection.target_type, objection.target_key)
        after: dict = {"status": str(step.target), "decision": decision}
        if decision == "adjust":
            cause = ledger.Cause("objection", objection.id, step.permission)
            note = f"异议第 {objection.id} 号答复：{text}"
            objection.value_before = item.value
            objection.value_after = _adjust(actor, period, unit, item, value, note, cause)
            after.update(value_before=objection.value_before, value_after=objection.value_after)
        objection.status = step.target
        objection.answer_reason = text
        objection.answered_by = actor.username
        objection.answered_at = utcnow()
        session.flush()
        history.append(
            actor, "objection.answer", "objection", str(objection.id), period=period.code,
            before={"status": str(step.source)}, after=after, reason=text,
        )  # fmt: skip
    return objection


def _adjust(actor, period, unit, item: Item, value, note: str, cause) -> str | None:
    """Write an ``adjust`` answer's change; return the item's value after it."""
    if item.target_type == "veto":
        ledger.remove_veto(actor, item.veto, note, cause=cause)
        return None
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput("调整须填写新的数值", details=[{"path": "value", "message": "不能为空"}])
    if item.target_type == "indicator":
        score = db.session.scalar(
            select(Score)
            .where(
                Score.period_id == period.id,
                Score.unit_id == unit.id,
                Score.indicator_id == item.indicator.id,
            )
            .execution_options(populate_existing=True)
        )
        written = ledger.set_score(
            actor, period, unit, item.indicator, value,
            note=score.note if score is not None else "",
            version=score.version if score is not None else None,
            cause=cause, reason=note,
        )  # fmt: skip
        return written.value
    if str(value).strip() in ("0", "0.0", "0.00"):
        ledger.remove_adjustment(actor, item.adjustment, note, cause=cause)
        return None
    return str(ledger.change_adjustment(actor, item.adjustment, value, note, cause=cause).points)


# --- reading ----------------------------------------------------------------------------


#: What each kind of block says (docs/publication.md#approval): Chinese on the record, in
#: the reader's language on a page (``Blocker.label``).
_BLOCKER_TEXT = {
    "window": "公示期未结束（%(start)s 至 %(end)s）",
    "objections": "还有 %(n)s 件异议未答复",
    "cases": "还有 %(n)s 件容错纠错申请未认定",
}


@dataclass(frozen=True)
class Blocker:
    """One thing due process still waits for before approval, as data: its kind and
    figures. ``str()`` is its Chinese wording, which the 409's message and the approval
    event's ``overridden`` keep; ``label`` is the same words in the reader's language."""

    kind: str
    n: int = 0
    start: str = ""
    end: str = ""

    def _values(self) -> dict:
        return {"n": self.n, "start": self.start, "end": self.end}

    def __str__(self) -> str:
        return _BLOCKER_TEXT[self.kind] % self._values()

    @property
    def label(self) -> str:
        return gettext(_BLOCKER_TEXT[self.kind], **self._values())


def approval_blockers(period: Period) -> list[Blocker]:
    """What due process still keeps ``period`` from approval (empty: nothing).

    The window of its current submission still open (or not begun), objections
    unanswered, 容错 cases not yet determined (docs/publication.md#approval).
    """
    blocks = []
    window = window_of(current_window(period))
    if window is not None and window.state != "closed":
        blocks.append(
            Blocker("window", start=str(window.row.starts_on), end=str(window.row.ends_on))
        )
    pending = db.session.scalar(
        select(func.count(Objection.id)).where(
            Objection.period_id == period.id, Objection.status == ObjectionStatus.PENDING
        )
    )
    if pending:
        blocks.append(Blocker("objections", n=pending))
    cases = db.session.scalar(
        select(func.count(ToleranceCase.id)).where(
            ToleranceCase.period_id == period.id,
            ToleranceCase.status.in_([ToleranceStatus.APPLIED, ToleranceStatus.VERIFYING]),
        )
    )
    if cases:
        blocks.append(Blocker("cases", n=cases))
    return blocks


def period_objections(period: Period, unit_id: int | None = None) -> list[Objection]:
    """A period's objections (one town's with ``unit_id``), oldest first."""
    query = select(Objection).where(Objection.period_id == period.id)
    if unit_id is not None:
        query = query.where(Objection.unit_id == unit_id)
    return list(db.session.scalars(query.order_by(Objection.lodged_at, Objection.id)))


def age(objection: Objection) -> int:
    """How many days an objection has waited: Beijing dates, 0 on the day it was lodged."""
    lodged = objection.lodged_at.replace(tzinfo=UTC).astimezone(SHANGHAI).date()
    return (today() - lodged).days


def objection_queue() -> list[tuple[Objection, int]]:
    """Every unanswered objection, oldest first, with its age in days."""
    rows = db.session.scalars(
        select(Objection)
        .where(Objection.status == ObjectionStatus.PENDING)
        .order_by(Objection.lodged_at, Objection.id)
    )
    return [(row, age(row)) for row in rows]


def objection_dict(objection: Objection) -> dict:
    """An objection as the API answers it."""
    return {
        "id": objection.id,
        "period": objection.period.code,
        "unit": objection.unit.code,
        "unit_name": objection.unit.name,
        "target": objection.target_type,
        "item": objection.target_key,
        "label": objection.target_label,
        "reason": objection.reason,
        "lodged_by": objection.lodged_by,
        "lodged_at": history.format_at(objection.lodged_at),
        "status": objection.status,
        "answer_reason": objection.answer_reason,
        "answered_by": objection.answered_by,
        "answered_at": history.format_at(objection.answered_at) if objection.answered_at else None,
        "value_before": objection.value_before,
        "value_after": objection.value_after,
    }


@dataclass
class Panel:
    """The home page's 公示 panel (docs/publication.md#dashboards), by permission."""

    #: Supervisor: the submitted periods with a window not yet closed.
    windows: list[tuple[Period, Window]]
    #: Supervisor: unanswered objections and undetermined cases, per period code.
    pending: dict[str, tuple[int, int]]
    #: Assessor: the objection queue with ages (oldest first).
    queue: list[tuple[Objection, int]] | None = None


def panel(user) -> Panel | None:
    """The 公示 panel of ``user``'s home page, or None when there is nothing of theirs."""
    from evaluation.core.permissions import can

    if not can(user, "publication.view"):
        return None
    submitted = db.session.scalars(
        select(Period).where(Period.status == PeriodStatus.SUBMITTED).order_by(Period.end_date)
    )
    windows = []
    for period in submitted:
        window = window_of(current_window(period))
        if window is not None and window.state != "closed":
            windows.append((period, window))
    pending: dict[str, tuple[int, int]] = {}
    if can(user, "publication.open"):
        rows = db.session.execute(
            select(Period.code, func.count(Objection.id))
            .join(Objection, Objection.period_id == Period.id)
            .where(Objection.status == ObjectionStatus.PENDING)
            .group_by(Period.code)
        ).all()
        cases = dict(
            db.session.execute(
                select(Period.code, func.count(ToleranceCase.id))
                .join(ToleranceCase, ToleranceCase.period_id == Period.id)
                .where(
                    ToleranceCase.status.in_([ToleranceStatus.APPLIED, ToleranceStatus.VERIFYING])
                )
                .group_by(Period.code)
            ).all()
        )
        for code, count in rows:
            pending[code] = (count, cases.pop(code, 0))
        for code, count in cases.items():
            pending[code] = (0, count)
    queue = objection_queue() if can(user, "objection.answer") else None
    if queue is None and not windows and not pending and not can(user, "objection.lodge"):
        return None
    return Panel(windows, pending, queue)
