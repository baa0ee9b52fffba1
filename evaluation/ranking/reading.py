"""From the database to the engine: the docs/rules.md#engine-document document of one period and
level.

The engine (``evaluation.scoring``) is pure; this module is the one place that reads
schemes, units, scores, adjustments, vetoes and review dates for it. Reads are plain
column SELECTs (no ORM objects per score), so a province period stays cheap.

Who is computed:

- ``town``: the active towns, by ``sort_order`` then ``code``, on the period's town scheme;
- ``village``: the active *typical* villages (典型村) only, on the period's village scheme.

An approved period answers ``ranking`` from its stored snapshot, not by recomputing.
Any other ranking, and every one with rank intervals, is kept per app process, keyed
by the last history event of that period and the last of the events without a period
(units, schemes), each as its ``seq`` *and* ``hash``: every change that can move its
figures appends one of those, so a new event means a new key and nothing stale is ever
served (and no other server depends on it). The hash makes the key name one history:
a database restored from a backup hands the same ``seq`` numbers out again for other
events, but never with the same hash (docs/history.md#restores). Entry in one period
leaves another period's computed ranking in place.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from decimal import Decimal

from cachetools import LRUCache
from flask import current_app
from sqlalchemy import func, select

from evaluation import scoring
from evaluation.core.states import PeriodStatus
from evaluation.core.writing import InvalidInput, NotFound, in_write
from evaluation.schemes.messages import engine_problem
from models import (
    Adjustment,
    AnalysisGroup,
    HistoryEvent,
    Indicator,
    Period,
    RankingSnapshot,
    ReviewRecord,
    Score,
    Unit,
    Veto,
    db,
)
from models.units import LEVELS

__all__ = [
    "canonical_json",
    "engine_input",
    "flags",
    "in_level",
    "indicator_document",
    "level_units",
    "previous_period",
    "ranking",
    "scheme_document",
    "current_snapshot",
    "unit_ranks",
]


def canonical_json(data) -> str:
    """Return the canonical JSON text a snapshot hash is taken over (sorted keys, no spaces)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def check_level(level: str) -> str:
    """Refuse a level other than town or village."""
    if level not in LEVELS:
        raise InvalidInput(f"未知层级 {level}，可选：town、village")
    return level


def scheme_for(period: Period, level: str):
    """Return the period's scheme of a level, refusing a village level without one."""
    scheme = period.scheme_for(check_level(level))
    if scheme is None:
        raise NotFound(f"考核周期 {period.code} 没有村级指标方案")
    return scheme


def _amount(value) -> Decimal | None:
    # Stored Numeric columns come back with their full scale (6.500000): show them plainly.
    if value is None:
        return None
    return (value if isinstance(value, Decimal) else Decimal(str(value))).normalize()


def _number(text):
    """An amount kept as JSON text (grade bands, fractions) as a Decimal; text that is not
    a number stays as it is, for the engine to name the problem in its check."""
    if isinstance(text, Decimal | int | float) and not isinstance(text, bool):
        return Decimal(str(text))
    try:
        return Decimal(str(text).strip()) if isinstance(text, str) else text
    except ArithmeticError:
        return text


def indicator_document(indicator: Indicator) -> dict:
    """Return one indicator in the engine's form, amounts as Decimals."""
    fractions = None
    if indicator.method == "grade" and indicator.grade_fractions is not None:
        raw = indicator.grade_fractions
        fractions = {k: _number(v) for k, v in raw.items()} if isinstance(raw, dict) else raw
    return {
        "code": indicator.code,
        "name": indicator.name,
        "points": _amount(indicator.points),
        "method": indicator.method,
        "direction": indicator.direction,
        "target": _amount(indicator.target) if indicator.method == "target" else None,
        "floor": _amount(indicator.floor) if indicator.method == "relative" else None,
        "grade_fractions": fractions,
    }


