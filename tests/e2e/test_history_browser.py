"""The auditor's history page in Chromium (docs/rules.md#history-chain): filter by names and
labels, download the JSONL and check it against the chain on the same page."""

from __future__ import annotations

from tests.e2e.conftest import login, screenshot
from tests.e2e.test_accessibility import assert_no_violations


def test_auditor_filters_by_names_and_checks_an_export(page, demo_server, tmp_path):
    login(page, demo_server, "auditor")
    page.goto(f"{demo_server.url}/admin/history/")
    page.fill("#f-unit", "白塔镇")
    page.fill("#f-action", "录入分数")
    page.click("#history-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    rows = page.locator("#history-table tbody tr")
    assert rows.count() > 0
    first = rows.first.inner_text()
    assert "白塔镇" in first and ("录入分数" in first or "清除分数" in first)
    assert "不是完整的哈希链" in page.inner_text("#filtered-export-note")
    assert_no_violations(page)
    screenshot(page, tmp_path, "history-filtered")

    page.click("text=清除")
    page.wait_for_load_state("networkidle")
    with page.expect_download() as download:
        page.click("button:text-is('JSONL')")
    saved = tmp_path / "history.jsonl"
    download.value.save_as(saved)
    page.set_input_files("#check-file", str(saved))
    page.click("#check-file-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    result = page.inner_text("#check-file-result")
    assert "与数据库中的哈希链一致" in result, result

    broken = tmp_path / "broken.jsonl"
    lines = saved.read_text(encoding="utf-8").splitlines()
    broken.write_text("\n".join(lines[:4] + ["{oops"] + lines[5:]), encoding="utf-8")
    page.set_input_files("#check-file", str(broken))
    page.click("#check-file-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "第 5 行不是有效的 JSON" in page.inner_text(".alert-danger")
    assert_no_violations(page)
    screenshot(page, tmp_path, "history-check-file")
