"""Score entry in Chromium: an assessor fills a town's grid with CSRF on and sees the points;
a colleague's save in between is shown as a conflict instead of being overwritten."""

from __future__ import annotations

import pytest

from evaluation.accounts import operations as accounts
from evaluation.periods import operations as periods
from evaluation.scores import operations as ledger
from models import ROLES, HistoryEvent, Indicator, Period, Score, Unit, db
from models.users import UNIT_ROLES
from tests.conftest import PASSWORD, SEED_ACTOR
from tests.e2e.conftest import LiveServer, build_live_app, login
from tests.test_entry_page import COLLEAGUE, YUNLU, build_world


def seed(app) -> None:
    for role in ROLES:
        if role in UNIT_ROLES:  # a reporter needs its town: tests.ledger_world makes it
            continue
        accounts.create_user(SEED_ACTOR, role, role, PASSWORD, display_name=str(ROLES[role]))
    build_world()
    periods.open_period(SEED_ACTOR, db.session.scalar(db.select(Period)))


@pytest.fixture
def entry_server(tmp_path):
    server = LiveServer(build_live_app(tmp_path, seed=seed)).start()
    yield server
    server.stop()
    with server.app.app_context():
        db.engine.dispose()


def colleague_sets_e01(app, value: str) -> None:
    with app.app_context():
        period = db.session.scalar(db.select(Period))
        town = db.session.scalar(db.select(Unit).where(Unit.code == YUNLU))
        e01 = db.session.scalar(db.select(Indicator).where(Indicator.code == "E01"))
        ledger.set_score(COLLEAGUE, period, town, e01, value, version=1)
        db.session.remove()


def test_an_assessor_fills_a_town_and_meets_a_conflict(page, entry_server, tmp_path):
    login(page, entry_server, "assessor")
    page.goto(f"{entry_server.url}/admin/entry/")
    page.select_option("#entry-unit", YUNLU)  # the selector opens the unit by itself
    page.wait_for_url(f"**unit={YUNLU}**")
    row = f"#cell-{YUNLU}-"
    page.fill(f"{row}E01 input[type=number]", "35")
    page.fill(f"{row}E01 input[type=text]", "现场核查")
    page.fill(f"{row}E02 input[type=number]", "80")
    page.select_option(f"{row}U01 select", "B")
    page.click("#entry-save")
    page.wait_for_load_state("networkidle")
    assert "已保存 3 项" in page.inner_text("body")
    assert "35.00" in page.inner_text(f"{row}E01")
    assert "24.00" in page.inner_text(f"{row}E02")
    assert "25.50" in page.inner_text(f"{row}U01")
    assert "84.50" in page.inner_text("#entry-unit-result")
    assert "已录入 3 / 3 项" in page.inner_text("#entry-progress")

    colleague_sets_e01(entry_server.app, "20")
    page.fill(f"{row}E01 input[type=number]", "38")
    page.click("#entry-save")
    page.wait_for_load_state("networkidle")
    message = page.inner_text(f"{row}E01")
    assert "colleague" in message and "改为 20" in message and "38" in message
    assert page.input_value(f"{row}E01 input[type=number]") == "20"
    page.screenshot(path=str(tmp_path / "entry-conflict.png"), full_page=True)


def test_clearing_a_saved_value_asks_for_the_reason_first(page, entry_server):
    with entry_server.app.app_context():
        period = db.session.scalar(db.select(Period))
        town = db.session.scalar(db.select(Unit).where(Unit.code == YUNLU))
        e01 = db.session.scalar(db.select(Indicator).where(Indicator.code == "E01"))
        ledger.set_score(COLLEAGUE, period, town, e01, "30", version=None)
        db.session.remove()
    login(page, entry_server, "assessor")
    page.goto(f"{entry_server.url}/admin/entry/?unit={YUNLU}")
    cell = f"#cell-{YUNLU}-E01 input[type=number]"
    asked = []

    # Cancelled: nothing is sent, the saved value stays.
    def cancel(dialog):
        asked.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.once("dialog", cancel)
    page.fill(cell, "")
    page.click("#entry-save")
    page.wait_for_timeout(300)
    assert asked and asked[0][0] == "prompt"
    assert "将清除 1 项已保存的数值" in asked[0][1] and "确认清除请填写理由" in asked[0][1]
    with entry_server.app.app_context():
        assert db.session.scalar(db.select(Score.number)) == 30
        db.session.remove()

    page.once("dialog", lambda dialog: dialog.accept("统计口径调整"))
    page.click("#entry-save")
    page.wait_for_load_state("networkidle")
    assert "已保存 1 项" in page.inner_text("body")
    with entry_server.app.app_context():
        assert db.session.scalar(db.select(Score)) is None
        event = db.session.scalar(db.select(HistoryEvent).order_by(HistoryEvent.seq.desc()))
        assert (event.action, event.reason) == ("score.clear", "统计口径调整")
        db.session.remove()