def scheme_document(scheme) -> dict:
    """Return a scheme in the engine's form (docs/rules.md#engine-document), amounts as
    Decimals: the one converter from a stored scheme to the engine.

    A stored scheme's indicators are read in one SELECT (the ranking page's hot path);
    a scheme not stored yet (checked before saving) is read from its relationships.
    Grade bands and fractions that are not numbers stay as they are, so the engine's
    check names them (``schemes/operations.py: validate_scheme``).
    """
    grades = scheme.grades  # None: the engine's default bands
    if isinstance(grades, list):
        grades = [
            {"name": band.get("name"), "min": _number(band.get("min"))}
            if isinstance(band, dict)
            else band
            for band in grades
        ]
    dimensions = list(scheme.dimensions)
    by_dimension: dict[int, list] = {}
    if scheme.id is None:
        for dimension in dimensions:
            ordered = sorted(dimension.indicators, key=lambda i: (i.order, i.id or 0))
            by_dimension[id(dimension)] = [indicator_document(i) for i in ordered]
    else:
        keys = {dimension.id: id(dimension) for dimension in dimensions}
        rows = db.session.scalars(
            select(Indicator)
            .where(Indicator.scheme_id == scheme.id)
            .order_by(Indicator.order, Indicator.id)
        )
        for indicator in rows:
            key = keys.get(indicator.dimension_id)
            if key is not None:
                by_dimension.setdefault(key, []).append(indicator_document(indicator))
    return {
        "total": _amount(scheme.total),
        "bonus_cap": _amount(scheme.bonus_cap),
        "penalty_cap": _amount(scheme.penalty_cap),
        "tie_method": scheme.tie_method,
        "grades": grades,
        "dimensions": [
            {
                "code": dimension.code,
                "name": dimension.name,
                "indicators": by_dimension.get(id(dimension), []),
            }
            for dimension in dimensions
        ],
    }


def in_level(level: str) -> list:
    """Return the conditions on ``Unit`` of the units computed at a level."""
    conditions = [Unit.level == check_level(level), Unit.active]
    if level == "village":
        conditions.append(Unit.typical_batch.is_not(None))
    return conditions


def level_units(level: str) -> list[Unit]:
    """Return the units computed at a level, in ranking-input order (sort order, code)."""
    query = select(Unit).where(*in_level(level)).order_by(Unit.sort_order, Unit.code)
    return list(db.session.scalars(query))


def engine_input(
    period: Period, level: str = "town", *, flags: bool = False, sensitivity=None
) -> dict:
    """Build the engine document of one period and level (docs/rules.md#engine-document).

    Its values (some 30,000 in a province period) come from ``stored_values``, which
    keeps them per process and brings them up to date from the history.
    """
    scheme = scheme_for(period, level)
    unit_rows = db.session.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.typical_batch)
        .where(*in_level(level))
        .order_by(Unit.sort_order, Unit.code)
    ).all()
    values = stored_values(period, level, scheme.id, unit_rows)
    in_scope = select(Unit.id).where(*in_level(level))
    adjustments = [
        {"unit": unit, "kind": kind, "points": points, "reason": reason}
        for unit, kind, points, reason in db.session.execute(
            select(Unit.code, Adjustment.kind, Adjustment.points, Adjustment.reason)
            .join(Unit, Unit.id == Adjustment.unit_id)
            .where(Adjustment.period_id == period.id, Adjustment.unit_id.in_(in_scope))
            .order_by(Adjustment.id)
        )
    ]
    vetoes = [
        {"unit": unit, "reason": reason}
        for unit, reason in db.session.execute(
            select(Unit.code, Veto.reason)
            .join(Unit, Unit.id == Veto.unit_id)
            .where(Veto.period_id == period.id, Veto.unit_id.in_(in_scope))
            .order_by(Unit.sort_order, Unit.code)
        )
    ]
    document: dict = {
        "scheme": scheme_document(scheme),
        "units": [{"code": code, "name": name} for _, code, name, _ in unit_rows],
        "values": values,
        "adjustments": adjustments,
        "vetoes": vetoes,
    }
    if sensitivity is not None:
        document["sensitivity"] = dict(sensitivity)
    if flags:
        typical = {code: batch for _, code, _, batch in unit_rows if batch is not None}
        document["flags"] = _flag_rules(period, typical)
    return document


#: The last history event of a kind as ``(seq, hash)``; ``(0, "")`` when there is none.
Head = tuple[int, str]
NO_EVENT: Head = (0, "")


