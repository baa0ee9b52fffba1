"""The period workflow where people look for it (docs/rules.md#period-workflow): 退回 and
审定并锁定 on the ranking page the dashboard's 待审定 link leads to, every step behind a
confirmation dialog, and the return reason shown to the assessors until they submit again."""

from __future__ import annotations

import re

import pytest

from evaluation.history import records
from evaluation.periods import operations as periods
from models import HistoryEvent, Period, db
from tests.ledger_world import SETUP, build_world, fill_towns, fill_villages, open_period

RANKING = "/admin/ranking/"
ENTRY = "/admin/entry/"
WHERE = {"period": "2026Q3", "level": "town"}


@pytest.fixture
def world(app):
    with app.app_context():
        world = build_world()
        db.session.remove()
    return world


def submitted(app, world, *, villages: bool = True) -> None:
    """Open 2026Q3, fill it (typical villages too unless told) and submit it as the assessor."""
    with app.app_context():
        period = open_period(world)
        fill_towns(world, period)
        if villages:
            fill_villages(world, period)
        periods.submit(world.user("assessor"), period)
        db.session.remove()


def status(app) -> str:
    with app.app_context():
        return db.session.scalar(db.select(Period.status).where(Period.code == "2026Q3"))


def dialog(page: str, action: str) -> str:
    """Return the confirmation dialog of ``action`` (the modal holding its form)."""
    match = re.search(
        rf'<div class="modal fade" id="confirm-{action}".*?</form>', page, flags=re.S
    )
    assert match, f"no confirmation dialog for {action}"
    return match.group(0)


def assert_confirmed_in_a_dialog(page: str, action: str, label: str) -> str:
    """The page's button only opens the dialog; the dialog's own button posts the step."""
    opener = re.search(rf'<button type="button"[^>]*id="open-{action}"[^>]*>([^<]*)</button>', page)
    assert opener, f"no button for {action}"
    assert opener.group(1) == label
    assert f'data-target="#confirm-{action}"' in opener.group(0)
    # No form posts the step outside its dialog.
    outside = page.replace(dialog(page, action), "")
    assert f"workflow/{action}" not in outside
    box = dialog(page, action)
    assert f"确认{label}" in box and 'type="submit"' in box and "取消" in box
    return box


# --- the ranking page ------------------------------------------------------------------


def test_the_dashboard_link_leads_to_a_ranking_page_with_return_and_approve(
    app, world, client, auth
):
    submitted(app, world)
    auth.login("supervisor")
    dashboard = client.get("/admin/").get_data(as_text=True)
    link = re.search(r'id="panel-waiting".*?<a href="([^"]+)"', dashboard, flags=re.S).group(1)
    page = client.get(link).get_data(as_text=True)
    assert "审核本期排名：2026年第三季度（2026Q3，已提交）" in page
    returning = assert_confirmed_in_a_dialog(page, "return", "退回")
    assert 'name="reason"' in returning and "required" in returning
    approving = assert_confirmed_in_a_dialog(page, "approve", "审定并锁定")
    assert "审定后保存排名快照并锁定本周期" in approving
    # Every unit has its values: no override reason is asked for.
    assert 'type="hidden" name="override_reason"' in approving
    # Without a period named, the page opens on the one waiting for review too.
    assert "审核本期排名：2026年第三季度" in client.get(RANKING).get_data(as_text=True)


@pytest.mark.parametrize("role", ["assessor", "auditor", "admin"])
def test_only_a_supervisor_sees_and_takes_the_review_steps(app, world, client, auth, role):
    submitted(app, world)
    auth.login(role)
    page = client.get(RANKING + "?period=2026Q3").get_data(as_text=True)
    assert "2026Q3" in page
    assert "ranking-review" not in page and "confirm-approve" not in page
    response = client.post(RANKING + "workflow/return", data={**WHERE, "reason": "不同意"})
    assert response.status_code == 403
    assert "未能退回" in response.get_data(as_text=True)
    response = client.post(RANKING + "workflow/approve", data=WHERE)
    assert response.status_code == 403
    assert status(app) == "submitted"


