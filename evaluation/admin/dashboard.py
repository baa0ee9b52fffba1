"""首页 (docs/architecture.md#pages-and-doors ``/admin/``): what each role needs to see first, read
cheaply.

Every panel is chosen by a permission (``evaluation.core.permissions``), not by a role
name, and every query is bounded: counts on the small base-data tables, one period's
score cells, and the history read newest-first with ``LIMIT`` (never a full COUNT of
``history_event``, which holds millions of rows in a province).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from evaluation.core.periods import default_period
from evaluation.core.permissions import can, reporter_unit
from evaluation.core.states import PeriodStatus, ReviewCaseStatus, TownReportingState
from evaluation.core.writing import ServiceError
from evaluation.history import exports
from evaluation.periods import operations as periods
from evaluation.publication import operations as publication
from evaluation.ranking import reading
from evaluation.reporting import operations as reporting
from evaluation.reporting import pages as reporting_pages
from models import (
    AnalysisGroup,
    Cadre,
    HistoryEvent,
    Indicator,
    KeyProject,
    Period,
    ReviewCase,
    Scheme,
    Score,
    Unit,
    User,
    db,
)
from models.units import LEVELS
from models.users import display_names

#: How many towns the supervisor sees at each end of the ranking.
ENDS = 3
#: How many history events the auditor sees.
LATEST_EVENTS = 10
#: How many units with missing values are listed before "and N more".
MISSING_SHOWN = 20
#: How many open review cases the supervisor sees.
FLAGGED_SHOWN = 15
PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2}
#: What a case row shows, loaded with the cases rather than one query per row.
CASE_LOADS = (
    selectinload(ReviewCase.unit).selectinload(Unit.parent),
    selectinload(ReviewCase.period),
    selectinload(ReviewCase.group),
)


def admin_link(endpoint: str, **values) -> str | None:
    """Return the URL of an admin area, or None while that area is not registered."""
    if "." in endpoint:
        candidates = [endpoint]
    else:
        candidates = [f"{endpoint}.index_view", f"{endpoint}.index"]
    for candidate in candidates:
        try:
            return url_for(candidate, **values)
        except BuildError:
            continue
    return None


@dataclass
class EntryProgress:
    """Values entered against values expected, for one level of a period."""

    level: str
    entered: int
    expected: int

    @property
    def level_name(self) -> str:
        return _("典型村") if self.level == "village" else str(LEVELS[self.level])

    @property
    def percent(self) -> int:
        if not self.expected:
            return 100
        return min(100, self.entered * 100 // self.expected)


@dataclass
class MissingUnit:
    """A unit and the indicators it still lacks a value for."""

    code: str
    name: str
    indicators: list[tuple[str, str]]


@dataclass
class MissingValues:
    period: Period
    level: str
    units: list[MissingUnit]
    #: Units with gaps beyond those listed.
    more: int = 0
    #: Missing cells in total.
    cells: int = 0
    #: Indicators of the level's scheme (a unit missing all of them has entered nothing).
    indicator_count: int = 0


@dataclass
class Dashboard:
    """The panels of one user's home page; a panel the user may not see stays None."""

    period: Period | None = None
    progress: list[EntryProgress] = field(default_factory=list)
    #: Each returned period with why, until it is submitted again.
    returned: list[tuple[Period, periods.Step]] = field(default_factory=list)
    # supervisor
    ranked: dict | None = None
    top: list[dict] = field(default_factory=list)
    bottom: list[dict] = field(default_factory=list)
    flagged: list[ReviewCase] | None = None
    flagged_total: int = 0
    waiting: list[Period] | None = None
    # reviewer
    group: AnalysisGroup | None = None
    cases: list[ReviewCase] | None = None
    # auditor
    events: list[HistoryEvent] | None = None
    # assessor
    missing: MissingValues | None = None
    missing_villages: MissingValues | None = None
    # admin
    counts: list[tuple[str, int, str | None]] | None = None
    links: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Display names of the users the panels mention by username.
    people: dict[str, str] = field(default_factory=dict)
    #: Names beside the codes of ``events`` (display names, units, indicators).
    event_names: exports.Names | None = None
    #: 公示 windows, pending objections and cases, the objection queue (docs/publication.md).
    publication: object | None = None
    #: 镇街报送 (docs/reporting.md): every town's reporting state, for the staff.
    reporting: ReportingPanel | None = None
    #: A reporter's own town: its state and the days left.
    own_town: OwnTown | None = None


@dataclass
class ReportingPanel:
    """How many towns are in each reporting state, and (for assessors) the overdue ones."""

    period: Period
    counts: list[tuple[TownReportingState, int]]
    overdue: list[Unit] | None = None


@dataclass
class OwnTown:
    """A reporter's home page: its town's reporting in the reporting period."""

    unit: Unit
    period: Period | None
    state: TownReportingState | None = None
    days_left: int | None = None
    due: object = None