@dataclass(frozen=True)
class _StoredValues:
    """A period's stored values at a level, as of the period's history event ``head``
    (its ``seq`` and ``hash``).

    Never changed once made: an update makes a new one.
    """

    head: Head
    units: tuple[str, ...]
    indicators: tuple[str, ...]
    #: (unit code, indicator code) → the number or the grade stored.
    cells: dict[tuple[str, str], object]
    #: The engine's ``values``: one item per cell, by unit then indicator.
    values: list[dict]
    #: (unit code, indicator code) → the cell's place in ``values``.
    index: dict[tuple[str, str], int]


#: Beyond this many new events in the period, its values are read afresh instead.
_CHANGES_READ_ONE_BY_ONE = 500
#: Entities whose events in a period never add, change or remove a stored value.
_NO_VALUE_CHANGES = frozenset(
    {
        "period",
        "adjustment",
        "veto",
        "review_case",
        "review_record",
        # docs/publication.md: a window, an objection or a case changes no value itself
        # (an answer's or a determination's value change is its own score/adjustment event)
        "publication",
        "objection",
        "tolerance_case",
    }
)


def stored_values(period: Period, level: str, scheme_id: int, unit_rows) -> list[dict]:
    """Return the engine's ``values`` of a period for the units in ``unit_rows``.

    Read in full once per process; afterwards only the cells that history events of the
    period name since then (``score.set`` / ``score.clear`` keys are ``unit/indicator``)
    are read again, from the score table itself — provided the event the kept values
    are current to is still in the chain with the same hash (a restored database may
    hold another history under the same numbers: docs/history.md#restores). Any change
    to units, schemes or the period's scheme is an event without a period, which keys a
    new read in full; so is an event of an entity not known to leave values alone, or a
    long run of changes. The list returned is shared: callers only read it (the engine
    does).
    """
    head, base = _heads(period)
    key = (period.id, level, scheme_id, base)
    cache = _stored_values_cache()
    known = cache.get(key)
    if known is not None and known.head == head:
        return known.values
    fresh = None
    if known is not None and known.head[0] < head[0] and _in_chain(known.head):
        fresh = _brought_up_to_date(period, scheme_id, known, head)
    if fresh is None:
        fresh = _read_stored_values(period, scheme_id, unit_rows, head)
    cache.put(key, fresh)
    return fresh.values


def _in_chain(head: Head) -> bool:
    """Tell whether the chain still holds event ``head`` as it was: then, the chain being
    a chain, every event before it is the same too."""
    seq, digest = head
    if seq == 0:
        return True
    return db.session.scalar(select(HistoryEvent.hash).where(HistoryEvent.seq == seq)) == digest


def _read_stored_values(period: Period, scheme_id: int, unit_rows, head: Head) -> _StoredValues:
    # Bare table rows by id (ORM-attribute selects cost three times as much per row),
    # kept to the units in scope and the scheme's indicators.
    unit_codes = {unit_id: code for unit_id, code, *_ in unit_rows}
    indicators = db.session.execute(
        select(Indicator.id, Indicator.code)
        .where(Indicator.scheme_id == scheme_id)
        .order_by(Indicator.order, Indicator.id)
    ).all()
    indicator_codes = dict(indicators)
    score = Score.__table__.c
    cells = {}
    for unit_id, indicator_id, number, grade in db.session.execute(
        select(score.unit_id, score.indicator_id, score.number, score.grade).where(
            score.period_id == period.id, score.indicator_id.in_(list(indicator_codes))
        )
    ).all():
        unit = unit_codes.get(unit_id)
        if unit is not None:
            # A row holds a number or a grade, never neither.
            cells[(unit, indicator_codes[indicator_id])] = grade if grade is not None else number
    units = tuple(code for _, code, *_ in unit_rows)
    return _laid_out(head, units, tuple(code for _, code in indicators), cells)


def _laid_out(head: Head, units, indicators, cells: dict) -> _StoredValues:
    values, index = [], {}
    for unit in units:
        for indicator in indicators:
            value = cells.get((unit, indicator))
            if value is not None:
                index[(unit, indicator)] = len(values)
                values.append({"unit": unit, "indicator": indicator, "value": value})
    return _StoredValues(head, units, indicators, cells, values, index)


