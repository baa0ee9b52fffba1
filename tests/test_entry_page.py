"""The score-entry page /admin/entry/ and its workflow panel (docs/rules.md#period-workflow,
docs/architecture.md#pages-and-doors)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from evaluation.core.writing import SystemActor
from evaluation.history import chain as history
from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.scores import operations as ledger
from models import (
    Adjustment,
    Dimension,
    HistoryEvent,
    Indicator,
    Period,
    RankingSnapshot,
    Scheme,
    Score,
    Unit,
    Veto,
    db,
)
from tests.conftest import user

SETUP = SystemActor("test-setup")
#: A second assessor at another desk, racing the page's user.
COLLEAGUE = SystemActor("colleague", role="assessor")

YUNLU = "445203100000"
YUJIAO = "445203101000"
XINTAO = "445203100201"
ENTRY = "/admin/entry/"


@pytest.fixture
def world(app):
    with app.app_context():
        build_world()
        db.session.remove()
    return app


def build_world() -> None:
    """Town scheme T (E01 direct 40, E02 target 30 of 100 %, U01 grade 30), village scheme V
    (V01 direct 100), two towns, one typical village, period 2026Q3 in draft."""
    d = Decimal
    town = records.create(SETUP, Scheme, {"code": "T", "name": "镇街方案", "level": "town"})
    economy = records.create(
        SETUP, Dimension, {"scheme": town, "code": "E", "name": "镇域经济发展", "order": 1}
    )
    rural = records.create(
        SETUP, Dimension, {"scheme": town, "code": "U", "name": "城乡融合", "order": 2}
    )
    for order, fields in enumerate(
        [
            {"dimension": economy, "code": "E01", "name": "项目推进", "points": d(40),
             "method": "direct", "rule_text": "按推进情况直接打分，最高 40 分"},
            {"dimension": economy, "code": "E02", "name": "投资完成率", "points": d(30),
             "method": "target", "target": d(100), "measure_unit": "%"},
            {"dimension": rural, "code": "U01", "name": "人居环境整治", "points": d(30),
             "method": "grade"},
        ],
        start=1,
    ):
        records.create(SETUP, Indicator, {"scheme": town, "order": order, **fields})
    village = records.create(
        SETUP, Scheme, {"code": "V", "name": "村级方案", "level": "village"}
    )
    village_dimension = records.create(
        SETUP, Dimension, {"scheme": village, "code": "V", "name": "村级发展", "order": 1}
    )
    records.create(
        SETUP,
        Indicator,
        {"scheme": village, "dimension": village_dimension, "code": "V01",
         "name": "集体经济收入", "points": d(100), "method": "direct", "order": 1},
    )
    towns = {}
    for order, (code, name) in enumerate([(YUNLU, "云路镇"), (YUJIAO, "玉滘镇")], start=1):
        towns[code] = records.create(
            SETUP,
            Unit,
            {"code": code, "name": name, "level": "town", "kind": "镇", "sort_order": order},
        )
    records.create(
        SETUP,
        Unit,
        {"code": XINTAO, "name": "新桃村", "level": "village", "kind": "村",
         "parent": towns[YUNLU], "typical_batch": 1},
    )
    records.create(
        SETUP,
        Period,
        {"code": "2026Q3", "name": "2026年第三季度", "start_date": date(2026, 7, 1),
         "end_date": date(2026, 9, 30), "town_scheme": town, "village_scheme": village},
    )


def period() -> Period:
    return db.session.scalar(db.select(Period).where(Period.code == "2026Q3"))


def unit(code: str) -> Unit:
    return db.session.scalar(db.select(Unit).where(Unit.code == code))


def indicator(code: str) -> Indicator:
    return db.session.scalar(db.select(Indicator).where(Indicator.code == code))


def stored(unit_code: str, indicator_code: str) -> Score | None:
    db.session.expire_all()
    return db.session.scalar(
        db.select(Score)
        .join(Unit, Unit.id == Score.unit_id)
        .join(Indicator, Indicator.id == Score.indicator_id)
        .where(Unit.code == unit_code, Indicator.code == indicator_code)
    )


def event_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(HistoryEvent))


def open_period(app) -> None:
    with app.app_context():
        periods.open_period(SETUP, period())
        db.session.remove()


def fill_towns(app, actor=COLLEAGUE) -> None:
    with app.app_context():
        for code in (YUNLU, YUJIAO):
            for ind, value in (("E01", "30"), ("E02", "90"), ("U01", "B")):
                ledger.set_score(actor, period(), unit(code), indicator(ind), value, version=None)
        db.session.remove()


def cell(index: int, unit_code: str, indicator_code: str, value: str, *, version=None,
         orig_value: str = "", note: str = "", orig_note: str = "") -> dict:
    prefix = f"cells-{index}-"
    return {
        prefix + "unit": unit_code,
        prefix + "indicator": indicator_code,
        prefix + "value": value,
        prefix + "note": note,
        prefix + "version": "" if version is None else str(version),
        prefix + "orig_value": orig_value,
        prefix + "orig_note": orig_note,
    }


def grid(*cells: dict, unit_code: str = YUNLU) -> dict:
    data = {"period": "2026Q3", "level": "town", "unit": unit_code}
    for one in cells:
        data.update(one)
    return data


def row_html(page: str, unit_code: str, indicator_code: str) -> str:
    """Return the HTML of one grid row (``<tr id="cell-…">`` … ``</tr>``)."""
    match = re.search(
        rf'<tr id="cell-{unit_code}-{indicator_code}".*?</tr>', page, flags=re.DOTALL
    )
    assert match, f"no row for {unit_code}/{indicator_code}"
    return match.group(0)


# --------------------------------------------------------------------------- access


def test_assessor_gets_an_editable_grid_grouped_by_dimension(world, client, auth):
    open_period(world)
    auth.login("assessor")
    page = client.get(ENTRY, query_string={"unit": YUNLU}).get_data(as_text=True)
    assert "2026年第三季度" in page and "填报中" in page
    table = page[page.index('id="entry-grid"'):]
    assert table.index("镇域经济发展") < table.index("E01") < table.index("城乡融合")
    e01 = row_html(page, YUNLU, "E01")
    assert 'name="cells-0-value"' in e01 and "disabled" not in e01
    assert 'step="0.01"' in e01 and 'max="40"' in e01
    assert "直接打分" in e01 and "按推进情况直接打分" in e01
    e02 = row_html(page, YUNLU, "E02")
    assert "目标完成率" in e02 and "%" in e02
    u01 = row_html(page, YUNLU, "U01")
    assert "<select" in u01 and 'value="A"' in u01 and 'value="差"' in u01
    assert "已录入 0 / 应录入 6 项" in page
    assert 'id="entry-save"' in page


def test_auditor_reads_without_inputs(world, client, auth):
    open_period(world)
    fill_towns(world)
    auth.login("auditor")
    response = client.get(ENTRY, query_string={"unit": YUNLU})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "cells-0-value" not in page and 'id="entry-save"' not in page
    assert "只能查看" in page
    assert "30" in row_html(page, YUNLU, "E01")
    assert "提交审核" not in page


def test_reviewer_is_refused_and_anonymous_goes_to_login(world, client, auth):
    response = client.get(ENTRY)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth.login("reviewer")
    assert client.get(ENTRY).status_code == 403
    assert client.post(ENTRY + "save", data=grid(cell(0, YUNLU, "E01", "5"))).status_code == 403


def test_overview_defaults_to_the_open_period_and_links_both_ways(world, client, auth):
    open_period(world)
    auth.login("assessor")
    page = client.get(ENTRY).get_data(as_text=True)
    assert "各镇街填报进度" in page and "各指标填报进度" in page
    assert f"unit={YUNLU}" in page and "indicator=E02" in page


def test_by_indicator_lists_every_town(world, client, auth):
    open_period(world)
    auth.login("assessor")
    page = client.get(ENTRY, query_string={"indicator": "E02"}).get_data(as_text=True)
    assert "云路镇" in page and "玉滘镇" in page
    assert row_html(page, YUNLU, "E02") and row_html(page, YUJIAO, "E02")
    assert "新桃村" not in page


def test_village_level_enters_typical_villages_on_the_village_scheme(world, client, auth):
    open_period(world)
    auth.login("assessor")
    page = client.get(ENTRY, query_string={"level": "village", "unit": XINTAO}).get_data(
        as_text=True
    )
    assert "村级方案" in page and row_html(page, XINTAO, "V01")
    response = client.post(
        ENTRY + "save",
        data={"period": "2026Q3", "level": "village", "unit": XINTAO,
              **cell(0, XINTAO, "V01", "88")},
    )
    assert response.status_code == 302
    with world.app_context():
        assert stored(XINTAO, "V01").value == "88"


# --------------------------------------------------------------------------- saving


def test_saving_the_grid_stores_values_and_shows_the_engines_points(world, client, auth):
    open_period(world)
    auth.login("assessor")
    response = client.post(
        ENTRY + "save",
        data=grid(
            cell(0, YUNLU, "E01", "35", note="现场核查"),
            cell(1, YUNLU, "E02", "80"),
            cell(2, YUNLU, "U01", "B"),
        ),
    )
    assert response.status_code == 302
    with world.app_context():
        assert stored(YUNLU, "E01").value == "35"
        assert stored(YUNLU, "E01").note == "现场核查"
        assert stored(YUNLU, "E02").value == "80"
        assert stored(YUNLU, "U01").value == "B"
        assert stored(YUNLU, "E01").entered_by == "assessor"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已保存 3 项" in page
    assert "35.00" in row_html(page, YUNLU, "E01")  # direct
    assert "24.00" in row_html(page, YUNLU, "E02")  # 30 × 80/100
    assert "25.50" in row_html(page, YUNLU, "U01")  # 30 × 0.85
    assert "测试考核组成员" in row_html(page, YUNLU, "E01")
    assert 'name="cells-0-version" value="1"' in page
    assert "总分 <strong class=\"num\">84.50</strong>" in page


def test_unchanged_cells_write_nothing(world, client, auth):
    open_period(world)
    fill_towns(world)
    auth.login("assessor")
    with world.app_context():
        before = event_count()
    response = client.post(
        ENTRY + "save",
        data=grid(cell(0, YUNLU, "E01", "30.0", version=1, orig_value="30")),
        follow_redirects=True,
    )
    assert "没有需要保存的修改" in response.get_data(as_text=True)
    with world.app_context():
        assert event_count() == before


def test_a_stale_version_shows_the_conflict_and_overwrites_nothing(world, client, auth):
    open_period(world)
    auth.login("assessor")
    with world.app_context():
        ledger.set_score(COLLEAGUE, period(), unit(YUNLU), indicator("E01"), "20", version=None)
        db.session.remove()
    # The page was drawn with version 1 (value 20); meanwhile the colleague saves 25.
    with world.app_context():
        ledger.set_score(COLLEAGUE, period(), unit(YUNLU), indicator("E01"), "25", version=1)
        db.session.remove()
    response = client.post(
        ENTRY + "save",
        data=grid(
            cell(0, YUNLU, "E01", "38", version=1, orig_value="20"),
            cell(1, YUNLU, "E02", "50"),
        ),
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    e01 = row_html(page, YUNLU, "E01")
    assert 'data-status="conflict"' in e01
    assert "colleague" in e01 and "改为 25" in e01 and "38" in e01
    assert 'value="25"' in e01 and 'name="cells-0-version" value="2"' in e01
    assert 'data-status="saved"' in row_html(page, YUNLU, "E02")
    assert "1 项已被他人修改" in page and "已保存 1 项" in page
    with world.app_context():
        assert stored(YUNLU, "E01").value == "25"
        assert stored(YUNLU, "E01").entered_by == "colleague"
        assert stored(YUNLU, "E02").value == "50"


def test_a_value_created_meanwhile_is_a_conflict_too(world, client, auth):
    open_period(world)
    auth.login("assessor")
    with world.app_context():
        ledger.set_score(COLLEAGUE, period(), unit(YUNLU), indicator("U01"), "A", version=None)
        db.session.remove()
    response = client.post(ENTRY + "save", data=grid(cell(0, YUNLU, "U01", "C")))
    assert response.status_code == 409
    assert "colleague" in row_html(response.get_data(as_text=True), YUNLU, "U01")
    with world.app_context():
        assert stored(YUNLU, "U01").value == "A"


def test_bad_values_are_reported_on_their_cells(world, client, auth):
    open_period(world)
    auth.login("assessor")
    response = client.post(
        ENTRY + "save",
        data=grid(
            cell(0, YUNLU, "E01", "50"),
            cell(1, YUNLU, "E02", "很多"),
            cell(2, YUNLU, "U01", "Z"),
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    e01 = row_html(page, YUNLU, "E01")
    assert 'data-status="invalid"' in e01 and "须在 0 至 40 分之间" in e01
    assert 'value="50"' in e01  # what the user typed stays for correction
    assert "须为数字" in row_html(page, YUNLU, "E02")
    u01 = row_html(page, YUNLU, "U01")
    assert "等次之一" in u01 and "您填写的：Z" in u01
    assert "3 项数值有误" in page
    with world.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Score)) == 0


def test_clearing_a_cell_asks_for_a_reason_and_records_it(world, client, auth):
    open_period(world)
    fill_towns(world)
    auth.login("assessor")
    with world.app_context():
        before = event_count()
    page = client.get(ENTRY, query_string={"unit": YUNLU}).get_data(as_text=True)
    assert 'name="clear_reason"' in page and "清除理由" in page
    # Without a reason (a blank one too) the saved value stays and nothing is recorded.
    for reason in (None, "   "):
        data = grid(cell(0, YUNLU, "E02", "", version=1, orig_value="90"))
        if reason is not None:
            data["clear_reason"] = reason
        refused = client.post(ENTRY + "save", data=data)
        assert refused.status_code == 422
        refused_row = row_html(refused.get_data(as_text=True), YUNLU, "E02")
        assert "清除已保存的数值须填写理由" in refused_row
        with world.app_context():
            assert stored(YUNLU, "E02").value == "90"
            assert event_count() == before
    response = client.post(
        ENTRY + "save",
        data={**grid(cell(0, YUNLU, "E02", "", version=1, orig_value="90")),
              "clear_reason": " 统计口径调整，待重新核实 "},
    )
    assert response.status_code == 302
    with world.app_context():
        assert stored(YUNLU, "E02") is None
        event = history.event_dict(
            db.session.scalar(db.select(HistoryEvent).order_by(HistoryEvent.seq.desc()).limit(1))
        )
        assert (event["action"], event["entity_key"], event["reason"]) == (
            "score.clear", f"{YUNLU}/E02", "统计口径调整，待重新核实",
        )
        assert event["before"] == {"value": "90", "note": ""}


def test_entry_script_asks_to_confirm_a_clear_and_for_its_reason():
    """The page's script prompts (in Chinese) before a save that clears saved values."""
    from pathlib import Path

    script = (Path(__file__).resolve().parent.parent / "evaluation/static/entry.js").read_text(
        encoding="utf-8"
    )
    assert "window.prompt(" in script and "确认清除请填写理由" in script
    assert 'getElementById("entry-clear-reason")' in script


