"""考核排名 (docs/architecture.md#pages-and-doors ``/admin/ranking/``): the table, its charts,
XLSX and a print sheet.

Figures come from ``evaluation.ranking.reading.ranking`` only, so the page, the API, the CLI and
the approval snapshot agree to the cent; an approved period is read from its stored
snapshot and shows that snapshot's SHA-256. This module adds what a reader needs beside
the figures: the change since the previous period, the responsible cadres, the rank
trend across periods and the chart data.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from flask import Response, abort, jsonify, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import aliased

from evaluation.admin.access import AccessMixin
from evaluation.core.downloads import content_disposition
from evaluation.core.periods import default_period
from evaluation.core.spreadsheets import neutralize
from evaluation.core.states import PeriodStatus
from evaluation.core.writing import ServiceError
from evaluation.grades import any_values, shown_grade
from evaluation.i18n import local_time
from evaluation.ranking import reading
from evaluation.web import demo_data_loaded
from models import AnalysisGroup, Cadre, HistoryEvent, Indicator, Period, Unit, User, db
from models.cadres import town_leaders
from models.types import utcnow

#: Rank uncertainty as the page computes it (docs/rules.md#scoring): fixed seed, so a reload agrees.
UNCERTAINTY = {"samples": 1000, "spread": Decimal("0.2"), "seed": 1}
#: The page's table stops here unless all rows are asked for (a province has 1,609 towns;
#: the XLSX and the print sheet always hold every row).
TABLE_ROWS = 300
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
    approver: str = ""
    submitter: str = ""
    #: Why an approval went ahead with values missing (docs/missing-values.md).
    approval_note: str = ""

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
        approver=_person(period.approved_by),
        submitter=_person(period.submitted_by),
        approval_note=_approval_note(period),
    )


def _approval_note(period: Period) -> str:
    """Return the override reason of the period's approval in force ("" when none)."""
    if period.status != PeriodStatus.APPROVED:
        return ""
    reason = db.session.scalar(
        select(HistoryEvent.reason)
        .where(HistoryEvent.period == period.code, HistoryEvent.action == "period.approve")
        .order_by(HistoryEvent.seq.desc())
        .limit(1)
    )
    return reason or ""


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


# --- XLSX -----------------------------------------------------------------------------


def export_filename(page: RankingPage) -> str:
    """Name the file so a draft can never pass for the approved ranking."""
    state = _("已审定") if page.period.status == PeriodStatus.APPROVED else _("草稿_未审定")
    return _("%(period)s%(level)s排名", period=page.period.name, level=page.level_title) + (
        f"-{page.period.code}_{state}.xlsx"
    )


#: The installation setting naming who issues the ranking (models/settings.py: Setting).
ISSUING_BODY_KEY = "issuing_body"
ISSUING_BODY_DEFAULT = "中共揭阳市揭东区委组织部"


def issuing_body() -> str:
    """The issuing body printed above a ranking (setting ``issuing_body``, else the default)."""
    from models import Setting

    row = db.session.get(Setting, ISSUING_BODY_KEY)
    text = (row.value or "").strip() if row is not None else ""
    return text or ISSUING_BODY_DEFAULT


def document_title(page: RankingPage) -> str:
    """The title of the sheet handed to a leader: period, level and, unless approved, a
    warning that it is not the result."""
    title = _(
        "%(period)s%(level)s担当作为考核排名", period=page.period.name, level=page.level_title
    )
    if page.period.status == PeriodStatus.APPROVED:
        return title + _("（已审定）")
    return title + _("（%(status)s，未审定，仅供参考）", status=page.status_name)


def indicator_values(period: Period, level: str) -> dict[tuple[str, str], str]:
    """Return each stored value of the period's scheme, keyed by unit and indicator code."""
    from models import Score

    scheme = period.scheme_for(level)
    rows = db.session.execute(
        select(Unit.code, Indicator.code, Score.number, Score.grade)
        .join(Unit, Unit.id == Score.unit_id)
        .join(Indicator, Indicator.id == Score.indicator_id)
        .where(Score.period_id == period.id, Indicator.scheme_id == scheme.id)
    )
    found = {}
    for unit, indicator, number, grade in rows:
        if grade is not None:
            found[(unit, indicator)] = grade
        elif number is not None:
            found[(unit, indicator)] = format(number.normalize(), "f")
    return found


