"""考核排名 (docs/architecture.md#pages-and-doors ``/admin/ranking/``): the table, its charts,
XLSX and a print sheet.

Figures come from ``evaluation.ranking.reading.ranking`` only, so the page, the API, the CLI and
the approval snapshot agree to the cent; an approved period is read from its stored
snapshot and shows that snapshot's SHA-256. This module adds what a reader needs beside
the figures: the change since the previous period, the responsible cadres, the rank
trend across periods and the chart data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased

from evaluation.core.states import PeriodStatus
from evaluation.core.writing import ServiceError
from evaluation.grades import any_values, shown_grade
from evaluation.history import checkpoints
from evaluation.periods.operations import last_step
from evaluation.ranking import reading
from evaluation.weights.sensitivity import Sensitivity, method_sensitivity
from models import AnalysisGroup, Cadre, Indicator, Period, Unit, User, db
from models.cadres import town_leaders

#: Rank uncertainty as the page computes it (docs/rules.md#scoring): fixed seed, so a reload agrees.
UNCERTAINTY = {"samples": 1000, "spread": Decimal("0.2"), "seed": 1}
#: At most this many periods are drawn in the rank trend, the latest ones.
TREND_PERIODS = 12
LEVEL_TITLES = {"town": _l("镇街"), "village": _l("典型村")}


@dataclass(frozen=True)
class RankChange:
    """A unit's move since the previous period: ``steps`` places up (negative: down)."""

    steps: int | None
    new: bool = False

    @property
    def label(self) -> str:
        if self.new:
            return _("新")
        if self.steps is None:
            return ""
        if self.steps > 0:
            return f"↑{self.steps}"
        if self.steps < 0:
            return f"↓{-self.steps}"
        return "–"

    @property
    def kind(self) -> str:
        if self.new:
            return "new"
        if self.steps is None:
            return "none"
        return "up" if self.steps > 0 else "down" if self.steps < 0 else "same"


def rank_change(rank: int, previous_rank: int | None, *, had_previous: bool) -> RankChange:
    """Compare a rank with the previous period's (a smaller rank is a move up)."""
    if not had_previous:
        return RankChange(None)
    if previous_rank is None:
        return RankChange(None, new=True)
    return RankChange(previous_rank - rank)


@dataclass
class RankingRow:
    """One line of the table: the engine's result plus what the reader needs beside it."""

    result: dict
    change: RankChange
    #: Town: 书记; village: 领头雁 (the village's secretary).
    secretaries: list[str] = field(default_factory=list)
    #: Town: 镇长 / 主任.
    heads: list[str] = field(default_factory=list)
    #: Village only.
    town: str = ""
    batch: int | None = None
    group: str = ""


@dataclass
class RankingPage:
    period: Period
    level: str
    answer: dict
    rows: list[RankingRow]
    dimensions: list[dict]
    indicators: list[dict]
    previous: Period | None
    uncertainty: bool
    #: The interval run's method choices (docs/weights.md#method-sensitivity).
    methods: Sensitivity | None = None
    approver: str = ""
    submitter: str = ""
    #: Why an approval went ahead with values missing (docs/missing-values.md).
    approval_note: str = ""
    #: The signed checkpoint the approval in force wrote (docs/history.md#checkpoints),
    #: as the JSON text ``flask verify-history --checkpoint`` reads; "" when none.
    checkpoint: str = ""

    @property
    def unit_count(self) -> int:
        """How many units were ranked; ``rows`` may hold only the first of them."""
        return len(self.answer["results"])

    @property
    def level_title(self) -> str:
        return LEVEL_TITLES[self.level]

    @property
    def status_name(self) -> str:
        return PeriodStatus.label_of(self.answer["status"])


def period_by_code(code: str) -> Period | None:
    return db.session.scalar(select(Period).where(Period.code == code))


def responsible_cadres(level: str, codes: list[str]) -> dict[str, dict[str, list[str]]]:
    """Return each unit's responsible leaders: a town's 书记 and 镇长 / 主任, a village's 领头雁.

    A town's are ``models.cadres.town_leaders`` (exact positions: no deputy, no office head).
    """
    if level != "village":
        return town_leaders(codes)
    found: dict[str, dict[str, list[str]]] = {c: {"secretaries": [], "heads": []} for c in codes}
    if not codes:
        return found
    rows = db.session.execute(
        select(Unit.code, Cadre.name)
        .join(Cadre, Cadre.id == Unit.secretary_id)
        .where(Unit.code.in_(codes))
    )
    for code, name in rows:
        found[code]["secretaries"].append(name)
    return found


