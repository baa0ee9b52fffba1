"""Which period a page opens on when the request names none (docs/rules.md#period-workflow).

One table, by purpose: the statuses to prefer, group by group; within a group the latest
period (by end date, then id) wins. Pages ask ``default_period(purpose)``; a page that
lists periods (the import form's select) asks ``periods_in_order(purpose)``, whose first
is the default.
"""

from __future__ import annotations

from sqlalchemy import case, select

from models import Period, db
from models.states import PeriodStatus

__all__ = ["PERIOD_PREFERENCES", "default_period", "periods_in_order"]

_DRAFT, _OPEN = PeriodStatus.DRAFT, PeriodStatus.OPEN
_SUBMITTED, _APPROVED = PeriodStatus.SUBMITTED, PeriodStatus.APPROVED

#: purpose → the status groups to try in order. A status in no group is never chosen.
PERIOD_PREFERENCES: dict[str, tuple[tuple[PeriodStatus, ...], ...]] = {
    # The ranking page: the period waiting for review (submitted), where the supervisor
    # returns or approves it; else a locked (approved) ranking, then the one being
    # entered, then a draft.
    "ranking": ((_SUBMITTED,), (_APPROVED,), (_OPEN,), (_DRAFT,)),
    # The review board: the latest period whose figures are in (submitted or approved),
    # else the one being entered; never a draft.
    "review": ((_APPROVED, _SUBMITTED), (_OPEN,)),
    # The dashboard's ranking panel: final or nearly final figures only.
    "settled": ((_APPROVED, _SUBMITTED),),
    # Entry, import and the dashboard's work panel: the open period people fill in,
    # else the latest of any state.
    "entry": ((_OPEN,), (_DRAFT, _SUBMITTED, _APPROVED)),
    # What-if (docs/weights.md#what-if): settled results only, so the comparison is against
    # a ranking that will not move under it.
    "whatif": ((_APPROVED,),),
    # 镇街报送 and its verification (docs/reporting.md): the open period towns report in,
    # else the latest one whose claims are settled; never a draft.
    "reporting": ((_OPEN,), (_SUBMITTED, _APPROVED)),
}


def _preferred(purpose: str):
    groups = PERIOD_PREFERENCES[purpose]
    ranks = {status.value: i for i, group in enumerate(groups) for status in group}
    return (
        select(Period)
        .where(Period.status.in_(list(ranks)))
        .order_by(case(ranks, value=Period.status), Period.end_date.desc(), Period.id.desc())
    )


def periods_in_order(purpose: str) -> list[Period]:
    """Return the periods ``purpose`` may open on, the preferred first."""
    return list(db.session.scalars(_preferred(purpose)))


def default_period(purpose: str) -> Period | None:
    """Return the period a page for ``purpose`` opens on (None when there is none)."""
    return db.session.scalar(_preferred(purpose).limit(1))
