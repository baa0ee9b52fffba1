"""Indicator diagnostics (docs/weights.md#diagnostics): correlations and their flags,
Cronbach's alpha, effective weights, leave-one-out rank change; the page for a period with
its entropy / CRITIC suggestions. Expected figures are worked out by hand in the comments."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from evaluation.scoring import ScoringError
from evaluation.scoring.diagnostics import diagnose, spearman
from tests.ledger_world import build_world, fill_towns, open_period

D = Decimal

# The ledger world's three towns in 2026Q3 (tests/ledger_world.py FULL_TOWN_VALUES) score:
#   E01 target 6.5, 20 points: 6.5 → 20, 5.2 → 16, 3.25 → 10
#   E02 relative, floor 0.6, 20 points: 10, 4, 7 → 20, 12, 16
#   U01 grade, 30 points: A, B, C → 30, 25.5, 21
#   U02 direct, 30 points: 30, 25.5, 20
# Totals 100, 79, 67.
POINTS = [[D(20), D(20), D(30), D(30)], [D(16), D(12), D("25.5"), D("25.5")],
          [D(10), D(16), D(21), D(20)]]  # fmt: skip
CODES = ["E01", "E02", "U01", "U02"]
DIMENSIONS = ["E", "E", "U", "U"]
NOMINAL = [D(20), D(20), D(30), D(30)]
TOTALS = [D(100), D(79), D(67)]


def _town_diagnostics():
    return diagnose(POINTS, CODES, DIMENSIONS, NOMINAL, TOTALS, [False] * 3)


def test_pearson_spearman_and_the_redundant_pair_by_hand():
    d = _town_diagnostics()
    # E01 centred (14/3, 2/3, −16/3), E02 centred (4, −4, 0): Σ = 16;
    # norms √(456/9) and √32: r = 16 / √(456/9 × 32) = 0.3974.
    assert d.pearson[0, 1] == pytest.approx(16 / np.sqrt(456 / 9 * 32))
    assert round(d.pearson[0, 1], 4) == 0.3974
    # Ranks E01 (1, 2, 3 from the top) and E02 (1, 3, 2): Σd² = 2, ρ = 1 − 6·2/(3·8) = 0.5.
    assert d.spearman[0, 1] == pytest.approx(0.5)
    # U01 (4.5, 0, −4.5) · U02 (29/6, 1/3, −31/6) = 45; norms √40.5, √(301/6): r = 0.9983.
    assert round(d.pearson[2, 3], 4) == 0.9983
    assert [(f.first, f.second, f.kind) for f in d.flags] == [(2, 3, "redundant")]
    # E01 with U02 is as close (0.998) but in another dimension: no flag.
    assert d.pearson[0, 3] > 0.9


def test_cronbach_alpha_by_hand():
    d = _town_diagnostics()
    # U: var U01 = 40.5/2 = 20.25, var U02 = (301/6)/2; sums 60, 51, 41 have variance
    # (542/3)/2; α = 2 × (1 − (20.25 + 301/12) / (271/3)).
    assert d.alpha["U"] == pytest.approx(2 * (1 - (20.25 + 301 / 12) / (271 / 3)))
    assert round(d.alpha["U"], 4) == 0.9963


def test_effective_weights_add_up_to_one_and_follow_the_spread():
    d = _town_diagnostics()
    assert sum(d.effective) == pytest.approx(1)
    assert d.nominal == pytest.approx((0.2, 0.2, 0.3, 0.3))
    # Two identical columns share the variance of their sum equally.
    twins = diagnose([[D(1), D(1)], [D(2), D(2)], [D(4), D(4)]], ["A", "B"], ["X", "X"],
                     [D(5), D(5)], [D(2), D(4), D(8)], [False] * 3)  # fmt: skip
    assert twins.effective == pytest.approx((0.5, 0.5))
    assert twins.pearson[0, 1] == pytest.approx(1) and twins.flags[0].kind == "redundant"


def test_leaving_one_out_moves_ranks_by_hand():
    # A (10, 0, 5) and B (0, 8, 4): totals 10, 8, 9 rank 1, 3, 2. Without A: 0, 8, 4 rank
    # 3, 1, 2 (moves 2, 2, 0: mean 4/3); without B: 10, 0, 5 rank 1, 3, 2 (no move).
    d = diagnose([[D(10), D(0)], [D(0), D(8)], [D(5), D(4)]], ["A", "B"], ["X", "Y"],
                 [D(10), D(10)], [D(10), D(8), D(9)], [False] * 3)  # fmt: skip
    assert d.rank_change == pytest.approx((4 / 3, 0))
    # A vetoed unit stays last whatever is left out.
    vetoed = diagnose([[D(10), D(0)], [D(0), D(8)], [D(5), D(4)]], ["A", "B"], ["X", "Y"],
                      [D(10), D(10)], [D(10), D(8), D(9)], [True, False, False])  # fmt: skip
    # Ranks 3, 2, 1 → without A 3, 1, 2 (moves 0, 1, 1); without B 3, 2, 1 (none).
    assert vetoed.rank_change == pytest.approx((2 / 3, 0))


def test_pulling_apart_within_a_dimension_is_flagged():
    d = diagnose([[D(1), D(3)], [D(2), D(2)], [D(3), D(2)]], ["A", "B"], ["X", "X"],
                 [D(5), D(5)], [D(4), D(4), D(5)], [False] * 3)  # fmt: skip
    assert [f.kind for f in d.flags] == ["opposed"] and d.flags[0].r < 0


def test_spearman_averages_tied_ranks():
    # Column (1, 1, 2) ranks (1.5, 1.5, 3); against (1, 2, 3) Pearson on ranks = √3/2.
    matrix = spearman(np.array([[1.0, 1.0], [1.0, 2.0], [2.0, 3.0]]))
    assert matrix[0, 1] == pytest.approx(np.sqrt(3) / 2)


def test_a_constant_indicator_has_no_correlation_and_no_flag():
    d = diagnose([[D(5), D(1)], [D(5), D(2)], [D(5), D(3)]], ["A", "B"], ["X", "X"],
                 [D(5), D(5)], [D(6), D(7), D(8)], [False] * 3)  # fmt: skip
    assert np.isnan(d.pearson[0, 1]) and d.flags == ()


def test_fewer_than_three_units_are_refused():
    with pytest.raises(ScoringError) as refused:
        diagnose(POINTS[:2], CODES, DIMENSIONS, NOMINAL, TOTALS[:2], [False] * 2)
    assert refused.value.problems[0].code == "diagnostics.too_few_units"


# --- the page -------------------------------------------------------------------------------


@pytest.fixture
def filled(app):
    from models import db

    with app.app_context():
        world = build_world()
        period = open_period(world)
        fill_towns(world, period)
        period_id = period.id
        db.session.remove()
    return period_id


def test_the_page_shows_the_flags_alpha_and_suggestions(app, client, auth, filled):
    auth.login("supervisor")
    page = client.get(f"/admin/weights/diagnostics?period={filled}&level=town")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "参与诊断的单位 3 个（数据完整）" in text
    assert (
        "可能重复计分" in text
        and "U01 农村人居环境整治 与 U02 典型村培育创建成效：r = 1.00" in text
    )
    assert 'U 城乡融合</td><td class="text-right">1.00</td>' in text  # U's alpha 0.9963
    assert 'id="diagnostics-data"' in text and "/admin/weights/static/diagnostics.js" in text
    # Entropy of E from the raw values: E01 (6.5, 5.2, 3.25) and E02 (10, 4, 7).
    shares = [np.array([6.5, 5.2, 3.25]) / 14.95, np.array([10, 4, 7]) / 21]
    d = [1 + (s * np.log(s)).sum() / np.log(3) for s in shares]
    entropy_e01 = d[0] / sum(d)
    assert f"{entropy_e01 * 100:.1f}%" in text
    script = client.get("/admin/weights/static/diagnostics.js")
    assert script.status_code == 200 and b"echarts" in script.data
    script.close()


def test_the_page_says_when_there_are_too_few_units(app, client, auth):
    from models import db

    with app.app_context():
        world = build_world()
        period = open_period(world)
        values = {"445203001000": {"E01": "6.5", "E02": "10", "U01": "A", "U02": "30"}}
        fill_towns(world, period, values)
        period_id = period.id
        db.session.remove()
    auth.login("admin")
    text = client.get(f"/admin/weights/diagnostics?period={period_id}").get_data(as_text=True)
    assert "至少需要 3 个数据完整的单位才能做指标诊断（现有 1 个）" in text


@pytest.mark.parametrize(("role", "status"), [("auditor", 200), ("reviewer", 403)])
def test_who_sees_the_diagnostics(app, client, auth, filled, role, status):
    auth.login(role)
    assert client.get(f"/admin/weights/diagnostics?period={filled}").status_code == status


def test_a_suggestion_that_cannot_be_computed_says_why(app, client, auth):
    from models import db
    from tests.ledger_world import FULL_TOWN_VALUES

    values = {code: dict(row) for code, row in FULL_TOWN_VALUES.items()}
    values["445203101000"]["E01"] = "-1"  # growth fell: no share of a total for entropy
    with app.app_context():
        world = build_world()
        period = open_period(world)
        fill_towns(world, period, values)
        period_id = period.id
        db.session.remove()
    auth.login("admin")
    text = client.get(f"/admin/weights/diagnostics?period={period_id}").get_data(as_text=True)
    assert "熵权法：指标 E01有负值 -1，不能计算熵权" in text
    assert "CRITIC 权重" in text and "熵权法：指标 U" not in text


def test_suggestions_may_pool_the_approved_periods_of_the_same_scheme(app, client, auth):
    from evaluation.periods import operations as periods
    from models import db

    with app.app_context():
        world = build_world()
        q2 = open_period(world, "2026Q2")
        fill_towns(world, q2)
        periods.submit(world.user("assessor"), q2)
        periods.approve(world.user("supervisor"), q2, override_reason="典型村下期补录")
        q3 = open_period(world)
        fill_towns(world, q3)
        period_id = q3.id
        db.session.remove()
    auth.login("admin")
    alone = client.get(f"/admin/weights/diagnostics?period={period_id}").get_data(as_text=True)
    assert "所用周期：2026Q3。" in alone and "数据完整的单位·周期 3 个" in alone
    text = client.get(f"/admin/weights/diagnostics?period={period_id}&pooled=1").get_data(
        as_text=True
    )
    assert "所用周期：2026Q3、2026Q2。" in text and "数据完整的单位·周期 6 个" in text
    # The same three towns twice: every share halves, e = (H + ln 2) / ln 6.
    shares = [np.array([6.5, 5.2, 3.25] * 2) / 29.9, np.array([10, 4, 7] * 2) / 42]
    d = [1 + (s * np.log(s)).sum() / np.log(6) for s in shares]
    assert f"{d[0] / sum(d) * 100:.1f}%" in text