@pytest.mark.parametrize("status", ["submitted", "approved"])
def test_a_direct_post_outside_open_changes_nothing(world, client, auth, status):
    open_period(world)
    fill_towns(world)
    with world.app_context():
        periods.submit(user("assessor"), period())
        if status == "approved":
            periods.approve(user("supervisor"), period(), override_reason="村级数据另行报送")
        before = event_count()
        veto_count = db.session.scalar(db.select(db.func.count()).select_from(Veto))
        db.session.remove()
    auth.login("assessor")
    page = client.get(ENTRY, query_string={"unit": YUNLU}).get_data(as_text=True)
    assert "输入框已停用" in page
    assert "disabled" in row_html(page, YUNLU, "E01") and 'id="entry-save"' not in page
    response = client.post(
        ENTRY + "save", data=grid(cell(0, YUNLU, "E01", "1", version=1, orig_value="30"))
    )
    assert response.status_code == 403
    assert "只有填报中的周期才能修改" in row_html(response.get_data(as_text=True), YUNLU, "E01")
    client.post(
        ENTRY + "adjustment",
        data={"period": "2026Q3", "level": "town", "unit": YUNLU, "kind": "bonus",
              "points": "1", "reason": "表彰"},
    )
    client.post(ENTRY + "veto", data={"period": "2026Q3", "level": "town", "unit": YUNLU,
                                      "reason": "安全事故"})
    with world.app_context():
        assert stored(YUNLU, "E01").value == "30"
        assert event_count() == before
        assert db.session.scalar(db.select(db.func.count()).select_from(Adjustment)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(Veto)) == veto_count


