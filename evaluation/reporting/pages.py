"""What the reporting pages show, read in a few queries (docs/reporting.md#pages).

``town_sheet``: one town's claims in one period, indicator by indicator (the reporter's
page). ``verification``: a page of towns with their claims, evidence, assessed values and
gaps (the assessor's page): the towns of the page, then their claims, scores and
evidence links in one query each, whatever the number of towns in the period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from evaluation.core.numbers import plain
from evaluation.core.states import ClaimStatus, TownReportingState
from evaluation.evidence import operations as evidence
from evaluation.reporting import operations as reporting
from models import Claim, EvidenceLink, Indicator, Period, Score, Unit, db

PER_PAGE = 10


@dataclass
class Row:
    """One indicator of one town: its claim (or none yet), evidence and assessed value."""

    indicator: Indicator
    claim: Claim | None
    links: list[EvidenceLink]
    assessed: str | None

    @property
    def claimed(self) -> str | None:
        return self.claim.value if self.claim is not None else None

    @property
    def gap(self) -> str | None:
        """Assessed minus claimed for a number; ``≠`` for differing grades; None when
        either is missing or they agree on a grade."""
        if self.claim is None or self.assessed is None:
            return None
        if self.claim.grade is not None:
            return None if self.claim.grade == self.assessed else "≠"
        try:
            difference = Decimal(self.assessed) - self.claim.number
        except ArithmeticError:
            return None
        text = plain(difference)
        return f"+{text}" if difference > 0 else text

    @property
    def editable(self) -> bool:
        return self.claim is None or self.claim.status in (
            ClaimStatus.DRAFT,
            ClaimStatus.RETURNED,
        )


@dataclass
class Town:
    unit: Unit
    state: reporting.TownState
    rows: list[Row] = field(default_factory=list)

    @property
    def submitted(self) -> int:
        return sum(1 for r in self.rows if r.claim and r.claim.status == ClaimStatus.SUBMITTED)


def _indicators(period: Period) -> list[Indicator]:
    return list(
        db.session.scalars(
            select(Indicator)
            .where(Indicator.scheme_id == period.town_scheme_id)
            .order_by(Indicator.order, Indicator.code)
        )
    )


def _rows(period: Period, unit_ids: list[int], indicators: list[Indicator]) -> dict[int, list[Row]]:
    """Every town's rows, in three queries: claims, scores, evidence links."""
    if not unit_ids:
        return {}
    claims = {
        (c.unit_id, c.indicator_id): c
        for c in db.session.scalars(
            select(Claim).where(Claim.period_id == period.id, Claim.unit_id.in_(unit_ids))
        )
    }
    scores = {
        (unit_id, indicator_id): grade if grade is not None else plain(number)
        for unit_id, indicator_id, number, grade in db.session.execute(
            select(Score.unit_id, Score.indicator_id, Score.number, Score.grade).where(
                Score.period_id == period.id, Score.unit_id.in_(unit_ids)
            )
        )
    }
    links = evidence.evidence_for_many("claim", [c.id for c in claims.values()])
    answer: dict[int, list[Row]] = {}
    for unit_id in unit_ids:
        rows = []
        for indicator in indicators:
            claim = claims.get((unit_id, indicator.id))
            rows.append(
                Row(
                    indicator,
                    claim,
                    links.get(claim.id, []) if claim is not None else [],
                    scores.get((unit_id, indicator.id)),
                )
            )
        answer[unit_id] = rows
    return answer


def town_sheet(period: Period, unit: Unit) -> Town:
    """One town's claims in ``period``, every indicator of its scheme."""
    state = reporting.town_state(period, unit)
    return Town(unit, state, _rows(period, [unit.id], _indicators(period))[unit.id])


@dataclass
class Verification:
    period: Period
    towns: list[Town]
    #: State → number of towns, over the whole period (not only this page).
    counts: dict[TownReportingState, int]
    total: int
    page: int
    pages: int
    query: str
    state: str
    #: Towns past their deadline that have not sent everything (at most ``OVERDUE_SHOWN``),
    #: and how many in all.
    overdue: list[Unit] = field(default_factory=list)
    overdue_total: int = 0


OVERDUE_SHOWN = 100


def verification(
    period: Period, *, query: str = "", state: str = "", page: int = 1, per_page: int = PER_PAGE
) -> Verification:
    """A page of towns for the assessor: filtered by name or code (``query``) and by
    reporting state (``state``), towns with claims waiting for a verdict first."""
    states = reporting.town_states(period)
    counts = {s: 0 for s in TownReportingState}
    for each in states.values():
        counts[each.state] += 1
    # The towns in order, filtered and paged in memory: 1,609 short rows, no scan of the
    # claims (their counts are in ``states``, kept per process).
    listed = db.session.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.sort_order).where(
            Unit.level == "town", Unit.active
        )
    ).all()
    query = (query or "").strip()
    if query:
        listed = [t for t in listed if query in t.name or query in t.code]
    if state in TownReportingState._value2member_map_:
        listed = [t for t in listed if t.id in states and states[t.id].state == state]
    listed.sort(
        key=lambda t: (
            -(states[t.id].submitted if t.id in states else 0),
            t.sort_order if t.sort_order is not None else 0,
            t.code,
        )
    )
    total = len(listed)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    chosen = [t.id for t in listed[(page - 1) * per_page : page * per_page]]
    found = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(chosen)))}
    units = [found[i] for i in chosen]
    rows = _rows(period, [u.id for u in units], _indicators(period))
    overdue = [i for i, s in states.items() if s.state == TownReportingState.OVERDUE]
    return Verification(
        period,
        [Town(u, states[u.id], rows[u.id]) for u in units],
        counts,
        total,
        page,
        pages,
        query,
        state if state in TownReportingState._value2member_map_ else "",
        overdue_towns(period, overdue[:OVERDUE_SHOWN] if overdue else []),
        len(overdue),
    )


def overdue_towns(period: Period, ids: list[int] | None = None) -> list[Unit]:
    """The towns past their deadline that have not sent everything (the assessor's list),
    or those of ``ids`` (already found overdue)."""
    if ids is None:
        states = reporting.town_states(period)
        ids = [i for i, s in states.items() if s.state == TownReportingState.OVERDUE]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Unit).where(Unit.id.in_(ids)).order_by(Unit.sort_order, Unit.code)
        )
    )
