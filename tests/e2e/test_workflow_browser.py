"""The workflow's dialogs and the admin's forms in Chromium (docs/rules.md#period-workflow,
docs/rules.md#dates): the ranking page's 退回 / 审定并锁定 dialogs (cancel posts nothing,
the reason is required, axe-core clean with the dialog open), a published scheme's page,
and the Chinese date picker. Screenshots go to /tmp/journeys."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Period, Scheme, db
from tests.e2e.conftest import login, screenshot
from tests.e2e.test_accessibility import assert_no_violations

SUBMITTED_PERIOD = "2026Q2"


def period_status(server, code: str) -> str:
    with server.app.app_context():
        status = db.session.scalar(select(Period.status).where(Period.code == code))
        db.session.remove()
        return status


def test_return_dialog_cancels_and_requires_a_reason(page, demo_server, tmp_path):
    login(page, demo_server, "supervisor")
    page.goto(f"{demo_server.url}/admin/ranking/")  # opens on the period waiting for review
    page.wait_for_load_state("networkidle")
    assert SUBMITTED_PERIOD in page.inner_text("#ranking-review")
    assert page.is_visible("#open-return") and page.is_visible("#open-approve")
    assert not page.is_visible("#confirm-approve")
    screenshot(page, tmp_path, "w1-ranking-review-buttons")

    # 审定并锁定 opens its dialog; axe-core checks the page with the dialog open; 取消 closes it.
    page.click("#open-approve")
    page.wait_for_selector("#confirm-approve", state="visible")
    assert "审定后保存排名快照并锁定本周期" in page.inner_text("#confirm-approve")
    screenshot(page, tmp_path, "w1-approve-dialog")
    assert_no_violations(page)
    page.click("#confirm-approve button.btn[data-dismiss=modal]")
    page.wait_for_selector("#confirm-approve", state="hidden")
    assert period_status(demo_server, SUBMITTED_PERIOD) == "submitted"

    # 退回 without a reason: the browser holds the form back; nothing is posted.
    page.click("#open-return")
    page.wait_for_selector("#confirm-return", state="visible")
    page.wait_for_function("() => document.activeElement.id === 'confirm-return-reason'")
    page.keyboard.press("Escape")  # a keyboard user leaves the dialog the same way
    page.wait_for_selector("#confirm-return", state="hidden")
    page.click("#open-return")
    page.wait_for_selector("#confirm-return", state="visible")
    page.click("#confirm-return-submit")
    assert page.locator("#confirm-return-reason").evaluate("area => area.matches(':invalid')")
    assert page.is_visible("#confirm-return")
    assert period_status(demo_server, SUBMITTED_PERIOD) == "submitted"
    page.fill("#confirm-return-reason", "白塔镇 E03 与统计局口径不一致")
    page.click("#confirm-return-submit")
    page.wait_for_load_state("networkidle")
    assert "已退回，当前状态为「填报中」" in page.inner_text("body")
    assert period_status(demo_server, SUBMITTED_PERIOD) == "open"


def test_published_scheme_page_and_new_version(page, demo_server, tmp_path):
    with demo_server.app.app_context():
        scheme_id = db.session.scalar(
            select(Scheme.id).where(Scheme.status == "published").order_by(Scheme.id)
        )
        db.session.remove()
    login(page, demo_server, "admin")
    page.goto(f"{demo_server.url}/admin/scheme/edit/?id={scheme_id}")
    page.wait_for_load_state("networkidle")
    assert page.is_visible("#new-version")
    assert page.locator("#name").is_disabled()
    assert page.locator("input[type=submit]").count() == 0
    screenshot(page, tmp_path, "w2-published-scheme")
    assert_no_violations(page)
    page.click("#new-version")
    page.wait_for_load_state("networkidle")
    assert "建立新版本" in page.inner_text(".alert-success")
    assert "-v2" in page.inner_text(".alert-success")
    assert page.locator("#name").is_enabled()
    screenshot(page, tmp_path, "w2-new-version-draft")


@pytest.mark.parametrize("typed", ["2026/10/1"])
def test_period_form_has_a_chinese_date_picker(page, demo_server, tmp_path, typed):
    login(page, demo_server, "admin")
    page.goto(f"{demo_server.url}/admin/period/new/")
    page.wait_for_load_state("networkidle")
    page.click("#start_date")
    picker = page.locator(".daterangepicker").first
    picker.wait_for(state="visible")
    # Weeks start on Monday, named in Chinese; the month menu reads 1月 … 12月.
    headers = [h.strip() for h in picker.locator("th").all_inner_texts()]
    assert [h for h in headers if len(h) == 1][:7] == ["一", "二", "三", "四", "五", "六", "日"]
    months = picker.locator("select.monthselect option").all_inner_texts()
    assert months[:3] == ["1月", "2月", "3月"] and "Jan" not in picker.inner_text()
    screenshot(page, tmp_path, "w3-date-picker")
    assert_no_violations(page)
    page.keyboard.press("Escape")
    # Typed the office way, the date is taken.
    page.fill("#code", "2026Q4")
    page.fill("#name", "2026年第四季度")
    page.fill("#start_date", typed)
    page.fill("#end_date", "2026.12.31")
    schemes = page.eval_on_selector_all(
        "#town_scheme option", "options => options.map(o => o.value).filter(v => v)"
    )
    page.locator("#town_scheme").select_option(schemes[0], force=True)  # under select2
    page.click("input[type=submit][value='保存']")
    page.wait_for_load_state("networkidle")
    assert "考核周期 2026Q4 已建立（草稿）" in page.inner_text("body")
    screenshot(page, tmp_path, "w3-period-created")
    page.click("#open-new-period")
    page.wait_for_load_state("networkidle")
    assert "2026年第四季度" in page.inner_text("#entry-workflow")