def _brought_up_to_date(
    period: Period, scheme_id: int, known: _StoredValues, head: Head
) -> _StoredValues | None:
    """Re-read the cells named by the period's events after ``known.head``; None: read all."""
    events = db.session.execute(
        select(HistoryEvent.entity, HistoryEvent.entity_key)
        .where(HistoryEvent.period == period.code, HistoryEvent.seq > known.head[0])
        .order_by(HistoryEvent.seq)
        .limit(_CHANGES_READ_ONE_BY_ONE + 1)
    ).all()
    if len(events) > _CHANGES_READ_ONE_BY_ONE:
        return None
    in_scope = set(known.units)
    measured = set(known.indicators)
    named = set()
    for entity, entity_key in events:
        if entity == "score":
            unit, _, indicator = entity_key.partition("/")
            if unit in in_scope and indicator in measured:
                named.add((unit, indicator))
        elif entity not in _NO_VALUE_CHANGES:
            return None
    if not named:
        return _StoredValues(head, known.units, known.indicators, known.cells,
                             known.values, known.index)  # fmt: skip
    score = Score.__table__.c
    now = {
        (unit, indicator): grade if grade is not None else number
        for unit, indicator, number, grade in db.session.execute(
            select(Unit.code, Indicator.code, score.number, score.grade)
            .join(Unit, Unit.id == score.unit_id)
            .join(Indicator, Indicator.id == score.indicator_id)
            .where(
                score.period_id == period.id,
                Indicator.scheme_id == scheme_id,
                Unit.code.in_({unit for unit, _ in named}),
                Indicator.code.in_({indicator for _, indicator in named}),
            )
        )
        if (unit, indicator) in named
    }
    cells = dict(known.cells)
    values = list(known.values)
    reshaped = False  # a cell stored or removed: the values are laid out again
    for cell in named:
        value = now.get(cell)
        if (value is None) != (cell not in cells):
            reshaped = True
        if value is None:
            cells.pop(cell, None)
            continue
        cells[cell] = value
        if not reshaped:
            values[known.index[cell]] = {"unit": cell[0], "indicator": cell[1], "value": value}
    if reshaped:
        return _laid_out(head, known.units, known.indicators, cells)
    return _StoredValues(head, known.units, known.indicators, cells, values, known.index)


def _flag_rules(period: Period, typical: dict[str, int]) -> dict:
    config = current_app.config
    return {
        "typical": typical,
        "previous_totals": _previous_totals(period, typical),
        "last_review": _last_reviews(period, typical),
        "period_end": period.end_date.isoformat(),
        "low_score": Decimal(str(config["FLAG_LOW_SCORE"])),
        "drop": Decimal(str(config["FLAG_DROP"])),
        "bottom_n": int(config["FLAG_BOTTOM_N"]),
        "review_days": int(config["FLAG_REVIEW_DAYS"]),
    }


def _previous_totals(period: Period, typical: dict[str, int]) -> dict[str, Decimal]:
    previous = previous_period(period)
    if previous is None or previous.village_scheme_id is None:
        return {}
    earlier = ranking(previous, "village")
    return {
        result["unit"]: Decimal(result["total"])
        for result in earlier["results"]
        if result["unit"] in typical
    }


def _last_reviews(period: Period, typical: dict[str, int]) -> dict[str, str]:
    # A review after the period's end says nothing about that period (docs/rules.md#review-flags).
    rows = db.session.execute(
        select(Unit.code, func.max(ReviewRecord.date))
        .join(Unit, Unit.id == ReviewRecord.unit_id)
        .where(Unit.code.in_(list(typical)), ReviewRecord.date <= period.end_date)
        .group_by(Unit.code)
    )
    return {code: day.isoformat() for code, day in rows if day is not None}


def previous_period(period: Period) -> Period | None:
    """Return the period that ended last before this one (drafts hold no figures yet)."""
    return db.session.scalar(
        select(Period)
        .where(
            Period.id != period.id,
            Period.end_date < period.end_date,
            Period.status != PeriodStatus.DRAFT,
        )
        .order_by(Period.end_date.desc(), Period.id.desc())
        .limit(1)
    )


