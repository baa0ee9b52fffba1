"""The four journeys of docs/architecture.md#tests-and-ci in Chromium, on the demo ledger
(docs/rules.md#demo-data) with CSRF on.

Each journey gets its own copy of the demo database (``demo_server``), so the writers
do not depend on one another's order. Screenshots go to the test's folder and to
/tmp/journeys/.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import openpyxl
from sqlalchemy import select

from models import Indicator, Period, db
from tests.e2e.conftest import login, logout, screenshot

#: The open demo period, the submitted one, and a town the demo left without any value.
OPEN_PERIOD = "2026Q3"
SUBMITTED_PERIOD = "2026Q2"
BAITA = "445203108000"  # 白塔镇
HASH = re.compile(r"^[0-9a-f]{64}$")


def town_indicators(app, period_code: str) -> dict[str, Indicator]:
    """The period's town indicators by code (read only, to choose valid values)."""
    with app.app_context():
        period = db.session.scalar(select(Period).where(Period.code == period_code))
        rows = db.session.scalars(
            select(Indicator).where(Indicator.scheme_id == period.town_scheme_id)
        ).all()
        found = {i.code: i for i in rows}
        for indicator in rows:
            db.session.expunge(indicator)
        db.session.remove()
    return found


def valid_value(indicator: Indicator) -> str:
    """A value the indicator accepts: a grade, 80 % of a direct score, the target, or 10."""
    if indicator.method == "grade":
        return next(iter(indicator.fractions))
    if indicator.method == "direct":
        return str((Decimal(indicator.points) * Decimal("0.8")).quantize(Decimal("0.1")))
    if indicator.method == "target" and indicator.target is not None:
        return format(Decimal(indicator.target).normalize(), "f")  # 100, never 1E+2
    return "10"


def download_template(page, url, period: str, path):
    """Download the town import template of ``period`` from the import page to ``path``."""
    page.goto(f"{url}/admin/import/?period={period}")
    page.select_option("#t-period", period)
    page.select_option("#t-level", "town")
    with page.expect_download() as download_info:
        page.click("text=下载模板（XLSX）")
    assert download_info.value.suggested_filename.endswith(".xlsx")
    download_info.value.save_as(path)
    return path