def _points(points: Decimal) -> str:
    return format(Decimal(points).normalize(), "f")


def _sheet_for_print(sheet, title_rows: str) -> None:
    """A4 landscape, fit to the page's width, header rows repeated on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = title_rows
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"


def ranking_workbook(page: RankingPage) -> bytes:
    """Write the ranking as an XLSX workbook to hand a leader: a title row (period and
    status), bordered table, A4 landscape fitted to width with the header repeated; a
    second sheet with every indicator's value and points; numbers stay numbers, text
    cannot be a formula."""
    # Imported here: openpyxl costs every CLI command's start-up a fifth of a second.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    title_font = Font(bold=True, size=14)
    wrap = Alignment(horizontal="center", vertical="center", wrap_text=True)
    title = document_title(page)

    def titled(sheet, width: int, text: str) -> None:
        sheet.append([_text(text)])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(width, 1))
        sheet["A1"].font = title_font
        sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
        sheet.row_dimensions[1].height = 30

    def framed(sheet, first_row: int, header_rows: int, width: int) -> None:
        for row in sheet.iter_rows(min_row=first_row, max_col=width):
            for cell in row:
                cell.border = border
        for row in sheet.iter_rows(
            min_row=first_row, max_row=first_row + header_rows - 1, max_col=width
        ):
            for cell in row:
                cell.font = Font(bold=True)
                cell.alignment = wrap
                cell.fill = head_fill

    book = Workbook()
    sheet = book.active
    sheet.title = _("排名")
    header = [_("名次"), _("较上期"), _("单位代码"), str(page.level_title)]
    if page.level == "town":
        header += [_("书记"), _("镇长/主任")]
    else:
        header += [_("所属镇街"), _("批次"), _("研判小组"), _("领头雁")]
    header += [f"{d['name']}（{_points(d['points'])}分）" for d in page.dimensions]
    header += [_("加分"), _("减分"), _("总分"), _("等次"), _("一票否决"), _("缺项数"), _("缺项")]
    if page.uncertainty:
        header += [_("排名中位数"), _("排名5%分位"), _("排名95%分位"), _("等次可能变化")]
    titled(sheet, len(header), title)
    sheet.append(header)
    amount_columns = []
    for row in page.rows:
        r = row.result
        line: list = [r["rank"], _text(row.change.label), _text(r["unit"]), _text(r["name"])]
        if page.level == "town":
            line += [_text("、".join(row.secretaries)), _text("、".join(row.heads))]
        else:
            line += [
                _text(row.town),
                row.batch,
                _text(row.group),
                _text("、".join(row.secretaries)),
            ]
        first_amount = len(line) + 1
        line += [Decimal(r["dimensions"].get(d["code"], "0")) for d in page.dimensions]
        line += [Decimal(r["bonus"]), Decimal(r["penalty"]), Decimal(r["total"])]
        amount_columns = list(range(first_amount, len(line) + 1))
        line += [_text(shown_grade(r)), _("是") if r["vetoed"] else _("否"), len(r["missing"])]
        line.append(_text("、".join(r["missing"])))
        if page.uncertainty:
            s = r.get("sensitivity") or {}
            line += [s.get("median_rank"), s.get("q5_rank"), s.get("q95_rank")]
            line.append(_("是") if s.get("grade_at_risk") else _("否"))
        sheet.append(line)
    for column in amount_columns:
        for cell in sheet.iter_rows(min_row=3, min_col=column, max_col=column):
            cell[0].number_format = "0.00"
    for index, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(8, min(len(name), 10) * 2 + 2)
    framed(sheet, 2, 1, len(header))
    sheet.freeze_panes = "A3"
    _sheet_for_print(sheet, "1:2")

    detail = book.create_sheet(_("指标明细"))
    values = indicator_values(page.period, page.level)
    fixed = [_("名次"), _("单位代码"), str(page.level_title)]
    width = len(fixed) + 2 * len(page.indicators) + 1
    titled(detail, width, title + _("·指标明细"))
    top = fixed + []
    second = [None] * len(fixed)
    for indicator in page.indicators:
        points = _points(indicator["points"])
        top += [f"{indicator['code']} {indicator['name']}（{points}分）", None]
        second += [_("数值"), _("得分")]
    top.append(_("总分"))
    second.append(None)
    detail.append([_text(v) if v is not None else None for v in top])
    detail.append(second)
    for column in range(1, len(fixed) + 1):
        detail.merge_cells(start_row=2, start_column=column, end_row=3, end_column=column)
    for n in range(len(page.indicators)):
        column = len(fixed) + 1 + 2 * n
        detail.merge_cells(start_row=2, start_column=column, end_row=2, end_column=column + 1)
    detail.merge_cells(start_row=2, start_column=width, end_row=3, end_column=width)
    for row in page.rows:
        r = row.result
        line = [r["rank"], _text(r["unit"]), _text(r["name"])]
        for indicator in page.indicators:
            value = values.get((r["unit"], indicator["code"]))
            try:
                shown = Decimal(value) if value is not None else None
            except ArithmeticError:
                shown = _text(value)  # a grade (A, 好 …)
            points = r["indicators"].get(indicator["code"])
            line += [shown, Decimal(points) if points is not None else None]
        line.append(Decimal(r["total"]))
        detail.append(line)
    for n in range(len(page.indicators)):
        column = len(fixed) + 2 + 2 * n
        for cells in detail.iter_rows(min_row=4, min_col=column, max_col=column):
            cells[0].number_format = "0.00"
    for cells in detail.iter_rows(min_row=4, min_col=width, max_col=width):
        cells[0].number_format = "0.00"
    for index in range(1, width + 1):
        detail.column_dimensions[get_column_letter(index)].width = 12 if index > 2 else 8
    detail.column_dimensions["B"].width = 15
    framed(detail, 2, 2, width)
    detail.freeze_panes = "D4"
    _sheet_for_print(detail, "1:3")

    about = book.create_sheet(_("说明"))
    if demo_data_loaded():
        # The sheet travels without the page's banner: it must say so itself.
        about.append([_("演示数据"), _("本文件数据为演示数据，不代表真实考核结果")])
    for label, value in _stamp_lines(page):
        about.append([_text(label), _text(value)])
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 70
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text(value) -> str:
    return neutralize(str(value)) if value is not None else ""


def _stamp_lines(page: RankingPage) -> list[tuple[str, str]]:
    period = page.period
    lines = [
        (_("考核周期"), f"{period.name}（{period.code}）"),
        (_("层级"), str(page.level_title)),
        (_("起止日期"), _("%(start)s 至 %(end)s", start=period.start_date, end=period.end_date)),
        (_("状态"), page.status_name),
    ]
    if period.submitted_at is not None:
        lines.append((_("提交人"), page.submitter))
        lines.append((_("提交时间"), local_time(period.submitted_at)))
    if period.status == PeriodStatus.APPROVED:
        lines.append((_("审定人"), page.approver))
        lines.append((_("审定时间"), local_time(period.approved_at)))
        if page.approval_note:
            lines.append((_("审定说明"), page.approval_note))
    if page.answer.get("snapshot_hash"):
        lines.append((_("快照 SHA-256"), page.answer["snapshot_hash"]))
    lines.append((_("数据来源"), source_note(page)))
    if page.uncertainty:
        lines.append(
            (
                _("排名区间"),
                _(
                    "权重在 ±%(spread)s%% 内随机扰动 %(samples)s 次（种子 %(seed)s）",
                    spread=f"{UNCERTAINTY['spread'] * 100:.0f}",
                    samples=UNCERTAINTY["samples"],
                    seed=UNCERTAINTY["seed"],
                ),
            )
        )
    lines.append((_("生成时间"), local_time(utcnow())))
    return lines


def source_note(page: RankingPage) -> str:
    """Say where the figures come from, as an official filing the sheet needs to know."""
    if page.answer.get("from_snapshot"):
        return _("审定时保存的排名快照（未重新计算）")
    if page.period.status == PeriodStatus.APPROVED:
        return _("按已锁定的审定数据重新计算（含排名区间），总分与快照一致")
    return _("按当前填报数据实时计算，尚未审定，仅供参考")


# --- the view -------------------------------------------------------------------------


class RankingView(AccessMixin, BaseView):
    """考核排名: table, charts, XLSX export and an A4 print sheet."""

    permission = "ranking.view"

    @staticmethod
    def _period_and_level() -> tuple[Period | None, str]:
        """Read ``?period=&level=`` (404 for an unknown one); no period: the default one."""
        code = request.args.get("period", "").strip()
        period = period_by_code(code) if code else default_period("ranking")
        if code and period is None:
            abort(404)
        level = request.args.get("level", "town")
        if level not in LEVEL_TITLES:
            abort(404)
        return period, level

    def _request_page(self, limit: int | None = None) -> tuple[RankingPage | None, dict]:
        period, level = self._period_and_level()
        uncertainty = request.args.get("uncertainty") == "1"
        context: dict = {
            "period": period,
            "level": level,
            "uncertainty": uncertainty,
            "periods": list(
                db.session.scalars(
                    select(Period)
                    .where(Period.status != PeriodStatus.DRAFT)
                    .order_by(Period.end_date.desc(), Period.id.desc())
                )
            ),
            "level_titles": LEVEL_TITLES,
            "error": None,
        }
        if period is None:
            return None, context
        try:
            page = build_page(period, level, uncertainty=uncertainty, limit=limit)
        except ServiceError as error:
            context["error"] = error.message
            return None, context
        return page, context

    @expose("/")
    def index(self):
        printing = request.args.get("print") == "1"
        every_row = printing or request.args.get("all") == "1"
        page, context = self._request_page(limit=None if every_row else TABLE_ROWS)
        if page is not None and printing:
            return self.render(
                "admin/ranking_print.html",
                page=page,
                source=source_note(page),
                stamp=_stamp_lines(page),
                issuing_body=issuing_body(),
                document_title=document_title(page),
                indicator_values=indicator_values(page.period, page.level),
                printed_at=local_time(utcnow(), "%Y-%m-%d %H:%M"),
                printed_by=current_user,
            )
        charts = None
        if page is not None:
            charts = chart_settings(page.period, page.level, page.uncertainty)
        return self.render(
            "admin/ranking.html",
            page=page,
            rows=page.rows if page is not None else [],
            charts=charts,
            source=source_note(page) if page else "",
            **context,
        )

    @expose("/charts.json")
    def charts(self):
        period, level = self._period_and_level()
        if period is None:
            abort(404)
        uncertainty = request.args.get("uncertainty") == "1"
        try:
            answer = reading.ranking(
                period, level, sensitivity=UNCERTAINTY if uncertainty else None
            )
        except ServiceError as error:
            return jsonify({"error": error.message}), error.status
        return jsonify(chart_data(period, level, answer, uncertainty))

    @expose("/trend.json")
    def trend(self):
        period, level = self._period_and_level()
        if period is None:
            abort(404)
        return jsonify(rank_trend(period, level))

    @expose("/export.xlsx")
    def export(self):
        page, context = self._request_page()
        if page is None:
            abort(404)
        body = ranking_workbook(page)
        fallback = re.sub(r"[^A-Za-z0-9._-]", "_", f"ranking-{page.period.code}-{page.level}.xlsx")
        return Response(
            body,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={
                "Content-Disposition": content_disposition(export_filename(page), fallback),
                "Cache-Control": "no-store",
            },
        )
