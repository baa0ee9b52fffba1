"""The Content-Security-Policy without 'unsafe-inline' scripts, in Chromium: the handlers
Flask-Admin wrote inline still work from static/ledger-handlers.js, and no page logs a
refused script (docs/rules.md#security)."""

from __future__ import annotations

from evaluation.accounts import operations as accounts
from evaluation.history import records
from models import AnalysisGroup, User, db
from tests.conftest import SEED_ACTOR
from tests.e2e.conftest import login, screenshot


def refusals(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text
            or "Refused" in m.text else None)
    return found


def test_delete_confirm_filter_menu_and_actions_work_under_the_policy(page, live_server, tmp_path):
    with live_server.app.app_context():
        records.create(SEED_ACTOR, AnalysisGroup, {"name": "第九小组"})
        auditor = db.session.scalar(db.select(User).where(User.username == "auditor"))
        accounts.create_token(SEED_ACTOR, auditor, "待吊销令牌")
        db.session.remove()
    refused = refusals(page)
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/group/")
    row = page.locator("tr", has_text="第九小组")
    # Dismissed: the delete does not happen.
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.locator("button[data-confirm]").click()
    page.wait_for_load_state("networkidle")
    assert "第九小组" in page.inner_text("table")
    # Accepted: it does.
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button[data-confirm]").click()
    page.wait_for_load_state("networkidle")
    assert "第九小组" not in page.inner_text("body")

    page.goto(f"{live_server.url}/admin/user/")
    assert page.locator(".filter-op").count() == 0
    page.click("a.dropdown-toggle:has-text('添加筛选')")
    page.locator(".field-filters a.filter").first.click()
    assert page.locator(".filter-op").count() > 0  # a filter row was added
    assert "#" not in page.url
    screenshot(page, tmp_path, "csp-user-filter")

    page.goto(f"{live_server.url}/admin/token/")
    page.locator("input.action-checkbox").first.check()
    page.click("a.dropdown-toggle:has-text('选中的')")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-model-action=revoke]")
    page.wait_for_load_state("networkidle")
    assert "已吊销" in page.inner_text("body")
    assert refused == []
