"""The 公示 journey in Chromium (docs/publication.md): the supervisor opens 公示 → the
reporter sees its rank and objects with a photo → the assessor adjusts → approval is
refused while another objection is pending, then succeeds → the snapshot holds the
adjusted value; a 容错 case is upheld and the penalty leaves the total, the case in the
history. Screenshots go to /tmp/journeys."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from evaluation.accounts import operations as accounts
from evaluation.periods import operations as periods
from evaluation.publication import operations as publication
from evaluation.scores import operations as ledger
from models import ROLES, Period, RankingSnapshot, db
from tests.conftest import PASSWORD, SEED_ACTOR
from tests.e2e.conftest import LiveServer, build_live_app, login, logout, screenshot
from tests.evidence_files import jpeg
from tests.ledger_world import build_world, fill_towns, fill_villages, open_period

YUNLU = "445203100000"


def seed(app) -> None:
    """The small ledger: 2026Q3 filled and submitted, 云路镇 with a 3-point penalty."""
    for role in ROLES:
        if role != "reporter":
            accounts.create_user(SEED_ACTOR, role, role, PASSWORD, display_name=str(ROLES[role]))
    world = build_world()
    period = open_period(world)
    fill_towns(world, period)
    fill_villages(world, period)
    ledger.add_adjustment(
        world.user("assessor"), period, world.unit(YUNLU), "penalty", "3", "安全生产约谈"
    )
    periods.submit(world.user("assessor"), period)


def yunlu_total(page) -> str:
    return page.inner_text("#town-total").strip()


def test_publication_objection_approval_and_a_tolerance_case(browser, tmp_path):
    app = build_live_app(tmp_path, seed=seed)
    app.config["EVIDENCE_STORE"] = str(tmp_path / "evidence")
    server = LiveServer(app).start()
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    url = server.url
    today = publication.today()
    try:
        # 1. The supervisor opens 公示 for five days, the district ranking shown.
        login(page, server, "supervisor")
        page.goto(f"{url}/admin/publication/?period=2026Q3")
        page.fill("#start", today.isoformat())
        page.fill("#end", (today + timedelta(days=4)).isoformat())
        page.check("#show_ranking")
        page.click("#window-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "已设定公示期" in page.inner_text("body")
        assert page.inner_text("#window-state") == "公示中"
        screenshot(page, tmp_path, "p1-supervisor-opens-publication")
        logout(page)

        # 2. 云路镇's reporter sees the days left, its rank, and objects to U02 with a photo.
        login(page, server, "reporter")
        assert "剩余 5 天" in page.inner_text("#panel-publication")
        page.goto(f"{url}/admin/publication/?period=2026Q3")
        assert page.inner_text("#town-name") == "云路镇"
        assert page.inner_text("#town-rank") in ("1", "2", "3")
        total_before = yunlu_total(page)
        assert page.locator("#district-ranking tbody tr").count() == 3
        screenshot(page, tmp_path, "p2-reporter-sees-its-rank")
        photo = tmp_path / "验收现场.jpg"
        photo.write_bytes(jpeg())
        page.select_option("#item", "indicator:U02")
        page.fill("#reason", "典型村创建已通过区级验收，评分未采纳验收结论")
        page.set_input_files("#evidence", str(photo))
        page.click("#objection-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "已提出异议（第 1 号）" in page.inner_text("body")
        assert "验收现场.jpg" in page.inner_text("#objection-1")
        # a second objection, on E01, stays pending for a while
        page.select_option("#item", "indicator:E01")
        page.fill("#reason", "增速口径应以统计局快报为准")
        page.click("#objection-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        # the same item twice: refused, said in Chinese
        page.select_option("#item", "indicator:U02")
        page.fill("#reason", "再次提出")
        page.click("#objection-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "同一事项只能提出一次" in page.inner_text("body")
        screenshot(page, tmp_path, "p3-reporter-objected")

        # ... and applies for 容错纠错 against the penalty.
        page.goto(f"{url}/admin/tolerance/?period=2026Q3")
        page.select_option("#situation", "上级尚无明确限制的探索性试验中的失误")
        page.fill("#grounds", "约谈事项发生在上级试点的新业态监管中，尚无明确规定")
        page.click("#apply-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "已提交容错纠错申请（第 1 号）" in page.inner_text("body")
        logout(page)

        # 3. The assessor sees the queue with ages and adjusts U02 from 25.5 to 28.
        login(page, server, "assessor")
        assert page.locator("#objection-queue tr").count() == 2
        screenshot(page, tmp_path, "p4-assessor-queue")
        page.goto(f"{url}/admin/publication/?period=2026Q3")
        form = page.locator("#objection-1 form.answer-form")
        form.locator("select[name=decision]").select_option("adjust")
        form.locator("input[name=value]").fill("28")
        form.locator("textarea[name=reason]").fill("经复核验收材料，按验收结论调整")
        form.locator("button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert "25.5 → 28" in page.inner_text("#objection-1")
        screenshot(page, tmp_path, "p5-assessor-adjusted")
        # the 容错 case: findings
        page.goto(f"{url}/admin/tolerance/?period=2026Q3")
        page.fill("#case-1 textarea[name=findings]", "经核实，属上级尚无明确限制的探索性试验")
        page.click("#case-1 .findings-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        logout(page)

        # 4. The supervisor upholds the case: the penalty is removed, the case named.
        login(page, server, "supervisor")
        page.goto(f"{url}/admin/tolerance/?period=2026Q3")
        page.select_option("#case-1 select[name=decision]", "upheld")
        page.fill("#case-1 textarea[name=reason]", "符合三个区分开来，认定容错")
        page.click("#case-1 .determination-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert page.get_attribute("#case-1", "data-status") == "upheld"
        screenshot(page, tmp_path, "p6-supervisor-upholds-case")
        # the window is shortened to have ended yesterday; approval is still refused: one
        # objection is unanswered (the dialog says so and asks for a note; sent without
        # one, the server refuses)
        page.goto(f"{url}/admin/publication/?period=2026Q3")
        page.fill("#start", (today - timedelta(days=3)).isoformat())
        page.fill("#end", (today - timedelta(days=1)).isoformat())
        page.click("#window-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "还有 1 件异议未答复" in page.inner_text("#blockers")
        page.goto(f"{url}/admin/ranking/?period=2026Q3&level=town")
        page.click("#open-approve")
        page.wait_for_selector("#confirm-approve", state="visible")
        assert "还有 1 件异议未答复" in page.inner_text("#approve-due")
        screenshot(page, tmp_path, "p7-approve-dialog-names-the-objection")
        page.evaluate("document.getElementById('override-reason').removeAttribute('required')")
        page.click("#confirm-approve-submit")
        page.wait_for_load_state("networkidle")
        assert "还有 1 件异议未答复" in page.inner_text("#workflow-problem")
        screenshot(page, tmp_path, "p8-approve-refused")
        logout(page)

        # 5. The assessor answers the other objection (maintain).
        login(page, server, "assessor")
        page.goto(f"{url}/admin/publication/?period=2026Q3")
        form = page.locator("#objection-2 form.answer-form")
        form.locator("textarea[name=reason]").fill("以统计局正式数据为准，维持")
        form.locator("button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        logout(page)

        # 6. The reporter sees both answers and the new figures: +2.5 on U02, the 3-point
        # penalty gone.
        login(page, server, "reporter")
        page.goto(f"{url}/admin/publication/?period=2026Q3")
        assert "已调整" in page.inner_text("#objection-1")
        assert "维持原结果" in page.inner_text("#objection-2")
        assert float(yunlu_total(page)) == float(total_before) + 2.5 + 3
        assert page.locator("#town-indicators tr[data-adjustment]").count() == 0
        screenshot(page, tmp_path, "p9-reporter-sees-answers")
        page.goto(f"{url}/admin/tolerance/town/{YUNLU}")
        assert "认定容错" in page.inner_text("#case-1")
        logout(page)

        # 7. Approval now goes through without a note; the snapshot holds U02 = 28 and no
        # penalty for 云路镇.
        login(page, server, "supervisor")
        page.goto(f"{url}/admin/ranking/?period=2026Q3&level=town")
        page.click("#open-approve")
        page.wait_for_selector("#confirm-approve", state="visible")
        assert page.locator("#approve-due").count() == 0
        page.click("#confirm-approve-submit")
        page.wait_for_load_state("networkidle")
        assert "当前状态为「已审定」" in page.inner_text("body")
        screenshot(page, tmp_path, "p10-approved")
        logout(page)
        with app.app_context():
            period = db.session.scalar(select(Period).where(Period.code == "2026Q3"))
            snapshot = db.session.scalar(
                select(RankingSnapshot).where(
                    RankingSnapshot.period_id == period.id, RankingSnapshot.level == "town"
                )
            )
            yunlu = next(r for r in json.loads(snapshot.payload)["results"] if r["unit"] == YUNLU)
            assert yunlu["indicators"]["U02"] == "28.00"
            assert yunlu["penalty"] == "0.00"
            db.session.remove()

        # 8. The admin finds the case in the history: the penalty's removal names it.
        login(page, server, "admin")
        page.goto(f"{url}/admin/history/?action=adjustment.remove")
        page.wait_for_load_state("networkidle")
        assert "容错纠错第 1 号" in page.inner_text("body")
        screenshot(page, tmp_path, "p11-history-names-the-case")
    finally:
        context.close()
        server.stop()
        with app.app_context():
            db.engine.dispose()


def test_the_pages_pass_axe_core(browser, tmp_path):
    """The 公示 and 容错纠错 pages of each role, with their forms, have no WCAG 2 A/AA
    violations (axe-core, as tests/e2e/test_accessibility.py checks the daily pages)."""
    from tests.e2e.test_accessibility import assert_no_violations

    def staged(app) -> None:
        seed(app)
        from models import User

        chief = db.session.scalar(select(User).where(User.username == "supervisor"))
        reporter = db.session.scalar(select(User).where(User.username == "reporter"))
        period = db.session.scalar(select(Period).where(Period.code == "2026Q3"))
        today = publication.today()
        publication.open_window(chief, period, today, today + timedelta(days=2), True)
        from models import Unit

        yunlu = db.session.scalar(select(Unit).where(Unit.code == YUNLU))
        publication.lodge_objection(reporter, period, yunlu, "indicator", "U02", "偏低")

    app = build_live_app(tmp_path, seed=staged)
    app.config["EVIDENCE_STORE"] = str(tmp_path / "evidence")
    server = LiveServer(app).start()
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        for user, path in (
            ("reporter", "/admin/publication/?period=2026Q3"),
            ("reporter", "/admin/tolerance/?period=2026Q3"),
            ("assessor", "/admin/publication/?period=2026Q3"),
            ("supervisor", "/admin/publication/?period=2026Q3"),
            ("admin", "/admin/tolerance/?period=2026Q3"),
        ):
            login(page, server, user)
            page.goto(f"{server.url}{path}")
            page.wait_for_load_state("networkidle")
            assert_no_violations(page)
            page.goto(f"{server.url}/logout")
            context.clear_cookies()
    finally:
        context.close()
        server.stop()
        with app.app_context():
            db.engine.dispose()