def submit_import(page, path, mode: str) -> str:
    page.select_option("#period", OPEN_PERIOD)
    page.select_option("#level", "town")
    page.set_input_files("input[name=file]", str(path))
    page.check(f"input[name=mode][value={mode}]")
    page.click("#import-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page.inner_text("#import-report")


def test_assessor_enters_imports_and_submits(page, demo_server, tmp_path):
    url = demo_server.url
    indicators = town_indicators(demo_server.app, OPEN_PERIOD)
    login(page, demo_server, "assessor")

    # 1. A town with nothing entered yet, every cell filled by hand.
    page.goto(f"{url}/admin/entry/?period={OPEN_PERIOD}&level=town")
    page.select_option("#entry-unit", BAITA)  # the selector opens the town by itself
    page.wait_for_url(f"**unit={BAITA}**")
    assert "白塔镇：已录入 0 / " in page.inner_text("#entry-progress")
    for code, indicator in indicators.items():
        cell = f"#cell-{BAITA}-{code}"
        if indicator.method == "grade":
            page.select_option(f"{cell} select", valid_value(indicator))
        else:
            page.fill(f"{cell} input[type=number]", valid_value(indicator))
    page.fill(f"#cell-{BAITA}-A01 input[type=text]", "区统计局季度快报")
    page.click("#entry-save")
    page.wait_for_load_state("networkidle")
    body = page.inner_text("body")
    assert f"已保存 {len(indicators)} 项" in body
    assert f"白塔镇：已录入 {len(indicators)} / {len(indicators)} 项" in body
    for code in indicators:
        # The second number column of a town's row is 计算得分 (the first is 分值).
        points = page.locator(f"#cell-{BAITA}-{code} td.num").nth(1).inner_text()
        assert re.fullmatch(r"\d+\.\d\d", points.strip()), (code, points)
    result = page.inner_text("#entry-unit-result")
    assert "总分" in result and "排名" in result and "缺" not in result
    screenshot(page, tmp_path, "j1-assessor-entry-saved")

    # 2. The rest through the import template: download, fill the gaps, dry run, apply.
    workbook_path = download_template(page, url, OPEN_PERIOD, tmp_path / "template.xlsx")
    workbook = openpyxl.load_workbook(workbook_path)
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    col = {name: header.index(name) for name in ("考核周期", "单位代码", "指标代码", "数值")}
    filled: list[str] = []
    for row in sheet.iter_rows(min_row=2):
        if row[col["单位代码"]].value is None:
            continue
        assert row[col["考核周期"]].value == OPEN_PERIOD
        if row[col["数值"]].value in (None, ""):
            indicator = indicators[row[col["指标代码"]].value]
            row[col["数值"]].value = valid_value(indicator)
            filled.append(row[col["单位代码"]].value)
    assert filled, "the demo's open period should still miss some town values"
    assert BAITA not in filled  # entered by hand above
    workbook.save(workbook_path)

    report = submit_import(page, workbook_path, "dry_run")
    assert f"试导入（未写入）：新增 {len(filled)} 项" in report
    assert page.locator("#import-changes tbody tr").count() == min(len(filled), 500)
    screenshot(page, tmp_path, "j1-assessor-import-dry-run")
    report = submit_import(page, workbook_path, "apply")
    assert f"已导入：新增 {len(filled)} 项" in report
    screenshot(page, tmp_path, "j1-assessor-import-applied")

    # 3. Every town value is in: submit on the workflow panel.
    page.goto(f"{url}/admin/entry/?period={OPEN_PERIOD}&level=town")
    assert "填报中" in page.inner_text("#period-status")
    # The button only opens a confirmation dialog; 取消 leaves the period as it was.
    page.click("#open-submit")
    page.wait_for_selector("#confirm-submit", state="visible")
    screenshot(page, tmp_path, "j1-assessor-submit-dialog")
    page.click("#confirm-submit button[data-dismiss=modal].btn")
    page.wait_for_selector("#confirm-submit", state="hidden")
    assert page.inner_text("#period-status") == "填报中"
    confirm_step(page, "submit")
    assert page.inner_text("#period-status") == "已提交"
    assert "当前状态为「已提交」" in page.inner_text("body")
    screenshot(page, tmp_path, "j1-assessor-submitted")


def confirm_step(page, action: str) -> None:
    """Press a workflow step's button, then the confirming button of its dialog."""
    page.click(f"#open-{action}")
    page.wait_for_selector(f"#confirm-{action}", state="visible")
    page.click(f"#confirm-{action}-submit")
    page.wait_for_load_state("networkidle")


def test_supervisor_returns_then_approves(page, demo_server, tmp_path):
    url = demo_server.url
    login(page, demo_server, "supervisor")

    # The ranking of the submitted period, charts drawn in the browser.
    page.goto(f"{url}/admin/ranking/?period={SUBMITTED_PERIOD}&level=town")
    page.wait_for_selector("#ranking-charts[data-rendered='1']")
    for chart in ("#chart-totals", "#chart-radar", "#chart-trend"):
        assert page.locator(f"{chart} canvas, {chart} svg").count() > 0, chart
    assert page.locator(".ranking-table tbody tr, table tbody tr").count() >= 13
    assert "已提交" in page.inner_text("#period-stamp")
    screenshot(page, tmp_path, "j2-supervisor-ranking-submitted")

    # Returned with a reason, on the ranking page, once confirmed in its dialog ...
    page.click("#open-return")
    page.wait_for_selector("#confirm-return", state="visible")
    reason = "云路镇招商引资数据与区商务局台账不一致，请核实"
    page.fill("#confirm-return-reason", reason)
    screenshot(page, tmp_path, "j2-supervisor-return-dialog")
    page.click("#confirm-return-submit")
    page.wait_for_load_state("networkidle")
    assert "当前状态为「填报中」" in page.inner_text("body")
    assert "填报中" in page.inner_text("#period-stamp")
    screenshot(page, tmp_path, "j2-supervisor-returned")

    # ... read by the assessor on the home page and the entry page, submitted again ...
    logout(page)
    login(page, demo_server, "assessor")
    page.goto(f"{url}/admin/")
    assert reason in page.inner_text(f".return-note[data-period='{SUBMITTED_PERIOD}']")
    screenshot(page, tmp_path, "j2-assessor-return-note")
    entry = f"{url}/admin/entry/?period={SUBMITTED_PERIOD}&level=town"
    page.goto(entry)
    assert reason in page.inner_text("#entry-workflow .return-note")
    confirm_step(page, "submit")
    assert page.inner_text("#period-status") == "已提交"
    assert page.locator(".return-note").count() == 0
    logout(page)

    # ... and approved on the ranking page, which stores the ranking snapshot. 马头村's 暗访
    # grade is not in: the approval needs a note saying why it goes ahead.
    login(page, demo_server, "supervisor")
    page.goto(f"{url}/admin/ranking/?period={SUBMITTED_PERIOD}&level=town")
    assert SUBMITTED_PERIOD in page.inner_text("#ranking-review")
    page.click("#open-approve")
    page.wait_for_selector("#confirm-approve", state="visible")
    assert "本期有 1 个单位数据不全" in page.inner_text("#approve-incomplete")
    page.fill("#override-reason", "马头村暗访结果下季度补录，先行审定")
    screenshot(page, tmp_path, "j2-supervisor-approve-dialog")
    page.click("#confirm-approve-submit")
    page.wait_for_load_state("networkidle")
    assert "当前状态为「已审定」" in page.inner_text("body")
    page.goto(entry)
    assert page.inner_text("#period-status") == "已审定"
    digest = page.inner_text("#snapshot-town .entry-hash").strip()
    assert HASH.match(digest), digest
    screenshot(page, tmp_path, "j2-supervisor-approved-entry")

    page.goto(f"{url}/admin/ranking/?period={SUBMITTED_PERIOD}&level=town")
    page.wait_for_selector("#ranking-charts[data-rendered='1']")
    assert "已审定" in page.inner_text("#period-stamp")
    assert page.inner_text("#snapshot-hash").strip() == digest
    screenshot(page, tmp_path, "j2-supervisor-ranking-approved")


def test_reviewer_records_a_review(page, demo_server, tmp_path):
    board = f"{demo_server.url}/admin/review/?period={SUBMITTED_PERIOD}"
    # The supervisor turns the period's flags into review cases for the groups.
    login(page, demo_server, "supervisor")
    page.goto(board)
    page.click("text=生成研判任务")
    page.wait_for_load_state("networkidle")
    assert re.search(r"已生成 [1-9]\d* 个研判任务", page.inner_text("body"))
    logout(page)

    login(page, demo_server, "reviewer")
    page.goto(f"{demo_server.url}/admin/review/")
    assert f"（{SUBMITTED_PERIOD} · 已提交）" in page.inner_text("body")  # the latest submitted
    flagged = page.locator("table.review-board tbody tr[data-village]:not(.clear-row)")
    assert flagged.count() > 0, "the demo flags some village of the first group"
    everyone = page.locator("table.review-board tbody tr[data-village]").count()
    assert everyone < 21  # a reviewer sees their own group's villages only
    assert "第一研判小组" in flagged.first.inner_text()
    screenshot(page, tmp_path, "j3-reviewer-board")

    link = flagged.first.locator("td a").first
    village = link.inner_text().strip()
    link.click()
    page.wait_for_load_state("networkidle")
    assert village in page.inner_text("h1, h2, h3, .breadcrumb")
    assert "研判中" in page.inner_text("body")  # the case the supervisor opened

    findings = f"{village}集体经济收入较上季度下降，村道保洁不到位（浏览器测试）"
    page.fill("#date", "2026-11-20")
    page.fill("#visitors", "林泽鹏、许文杰")
    page.select_option("#conclusion", "一般")
    page.fill("#findings", findings)
    page.fill("#actions", "限期一个月整改，镇驻村干部跟进")
    page.fill("#next_visit", "2026-12-20")
    page.click("text=保存研判记录")
    page.wait_for_load_state("networkidle")
    assert f"已记录 {village} 的研判" in page.inner_text("body")
    newest = page.locator("table.table-striped tbody tr").first.inner_text()
    assert "2026-11-20" in newest and findings in newest and "一般" in newest
    # Recorded by the reviewer, shown by the name people know them by, not the login.
    assert "2026-12-20" in newest and "第一研判小组 林泽鹏" in newest and "reviewer" not in newest
    assert "2026年第二季度" in newest  # filed under this period's case

    # The case is closed with a reason and stays in the village's history.
    page.fill("#reason", "已约谈村党组织书记，整改计划已报镇党委")
    page.click("text=办结研判任务")
    page.wait_for_load_state("networkidle")
    body = page.inner_text("body")
    assert f"{village} 的研判任务已办结" in body
    assert "已约谈村党组织书记" in body and "办结" in body
    screenshot(page, tmp_path, "j3-reviewer-recorded")


def test_auditor_filters_exports_and_verifies(page, demo_server, tmp_path):
    login(page, demo_server, "auditor")
    page.goto(f"{demo_server.url}/admin/history/")
    page.fill("#f-action", "score.set")
    page.select_option("#f-period", SUBMITTED_PERIOD)
    page.click("#history-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "action=score.set" in page.url and f"period={SUBMITTED_PERIOD}" in page.url
    rows = page.locator("#history-table tbody tr")
    assert rows.count() > 0
    for i in range(min(rows.count(), 10)):
        text = rows.nth(i).inner_text()
        assert SUBMITTED_PERIOD in text, text
    screenshot(page, tmp_path, "j4-auditor-filtered")

    with page.expect_download() as download_info:
        page.click("form[action*='export'] button:has-text('CSV')")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    path = tmp_path / "history.csv"
    download.save_as(path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    # A filtered file says first that it is not a verifiable chain, then Chinese headers.
    assert "不是完整的哈希链" in table[0][0]
    table = table[1:]
    assert table[0][:2] == ["序号", "时间（北京时间）"] and len(table[0]) == 17
    action = table[0].index("操作代码")
    period = table[0].index("考核周期")
    assert len(table) > 1
    assert {row[action] for row in table[1:]} == {"score.set"}
    assert {row[period] for row in table[1:]} == {SUBMITTED_PERIOD}

    page.click("#verify-history")
    page.wait_for_load_state("networkidle")
    result = page.locator("#verify-result")
    assert "alert-success" in result.get_attribute("class")
    assert "哈希链校验通过" in result.inner_text()
    screenshot(page, tmp_path, "j4-auditor-verified")