def test_return_from_the_ranking_page_needs_a_reason(app, world, client, auth):
    submitted(app, world)
    auth.login("supervisor")
    response = client.post(RANKING + "workflow/return", data={**WHERE, "reason": "  "})
    assert response.status_code == 422
    assert "未能退回：请填写理由" in response.get_data(as_text=True)
    assert status(app) == "submitted"
    response = client.post(
        RANKING + "workflow/return", data={**WHERE, "reason": "E01 佐证材料不全"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/ranking/?period=2026Q3&level=town")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2026年第三季度：已退回，当前状态为「填报中」" in page
    assert "confirm-return" not in page  # nothing left to return
    assert status(app) == "open"
    with app.app_context():
        event = db.session.scalars(
            db.select(HistoryEvent).order_by(HistoryEvent.seq.desc()).limit(1)
        ).one()
        assert (event.action, event.actor, event.reason) == (
            "period.return",
            "supervisor",
            "E01 佐证材料不全",
        )


def test_approve_from_the_ranking_page_keeps_the_override_reason(app, world, client, auth):
    submitted(app, world, villages=False)  # the typical villages have no values
    auth.login("supervisor")
    page = client.get(RANKING + "?period=2026Q3").get_data(as_text=True)
    approving = dialog(page, "approve")
    assert "本期有 3 个单位数据不全，审定须填写审定说明" in approving
    assert 'name="override_reason" id="override-reason"' in approving
    response = client.post(RANKING + "workflow/approve", data=WHERE)
    assert response.status_code == 422
    refused = response.get_data(as_text=True)
    assert "还有 3 个单位数据不全（共缺 6 项），不能审定" in refused
    assert "新桃村" in refused and "审核本期排名" in refused  # still the ranking page
    assert status(app) == "submitted"
    response = client.post(
        RANKING + "workflow/approve", data={**WHERE, "override_reason": "村级数据延期报送"}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已审定并锁定，当前状态为「已审定」" in page
    assert "审定说明：村级数据延期报送" in page
    assert status(app) == "approved"


def test_the_submitter_cannot_approve_from_the_ranking_page(app, world, client, auth):
    with app.app_context():
        supervisor = world.user("supervisor")
        records.update(SETUP, supervisor, {"role": "assessor"})
        period = open_period(world)
        fill_towns(world, period, actor=supervisor)
        fill_villages(world, period, actor=supervisor)
        periods.submit(supervisor, period)
        records.update(SETUP, supervisor, {"role": "supervisor"})
        db.session.remove()
    auth.login("supervisor")
    page = client.get(RANKING + "?period=2026Q3").get_data(as_text=True)
    assert re.search(r'id="open-approve"[^>]*disabled', page)
    assert "confirm-approve" not in page  # no dialog to confirm a refused step
    assert "提交人不能审定自己提交的周期" in page
    response = client.post(RANKING + "workflow/approve", data=WHERE)
    assert response.status_code == 403
    assert status(app) == "submitted"


def test_unknown_steps_and_periods_are_not_found(app, world, client, auth):
    submitted(app, world)
    auth.login("supervisor")
    assert client.post(RANKING + "workflow/reopen", data=WHERE).status_code == 404
    assert client.post(RANKING + "workflow/submit", data=WHERE).status_code == 404
    missing = {**WHERE, "period": "2030Q1", "reason": "x"}
    assert client.post(RANKING + "workflow/return", data=missing).status_code == 404
    assert status(app) == "submitted"


# --- the entry page ----------------------------------------------------------------------


def test_submit_on_the_entry_page_is_confirmed_in_a_dialog(app, world, client, auth):
    with app.app_context():
        fill_towns(world, open_period(world))
        db.session.remove()
    auth.login("assessor")
    page = client.get(ENTRY + "?period=2026Q3").get_data(as_text=True)
    box = assert_confirmed_in_a_dialog(page, "submit", "提交审核")
    assert "提交后本期分数不能再修改" in box and "2026年第三季度（2026Q3）" in box


# --- the return reason ---------------------------------------------------------------------


def test_the_assessor_sees_the_return_reason_until_the_period_is_submitted_again(
    app, world, client, auth
):
    submitted(app, world)
    auth.login("assessor")
    assert "退回理由" not in client.get("/admin/").get_data(as_text=True)
    with app.app_context():
        period = world.period()
        periods.return_period(world.user("supervisor"), period, "E01 佐证材料不全")
        # An edit of the period's name in between does not hide why it came back.
        records.update(SETUP, period, {"name": "2026年三季度"})
        db.session.remove()
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "2026年三季度（2026Q3）已被退回，请改正后重新提交" in dashboard
    assert 'href="/admin/entry/?period=2026Q3">去填报页改正' in dashboard
    for url in ("/admin/", ENTRY + "?period=2026Q3"):
        page = client.get(url).get_data(as_text=True)
        assert "已被退回，请改正后重新提交" in page, url
        assert '<span class="return-reason">E01 佐证材料不全</span>' in page, url
        assert "测试督导审核 于" in page, url  # who returned it, by display name
    client.post(ENTRY + "workflow/submit", data=WHERE)
    assert status(app) == "submitted"
    for url in ("/admin/", ENTRY + "?period=2026Q3"):
        assert "退回理由" not in client.get(url).get_data(as_text=True), url
    # Returned again: the new reason, not the old one.
    with app.app_context():
        periods.return_period(world.user("supervisor"), world.period(), "U02 数值有误")
        db.session.remove()
    page = client.get("/admin/").get_data(as_text=True)
    assert "U02 数值有误" in page and "E01 佐证材料不全" not in page


def test_the_dashboard_names_a_returned_period_that_is_not_the_current_one(
    app, world, client, auth
):
    # 2026Q2 is returned while 2026Q3 (ending later) is the one open for entry.
    with app.app_context():
        q2 = open_period(world, "2026Q2")
        fill_towns(world, q2)
        periods.submit(world.user("assessor"), q2)
        periods.return_period(world.user("supervisor"), q2, "二季度 E02 口径有误")
        open_period(world)
        db.session.remove()
    auth.login("assessor")
    page = client.get("/admin/").get_data(as_text=True)
    assert "2026年第二季度（2026Q2）已被退回" in page and "二季度 E02 口径有误" in page
    assert 'href="/admin/entry/?period=2026Q2">去填报页改正' in page
    assert "2026Q3）已被退回" not in page


def test_return_note_is_read_from_the_history(app, world):
    with app.app_context():
        period = world.period()
        assert periods.return_note(period) is None  # a draft was never returned
        periods.open_period(SETUP, period)
        fill_towns(world, period)
        periods.submit(world.user("assessor"), period)
        assert periods.return_note(period) is None
        periods.return_period(world.user("supervisor"), period, "请补充说明")
        note = periods.return_note(period)
        assert (note.action, note.actor, note.reason) == ("return", "supervisor", "请补充说明")
        # The other period has its own history.
        assert periods.return_note(world.period("2026Q2")) is None
        periods.submit(world.user("assessor"), period)
        assert periods.return_note(period) is None
        assert periods.last_step(period).action == "submit"