def village_context(codes: list[str]) -> dict[str, tuple[str, int | None, str]]:
    """Return each typical village's town, batch and analysis group."""
    town = aliased(Unit)
    rows = db.session.execute(
        select(Unit.code, town.name, Unit.typical_batch, AnalysisGroup.name)
        .outerjoin(town, town.id == Unit.parent_id)
        .outerjoin(AnalysisGroup, AnalysisGroup.id == Unit.analysis_group_id)
        .where(Unit.code.in_(codes))
    )
    return {code: (town_name or "", batch, group or "") for code, town_name, batch, group in rows}


def scheme_layout(period: Period, level: str) -> tuple[list[dict], list[dict]]:
    """Return the scheme's dimensions (with their points) and indicators, in order."""
    scheme = period.scheme_for(level)
    indicators = [
        {
            "code": code,
            "name": name,
            "points": points,
            "dimension": dimension_id,
        }
        for code, name, points, dimension_id in db.session.execute(
            select(Indicator.code, Indicator.name, Indicator.points, Indicator.dimension_id)
            .where(Indicator.scheme_id == scheme.id)
            .order_by(Indicator.order, Indicator.id)
        )
    ]
    dimensions = []
    for dimension in scheme.dimensions:
        points = sum(
            (i["points"] for i in indicators if i["dimension"] == dimension.id), Decimal(0)
        )
        dimensions.append({"code": dimension.code, "name": dimension.name, "points": points})
    codes = {d.id: d.code for d in scheme.dimensions}
    for indicator in indicators:
        indicator["dimension"] = codes.get(indicator["dimension"], "")
    return dimensions, indicators


def build_page(
    period: Period,
    level: str,
    *,
    uncertainty: bool = False,
    limit: int | None = None,
) -> RankingPage:
    """Rank a period and gather everything the table shows (raises ServiceError).

    ``limit``: make rows (with their cadres and change) for the first units only; the
    page's table stops there, the XLSX and the print sheet take every row.
    """
    answer = reading.ranking(period, level, sensitivity=UNCERTAINTY if uncertainty else None)
    previous = reading.previous_period(period)
    previous_ranks: dict[str, int] = {}
    had_previous = False
    if previous is not None:
        try:
            previous_ranks = reading.unit_ranks(previous, level)
            had_previous = True
        except ServiceError:
            pass  # a previous period that cannot be ranked: nothing to compare with
    shown = answer["results"] if limit is None else answer["results"][:limit]
    codes = [r["unit"] for r in shown]
    cadres = responsible_cadres(level, codes)
    villages = village_context(codes) if level == "village" else {}
    rows = []
    for result in shown:
        row = RankingRow(
            result=result,
            change=rank_change(
                result["rank"], previous_ranks.get(result["unit"]), had_previous=had_previous
            ),
            secretaries=cadres[result["unit"]]["secretaries"],
            heads=cadres[result["unit"]]["heads"],
        )
        if level == "village":
            row.town, row.batch, row.group = villages.get(result["unit"], ("", None, ""))
        rows.append(row)
    dimensions, indicators = scheme_layout(period, level)
    return RankingPage(
        period=period,
        level=level,
        answer=answer,
        rows=rows,
        dimensions=dimensions,
        indicators=indicators,
        previous=previous if had_previous else None,
        uncertainty=uncertainty,
        methods=method_sensitivity(period, level, answer["results"]) if uncertainty else None,
        approver=_person(period.approved_by),
        submitter=_person(period.submitted_by),
        approval_note=_approval_note(period),
        checkpoint=_approval_checkpoint(period),
    )


def _approval_checkpoint(period: Period) -> str:
    """The approval's signed checkpoint as its file's text ("" unless approved)."""
    if period.status != PeriodStatus.APPROVED:
        return ""
    row = checkpoints.of_approval(period.code)
    return checkpoints.as_json(row.document()).strip() if row is not None else ""


