"""An office-made wide workbook imported through the page in Chromium (docs/import.md#layouts):
a title row, a two-row header with dimension names merged over the indicators, 序号,
towns by name, a percent-formatted column and a 合计 row; dry run, then 确认导入. Then
the ranking's print sheet (docs/architecture.md#pages-and-doors), looked at as a person would.
Last, a stale template: downloaded, then a colleague corrects a cell on the entry page, then
the old file comes back and is refused rather than putting the old value back.
"""

from __future__ import annotations

import re
from decimal import Decimal

import openpyxl
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from evaluation.accounts import operations as accounts
from models import Dimension, Indicator, Period, Score, Unit, db
from tests.conftest import PASSWORD, SEED_ACTOR
from tests.e2e.conftest import login, screenshot
from tests.e2e.test_journeys import (
    OPEN_PERIOD,
    download_template,
    submit_import,
    valid_value,
)

#: Two towns the demo left without any value in its open period (the third, 桂岭镇, has
#: the assessors' verdicts on some of its claims: docs/reporting.md#demo).
EMPTY_TOWNS = ("白塔镇", "龙尾镇")


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


#: A town with values in the demo's open period, and an indicator scored as entered (0–6 分).
QUXI = "445203001000"
STALE_INDICATOR = "B01"


def test_a_stale_template_is_refused_not_put_back(page, browser, demo_server, tmp_path):
    """docs/import.md#stale-files-versions-export-time-overwrite: the assessor downloads the
    template, a colleague corrects a cell on the entry page, the old template comes back."""
    url = demo_server.url
    with demo_server.app.app_context():
        accounts.create_user(
            SEED_ACTOR, "assessor2", "assessor", PASSWORD, display_name="考核组 李明"
        )
        db.session.remove()

    # 1. The assessor downloads the template of the open period.
    login(page, demo_server, "assessor")
    path = download_template(page, url, OPEN_PERIOD, tmp_path / "template.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["分数导入"]
    header = [c.value for c in sheet[1]]
    assert header[:8] == [
        "考核周期", "单位代码", "单位名称", "指标代码", "指标名称", "数值", "备注", "版本"
    ]  # fmt: skip
    (row,) = [
        r
        for r in sheet.iter_rows(min_row=2)
        if r[1].value == QUXI and r[3].value == STALE_INDICATOR
    ]
    unit_name, indicator_name = row[2].value, row[4].value
    stored = Decimal(str(row[5].value))
    assert row[7].value >= 1  # the cell has a value, so a version
    # Two values the indicator accepts, both different from the stored one.
    file_value, corrected = [v for v in ("3.5", "4.5", "5.5") if Decimal(v) != stored][:2]

    # 2. A colleague, in their own session, corrects that cell on the entry page.
    colleague = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    other = colleague.new_page()
    other.set_default_timeout(15_000)
    login(other, demo_server, "assessor2")
    other.goto(f"{url}/admin/entry/?period={OPEN_PERIOD}&level=town&unit={QUXI}")
    cell = f"#cell-{QUXI}-{STALE_INDICATOR}"
    other.fill(f"{cell} input[type=number]", corrected)
    other.fill(f"{cell} input[type=text]", "据统计站复核更正")
    other.click("#entry-save")
    other.wait_for_load_state("networkidle")
    assert "已保存 1 项" in other.inner_text("body")
    colleague.close()

    # 3. The assessor fills the old template and uploads it: the dry run refuses the row.
    row[5].value = float(file_value)
    edited = tmp_path / "template-filled.xlsx"
    book.save(edited)
    page.goto(f"{url}/admin/import/?period={OPEN_PERIOD}")
    report = submit_import(page, edited, "dry_run")
    screenshot(page, tmp_path, "stale-template-dry-run")
    problems = page.inner_text("#import-problems")
    (line,) = [p for p in problems.splitlines() if STALE_INDICATOR in p]
    assert f"第{row[0].row}行" in line, line
    assert unit_name in line and indicator_name in line, line
    assert f"文件中为 {file_value}" in line, line
    assert f"改为 {corrected}" in line and "assessor2" in line, line
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", line), line  # when
    assert "请重新下载模板" in line
    assert "发现 1 处问题，未写入任何数据" in report, report
    assert page.locator("#import-confirm").count() == 0  # nothing to confirm

    # 4. A real import of the same file is refused as a whole: the correction stays.
    report = submit_import(page, edited, "apply")
    assert "发现 1 处问题，未写入任何数据" in report and "已导入" not in report, report
    screenshot(page, tmp_path, "stale-template-apply-refused")
    with demo_server.app.app_context():
        period = db.session.scalar(select(Period).where(Period.code == OPEN_PERIOD))
        score = db.session.scalar(
            select(Score)
            .join(Unit, Score.unit_id == Unit.id)
            .join(Indicator, Score.indicator_id == Indicator.id)
            .where(
                Score.period_id == period.id,
                Unit.code == QUXI,
                Indicator.code == STALE_INDICATOR,
            )
        )
        assert score.number == Decimal(corrected)
        assert score.note == "据统计站复核更正"
        assert score.entered_by == "assessor2"
        db.session.remove()
