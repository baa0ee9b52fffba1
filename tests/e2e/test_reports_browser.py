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


def test_the_notice_pdf_and_a_batch_of_every_towns_report(demo_server, page, tmp_path):
    import zipfile

    from pypdf import PdfReader

    demo_server.app.config["REPORT_BATCH_DIR"] = str(tmp_path / "batches")
    url = demo_server.url
    login(page, demo_server, "auditor")
    page.goto(f"{url}/admin/ranking/?period={APPROVED_PERIOD}&level=town")
    totals = {
        row.locator("td.unit-name a").inner_text(): row.locator("td.total").inner_text()
        for row in page.locator("tr[data-unit]").all()
    }
    assert len(totals) == 13
    with page.expect_download() as caught:
        page.click("#ranking-notice-pdf")
    reader = PdfReader(io.BytesIO(caught.value.path().read_bytes()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    for name, total in totals.items():
        assert f" {name} " in text and f" {total} " in text, name

    page.goto(f"{url}/admin/reports/?period={APPROVED_PERIOD}")
    page.click("#batch-form button")
    page.wait_for_url("**/admin/reports/batch/*")
    assert page.locator("#batch .progress").is_visible()  # the bar itself starts at 0 %
    page.wait_for_selector("#batch-download:not(.d-none)", timeout=120_000)
    assert page.locator("#batch-bar").inner_text() == "100%"
    assert page.locator("#batch-said").inner_text() == "已完成：13 个镇街。"
    screenshot(page, tmp_path, "reports-batch")
    with page.expect_download() as caught:
        page.click("#batch-download")
    assert caught.value.suggested_filename == f"2026年第一季度镇街考核报告-{APPROVED_PERIOD}.zip"
    names = zipfile.ZipFile(caught.value.path()).namelist()
    assert len(names) == 13 and names[0].startswith("0001-")
