"""The score corridor (docs/rules.md#scoring, docs/rules.md#period-workflow): every change to
scores, adjustments and vetoes.

Every rule a change must pass is here, whichever door it came in by (entry page,
import, API, CLI, admin form):

- the role: permission ``score.write``;
- the period: only while it is ``open`` (填报中);
- the cell: the unit is active and of a level the period has a scheme for (villages:
  typical villages only), the indicator belongs to that scheme;
- the value: a grade key for a grade indicator, else a number written plainly (no
  exponent) with at most six decimals; ``direct`` within 0..P, ``target`` with
  ``lower`` not negative; within the indicator's allowed range and a whole number
  when it asks for one (``values``, docs/values-and-ranges.md);
- the version: ``None`` creates, otherwise it must equal the stored version, so a
  stale save is refused with the current value (nothing is overwritten silently);
- the history: exactly one event per change, none when nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, func, insert, select, true
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm.exc import ObjectDeletedError

from evaluation import scoring
from evaluation.core.numbers import plain
from evaluation.core.states import PeriodStatus
from evaluation.core.writing import (
    Conflict,
    InvalidInput,
    NotFound,
    StateError,
    require,
    update_rows,
    writing,
)
from evaluation.history import chain as history
from evaluation.history.chain import format_at
from evaluation.i18n import local_time
from evaluation.ranking import reading
from evaluation.scores import values
from models import Adjustment, HistoryEvent, Indicator, Period, Score, Unit, Veto, db
from models.ledger import ADJUSTMENT_KINDS
from models.types import utcnow

#: Adjustment points are stored as Numeric(9, 2).
LARGEST_POINTS = Decimal(10) ** 7

__all__ = [
    "Cause",
    "add_adjustment",
    "change_adjustment",
    "check_value",
    "clear_score",
    "remove_adjustment",
    "remove_veto",
    "score_points",
    "set_score",
    "set_veto",
    "value_points",
    "ValueWrite",
    "write_values",
]


# --- checks shared by every change ---------------------------------------------------


@dataclass(frozen=True)
class Cause:
    """Due process that changes a value after submission (docs/publication.md): an
    answered objection (异议) or an upheld 容错纠错 case.

    With a cause a change is allowed while the period is ``submitted`` as well as
    ``open``; the permission checked is the cause's (an assessor answering an objection,
    a supervisor determining a case), and the event names the cause in its ``after``.
    """

    #: ``objection`` or ``tolerance_case``.
    kind: str
    id: int
    #: The permission the cause's operation holds (``objection.answer``, ``tolerance.determine``).
    permission: str

    def named(self) -> dict:
        """The field the change's history event carries: ``{"objection": 7}``."""
        return {self.kind: self.id}


def _permission(cause: Cause | None) -> str:
    return cause.permission if cause is not None else "score.write"


def require_open(period: Period, cause: Cause | None = None) -> None:
    """Refuse unless the period is open for entry (checked inside the write lock); with a
    ``cause`` a submitted period is also accepted."""
    if period.status == PeriodStatus.OPEN:
        return
    if cause is not None and period.status == PeriodStatus.SUBMITTED:
        return
    raise StateError(
        f"考核周期「{period.name}」当前状态为{period.status_name}，"
        "只有填报中的周期才能修改分数、加减分和一票否决"
    )


def scheme_id_for(period: Period, level: str) -> int | None:
    """The id of the period's scheme for a level (None: the period has none), read from the
    period's own columns so that no scheme row is loaded."""
    return period.village_scheme_id if level == "village" else period.town_scheme_id


def check_unit(period: Period, unit: Unit) -> int:
    """Return the id of the period's scheme for the unit's level, refusing units outside it."""
    if not unit.active:
        raise _invalid("unit", f"单位「{unit.name}」已停用，不能录入")
    scheme_id = scheme_id_for(period, unit.level)
    if scheme_id is None:
        raise _invalid(
            "unit", f"考核周期「{period.name}」没有村级指标方案，不能为「{unit.name}」录入"
        )
    if unit.level == "village" and unit.typical_batch is None:
        raise _invalid("unit", f"「{unit.name}」不是典型村：村级方案只考核典型村")
    return scheme_id