def entry_progress(period: Period, level: str) -> EntryProgress | None:
    """Count the score cells entered for a level of a period against those expected."""
    scheme = period.scheme_for(level)
    if scheme is None:
        return None
    indicators = db.session.scalar(
        select(func.count()).select_from(Indicator).where(Indicator.scheme_id == scheme.id)
    )
    units = db.session.scalar(
        select(func.count()).select_from(Unit).where(*reading.in_level(level))
    )
    entered = db.session.scalar(
        select(func.count())
        .select_from(Score)
        .join(Indicator, Indicator.id == Score.indicator_id)
        .where(
            Score.period_id == period.id,
            Indicator.scheme_id == scheme.id,
            Score.unit_id.in_(select(Unit.id).where(*reading.in_level(level))),
        )
    )
    return EntryProgress(level, entered or 0, (indicators or 0) * (units or 0))


def missing_values(period: Period, level: str = "town") -> MissingValues | None:
    """List, unit by unit, the indicators of a period that have no value yet.

    The gaps are the ones approval checks (``periods.missing_values``); this adds the
    indicators' names and keeps the first ``MISSING_SHOWN`` units.
    """
    scheme = period.scheme_for(level)
    if scheme is None:
        return None
    names = dict(
        db.session.execute(
            select(Indicator.code, Indicator.name).where(Indicator.scheme_id == scheme.id)
        ).all()
    )
    answer = MissingValues(period, level, [], indicator_count=len(names))
    for gap in periods.missing_values(period, level):
        answer.cells += len(gap.indicators)
        if len(answer.units) < MISSING_SHOWN:
            gaps = [(code, names[code]) for code in gap.indicators]
            answer.units.append(MissingUnit(gap.unit, gap.name, gaps))
        else:
            answer.more += 1
    return answer


def waiting_for_approval() -> list[Period]:
    """Return the submitted periods, oldest first (they wait longest)."""
    return list(
        db.session.scalars(
            select(Period).where(Period.status == PeriodStatus.SUBMITTED).order_by(Period.end_date)
        )
    )


def open_cases(limit: int = FLAGGED_SHOWN) -> tuple[list[ReviewCase], int]:
    """Return the most urgent open review cases of every group, and how many are open.

    A case is a typical village flagged by docs/rules.md#review-flags (opened when its period
    is approved); reading the cases, not recomputing the flags, keeps the page cheap at
    province scale.
    """
    urgency = case(
        (ReviewCase.priority == "high", 0), (ReviewCase.priority == "medium", 1), else_=2
    )
    cases = list(
        db.session.scalars(
            select(ReviewCase)
            .join(Period, Period.id == ReviewCase.period_id)
            .where(ReviewCase.status == ReviewCaseStatus.OPEN)
            .order_by(urgency, Period.end_date.desc(), ReviewCase.id)
            .limit(limit)
            .options(*CASE_LOADS)
        )
    )
    total = db.session.scalar(
        select(func.count())
        .select_from(ReviewCase)
        .where(ReviewCase.status == ReviewCaseStatus.OPEN)
    )
    return cases, total or 0


def group_cases(group_id: int | None) -> list[ReviewCase]:
    """Return the open review cases of one analysis group, most urgent first."""
    if group_id is None:
        return []
    cases = list(
        db.session.scalars(
            select(ReviewCase)
            .join(Period, Period.id == ReviewCase.period_id)
            .where(ReviewCase.group_id == group_id, ReviewCase.status == ReviewCaseStatus.OPEN)
            .order_by(Period.end_date.desc(), ReviewCase.id)
            .limit(100)
            .options(*CASE_LOADS)
        )
    )
    cases.sort(key=lambda c: PRIORITY_ORDER.get(c.priority or "", 9))
    return cases


def latest_events(limit: int = LATEST_EVENTS) -> list[HistoryEvent]:
    """Return the newest history events, read backwards along the primary key."""
    return list(
        db.session.scalars(select(HistoryEvent).order_by(HistoryEvent.seq.desc()).limit(limit))
    )


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def base_counts() -> list[tuple[str, int, str | None]]:
    """Count the base data an administrator keeps, each with a link to its page."""
    return [
        (_("镇街"), _count(Unit, Unit.level == "town"), admin_link("town")),
        (_("村居"), _count(Unit, Unit.level == "village"), admin_link("village")),
        (_("典型村"), _count(Unit, Unit.typical_batch.is_not(None)), admin_link("review")),
        (_("干部"), _count(Cadre), admin_link("cadre")),
        (_("研判小组"), _count(AnalysisGroup), admin_link("group")),
        (_("重点项目"), _count(KeyProject), admin_link("project")),
        (_("指标方案"), _count(Scheme), admin_link("scheme")),
        (_("考核周期"), _count(Period), admin_link("period")),
        (_("用户"), _count(User), admin_link("user")),
    ]