def _approval_note(period: Period) -> str:
    """Return the override reason of the period's approval in force ("" when none)."""
    if period.status != PeriodStatus.APPROVED:
        return ""
    step = last_step(period)
    return step.reason if step is not None and step.action == "approve" else ""


def _person(username: str | None) -> str:
    """A user as a reader knows them: the display name (the login name if there is none)."""
    if not username:
        return ""
    name = db.session.scalar(select(User.display_name).where(User.username == username))
    return name or username


def rank_trend(period: Period, level: str) -> dict:
    """Return every unit's rank in each period up to this one that can be ranked.

    A period without any value yet is left out: every unit would tie at rank 1.

    Served apart from the page (``trend.json``): at province scale it reads a dozen
    snapshots, which the table should not wait for.
    """
    periods = list(
        db.session.scalars(
            select(Period)
            .where(Period.status != PeriodStatus.DRAFT, Period.end_date <= period.end_date)
            .order_by(Period.end_date.desc(), Period.id.desc())
            .limit(TREND_PERIODS)
        )
    )[::-1]
    shown_periods = []
    ranks: dict[str, dict[str, int]] = {}
    names: dict[str, str] = {}
    for each in periods:
        if each.scheme_for(level) is None:
            continue
        try:
            answer = reading.ranking(each, level)
        except ServiceError:
            continue  # a period that cannot be ranked is left out of the trend
        if not any_values(answer["results"]):
            continue
        shown_periods.append({"code": each.code, "name": each.name})
        for result in answer["results"]:
            ranks.setdefault(result["unit"], {})[each.code] = result["rank"]
            names.setdefault(result["unit"], result["name"])
    return {
        "periods": shown_periods,
        "series": [
            {
                "unit": unit,
                "name": names[unit],
                "ranks": [by_period.get(p["code"]) for p in shown_periods],
            }
            for unit, by_period in ranks.items()
        ],
    }


def chart_labels() -> dict[str, str]:
    """Return the words the charts draw, in the reader's language."""
    return {
        "bonus": _("加分"),
        "penalty": _("减分"),
        "total": _("总分"),
        "grade": _("等次"),
        "vetoed": _("一票否决"),
        "points": _("分"),
        "average": _("平均"),
        "rank": _("名次"),
        "interval": _("5%–95% 区间"),
        "median": _("中位数"),
        "grade_at_risk": _("等次可能变化"),
        "loading": _("正在读取各期排名…"),
        "trend_failed": _("各期排名读取失败"),
        "charts_failed": _("图表数据读取失败，请刷新页面重试；上表不受影响。"),
    }


def chart_settings(period: Period, level: str, uncertainty: bool) -> dict:
    """Return what the page itself tells its charts: where their figures come from.

    The figures of every unit (at province scale, most of a megabyte) are fetched from
    ``charts.json`` after the page, so the table never waits for the charts.
    """
    args = {"period": period.code, "level": level}
    return {
        "charts_url": url_for(".charts", **args, **({"uncertainty": "1"} if uncertainty else {})),
        "trend_url": url_for(".trend", **args),
        "labels": chart_labels(),
        "uncertainty": uncertainty,
    }


def chart_data(period: Period, level: str, answer: dict, uncertainty: bool) -> dict:
    """Return the JSON the charts are drawn from (amounts as two-decimal strings).

    Averages for the radar are left to the browser: they are drawn, never signed.
    """
    results = answer["results"]
    dimensions, indicators = scheme_layout(period, level)
    return {
        "period": {"code": period.code, "name": period.name},
        "level": level,
        "dimensions": [
            {"code": d["code"], "name": d["name"], "points": f"{d['points']:.2f}"}
            for d in dimensions
        ],
        "indicators": [
            {"code": i["code"], "name": i["name"], "points": f"{i['points']:.2f}"}
            for i in indicators
        ],
        "units": [
            {
                "unit": r["unit"],
                "name": r["name"],
                "rank": r["rank"],
                "total": r["total"],
                "dimensions": r["dimensions"],
                "indicators": r["indicators"],
                "bonus": r["bonus"],
                "penalty": r["penalty"],
                "vetoed": r["vetoed"],
                "complete": r["complete"],
                "grade": shown_grade(r),
                "sensitivity": r.get("sensitivity"),
            }
            for r in results
        ],
        "uncertainty": uncertainty,
    }