def check_indicator(period: Period, unit: Unit, indicator: Indicator) -> None:
    """Refuse an indicator that is not in the period's scheme for the unit's level."""
    if indicator.scheme_id != check_unit(period, unit):
        scheme = period.scheme_for(unit.level)
        raise _invalid(
            "indicator",
            f"指标 {indicator.code} 不属于本周期「{unit.name}」适用的方案 {scheme.code}",
        )


def _invalid(path: str, message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"path": path, "message": message}])


def _invalid_value(message: str) -> InvalidInput:
    return _invalid("value", message)


def _decimal(value) -> Decimal:
    if isinstance(value, bool):
        raise InvalidOperation
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest text of the float, e.g. 2.675
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str):
        return values.read_number_text(value)
    raise InvalidOperation


def check_value(indicator: Indicator, value) -> tuple[Decimal | None, str | None]:
    """Check a raw value against the indicator's rules; return ``(number, grade)``.

    The rules and their messages live in ``values`` (docs/values-and-ranges.md). Raises
    InvalidInput whose details are ``[{"path": "value", "message"}]``.
    """
    if indicator.method == "grade":
        key = value.strip() if isinstance(value, str) else None
        if key not in indicator.fractions:
            raise _invalid_value(values.message("not_a_grade", indicator, value))
        return None, key
    try:
        number = _decimal(value)
    except values.NumberTextError as error:
        raise _invalid_value(values.message(error.code, indicator, value)) from None
    except (InvalidOperation, ValueError):
        raise _invalid_value(values.message("not_a_number", indicator, value)) from None
    if not number.is_finite():
        raise _invalid_value(values.message("not_finite", indicator, value))
    problem = values.number_problem(indicator, number)
    if problem is not None:
        raise _invalid_value(values.message(problem, indicator, number))
    return number, None


def _value_text(number: Decimal | None, grade: str | None) -> str | None:
    return grade if grade is not None else plain(number)


def _current(score: Score | None) -> dict:
    if score is None:
        return {"value": None, "version": None, "entered_by": None, "updated_at": None}
    return {
        "value": score.value,
        "version": score.version,
        "entered_by": score.entered_by,
        "updated_at": format_at(score.updated_at),
    }


def _conflict(score: Score | None) -> Conflict:
    if score is None:
        message = "该分数已被他人清除，未保存您的修改；请刷新后重新录入"
    else:
        message = (
            f"该分数已被 {score.entered_by} 于 {local_time(score.updated_at)} 改为 {score.value}"
            f"（第 {score.version} 版），未保存您的修改；请核对后再提交"
        )
    return Conflict(message, details=_current(score))


def _stored_score(session, period: Period, unit: Unit, indicator: Indicator) -> Score | None:
    return session.scalar(
        select(Score)
        .where(
            Score.period_id == period.id,
            Score.unit_id == unit.id,
            Score.indicator_id == indicator.id,
        )
        .execution_options(populate_existing=True)
    )


# --- scores --------------------------------------------------------------------------


