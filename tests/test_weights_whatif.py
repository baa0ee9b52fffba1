"""What-if (docs/weights.md#what-if): a period scored under another scheme version beside
its ranking as it stands, moves and the Spearman ρ worked out by hand; nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from evaluation.core.writing import SystemActor
from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.schemes import operations as schemes
from models import HistoryEvent, Indicator, Scheme, db
from tests.ledger_world import build_world, fill_towns, fill_villages, open_period

SETUP = SystemActor("test-setup")


def _version(points: dict[str, str]) -> int:
    """Copy T26 to a new draft version with these points."""
    draft = schemes.copy_scheme(
        SETUP, db.session.scalar(select(Scheme).where(Scheme.code == "T26")), "T26-v2"
    )
    for indicator in db.session.scalars(select(Indicator).where(Indicator.scheme_id == draft.id)):
        if indicator.code in points:
            records.update(SETUP, indicator, {"points": Decimal(points[indicator.code])})
    return draft.id


@pytest.fixture
def ledger(app):
    with app.app_context():
        world = build_world()
        period = open_period(world)
        fill_towns(world, period)
        fill_villages(world, period)
        periods.submit(world.user("assessor"), period)
        periods.approve(world.user("supervisor"), period)
        ids = {"period": period.id, "open": open_period(world, "2026Q2").id}
        db.session.remove()
    return ids


def test_a_heavier_e02_swaps_the_second_and_third_towns(app, client, auth, ledger):
    # Now: 曲溪 100, 云路 79, 玉滘 67 (ranks 1, 2, 3). With E01 1, E02 59, U01 10, U02 30:
    #   曲溪 1 + 59 + 10 + 30 = 100
    #   云路 0.8 (5.2/6.5) + 35.4 (59 × 0.6, lowest E02) + 8.5 (B) + 25.5 = 70.2
    #   玉滘 0.5 + 47.2 (59 × 0.8, E02 halfway) + 7 (C) + 20 = 74.7
    # New ranks 1, 3, 2: two towns move one place; ρ = 1 − 6 × 2 / (3 × 8) = 0.5.
    with app.app_context():
        scheme_id = _version({"E01": "1", "E02": "59", "U01": "10", "U02": "30"})
        seq = db.session.scalar(select(db.func.max(HistoryEvent.seq)))
    auth.login("supervisor")
    page = client.get(
        f"/admin/weights/whatif?period={ledger['period']}&level=town&scheme={scheme_id}"
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "3 个单位中 2 个名次变动，最大变动 1 位" in text and "ρ = 0.500" in text
    rows = text.split('id="whatif-table"')[1]
    assert rows.index("曲溪街道") < rows.index("玉滘镇") < rows.index("云路镇")
    assert "74.70" in rows and "70.20" in rows and "↑1" in rows and "↓1" in rows
    with app.app_context():  # nothing written
        assert db.session.scalar(select(db.func.max(HistoryEvent.seq))) == seq


def test_a_version_that_cannot_score_the_values_says_why(app, client, auth, ledger):
    # U02 is scored directly out of its points; 30 and 25.5 no longer fit in 10.
    with app.app_context():
        scheme_id = _version({"U02": "10", "U01": "50"})
    auth.login("admin")
    text = client.get(
        f"/admin/weights/whatif?period={ledger['period']}&level=town&scheme={scheme_id}"
    ).get_data(as_text=True)
    assert "须在 0 到 10 分之间" in text
    assert 'id="whatif-table"' not in text


def test_the_same_version_moves_nobody(app, client, auth, ledger):
    with app.app_context():
        scheme_id = db.session.scalar(select(Scheme.id).where(Scheme.code == "T26"))
    auth.login("assessor")
    text = client.get(
        f"/admin/weights/whatif?period={ledger['period']}&level=town&scheme={scheme_id}"
    ).get_data(as_text=True)
    assert "3 个单位中 0 个名次变动，最大变动 0 位" in text and "ρ = 1.000" in text


def test_the_reviewer_may_not_simulate(app, client, auth, ledger):
    auth.login("reviewer")
    assert client.get("/admin/weights/whatif").status_code == 403


def _t26() -> int:
    return db.session.scalar(select(Scheme.id).where(Scheme.code == "T26"))


def test_points_changed_in_place_give_the_same_answer_as_a_draft(app, client, auth, ledger):
    # The same points as the draft above (E01 1, E02 59, U01 10, U02 30), typed on the page
    # over T26's own (20, 20, 30, 30): the same moves and ρ, and nothing saved.
    with app.app_context():
        scheme_id, seq = _t26(), db.session.scalar(select(db.func.max(HistoryEvent.seq)))
    auth.login("auditor")
    query = f"period={ledger['period']}&level=town&scheme={scheme_id}"
    text = client.get(
        f"/admin/weights/whatif?{query}&p_E01=1&p_E02=59.00&p_U01=10&p_U02=30"
    ).get_data(as_text=True)
    assert "3 个单位中 2 个名次变动，最大变动 1 位" in text and "ρ = 0.500" in text
    rows = text.split('id="whatif-table"')[1]
    assert rows.index("曲溪街道") < rows.index("玉滘镇") < rows.index("云路镇")
    assert "74.70" in rows and "70.20" in rows
    changed = text.split('id="whatif-changed"')[1].split("</p>")[0]
    # U02 is typed as it stands: not a change.
    assert changed == ">改动的分值（未保存）：E01 20 → 1、E02 20 → 59、U01 30 → 10"
    assert 'id="p_E02" name="p_E02" value="59.00"' in text  # as typed
    assert 'id="p_U02" name="p_U02" value="30"' in text
    with app.app_context():
        assert db.session.scalar(select(db.func.max(HistoryEvent.seq))) == seq
        points = db.session.scalars(
            select(Indicator.points).where(Indicator.scheme_id == scheme_id)
        ).all()
        assert sorted(points) == [Decimal(20), Decimal(20), Decimal(30), Decimal(30)]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("p_E01=abc", "指标 E01 的分值“abc”不是数字"),
        ("p_E01=NaN", "指标 E01 的分值“NaN”不是数字"),
        ("p_E01=25", "合计"),  # 105 points in a scheme of 100
        ("p_E01=1.005&p_E02=38.995", "两位小数"),
    ],
)
def test_points_in_place_that_do_not_fit_are_refused_in_chinese(
    app, client, auth, ledger, typed, message
):
    with app.app_context():
        scheme_id = _t26()
    auth.login("supervisor")
    text = client.get(
        f"/admin/weights/whatif?period={ledger['period']}&level=town&scheme={scheme_id}&{typed}"
    ).get_data(as_text=True)
    alert = text.split('class="alert alert-warning"')[1].split("</div>")[0]
    assert message in alert
    assert 'id="whatif-table"' not in text


def test_only_approved_periods_are_offered(app, client, auth, ledger):
    """A what-if compares against a ranking that no longer moves: the open period is not
    offered, and a link to it falls back to the approved period, saying so."""
    with app.app_context():
        scheme_id = _version({})
    auth.login("supervisor")
    text = client.get(f"/admin/weights/whatif?level=town&scheme={scheme_id}").get_data(as_text=True)
    assert 'id="whatif-table"' in text
    assert f'value="{ledger["period"]}" selected' in _period_select(text)
    assert f'value="{ledger["open"]}"' not in _period_select(text)
    assert "只比较已审定的考核周期" not in text
    text = client.get(
        f"/admin/weights/whatif?period={ledger['open']}&level=town&scheme={scheme_id}"
    ).get_data(as_text=True)
    assert "只比较已审定的考核周期" in text
    assert f'value="{ledger["open"]}"' not in _period_select(text)
    assert 'id="whatif-table"' in text


def _period_select(html: str) -> str:
    return html.split('name="period"')[1].split("</select>")[0]
