"""The import template: an XLSX per period and level, with each indicator's rule as a
cell comment and the export time that guards against stale files.
"""

from __future__ import annotations

import io
from decimal import Decimal

from evaluation.i18n import local_time
from evaluation.scores import values
from evaluation.scores.importer.apply import load_catalog
from evaluation.scores.importer.parse import (
    EXPORTED_AT_LABEL,
    INFO_SHEET,
    PERCENT,
    TEMPLATE_HEADERS,
)
from evaluation.scores.importer.read import EXPORTED_AT_FORMAT
from models import Indicator, Period
from models.schemes import METHODS
from models.types import plain, utcnow
from models.units import LEVELS

# --- the template -----------------------------------------------------------------------

#: Above this many template rows only each indicator's first row carries the rule as a
#: comment (tens of thousands of comments make Excel crawl); the 指标说明 sheet has all.
COMMENT_ROWS_LIMIT = 2000


def rule_comment(indicator: Indicator) -> str:
    """Return the text shown as the comment of an indicator's cells."""
    lines = [f"{indicator.code} {indicator.name}"]
    method = METHODS.get(indicator.method, indicator.method)
    lines.append(f"{method}，满分 {plain(indicator.points)} 分")
    if indicator.method == "grade":
        lines.append("数值填等次：" + "、".join(indicator.fractions))
    elif indicator.method == "direct":
        lines.append(f"数值填 0 至 {plain(indicator.points)} 之间的分数")
    elif indicator.method == "target" and indicator.target is not None:
        unit = indicator.measure_unit or ""
        lines.append(f"目标值 {plain(indicator.target)}{unit}")
    elif indicator.measure_unit:
        lines.append(f"计量单位：{indicator.measure_unit}")
    allowed = values.allowed_text(indicator) if indicator.method != "grade" else ""
    if allowed:
        lines.append(f"允许填写：{allowed}")
    if (indicator.measure_unit or "").strip() == PERCENT and indicator.method != "grade":
        lines.append("数值填百分数：95% 填 95 或 95% 均可（0.95 表示 0.95%）")
    if indicator.rule_text:
        lines.append(f"评分细则：{indicator.rule_text}")
    return "\n".join(lines)


def template_filename(period: Period, level: str = "town") -> str:
    return f"分数导入模板-{period.code}-{LEVELS.get(level, level)}.xlsx"


def write_template(period: Period, stream, level: str = "town") -> int:
    """Write the import template of a period to ``stream``; return its number of rows.

    One row per unit × indicator of the level's scheme, names beside the codes, the
    current value and note prefilled, the scoring rule as a comment on the indicator
    name, and each cell's version in a hidden 版本 column (0: no value yet); a second
    sheet lists every indicator with its rule; a hidden third sheet states when the
    template was made (导出时间), so an upload can tell what changed after it.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    from evaluation.ranking.reading import level_units

    # Taken before the values are read: a change made meanwhile counts as "after".
    exported_at = utcnow()
    catalog = load_catalog(period, level)
    units = level_units(level)
    indicators = list(catalog.indicator_rows.values())
    rows_total = len(units) * len(indicators)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("分数导入")
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGH", (10, 15, 16, 10, 28, 12, 30, 8), strict=True):
        sheet.column_dimensions[letter].width = width
    # The version is for the import, not for the reader (who should not edit it).
    sheet.column_dimensions["H"].hidden = True
    bold = Font(bold=True)

    def cell(value, *, comment: str | None = None, font=None):
        item = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            item.data_type = "s"  # stays text even if it begins with "=" (never a formula)
        if comment:
            item.comment = Comment(comment, "担当作为考核评价台账", width=320, height=160)
        if font is not None:
            item.font = font
        return item

    def plain_cell(value):
        # A bare value is much cheaper to write; only "=…" text needs a typed cell.
        return cell(value) if isinstance(value, str) and value.startswith("=") else value

    sheet.append([cell(name, font=bold) for name in TEMPLATE_HEADERS])
    comments = {i.code: rule_comment(i) for i in indicators}
    commented: set[str] = set()
    for unit in units:
        for indicator in indicators:
            old = catalog.stored.get((unit.code, indicator.code))
            if old is None:
                value = None
            elif old.grade is not None:
                value = old.grade
            else:
                value = Decimal(plain(old.number))
            row = [
                period.code,
                unit.code,
                unit.name,
                indicator.code,
                indicator.name,
                value,
                old.note if old and old.note else None,
                old.version if old else 0,
            ]
            if rows_total <= COMMENT_ROWS_LIMIT or indicator.code not in commented:
                commented.add(indicator.code)
                # Every cell of a commented row is its own object: openpyxl's write-only
                # sheet would otherwise carry the comment on to the cells after it.
                cells = [cell(v) for v in row]
                cells[4] = cell(indicator.name, comment=comments[indicator.code])
                sheet.append(cells)
            else:
                sheet.append([plain_cell(v) for v in row])
    guide = workbook.create_sheet("指标说明")
    guide.column_dimensions["A"].width = 10
    guide.column_dimensions["B"].width = 28
    guide.column_dimensions["C"].width = 80
    guide.append([WriteOnlyCell(guide, value=v) for v in ("指标代码", "指标名称", "评分说明")])
    for indicator in indicators:
        row = []
        for value in (indicator.code, indicator.name, comments[indicator.code]):
            item = WriteOnlyCell(guide, value=value)
            item.data_type = "s"
            row.append(item)
        guide.append(row)
    info = workbook.create_sheet(INFO_SHEET)
    info.sheet_state = "hidden"
    info.column_dimensions["A"].width = 12
    info.column_dimensions["B"].width = 60
    for label, value in (
        (EXPORTED_AT_LABEL, exported_at.strftime(EXPORTED_AT_FORMAT)),
        ("北京时间", local_time(exported_at)),
        ("考核周期", period.code),
        ("层级", str(LEVELS.get(level, level))),
        ("说明", TEMPLATE_NOTE),
    ):
        row = []
        for text in (label, value):
            item = WriteOnlyCell(info, value=text)
            item.data_type = "s"
            row.append(item)
        info.append(row)
    workbook.save(stream)
    return rows_total


#: The info sheet's explanation of the hidden 版本 column and the 导出时间.
TEMPLATE_NOTE = (
    "「分数导入」表隐藏的「版本」列记录导出时每项数值的版本（0 表示当时尚无数值）。"
    "导入时，若某项数值在导出后已被他人修改，该行将被拒绝，以免旧值覆盖新的更正；"
    "请勿修改版本列和本表。"
)


def template_bytes(period: Period, level: str = "town") -> bytes:
    buffer = io.BytesIO()
    write_template(period, buffer, level)
    return buffer.getvalue()