def set_score(
    actor,
    period: Period,
    unit: Unit,
    indicator: Indicator,
    value,
    *,
    note: str | None = "",
    version: int | None,
    cause: Cause | None = None,
    claim: int | None = None,
    reason: str | None = None,
) -> Score:
    """Enter or change one raw value; ``version`` None creates, else must be current.

    ``claim`` names the town's claim (自评) a verdict takes the value from, and ``reason``
    the assessor's reason for an adjusted one: both go on the ``score.set`` event
    (docs/reporting.md#verdicts). ``cause`` (and its ``reason``) when due process changes
    it after submission (docs/publication.md).

    ``note`` None keeps the stored note (an empty one for a new value). The value is read
    and checked before the write lock is taken (it depends on the indicator alone, which a
    published scheme freezes); under the lock one query re-reads the period, the unit and
    the stored value, and the refusals come in the same order as ever: the period's state,
    the cell, the value, the version. The objects stay loaded after the commit
    (``writing(keep_loaded=True)``): the returned score holds what was written.
    """
    if note is not None:
        note = note.strip()
        if problem := values.note_problem(note):
            raise _invalid("note", problem)
    permission = _permission(cause)
    require(actor, permission)
    try:
        number, grade = check_value(indicator, value)
        refused = None
    except InvalidInput as error:
        refused = error
    with writing(actor, permission, keep_loaded=True) as session:
        score = _reread(session, period, unit, indicator)
        require_open(period, cause)
        check_indicator(period, unit, indicator)
        if refused is not None:
            raise refused
        if (score is None) != (version is None) or (
            score is not None and score.version != version
        ):
            raise _conflict(score)
        if note is None:
            note = "" if score is None else score.note
        if score is not None:
            old = (score.value, score.note)
            if score.number == number and score.grade == grade and score.note == note:
                return score
            score.version += 1
        else:
            old = None
            key = f"{unit.code}/{indicator.code}"
            version = first_versions(session, period, [key]).get(key, 1)
            score = Score(period=period, unit=unit, indicator=indicator, version=version)
            session.add(score)
        score.number, score.grade, score.note = number, grade, note
        score.entered_by = actor.username
        score.updated_at = utcnow()
        session.flush()
        event = score_set_event(
            period, unit, indicator, old, number, grade, note,
            reason=reason, claim=claim, cause=cause,
        )
        history.append_many(actor, [event])
    return score


