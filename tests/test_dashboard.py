"""首页 (docs/architecture.md#pages-and-doors ``/admin/``): each role sees its own panels, read
cheaply.

The demo ledger is seeded once per backend (4 periods: 2025Q4 and 2026Q1 approved,
2026Q2 submitted with every §7 flag, 2026Q3 open); the tests only read it.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, func, select

from evaluation.accounts import operations as accounts
from evaluation.core.writing import SystemActor
from evaluation.demo.district import seed_demo
from evaluation.ranking import reading
from models import HistoryEvent, Period, ReviewCase, Unit, User, db
from models.reviews import REASONS
from tests.conftest import BACKENDS, PASSWORD, database_url, test_app

PANELS = ("panel-waiting", "panel-ends", "panel-flagged", "panel-cases", "panel-missing")
PANELS += ("panel-events", "panel-counts")


@pytest.fixture(scope="module", params=BACKENDS)
def demo_app(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"dashboard-{request.param}")
    app = test_app(database_url(request.param, tmp), tmp / "instance")
    with app.app_context():
        seed_demo(password_factory=lambda: PASSWORD)
        accounts.create_user(SystemActor("test-setup"), "lone-reviewer", "reviewer", PASSWORD)
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def dashboard(app, username: str) -> str:
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def panel(html: str, name: str) -> str:
    match = re.search(rf'<section[^>]*id="{name}".*?</section>', html, re.S)
    assert match, f"{name} is missing"
    return match.group(0)


def panels_shown(html: str) -> set[str]:
    return {name for name in PANELS if f'id="{name}"' in html}


def period(code: str) -> Period:
    return db.session.scalar(select(Period).where(Period.code == code))


@pytest.mark.parametrize("role", ["admin", "assessor", "supervisor", "auditor", "reviewer"])
def test_everyone_sees_the_current_period_and_its_progress(demo_app, role):
    with demo_app.app_context():
        missing = sum(
            len(r["missing"]) for r in reading.ranking(period("2026Q3"), "town")["results"]
        )
        db.session.remove()
    shown = panel(dashboard(demo_app, role), "panel-period")
    assert "2026年第三季度（2026Q3）" in shown
    assert "填报中" in shown
    # 13 towns × 19 indicators expected; entered = expected − missing
    assert f"已填 {13 * 19 - missing} / 应填 {13 * 19}" in shown


def test_supervisor_sees_top_and_bottom_towns_flags_and_waiting_periods(demo_app):
    html = dashboard(demo_app, "supervisor")
    assert panels_shown(html) == {"panel-waiting", "panel-ends", "panel-flagged"}
    with demo_app.app_context():
        results = reading.ranking(period("2026Q2"), "town")["results"]
        cases = db.session.execute(
            select(Unit.code, ReviewCase.reasons)
            .join(ReviewCase, ReviewCase.unit_id == Unit.id)
            .where(ReviewCase.status == "open")
        ).all()
        db.session.remove()

    waiting = panel(html, "panel-waiting")
    assert "2026年第二季度（2026Q2）" in waiting
    assert "/admin/ranking/?period=2026Q2" in waiting

    ends = panel(html, "panel-ends")
    assert "2026年第二季度" in ends  # the latest submitted period is newer than the approved
    top = re.findall(r'<tr class="rank-top"><td class="num">(\d+)</td><td>([^<]+)</td>', ends)
    bottom = re.findall(r'<tr class="rank-bottom"><td class="num">(\d+)</td><td>([^<]+)', ends)
    assert [name for _, name in top] == [r["name"] for r in results[:3]]
    assert [name for _, name in bottom] == [r["name"] for r in results[-3:]]

    # the flagged typical villages are the open review cases, reasons in Chinese
    flagged = panel(html, "panel-flagged")
    assert cases
    assert f"未结案件 {len(cases)} 件" in flagged
    assert sorted(re.findall(r'<tr class="flag-\w+" data-unit="(\d{12})"', flagged)) == sorted(
        code for code, _ in cases
    )
    for code in {code for _, reasons in cases for code in reasons}:
        assert str(REASONS[code]) in flagged
    assert 'class="flag-high"' in flagged or 'class="flag-medium"' in flagged


def test_reviewer_sees_their_group_open_cases_only(demo_app):
    with demo_app.app_context():
        reviewer = db.session.scalar(select(User).where(User.username == "reviewer3"))
        group_id = reviewer.group_id
        mine = set(
            db.session.scalars(
                select(Unit.name)
                .join(ReviewCase, ReviewCase.unit_id == Unit.id)
                .where(ReviewCase.group_id == group_id, ReviewCase.status == "open")
            )
        )
        others = set(
            db.session.scalars(
                select(Unit.name)
                .join(ReviewCase, ReviewCase.unit_id == Unit.id)
                .where(ReviewCase.group_id != group_id)
            )
        )
        db.session.remove()
    assert mine and others - mine

    html = dashboard(demo_app, "reviewer3")
    assert panels_shown(html) == {"panel-cases"}
    cases = panel(html, "panel-cases")
    assert "第三研判小组待研判案件" in cases
    for name in mine:
        assert f'<td data-label="村">{name}</td>' in cases
    for name in others - mine:
        assert f'<td data-label="村">{name}</td>' not in cases


def test_reviewer_without_a_group_is_told_so(demo_app):
    cases = panel(dashboard(demo_app, "lone-reviewer"), "panel-cases")
    assert "尚未分配到研判小组" in cases


def test_auditor_sees_the_latest_events_and_where_to_verify(demo_app):
    html = dashboard(demo_app, "auditor")
    assert panels_shown(html) == {"panel-events"}
    with demo_app.app_context():
        last = db.session.scalar(select(func.max(HistoryEvent.seq)))
        db.session.remove()
    events = panel(html, "panel-events")
    seqs = [int(s) for s in re.findall(r'<tr><td data-label="序号" class="num">(\d+)</td>', events)]
    assert seqs == list(range(last, last - 10, -1))
    assert "/admin/history/" in events
    assert 'action="/admin/history/verify"' in events and "csrf_token" in events


def test_assessor_sees_what_is_still_missing_by_town(demo_app):
    html = dashboard(demo_app, "assessor")
    assert panels_shown(html) == {"panel-missing"}
    with demo_app.app_context():
        results = reading.ranking(period("2026Q3"), "town")["results"]
        db.session.remove()
    gaps = {r["unit"]: r["missing"] for r in results if r["missing"]}
    assert gaps
    missing = panel(html, "panel-missing")
    assert f"共 {sum(len(m) for m in gaps.values())} 项" in missing
    listed = dict(re.findall(r'data-unit="(\d{12})".*?缺 (\d+) 项', missing, re.S))
    assert {code: int(n) for code, n in listed.items()} == {
        code: len(m) for code, m in gaps.items()
    }
    assert "/admin/entry/?period=2026Q3&amp;unit=" in missing


def test_admin_sees_base_data_counts_with_links(demo_app):
    html = dashboard(demo_app, "admin")
    assert {"panel-counts", "panel-events"} <= panels_shown(html)
    counts = panel(html, "panel-counts")
    rows = dict(
        re.findall(r"<td>(?:<a [^>]*>)?([^<]+)(?:</a>)?</td><td class=\"num\">(\d+)", counts)
    )
    assert rows["镇街"] == "13"
    assert rows["典型村"] == "21"
    assert rows["研判小组"] == "4"
    assert rows["考核周期"] == "4"
    with demo_app.app_context():
        assert rows["用户"] == str(db.session.scalar(select(func.count()).select_from(User)))
        db.session.remove()
    assert 'href="/admin/town/"' in counts and 'href="/admin/user/"' in counts


def test_dashboard_never_counts_the_whole_history(demo_app):
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.lower())

    with demo_app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        for role in ("admin", "auditor", "supervisor"):
            dashboard(demo_app, role)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    history_reads = [s for s in statements if "history_event" in s and "select" in s]
    assert history_reads
    assert not any("count(" in s for s in history_reads)
    assert all("limit" in s for s in history_reads)


def test_anonymous_is_sent_to_login(demo_app):
    response = demo_app.test_client().get("/admin/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_ends_panel_shows_incomplete_data_instead_of_a_grade(app):
    """A town set up after the submission was approved over, with a reason: no grade."""
    from evaluation.history import records
    from evaluation.periods import operations as periods
    from tests.ledger_world import SETUP, build_world, fill_towns, fill_villages

    with app.app_context():
        world = build_world()
        q3 = world.period()
        periods.open_period(world.user("admin"), q3)
        fill_towns(world, q3)
        fill_villages(world, q3)
        periods.submit(world.user("assessor"), q3)
        records.create(
            SETUP, Unit,
            {"code": "445203102000", "name": "新设镇", "level": "town", "kind": "镇",
             "sort_order": 9},
        )
        periods.approve(world.user("supervisor"), q3, override_reason="新设镇下期起考核")
        db.session.remove()
    ends = panel(dashboard(app, "supervisor"), "panel-ends")
    rows = re.findall(
        r'<tr class="rank-(?:top|bottom)"><td class="num">(\d+)</td><td>([^<]+).*?'
        r'<td class="grade">([^<]+)</td></tr>', ends
    )
    assert rows == [
        ("1", "曲溪街道", "好"), ("2", "云路镇", "一般"), ("3", "玉滘镇", "一般"),
        ("4", "新设镇", "数据不全"),
    ]