def compute(document: dict) -> dict:
    """Run the engine on a document, turning a refusal into InvalidInput with every problem,
    each worded in Chinese from its code (docs/rules.md#where-a-rule-lives)."""
    try:
        return scoring.compute(document)
    except scoring.ScoringError as error:
        details = [
            {"path": p.path, "message": engine_problem(p, document)} for p in error.problems
        ]
        raise InvalidInput(
            "指标方案或数据无法计算，请先修正：" + "；".join(d["message"] for d in details[:3]),
            details=details,
        ) from None


def current_snapshot(period: Period, level: str = "town") -> RankingSnapshot | None:
    """Return the period's stored, not superseded, snapshot of a level."""
    return db.session.scalar(
        select(RankingSnapshot)
        .where(
            RankingSnapshot.period_id == period.id,
            RankingSnapshot.level == level,
            RankingSnapshot.superseded.is_(False),
        )
        .order_by(RankingSnapshot.id.desc())
        .limit(1)
    )


def ranking(period: Period, level: str = "town", *, sensitivity=None) -> dict:
    """Rank a period's units at a level; an approved period answers from its snapshot.

    With ``sensitivity`` the figures are recomputed (the snapshot holds no intervals);
    an approved period's inputs are locked, so they agree with the snapshot, whose hash
    is still given.
    """
    scheme_for(period, level)
    snapshot = current_snapshot(period, level) if period.status == PeriodStatus.APPROVED else None
    answer = {
        "period": period.code,
        "level": level,
        "status": period.status,
        "from_snapshot": False,
        "snapshot_hash": snapshot.sha256 if snapshot is not None else None,
    }
    if snapshot is not None and sensitivity is None:
        answer["from_snapshot"] = True
        answer["results"] = json.loads(snapshot.payload)["results"]
        return answer
    settings = None
    if sensitivity is not None:  # the uncertainty page and its charts compute it once
        settings = tuple(sorted((name, str(v)) for name, v in sensitivity.items()))
    key = (period.id, level, settings, *_heads(period))
    kept = _computed().get(key)
    if kept is None:
        kept = compute(engine_input(period, level, sensitivity=sensitivity))["results"]
        _computed().put(key, kept)
    # Callers may change what they get: each gets its own copy of what is kept.
    answer["results"] = [_result_copy(result) for result in kept]
    return answer


def scored_input(period: Period, level: str = "town") -> tuple[dict, object, object]:
    """Return the period's engine document, parsed and scored by the engine: ``(document,
    parsed Document, ScoreResult)``, kept per process by the same history keys as
    ``ranking`` — for reports on its units (docs/reports.md#speed). Read only: never
    change what it returns. Raises InvalidInput, like ``compute``, for a refused document.
    """
    from decimal import localcontext

    from evaluation.scoring.amounts import CONTEXT
    from evaluation.scoring.engine import score_document
    from evaluation.scoring.validation import parse_document

    key = (period.id, level, *_heads(period))
    kept = _scored_inputs().get(key)
    if kept is None:
        document = engine_input(period, level)
        try:
            parsed = parse_document(document)
            with localcontext(CONTEXT):
                scored = score_document(parsed)
        except scoring.ScoringError:
            compute(document)  # raises InvalidInput naming every problem in Chinese
            raise
        kept = (document, parsed, scored)
        _scored_inputs().put(key, kept)
    return kept


def _result_copy(result: dict) -> dict:
    """Copy one engine result (docs/rules.md#engine-document shape) down to its innermost values."""
    copy = dict(result)
    copy["dimensions"] = dict(result["dimensions"])
    copy["indicators"] = dict(result["indicators"])
    copy["missing"] = list(result["missing"])
    if result.get("sensitivity") is not None:
        copy["sensitivity"] = dict(result["sensitivity"])
    return copy


def unit_ranks(period: Period, level: str = "town") -> dict[str, int]:
    """Return each unit's rank in a period's ranking (a new dict on every call).

    What the "change since the previous period" column needs, kept per process by the
    snapshot's hash (an approved period) or by the same history keys as ``ranking``.
    """
    scheme_for(period, level)
    snapshot = current_snapshot(period, level) if period.status == PeriodStatus.APPROVED else None
    if snapshot is not None:
        key = ("snapshot", snapshot.sha256)
    else:
        key = (period.id, level, *_heads(period))
    ranks = _ranks().get(key)
    if ranks is None:
        ranks = {r["unit"]: r["rank"] for r in ranking(period, level)["results"]}
        _ranks().put(key, ranks)
    return dict(ranks)