def _reread(session, period: Period, unit: Unit, indicator: Indicator) -> Score | None:
    """Under the write lock, in one query: refresh the period (its state) and the unit
    (active, typical) in place, keep the history's last event for the event to come, and
    return the cell's stored value (None: none stored)."""
    last = history.last_event()
    row = session.execute(
        select(Period, Unit, Score, last.c.seq, last.c.hash)
        .select_from(Period)
        .join(Unit, Unit.id == unit.id)
        .outerjoin(
            Score,
            and_(
                Score.period_id == Period.id,
                Score.unit_id == Unit.id,
                Score.indicator_id == indicator.id,
            ),
        )
        .outerjoin(last, true())
        .where(Period.id == period.id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise NotFound("该考核周期或单位已被删除")
    stored, seq, hash_ = row[2:]
    history.remember_tail(session, seq, hash_)
    return stored


def score_set_event(
    period: Period,
    unit: Unit,
    indicator: Indicator,
    old: tuple[str | None, str | None] | None,
    number: Decimal | None,
    grade: str | None,
    note: str,
    *,
    reason: str | None = None,
    cause: Cause | None = None,
    claim: int | None = None,
) -> history.PendingEvent:
    """The ``score.set`` event of one value change (``old``: the stored value and note, None
    for a new value). ``set_score`` and ``write_values`` both build it here, so a value
    written alone or in bulk leaves the same event (tests/test_bulk_history.py)."""
    return history.PendingEvent(
        "score.set",
        "score",
        f"{unit.code}/{indicator.code}",
        period=period.code,
        before=None if old is None else {"value": old[0], "note": old[1]},
        after={"value": _value_text(number, grade), "note": note}
        | ({} if claim is None else {"claim": claim})
        | (cause.named() if cause is not None else {}),
        reason=reason,
    )


def first_versions(session, period: Period, keys: Sequence[str]) -> dict[str, int]:
    """Return the version a new value of each cell starts at, for cells cleared before.

    A cleared cell has no row, so a value entered again would restart at version 1 and a
    client still holding that cell's old version 1 would overwrite it unseen. Instead it
    starts after every change the cell has had: one more than its ``score.*`` events in
    this period, which is more than any version it ever had (each version was an event).
    Cells never cleared are absent from the answer (they start at 1). ``keys`` are
    ``unit/indicator`` codes.
    """
    cleared = select(HistoryEvent.entity_key).where(
        HistoryEvent.entity == "score",
        HistoryEvent.period == period.code,
        HistoryEvent.action == "score.clear",
    )
    if len(keys) <= 500:
        cleared = cleared.where(HistoryEvent.entity_key.in_(list(keys)))
    rows = session.execute(
        select(HistoryEvent.entity_key, func.count())
        .where(
            HistoryEvent.entity == "score",
            HistoryEvent.period == period.code,
            HistoryEvent.entity_key.in_(cleared.distinct()),
        )
        .group_by(HistoryEvent.entity_key)
    )
    wanted = set(keys)
    return {key: count + 1 for key, count in rows if key in wanted}


@dataclass(frozen=True)
class ValueWrite:
    """One planned change of a raw value, for ``write_values``.

    ``score_id``/``version``/``old_value``/``old_note`` describe what is stored now, as
    read inside the same write transaction (all None for a new value).
    """

    unit: Unit
    indicator: Indicator
    value: object
    note: str = ""
    score_id: int | None = None
    version: int | None = None
    old_value: str | None = None
    old_note: str | None = None
    #: Why the value is changed (the event's ``reason``), e.g. an import's overwrite.
    reason: str | None = None


#: Values written per batch: one INSERT, one UPDATE and one history insert each.
WRITE_BATCH = 1000
_SCORES = Score.__table__
_UPDATED = ("number", "grade", "note", "entered_by", "updated_at", "version")


def write_values(
    actor,
    period: Period,
    writes: Sequence[ValueWrite],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write many values in one transaction, each exactly as ``set_score`` writes it.

    The same rules (role, open period, unit and indicator in the period's scheme, the
    value), the same columns (version + 1, entered_by, updated_at) and one ``score.set``
    event per value — but a few statements per batch instead of several per value, so
    an import or a seeder of tens of thousands of values stays within seconds. The
    caller reads the stored versions inside the same ``writing`` block, so none can
    change underneath. Returns the number of values written.
    """
    with writing(actor, "score.write") as session:
        session.refresh(period)
        require_open(period)
        checked_units: set[int] = set()
        total = len(writes)
        restarts = first_versions(
            session,
            period,
            [f"{w.unit.code}/{w.indicator.code}" for w in writes if w.score_id is None],
        )
        for start in range(0, total, WRITE_BATCH):
            batch = writes[start : start + WRITE_BATCH]
            now = utcnow()
            created, updated, events = [], [], []
            for write in batch:
                if write.unit.id not in checked_units:
                    check_unit(period, write.unit)
                    checked_units.add(write.unit.id)
                check_indicator(period, write.unit, write.indicator)
                number, grade = check_value(write.indicator, write.value)
                note = (write.note or "").strip()
                if problem := values.note_problem(note):
                    raise _invalid("note", problem)
                columns = {
                    "number": number,
                    "grade": grade,
                    "note": note,
                    "entered_by": actor.username,
                    "updated_at": now,
                }
                if write.score_id is None:
                    created.append(
                        {
                            "period_id": period.id,
                            "unit_id": write.unit.id,
                            "indicator_id": write.indicator.id,
                            "version": restarts.get(
                                f"{write.unit.code}/{write.indicator.code}", 1
                            ),
                            **columns,
                        }
                    )
                    old = None
                else:
                    updated.append(
                        {"score_id": write.score_id, "version": write.version + 1, **columns}
                    )
                    old = (write.old_value, write.old_note)
                events.append(
                    score_set_event(
                        period, write.unit, write.indicator, old, number, grade, note,
                        reason=write.reason,
                    )
                )
            # Core statements, one executemany each (the ORM's bulk insert would split
            # the batch wherever the None pattern of number/grade changes).
            if created:
                session.execute(insert(_SCORES), created)
            update_rows(session, _SCORES, _UPDATED, updated, key="score_id")
            history.append_many(actor, events)
            if progress is not None:
                progress(start + len(batch), total)
    return total


def clear_score(actor, score: Score, *, version: int, reason: str | None = None) -> None:
    """Remove one raw value (it becomes missing again), saying why.

    ``version`` must be current; a non-empty reason is required (InvalidInput without
    one) and recorded on the ``score.clear`` event.
    """
    with writing(actor, "score.write") as session:
        try:
            period, unit, indicator = score.period, score.unit, score.indicator
        except ObjectDeletedError:
            raise _conflict(None) from None
        session.refresh(period)
        require_open(period)
        stored = _stored_score(session, period, unit, indicator)
        if stored is None or stored.version != version:
            raise _conflict(stored)
        text = _reason(reason, "清除已保存的数值须填写理由")
        before = {"value": stored.value, "note": stored.note}
        session.delete(stored)
        session.flush()
        history.append(
            actor,
            "score.clear",
            "score",
            f"{unit.code}/{indicator.code}",
            period=period.code,
            before=before,
            reason=text,
        )


def score_points(period: Period, unit: Unit, indicator: Indicator) -> Decimal | None:
    """Return the points the engine gives one stored value (None when it is missing).

    A relative indicator is scored against every unit of the same computation, so its
    whole column is read; the other methods need the one value only.
    """
    conditions = [Score.period_id == period.id, Score.indicator_id == indicator.id]
    if indicator.method != "relative":
        conditions.append(Score.unit_id == unit.id)
    else:
        conditions.append(Score.unit_id.in_(select(Unit.id).where(*reading.in_level(unit.level))))
    rows = db.session.execute(
        select(Unit.code, Score.number, Score.grade)
        .join(Unit, Unit.id == Score.unit_id)
        .where(*conditions)
    ).all()
    if unit.code not in {code for code, _, _ in rows}:
        return None
    return _cell_points(indicator, unit.code, rows)


def value_points(period: Period, unit: Unit, indicator: Indicator, value) -> Decimal | None:
    """Return the points the engine would give ``value`` stored in this cell (None when
    ``check_value`` refuses it).

    The API's PUT asks before the write lock, so the lock is held for the write alone:
    the other methods need nothing but the value; a relative indicator's column is read
    as it stands, this unit's value replaced by ``value`` (the same answer as
    ``score_points`` right after the write, unless another unit's value changes between).
    """
    try:
        number, grade = check_value(indicator, value)
    except InvalidInput:
        return None
    rows = [(unit.code, number, grade)]
    if indicator.method == "relative":
        rows += db.session.execute(
            select(Unit.code, Score.number, Score.grade)
            .join(Unit, Unit.id == Score.unit_id)
            .where(
                Score.period_id == period.id,
                Score.indicator_id == indicator.id,
                Score.unit_id != unit.id,
                Score.unit_id.in_(select(Unit.id).where(*reading.in_level(unit.level))),
            )
        ).all()
    return _cell_points(indicator, unit.code, rows)


def _cell_points(indicator: Indicator, code: str, rows) -> Decimal:
    """The points of unit ``code`` when ``rows`` (unit code, number, grade) are the
    indicator's values: the engine run on a scheme of that one indicator."""
    only = reading.indicator_document(indicator)
    document = {
        "scheme": {
            "total": only["points"],
            "grades": None,
            "dimensions": [{"code": "_", "indicators": [only]}],
        },
        "units": [{"code": unit} for unit, _, _ in rows],
        "values": [
            {"unit": unit, "indicator": indicator.code, "value": g if g is not None else n}
            for unit, n, g in rows
        ],
    }
    return scoring.evaluate(document).result_for(code).indicators[indicator.code]


# --- adjustments (加减分) and vetoes (一票否决) -------------------------------------------


def _reason(reason: str | None, message: str = "请填写理由") -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(message, details=[{"path": "reason", "message": "理由不能为空"}])
    return text


def _points(points) -> Decimal:
    try:
        amount = _decimal(points)
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount >= LARGEST_POINTS:
        message = "分值须为大于 0 的数字"
    elif amount != amount.quantize(Decimal("0.01")):
        message = "分值至多保留两位小数"
    else:
        return amount.quantize(Decimal("0.01"))
    raise InvalidInput(message, details=[{"path": "points", "message": message}])


def add_adjustment(actor, period: Period, unit: Unit, kind: str, points, reason: str) -> Adjustment:
    """Add a bonus or penalty item (加分/减分) with its reason."""
    with writing(actor, "score.write") as session:
        session.refresh(period)
        require_open(period)
        check_unit(period, unit)
        if kind not in ADJUSTMENT_KINDS:
            raise InvalidInput(
                "加减分类型须为 bonus（加分）或 penalty（减分）",
                details=[{"path": "kind", "message": "未知类型"}],
            )
        amount = _points(points)
        text = _reason(reason)
        adjustment = Adjustment(
            period=period,
            unit=unit,
            kind=kind,
            points=amount,
            reason=text,
            entered_by=actor.username,
        )
        session.add(adjustment)
        session.flush()
        history.append(
            actor,
            "adjustment.add",
            "adjustment",
            f"{unit.code}/{adjustment.id}",
            period=period.code,
            after={"unit": unit.code, "kind": kind, "points": amount, "reason": text},
            reason=text,
        )
    return adjustment


def _removable(
    session, row: Adjustment | Veto, gone: str, cause: Cause | None = None
) -> tuple[Period, Unit]:
    """The period and unit of an item about to be removed, inside the write lock: NotFound
    (``gone``) if someone removed it first, StateError unless its period is open."""
    try:
        session.refresh(row)
        period, unit = row.period, row.unit
    except (ObjectDeletedError, InvalidRequestError):
        raise NotFound(gone) from None
    session.refresh(period)
    require_open(period, cause)
    return period, unit


def _named(cause: Cause | None) -> dict:
    return cause.named() if cause is not None else {}


def remove_adjustment(
    actor, adjustment: Adjustment, reason: str, *, cause: Cause | None = None
) -> None:
    """Remove a bonus or penalty item, saying why (``cause``: due process, docs/publication.md)."""
    with writing(actor, _permission(cause)) as session:
        period, unit = _removable(session, adjustment, "该加减分项已被删除", cause)
        text = _reason(reason)
        before = {
            "unit": unit.code,
            "kind": adjustment.kind,
            "points": adjustment.points,
            "reason": adjustment.reason,
        }
        key = f"{unit.code}/{adjustment.id}"
        session.delete(adjustment)
        session.flush()
        history.append(
            actor, "adjustment.remove", "adjustment", key, period=period.code, before=before,
            after=_named(cause) or None, reason=text,
        )


def change_adjustment(
    actor, adjustment: Adjustment, points, reason: str, *, cause: Cause | None = None
) -> Adjustment:
    """Change the points of a bonus or penalty item, saying why (an objection's answer)."""
    with writing(actor, _permission(cause)) as session:
        period, unit = _removable(session, adjustment, "该加减分项已被删除", cause)
        amount = _points(points)
        text = _reason(reason)
        if amount == adjustment.points:
            return adjustment
        before = {"points": adjustment.points}
        adjustment.points = amount
        session.flush()
        history.append(
            actor, "adjustment.change", "adjustment", f"{unit.code}/{adjustment.id}",
            period=period.code, before=before, after={"points": amount, **_named(cause)},
            reason=text,
        )
    return adjustment


def set_veto(actor, period: Period, unit: Unit, reason: str) -> Veto:
    """Veto a unit for the period (一票否决), or change the reason of its veto."""
    with writing(actor, "score.write") as session:
        session.refresh(period)
        require_open(period)
        check_unit(period, unit)
        text = _reason(reason)
        veto = session.scalar(
            select(Veto)
            .where(Veto.period_id == period.id, Veto.unit_id == unit.id)
            .execution_options(populate_existing=True)
        )
        if veto is not None and veto.reason == text:
            return veto
        before = None if veto is None else {"reason": veto.reason}
        if veto is None:
            veto = Veto(period=period, unit=unit)
            session.add(veto)
        veto.reason = text
        veto.entered_by = actor.username
        veto.created_at = utcnow()
        session.flush()
        history.append(
            actor, "veto.set", "veto", unit.code, period=period.code, before=before,
            after={"reason": text}, reason=text,
        )
    return veto


def remove_veto(actor, veto: Veto, reason: str, *, cause: Cause | None = None) -> None:
    """Lift a unit's veto for the period, saying why (``cause``: due process)."""
    with writing(actor, _permission(cause)) as session:
        period, unit = _removable(session, veto, "该一票否决已被撤销", cause)
        text = _reason(reason)
        before = {"reason": veto.reason}
        session.delete(veto)
        session.flush()
        history.append(
            actor, "veto.remove", "veto", unit.code, period=period.code, before=before,
            after=_named(cause) or None, reason=text,
        )