#: Every area a user may open from the home page, with the permission it needs.
AREAS: list[tuple[str, str, object]] = [
    ("entry.view", "entry", _l("分数填报")),
    ("import.view", "import", _l("批量导入")),
    ("ranking.view", "ranking", _l("考核排名")),
    ("review.view", "review", _l("典型村研判")),
    ("period.view", "period", _l("考核周期")),
    ("claim.write", "reporting", _l("镇街报送")),
    ("claim.review", "verification", _l("自评核实")),
    ("history.view", "history", _l("变更历史")),
    ("user.view", "user", _l("用户管理")),
]

#: Panel → who sees it. Permissions, not role names, decide (docs/rules.md#security).
PANELS: dict[str, Callable] = {
    # Those who approve see how the towns stand and what waits for them.
    "approval": lambda user: can(user, "period.approve"),
    # A reviewer works their own group's cases; wider readers use the review board.
    "group_cases": lambda user: can(user, "review.write") and not can(user, "review.all_groups"),
    "events": lambda user: can(user, "history.view"),
    "missing": lambda user: can(user, "score.write"),
    "counts": lambda user: can(user, "base_data.write"),
    "reporting": lambda user: can(user, "claim.review"),
}


def reporting_panel(*, with_overdue: bool) -> ReportingPanel | None:
    """The towns' reporting states in the open reporting period (one grouped query)."""
    period = default_period("reporting")
    if period is None or period.status != PeriodStatus.OPEN:
        return None
    states = reporting.town_states(period)
    counts = {state: 0 for state in TownReportingState}
    for each in states.values():
        counts[each.state] += 1
    panel = ReportingPanel(period, list(counts.items()))
    if with_overdue:
        overdue = [i for i, s in states.items() if s.state == TownReportingState.OVERDUE]
        panel.overdue = reporting_pages.overdue_towns(period, overdue)
    return panel


def own_town(unit_id: int) -> OwnTown:
    unit = db.session.get(Unit, unit_id)
    period = default_period("reporting")
    answer = OwnTown(unit, period)
    if period is not None and unit is not None:
        answer.state = reporting.town_state(period, unit).state
        answer.due = reporting.due_for(period, unit)
        answer.days_left = reporting.days_left(period, unit)
    return answer


def dashboard_for(user) -> Dashboard:
    """Gather the home page of one user."""
    own = reporter_unit(user)
    if own is not None:
        # A town's reporter sees its own town's reporting only (docs/reporting.md), and
        # the 公示 window's days left (docs/publication.md#dashboards).
        return Dashboard(own_town=own_town(own), publication=publication.panel(user))
    board = Dashboard(period=default_period("entry"), returned=returned_periods())
    if board.period is not None and board.period.status != PeriodStatus.DRAFT:
        for level in ("town", "village"):
            progress = entry_progress(board.period, level)
            if progress is not None:
                board.progress.append(progress)
    if PANELS["approval"](user):
        _approval_panel(board)
    if PANELS["group_cases"](user):
        board.group = db.session.get(AnalysisGroup, user.group_id) if user.group_id else None
        board.cases = group_cases(user.group_id)
    if PANELS["events"](user):
        board.events = latest_events()
        board.event_names = exports.Names.load(events=board.events)
    if (
        PANELS["missing"](user)
        and board.period is not None
        and board.period.status == PeriodStatus.OPEN
    ):
        board.missing = missing_values(board.period)
        board.missing_villages = missing_values(board.period, "village")
    if PANELS["counts"](user):
        board.counts = base_counts()
    board.publication = publication.panel(user)
    if PANELS["reporting"](user):
        board.reporting = reporting_panel(with_overdue=can(user, "claim.verify"))
    board.people = display_names(
        [board.period.submitted_by, board.period.approved_by] if board.period else []
    )
    board.people.update(display_names([note.actor for _, note in board.returned]))
    board.people.update(display_names([p.submitted_by for p in board.waiting or []]))
    for permission, endpoint, label in AREAS:
        link = admin_link(endpoint)
        if link is not None and can(user, permission):
            board.links.append((label, link))
    return board


def returned_periods() -> list[tuple[Period, periods.Step]]:
    """Return the periods sent back for correction and not yet submitted again, with why."""
    open_periods = db.session.scalars(
        select(Period)
        .where(Period.status == PeriodStatus.OPEN)
        .order_by(Period.end_date.desc(), Period.id.desc())
    )
    return [(p, note) for p in open_periods if (note := periods.return_note(p)) is not None]


def _approval_panel(board: Dashboard) -> None:
    board.waiting = waiting_for_approval()
    board.flagged, board.flagged_total = open_cases()
    period = default_period("settled")
    if period is None:
        return
    try:
        board.ranked = reading.ranking(period, "town")
    except ServiceError as error:
        board.problems.append(f"{period.name}：{error.message}")
        return
    results = board.ranked["results"]
    board.ranked["period_name"] = period.name
    board.top = results[:ENDS]
    # The bottom never repeats a town already shown at the top.
    board.bottom = results[max(ENDS, len(results) - ENDS) :]