def _heads(period: Period) -> tuple[Head, Head]:
    """Return the last history event of the period and of those without one, each as
    ``(seq, hash)`` (``NO_EVENT`` when there is none).

    The hash names the whole history up to that event (it is chained), so a key made of
    these never matches a restored database's other history (docs/history.md#restores).
    """
    return _last_event(period.code), _last_event(None)


def _last_event(period_code: str | None) -> Head:
    """Return the last event of a period (None: of the events without a period).

    Ordered as the (period, seq) index is, so that PostgreSQL walks that index backwards
    rather than the primary key, filtering every event since the last one without a
    period (at province scale, tens of thousands of rows).
    """
    if period_code is None:
        condition = HistoryEvent.period.is_(None)
    else:
        condition = HistoryEvent.period == period_code
    query = (
        select(HistoryEvent.seq, HistoryEvent.hash)
        .where(condition)
        .order_by(HistoryEvent.period.desc(), HistoryEvent.seq.desc())
        .limit(1)
    )
    row = db.session.execute(query).first()
    return (row[0], row[1]) if row is not None else NO_EVENT


class _Recent:
    """A small, thread-safe LRU kept per app process (``cachetools.LRUCache`` under a lock).

    Of size 0 it keeps nothing (inside a write transaction, see ``_kept``).
    """

    def __init__(self, size: int):
        self.size = size
        self._entries = LRUCache(maxsize=size) if size else None
        self._lock = threading.Lock()

    def get(self, key):
        if self._entries is None:
            return None
        with self._lock:
            return self._entries.get(key)

    def put(self, key, entry) -> None:
        if self._entries is None:
            return
        with self._lock:
            self._entries[key] = entry


def _kept(name: str, size: int) -> _Recent:
    """Return the app's LRU ``name``; inside a write transaction, one that keeps nothing.

    Keys hold history events (``seq`` and ``hash``), and a write transaction's events
    may yet roll back, their numbers then going to other events: nothing read inside
    one is kept.
    """
    if in_write():
        return _Recent(0)
    return current_app.extensions.setdefault(name, _Recent(size))


def _computed() -> _Recent:
    """(period, level, intervals, head events) → the ranking's results (never handed out)."""
    return _kept("computed_rankings", 8)


def _ranks() -> _Recent:
    """A snapshot's hash, or (period, level, head events) → {unit: rank}."""
    return _kept("unit_ranks", 16)


def _scored_inputs() -> _Recent:
    """(period, level, head events) → its engine document, parsed and scored."""
    return _kept("scored_inputs", 2)


def _stored_values_cache() -> _Recent:
    """(period, level, scheme, base event) → that period's _StoredValues."""
    return _kept("stored_values", 4)


def flags(period: Period) -> dict:
    """Return the review flags of every typical village of a period (docs/rules.md#review-flags).

    Each flag carries the engine's fields plus the village's ``name``,
    ``analysis_group`` and ``complete`` (whether it has every value, so a page can say
    数据不全 beside its total); a period without a village scheme has no flags.
    """
    if period.village_scheme_id is None:
        return {"period": period.code, "flags": []}
    shown = compute(engine_input(period, "village", flags=True))
    groups = dict(
        db.session.execute(
            select(Unit.code, AnalysisGroup.name)
            .outerjoin(AnalysisGroup, AnalysisGroup.id == Unit.analysis_group_id)
            .where(Unit.level == "village", Unit.typical_batch.is_not(None))
        ).all()
    )
    results = {r["unit"]: r for r in shown["results"]}
    return {
        "period": period.code,
        "flags": [
            {
                **flag,
                "name": results[flag["unit"]]["name"],
                "analysis_group": groups.get(flag["unit"]),
                "complete": results[flag["unit"]]["complete"],
            }
            for flag in shown.get("flags", [])
        ],
    }
