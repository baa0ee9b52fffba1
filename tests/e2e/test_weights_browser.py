"""Weights in Chromium on the demo ledger (docs/weights.md): an admin sets a dimension's
points by AHP on a draft copy of the town scheme — an inconsistent matrix is refused until
a reason is given — and a supervisor reads the indicator diagnostics of an approved period.
Screenshots go to the test's folder and to /tmp/journeys/."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from evaluation.core.periods import default_period
from evaluation.core.writing import SystemActor
from evaluation.schemes import operations as schemes
from models import Dimension, Indicator, Scheme, WeightJudgement, db
from tests.e2e.conftest import login, logout, screenshot
from tests.e2e.test_accessibility import assert_no_violations

SETUP = SystemActor("e2e-setup")


def _draft_copy(app) -> tuple[int, list[str]]:
    with app.app_context():
        published = db.session.scalar(
            select(Scheme).where(Scheme.level == "town", Scheme.status == "published")
        )
        draft = schemes.copy_scheme(SETUP, published, "JD-TOWN-AHP")
        dimension = db.session.scalar(
            select(Dimension).where(Dimension.scheme_id == draft.id).order_by(Dimension.order)
        )
        codes = list(
            db.session.scalars(
                select(Indicator.code)
                .where(Indicator.dimension_id == dimension.id)
                .order_by(Indicator.order)
            )
        )
        return draft.id, codes


def test_admin_sets_points_by_ahp_and_supervisor_reads_diagnostics(page, demo_server, tmp_path):
    url = demo_server.url
    app = demo_server.app
    draft_id, codes = _draft_copy(app)
    assert len(codes) >= 3
    login(page, demo_server, "admin")

    # From the scheme list to the draft's weights page.
    page.goto(f"{url}/admin/scheme/")
    page.click(f"a[href='/admin/weights/?scheme={draft_id}']")
    page.wait_for_load_state("networkidle")
    assert "分值为手工填写，没有判断矩阵。" in page.inner_text("body")
    page.locator("a:has-text('两两比较（AHP）')").nth(1).click()  # the first dimension
    page.wait_for_load_state("networkidle")

    # A cycle: first ≫ second ≫ third ≫ first. 计算 shows the CR without writing.
    page.select_option("select[name=a_0_1]", "9")
    page.select_option("select[name=a_1_2]", "9")
    page.select_option("select[name=a_0_2]", "1/9")
    page.click("button[value=preview]")
    page.wait_for_load_state("networkidle")
    assert "一致性不足" in page.inner_text("#result-title ~ p")
    screenshot(page, tmp_path, "w1-admin-ahp-preview")
    page.click("button[value=apply]")
    page.wait_for_load_state("networkidle")
    assert "CR 大于 0.10 的判断矩阵须填写采用理由" in page.inner_text(".alert-danger")

    # A consistent matrix instead: the first indicator twice as important as each other.
    for i in range(len(codes)):
        for j in range(i + 1, len(codes)):
            page.select_option(f"select[name=a_{i}_{j}]", "2" if i == 0 else "1")
    page.click("button[value=preview]")
    page.wait_for_load_state("networkidle")
    assert "一致性可接受" in page.inner_text("#result-title ~ p")
    page.click("button[value=apply]")
    page.wait_for_load_state("networkidle")
    assert "已按判断矩阵设定分值" in page.inner_text("body")
    assert "一致性可接受" in page.inner_text("body")
    screenshot(page, tmp_path, "w2-admin-weights-stored")
    with app.app_context():
        stored = db.session.scalar(select(WeightJudgement))
        assert stored.scheme_id == draft_id and Decimal(stored.cr) < Decimal("0.001")
        points = [Decimal(p) for p in stored.points]
        assert sum(points) == stored.parent_points and points[0] > max(points[1:])
    logout(page)

    # The supervisor reads the diagnostics of the period the ranking opens on.
    with app.app_context():
        period_id = default_period("ranking").id
    login(page, demo_server, "supervisor")
    page.goto(f"{url}/admin/weights/diagnostics?period={period_id}&level=town")
    page.wait_for_selector("#diagnostics-heatmap[data-rendered='1']")
    assert page.locator("#diagnostics-heatmap canvas").count() > 0
    assert page.locator("#diagnostics-indicators tbody tr").count() > 3
    page.select_option("#correlation-kind", "spearman")
    screenshot(page, tmp_path, "w3-supervisor-diagnostics")

    # What-if with points changed in place: the first two indicators of the draft swap
    # points; nothing is saved. What-if compares approved periods only.
    with app.app_context():
        approved_id = default_period("whatif").id
    page.goto(f"{url}/admin/weights/whatif?period={approved_id}&level=town&scheme={draft_id}")
    page.click("#points-in-place summary")
    first, second = (page.locator(f"#p_{code}") for code in codes[:2])
    a, b = first.input_value(), second.input_value()
    first.fill(b)
    second.fill(a)
    page.click("#points-in-place button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert f"{codes[0]} " in page.inner_text("#whatif-changed")
    assert page.locator("#whatif-table tbody tr").count() == 13
    assert_no_violations(page)
    screenshot(page, tmp_path, "w4-supervisor-whatif-in-place")
    with app.app_context():
        assert [str(p) for p in stored_points(draft_id, codes[:2])] == [a, b]

    # The ranking's interval run names the method choice that moves each town most.
    page.goto(f"{url}/admin/ranking/")
    page.check("#uncertainty")
    page.click("button:has-text('查看')")
    page.wait_for_load_state("networkidle")
    assert page.locator("#ranking-table td.method-choices").count() == 13
    assert "对" in page.inner_text("#method-choices li >> nth=0")
    screenshot(page, tmp_path, "w5-supervisor-interval-run-method-choices")


def stored_points(scheme_id: int, codes: list[str]) -> list[Decimal]:
    by_code = dict(
        db.session.execute(
            select(Indicator.code, Indicator.points).where(Indicator.scheme_id == scheme_id)
        ).all()
    )
    return [by_code[code] for code in codes]


@pytest.mark.parametrize(
    "path",
    ["/admin/weights/", "/admin/weights/ahp?dimension=", "/admin/weights/diagnostics",
     "/admin/weights/whatif", "/admin/weights/sensitivity"],
)  # fmt: skip
def test_weights_pages_have_no_wcag_violations(page, demo_server, path):
    draft_id, _ = _draft_copy(demo_server.app)
    login(page, demo_server, "admin")
    target = f"{path}&scheme={draft_id}" if "?" in path else path
    page.goto(f"{demo_server.url}{target}")
    page.wait_for_load_state("networkidle")
    if "ahp" in path:  # with a computed result on the page
        page.click("button[value=preview]")
        page.wait_for_load_state("networkidle")
    assert_no_violations(page)
