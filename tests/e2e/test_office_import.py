"""An office-made wide workbook imported through the page in Chromium (docs/import.md#layouts):
a title row, a two-row header with dimension names merged over the indicators, 序号,
towns by name, a percent-formatted column and a 合计 row; dry run, then 确认导入. Then
the ranking's print sheet (docs/architecture.md#pages-and-doors), looked at as a person would.
"""

from __future__ import annotations

from decimal import Decimal

import openpyxl
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from models import Dimension, Indicator, Period, db
from tests.e2e.conftest import login, screenshot
from tests.e2e.test_journeys import OPEN_PERIOD, valid_value

#: Two towns the demo left without any value in its open period.
EMPTY_TOWNS = ("白塔镇", "桂岭镇")


def scheme(app):
    with app.app_context():
        period = db.session.scalar(select(Period).where(Period.code == OPEN_PERIOD))
        indicators = db.session.scalars(
            select(Indicator)
            .where(Indicator.scheme_id == period.town_scheme_id)
            .order_by(Indicator.order)
        ).all()
        dimensions = {
            d.id: d.name
            for d in db.session.scalars(
                select(Dimension).where(Dimension.scheme_id == period.town_scheme_id)
            )
        }
        found = [(i, dimensions[i.dimension_id]) for i in indicators]
        for indicator, _ in found:
            db.session.expunge(indicator)
        db.session.remove()
    return found


def office_workbook(path, indicators) -> int:
    book = openpyxl.Workbook()
    sheet = book.active
    last = get_column_letter(2 + len(indicators))
    sheet["A1"] = "2026年第三季度镇街考核数据（区统计局报送）"
    sheet.merge_cells(f"A1:{last}1")
    sheet["A2"], sheet["B2"] = "序号", "单位"
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:B3")
    start = 3
    for column, (indicator, dimension) in enumerate(indicators, start=3):
        sheet.cell(row=3, column=column, value=f"{indicator.code}\n{indicator.name}")
        if column == 3 or indicators[column - 4][1] != dimension:
            start = column
            sheet.cell(row=2, column=column, value=dimension)
        if column == len(indicators) + 2 or indicators[column - 2][1] != dimension:
            if column > start:
                sheet.merge_cells(start_row=2, start_column=start, end_row=2, end_column=column)
    count = 0
    for offset, town in enumerate(EMPTY_TOWNS):
        row = 4 + offset
        sheet.cell(row=row, column=1, value=offset + 1)
        sheet.cell(row=row, column=2, value=town)
        for column, (indicator, _) in enumerate(indicators, start=3):
            value = valid_value(indicator)
            cell = sheet.cell(row=row, column=column)
            if (indicator.measure_unit or "").strip() == "%" and indicator.method != "grade":
                cell.value = float(Decimal(value) / 100)  # typed as 6.5% in Excel
                cell.number_format = "0.00%"
            elif indicator.method == "grade":
                cell.value = value
            else:
                cell.value = float(value)
            count += 1
    total = 4 + len(EMPTY_TOWNS)
    sheet.cell(row=total, column=1, value="合计")
    sheet.merge_cells(start_row=total, start_column=1, end_row=total, end_column=2)
    sheet.cell(row=total, column=3, value=999)
    book.save(path)
    return count


def test_office_wide_workbook_dry_run_then_confirm(page, demo_server, tmp_path):
    indicators = scheme(demo_server.app)
    assert any((i.measure_unit or "").strip() == "%" for i, _ in indicators)
    path = tmp_path / "镇街考核数据.xlsx"
    count = office_workbook(path, indicators)
    login(page, demo_server, "assessor")
    page.goto(f"{demo_server.url}/admin/import/?period={OPEN_PERIOD}")
    page.select_option("#period", OPEN_PERIOD)
    page.select_option("#level", "town")
    page.set_input_files("input[name=file]", str(path))
    page.check("input[name=mode][value=dry_run]")
    page.click("#import-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    report = page.inner_text("#import-report")
    assert f"试导入（未写入）：新增 {count} 项" in report, report
    assert "宽表：表头在第3行" in report
    screenshot(page, tmp_path, "office-import-dry-run")
    page.click("#import-confirm button[type=submit]")
    page.wait_for_load_state("networkidle")
    report = page.inner_text("#import-report")
    assert f"已导入：新增 {count} 项" in report, report
    screenshot(page, tmp_path, "office-import-confirmed")


def test_print_sheet_of_an_approved_period(page, demo_server, tmp_path):
    login(page, demo_server, "supervisor")
    page.goto(f"{demo_server.url}/admin/ranking/?period=2026Q1&print=1")
    assert page.inner_text("#issuing-body") == "中共揭阳市揭东区委组织部"
    assert page.inner_text("#document-title") == "2026年第一季度镇街担当作为考核排名（已审定）"
    assert page.locator("#indicator-table tbody tr").count() == 13
    screenshot(page, tmp_path, "ranking-print-approved")
