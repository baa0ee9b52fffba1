"""The ranking as a document: the XLSX workbook (ranking, indicator values, source) and the
print sheet's title, stamp and source lines (docs/rules.md#ranking-export).
"""

from __future__ import annotations

import io
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from evaluation.core.spreadsheets import neutralize
from evaluation.core.states import PeriodStatus
from evaluation.grades import shown_grade
from evaluation.i18n import local_time
from evaluation.ranking.page import UNCERTAINTY, RankingPage
from evaluation.web import demo_data_loaded
from models import Indicator, Period, Unit, db
from models.types import utcnow

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
    methods = page.methods.by_unit if page.methods and page.methods.choices else None
    if methods:
        header += [_("换计分口径名次范围"), _("影响最大的口径")]
    titled(sheet, len(header), title)
    sheet.append([_text(name) for name in header])
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
        if methods:
            m = methods[r["unit"]]
            line.append(f"{m['low']}–{m['high']}" if m["low"] != m["high"] else str(m["low"]))
            shift = f"（{'↑' if m['shift'] > 0 else '↓'}{abs(m['shift'])}）"
            line.append(_text(m["worst"].label + shift) if m["worst"] else _("名次不变"))
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
    if page.checkpoint:
        lines.append((_("审定签名检查点"), page.checkpoint))
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
