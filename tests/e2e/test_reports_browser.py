"""一镇一报告 in Chromium on the demo ledger (docs/reports.md#doors): from the ranking to a
town's report, its chart drawn, its DOCX downloaded; the 通报 of the approved period."""

from __future__ import annotations

import io

from docx import Document

from tests.e2e.conftest import login, screenshot

APPROVED_PERIOD = "2026Q1"
BAITA = "445203108000"  # 白塔镇, third in 2026Q1


def test_from_the_ranking_to_a_town_report_and_its_documents(demo_server, page, tmp_path):
    url = demo_server.url
    login(page, demo_server, "supervisor")
    page.goto(f"{url}/admin/ranking/?period={APPROVED_PERIOD}&level=town")
    ranked_total = page.locator(f"tr[data-unit='{BAITA}'] td.total").inner_text()
    page.click(f"tr[data-unit='{BAITA}'] td.unit-name a")
    page.wait_for_url(f"**/admin/reports/town?period={APPROVED_PERIOD}&unit={BAITA}")
    page.wait_for_selector("#report-chart[data-rendered='1']")
    assert page.locator("#report-total").inner_text() == ranked_total
    assert "白塔镇" in page.locator("#report-title").inner_text()
    assert page.locator("#report-indicators tbody tr").count() == 19
    assert page.locator("#report-gaps tbody tr").count() == 19
    assert page.locator("#report-chart svg").count() == 1
    screenshot(page, tmp_path, "reports-town")

    with page.expect_download() as caught:
        page.click("#report-docx")
    download = caught.value
    assert download.suggested_filename.endswith(f"考核报告-{APPROVED_PERIOD}_已审定.docx")
    document = Document(io.BytesIO(download.path().read_bytes()))
    assert f"总分 {ranked_total} 分" in "\n".join(p.text for p in document.paragraphs)

    page.click("nav[aria-label=breadcrumb] >> text=一镇一报告")
    with page.expect_download() as caught:
        page.click("#notice-docx")
    notice = Document(io.BytesIO(caught.value.path().read_bytes()))
    names = [row.cells[1].text for row in notice.tables[0].rows[1:]]
    assert len(names) == 13 and "白塔镇" in names