def test_the_auditors_direct_post_is_refused_by_the_service(world, client, auth):
    open_period(world)
    auth.login("auditor")
    response = client.post(ENTRY + "save", data=grid(cell(0, YUNLU, "E01", "5")))
    assert response.status_code == 403
    assert "无权执行此操作" in response.get_data(as_text=True)
    with world.app_context():
        assert stored(YUNLU, "E01") is None


# ---------------------------------------------------------------- bonus, penalty, veto


def test_adjustments_need_a_reason_to_be_added_and_removed(world, client, auth):
    open_period(world)
    auth.login("assessor")
    target = {"period": "2026Q3", "level": "town", "unit": YUNLU}
    page = client.post(
        ENTRY + "adjustment", data={**target, "kind": "bonus", "points": "2", "reason": " "},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "加减分未添加" in page and "请填写理由" in page
    page = client.post(
        ENTRY + "adjustment",
        data={**target, "kind": "penalty", "points": "0", "reason": "信访"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "分值须大于 0" in page
    with world.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Adjustment)) == 0
    page = client.post(
        ENTRY + "adjustment",
        data={**target, "kind": "bonus", "points": "2.5", "reason": "获省级表彰"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "已为云路镇添加加分 2.5 分" in page
    adjustments = page[page.index('id="entry-adjustments"'):]
    assert "获省级表彰" in adjustments and "2.5" in adjustments
    assert "加分 2.50" in page  # the engine's bonus in the unit's result
    with world.app_context():
        adjustment_id = db.session.scalar(db.select(Adjustment.id))
    client.post(ENTRY + f"adjustment/{adjustment_id}/remove", data={"reason": ""})
    with world.app_context():
        assert db.session.get(Adjustment, adjustment_id) is not None
    page = client.post(
        ENTRY + f"adjustment/{adjustment_id}/remove", data={"reason": "重复录入"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "已删除该加减分项" in page
    with world.app_context():
        assert db.session.get(Adjustment, adjustment_id) is None
        event = db.session.scalar(db.select(HistoryEvent).order_by(HistoryEvent.seq.desc()))
        assert event.action == "adjustment.remove" and event.reason == "重复录入"


def test_vetoes_need_a_reason_to_be_set_and_lifted(world, client, auth):
    open_period(world)
    auth.login("assessor")
    target = {"period": "2026Q3", "level": "town", "unit": YUNLU}
    page = client.post(ENTRY + "veto", data={**target, "reason": ""}, follow_redirects=True)
    assert "一票否决未登记" in page.get_data(as_text=True)
    with world.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Veto)) == 0
    page = client.post(
        ENTRY + "veto", data={**target, "reason": "发生较大安全生产事故"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "已否决" in page and "发生较大安全生产事故" in page
    with world.app_context():
        veto_id = db.session.scalar(db.select(Veto.id))
    client.post(ENTRY + f"veto/{veto_id}/remove", data={"reason": "  "})
    with world.app_context():
        assert db.session.get(Veto, veto_id) is not None
    client.post(ENTRY + f"veto/{veto_id}/remove", data={"reason": "经复核不属实"})
    with world.app_context():
        assert db.session.get(Veto, veto_id) is None


# ------------------------------------------------------------------------- workflow


def status() -> str:
    db.session.expire_all()
    return period().status


def test_the_workflow_buttons_drive_a_period_from_draft_to_reopened(world, client, auth):
    workflow = ENTRY + "workflow/"
    where = {"period": "2026Q3", "level": "town"}

    auth.login("assessor")
    page = client.get(ENTRY).get_data(as_text=True)
    assert "草稿" in page and "workflow-open" not in page  # assessors do not open periods
    auth.logout()

    auth.login("admin")
    assert "workflow-open" in client.get(ENTRY).get_data(as_text=True)
    response = client.post(workflow + "open", data=where)
    assert response.status_code == 302
    assert "已开启填报" in client.get(response.headers["Location"]).get_data(as_text=True)
    with world.app_context():
        assert status() == "open"
    auth.logout()

    auth.login("assessor")
    assert "提交审核" in client.get(ENTRY).get_data(as_text=True)
    response = client.post(workflow + "submit", data=where)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "未能提交审核" in page and "还有 6 项镇街数值未填报" in page
    assert "云路镇" in page and "E02" in page and "投资完成率" in page
    with world.app_context():
        assert status() == "open"
    fill_towns(world)
    response = client.post(workflow + "submit", data=where)
    assert response.status_code == 302
    with world.app_context():
        assert status() == "submitted"
    auth.logout()

    auth.login("supervisor")
    page = client.get(ENTRY).get_data(as_text=True)
    assert "已提交" in page and "退回" in page and "审定并锁定" in page
    assert "提交：测试考核组成员" in page
    response = client.post(workflow + "return", data={**where, "reason": ""})
    assert response.status_code == 422 and "请填写理由" in response.get_data(as_text=True)
    with world.app_context():
        assert status() == "submitted"
    client.post(workflow + "return", data={**where, "reason": "E01 佐证材料不全"})
    with world.app_context():
        assert status() == "open"
    auth.logout()

    auth.login("assessor")
    client.post(workflow + "submit", data=where)
    auth.logout()

    auth.login("supervisor")
    page = client.get(ENTRY).get_data(as_text=True)
    # The typical village has no value: the approve form asks for an override reason.
    assert "本期有 1 个单位数据不全，审定须填写审定说明" in page
    assert "新桃村（缺 V01）" in page  # which unit, before the supervisor tries
    assert 'name="override_reason"' in page
    response = client.post(workflow + "approve", data=where)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "还有 1 个单位数据不全（共缺 1 项），不能审定" in page
    # Rendered from the service's data: the village, its level and the indicator's name.
    assert re.search(r'<li data-unit="445203100201">典型村 <a href="[^"]*level=village[^"]*">'
                     r"新桃村</a>（缺 1 项）：V01 集体经济收入</li>", page)
    with world.app_context():
        assert status() == "submitted"
    response = client.post(workflow + "approve", data={**where, "override_reason": "  "})
    assert response.status_code == 422
    response = client.post(
        workflow + "approve", data={**where, "override_reason": "新桃村数据延期报送"}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    with world.app_context():
        assert status() == "approved"
        town_hash = db.session.scalar(
            db.select(RankingSnapshot.sha256).where(RankingSnapshot.level == "town")
        )
        approval = db.session.scalar(
            db.select(HistoryEvent).where(HistoryEvent.action == "period.approve")
        )
        assert approval.reason == "新桃村数据延期报送"
    assert "已审定" in page and town_hash in page and "审定：测试督导审核" in page
    assert "输入框已停用" not in page  # a supervisor never had inputs
    auth.logout()

    auth.login("admin")
    page = client.get(ENTRY).get_data(as_text=True)
    assert "重新开启" in page
    response = client.post(workflow + "reopen", data=where)
    assert response.status_code == 422
    with world.app_context():
        assert status() == "approved"
    response = client.post(workflow + "reopen", data={**where, "reason": "更正 E02 数据"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "填报中" in page and "已作废的历史快照" in page and town_hash in page
    with world.app_context():
        assert status() == "open"
        actions = list(
            db.session.scalars(
                db.select(HistoryEvent.action)
                .where(HistoryEvent.entity == "period")
                .order_by(HistoryEvent.seq)
            )
        )
    assert actions[-6:] == [
        "period.open", "period.submit", "period.return", "period.submit", "period.approve",
        "period.reopen",
    ]


def test_workflow_buttons_follow_role_and_state(world, client, auth):
    open_period(world)
    auth.login("supervisor")
    page = client.get(ENTRY).get_data(as_text=True)
    assert "审定并锁定" not in page and "提交审核" not in page  # nothing to approve yet
    response = client.post(ENTRY + "workflow/approve", data={"period": "2026Q3"})
    assert response.status_code == 403 and "未能审定并锁定" in response.get_data(as_text=True)
    auth.logout()
    auth.login("auditor")
    response = client.post(ENTRY + "workflow/submit", data={"period": "2026Q3"})
    assert response.status_code == 403
    with world.app_context():
        assert status() == "open"


def test_forms_carry_the_csrf_token_and_a_post_without_it_is_refused(world, client, auth):
    open_period(world)
    auth.login("assessor")
    world.config["WTF_CSRF_ENABLED"] = True
    page = client.get(ENTRY, query_string={"unit": YUNLU}).get_data(as_text=True)
    forms = re.findall(r'<form method="post".*?</form>', page, flags=re.DOTALL)
    assert len(forms) >= 4 and all('name="csrf_token"' in form for form in forms)
    response = client.post(ENTRY + "save", data=grid(cell(0, YUNLU, "E01", "5")))
    assert response.status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        ENTRY + "save", data={**grid(cell(0, YUNLU, "E01", "5")), "csrf_token": token}
    )
    assert response.status_code == 302
    with world.app_context():
        assert stored(YUNLU, "E01").value == "5"


def test_without_periods_the_page_says_so_and_unknown_codes_are_404(app, client, auth):
    auth.login("assessor")
    page = client.get(ENTRY).get_data(as_text=True)
    assert "还没有考核周期" in page
    assert client.get(ENTRY, query_string={"period": "1999Q1"}).status_code == 404


def test_unknown_unit_or_indicator_is_404(world, client, auth):
    auth.login("assessor")
    assert client.get(ENTRY, query_string={"unit": "999999999999"}).status_code == 404
    assert client.get(ENTRY, query_string={"indicator": "Z99"}).status_code == 404
    # a village is not a town: the town level does not show it
    assert client.get(ENTRY, query_string={"unit": XINTAO}).status_code == 404


def test_by_indicator_pages_through_many_units(world, client, auth, monkeypatch):
    from evaluation.scores import entry_view

    monkeypatch.setattr(entry_view, "UNITS_PER_PAGE", 1)
    open_period(world)
    auth.login("assessor")
    first = client.get(ENTRY, query_string={"indicator": "E01"}).get_data(as_text=True)
    assert f'id="cell-{YUNLU}-E01"' in first and f'id="cell-{YUJIAO}-E01"' not in first
    second = client.get(ENTRY, query_string={"indicator": "E01", "page": 2}).get_data(
        as_text=True
    )
    assert f'id="cell-{YUJIAO}-E01"' in second and f'id="cell-{YUNLU}-E01"' not in second
    response = client.post(
        ENTRY + "save",
        data={"period": "2026Q3", "level": "town", "indicator": "E01", "page": "2",
              **cell(0, YUJIAO, "E01", "12")},
    )
    assert response.status_code == 302 and "page=2" in response.headers["Location"]


def test_clearing_with_a_stale_version_is_a_conflict(world, client, auth):
    open_period(world)
    fill_towns(world)
    with world.app_context():
        ledger.set_score(COLLEAGUE, period(), unit(YUNLU), indicator("E01"), "31", version=1)
        db.session.remove()
    auth.login("assessor")
    response = client.post(
        ENTRY + "save", data=grid(cell(0, YUNLU, "E01", "", version=1, orig_value="30"))
    )
    assert response.status_code == 409
    assert "改为 31" in row_html(response.get_data(as_text=True), YUNLU, "E01")
    with world.app_context():
        assert stored(YUNLU, "E01").value == "31"


def test_the_approval_note_is_checked_and_gives_no_other_role_the_right(world, client, auth):
    open_period(world)
    fill_towns(world)
    with world.app_context():
        periods.submit(user("assessor"), period())
        db.session.remove()
    approve = ENTRY + "workflow/approve"
    where = {"period": "2026Q3", "level": "town"}
    auth.login("admin")
    response = client.post(approve, data={**where, "override_reason": "先行审定"})
    assert response.status_code == 403 and "未能审定并锁定" in response.get_data(as_text=True)
    auth.logout()
    auth.login("supervisor")
    response = client.post(approve, data={**where, "override_reason": "长" * 1001})
    assert response.status_code == 422
    assert "未能审定并锁定：审定说明：审定说明不超过 1000 字" in response.get_data(as_text=True)
    with world.app_context():
        assert status() == "submitted"
        assert not db.session.scalar(
            db.select(HistoryEvent).where(HistoryEvent.action == "period.approve")
        )


def test_values_outside_the_indicator_rule_are_refused_on_the_page(world, client, auth):
    with world.app_context():
        records.update(
            SETUP, indicator("E02"), {"value_min": Decimal(0), "value_max": Decimal(100)}
        )
        db.session.remove()
    open_period(world)
    fill_towns(world)
    auth.login("assessor")
    page = client.get(ENTRY, query_string={"unit": YUNLU}).get_data(as_text=True)
    assert "允许填写 0 至 100（%）" in row_html(page, YUNLU, "E02")
    with world.app_context():
        before = event_count()
    for typed, message in [
        ("150", "「E02 投资完成率」的数值须在 0 至 100 之间（%），收到 150"),
        ("1e3", "「E02 投资完成率」的数值须写成普通数字（如 1000），不接受科学计数法，收到 1e3"),
        ("9e1", "「E02 投资完成率」的数值须写成普通数字（如 1000），不接受科学计数法，收到 9e1"),
    ]:
        response = client.post(
            ENTRY + "save", data=grid(cell(0, YUNLU, "E02", typed, version=1, orig_value="90"))
        )
        assert response.status_code == 422, typed
        assert message in row_html(response.get_data(as_text=True), YUNLU, "E02")
    with world.app_context():
        assert stored(YUNLU, "E02").value == "90"
        assert event_count() == before
