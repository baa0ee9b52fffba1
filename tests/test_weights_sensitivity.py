"""Method sensitivity (docs/weights.md#method-sensitivity): ranks under the other method
choices, worked out by hand for the ledger world; nothing written."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from evaluation.scores import operations as ledger
from models import HistoryEvent, Period, db
from tests.ledger_world import build_world, fill_towns, open_period

YUJIAO = "445203101000"  # 玉滘镇


@pytest.fixture
def period_id(app):
    with app.app_context():
        world = build_world()
        period = open_period(world)
        fill_towns(world, period)
        ledger.add_adjustment(world.user("assessor"), period, world.unit(YUJIAO), "bonus",
                              Decimal(15), "省级表彰")  # fmt: skip
        found = period.id
        db.session.remove()
    return found


def test_lifting_the_bonus_cap_swaps_two_towns(app, client, auth, period_id):
    # As ranked: 曲溪 100, 云路 79, 玉滘 67 + 5 (bonus 15 capped at 5) = 72: ranks 1, 2, 3.
    # E01 (the one target indicator, 6.5) scored relatively instead: 6.5, 5.2, 3.25 give
    # 20, 12, 0 points: 100, 75, 62: no move.
    # No bonus cap: 玉滘 67 + 15 = 82 passes 云路's 79: 玉滘 2nd, 云路 3rd.
    with app.app_context():
        seq = db.session.scalar(select(db.func.max(HistoryEvent.seq)))
    auth.login("auditor")
    text = client.get(f"/admin/weights/sensitivity?period={period_id}").get_data(as_text=True)
    table = text.split('id="sensitivity-table"')[1]
    assert "E01 改为横向比较" in table and "取消加分上限" in table
    assert "目标完成率指标全部改为横向比较" not in table  # one target indicator only
    rows = [row for row in table.split("<tr>")[2:]]
    quxi, yunlu, yujiao = rows
    assert "曲溪街道" in quxi and "<td>—</td>" in quxi
    assert "云路镇" in yunlu and "2–3" in yunlu and "取消加分上限（↓1）" in yunlu
    assert "玉滘镇" in yujiao and "2–3" in yujiao and "取消加分上限（↑1）" in yujiao
    with app.app_context():
        assert db.session.scalar(select(db.func.max(HistoryEvent.seq))) == seq


def test_the_reviewer_may_not_see_it(app, client, auth):
    auth.login("reviewer")
    assert client.get("/admin/weights/sensitivity").status_code == 403


def _ranking(client, period_id: int, *, uncertainty: bool) -> str:
    code = db.session.get(Period, period_id).code
    query = f"period={code}" + ("&uncertainty=1" if uncertainty else "")
    return client.get(f"/admin/ranking/?{query}").get_data(as_text=True)


def test_the_ranking_page_s_interval_run_shows_the_method_choices(app, client, auth, period_id):
    # The same three towns as above, now where the weight-perturbation intervals are.
    auth.login("supervisor")
    with app.app_context():
        text = _ranking(client, period_id, uncertainty=True)
    table = text.split('id="ranking-table"')[1].split("</table>")[0]
    assert "排名区间" in table and "换计分口径" in table
    rows = {}
    for row in table.split("<tr data-unit=")[1:]:
        cell = row.split('class="text-center method-choices">')[1].split("</td>")[0]
        rows[row.split('"')[1]] = " ".join(cell.split())
    assert rows[YUJIAO] == '2–3 <br><span class="small">取消加分上限（↑1）</span>'
    assert sorted(rows.values()) == sorted([
        '1 <br><span class="small text-muted">名次不变</span>',
        '2–3 <br><span class="small">取消加分上限（↓1）</span>',
        '2–3 <br><span class="small">取消加分上限（↑1）</span>',
    ])  # fmt: skip
    below = text.split('id="method-choices"')[1].split("</div>")[0]
    # The choice that moves most towns is named first, with how far it moves them.
    first, second = (" ".join(li.split("</li>")[0].split()) for li in below.split("<li>")[1:])
    assert first == "取消加分上限：对 2 个单位影响最大，名次最多变动 1 位"
    assert second == "E01 改为横向比较：对 0 个单位影响最大，名次最多变动 0 位"
    assert f"/admin/weights/sensitivity?period={period_id}&amp;level=town" in below


def test_without_the_interval_run_the_ranking_page_tries_no_other_method(
    app, client, auth, period_id
):
    auth.login("auditor")
    with app.app_context():
        text = _ranking(client, period_id, uncertainty=False)
    assert "换计分口径" not in text and 'id="method-choices"' not in text


def test_the_interval_run_s_xlsx_holds_the_method_choices(app, client, auth, period_id):
    auth.login("supervisor")
    with app.app_context():
        code = db.session.get(Period, period_id).code
    data = client.get(f"/admin/ranking/export.xlsx?period={code}&uncertainty=1").data
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    header = [cell.value for cell in sheet[2]]
    assert header[-2:] == ["换计分口径名次范围", "影响最大的口径"]
    lines = {row[3]: row[-2:] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert lines == {
        "曲溪街道": ("1", "名次不变"),
        "云路镇": ("2–3", "取消加分上限（↓1）"),
        "玉滘镇": ("2–3", "取消加分上限（↑1）"),
    }
    plain = client.get(f"/admin/ranking/export.xlsx?period={code}").data
    assert "影响最大的口径" not in [c.value for c in load_workbook(io.BytesIO(plain)).active[2]]


def test_the_weights_pages_and_the_interval_run_speak_english_on_request(
    app, client, auth, period_id
):
    auth.login("supervisor")
    client.get("/lang/en")
    with app.app_context():
        code = db.session.get(Period, period_id).code
    pages = {
        "/admin/weights/": ("Where the points come from", "分值的来历"),
        f"/admin/weights/diagnostics?period={period_id}": (
            "What each indicator does", "各指标的作用"),
        f"/admin/weights/whatif?period={period_id}": (
            "What-if: the ranking under another scheme version", "调整模拟："),
        f"/admin/weights/sensitivity?period={period_id}": (
            "Method sensitivity: how far ranks move", "方法敏感性："),
        f"/admin/ranking/?period={code}&uncertainty=1": (
            "Method choices", "换计分口径"),
    }  # fmt: skip
    for url, (english, chinese) in pages.items():
        text = client.get(url).get_data(as_text=True)
        assert english in text and chinese not in text, url
    ranking = client.get(f"/admin/ranking/?period={code}&uncertainty=1").get_data(as_text=True)
    assert "Bonus cap lifted: moves 2 units most; largest move 1 places" in ranking
    assert "E01 scored relatively: moves 0 units most" in ranking
