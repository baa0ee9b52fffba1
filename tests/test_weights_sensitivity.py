"""Method sensitivity (docs/weights.md#method-sensitivity): ranks under the other method
choices, worked out by hand for the ledger world; nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from evaluation.scores import operations as ledger
from models import HistoryEvent, db
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
