"""年度综合考评 in Chromium on the demo ledger (docs/annual.md): the supervisor opens
2026Y, reads the quota note and sees the tie across the 较好 line lowered whole, is
refused a calibration that breaks the quota, then calibrates one town with a reason."""

from __future__ import annotations

import io

from docx import Document

from tests.e2e.conftest import login, screenshot


def test_the_annual_ranking_its_quota_tie_and_a_calibration(demo_server, page, tmp_path):
    url = demo_server.url
    login(page, demo_server, "supervisor")
    page.goto(f"{url}/admin/")
    page.click("a.dropdown-toggle:has-text('考核工作')")
    page.click("a.dropdown-item:has-text('年度综合考评')")
    page.wait_for_url("**/admin/annual/**")
    assert page.locator("#annual-ranking tbody tr").count() == 13
    note = page.locator(".quota-note").first.inner_text()
    assert "“较好”名额为参评单位的 30%，即 3 个" in note
    assert "并列第" in note and "整组降为“一般”" in note
    tied = page.locator("#annual-ranking tbody tr.table-warning")
    assert tied.count() == 2
    for row in range(2):
        cells = tied.nth(row).locator("td")
        assert "并列跨界整组降档" in tied.nth(row).locator("td.quota-grade").inner_text()
        assert tied.nth(row).locator("td.final-grade").inner_text().strip() == "一般"
        assert cells.nth(0).inner_text() == tied.nth(0).locator("td").nth(0).inner_text()
    screenshot(page, tmp_path, "annual-ranking")

    # The tie went down whole, so 较好 holds 2 of its 3 places: one tied town may go up,
    # with a reason; the other then may not (较好 would hold 4 > 3), said on the page.
    first_tied = tied.nth(0).get_attribute("data-unit")
    second_tied = tied.nth(1).get_attribute("data-unit")
    second_name = tied.nth(1).locator("td").nth(1).inner_text()
    page.select_option("#calibrate-unit", first_tied)
    page.select_option("#calibrate-grade", "较好")
    page.fill("#calibrate-reason", "全年重点任务完成突出")
    page.click("#calibrate-form button[type=submit]")
    page.wait_for_selector(".alert-success")
    raised = page.locator(f"#annual-ranking tr[data-unit='{first_tied}'] td.final-grade")
    assert "较好" in raised.inner_text() and "全年重点任务完成突出" in raised.inner_text()
    screenshot(page, tmp_path, "annual-calibrated")

    page.select_option("#calibrate-unit", second_tied)
    page.select_option("#calibrate-grade", "较好")
    page.fill("#calibrate-reason", "同样突出")
    page.click("#calibrate-form button[type=submit]")
    assert "超出该等次的名额限制" in page.locator("#annual-error").inner_text()
    kept = page.locator(f"#annual-ranking tr[data-unit='{second_tied}'] td.final-grade")
    assert kept.inner_text().strip() == "一般", second_name
    screenshot(page, tmp_path, "annual-refused")

    with page.expect_download() as caught:
        page.click("#annual-notice-docx")
    notice = Document(io.BytesIO(caught.value.path().read_bytes()))
    text = "\n".join(p.text for p in notice.paragraphs)
    assert "关于2026年度综合考评镇街“担当作为”考核结果的通报" in text
    assert "理由：全年重点任务完成突出" in text
    assert len(notice.tables[0].rows) == 14
