"""公示, 异议 and the approval guard (docs/publication.md), through the operations and the
API: windows, objections (once per item, only one's own town, only while open),
answers (one wins), approval refused while due process is pending unless overridden."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from evaluation.accounts import operations as accounts
from evaluation.core.writing import Conflict, Forbidden, InvalidInput, NotFound, StateError
from evaluation.periods import operations as periods
from evaluation.publication import operations as publication
from evaluation.ranking import reading
from models import HistoryEvent, db
from tests.ledger_world import SETUP, build_world, fill_towns, fill_villages, open_period

YUNLU = "445203100000"
QUXI = "445203001000"


@pytest.fixture
def world(ctx):
    world = build_world()
    period = open_period(world)
    fill_towns(world, period)
    fill_villages(world, period)
    periods.submit(world.user("assessor"), period)
    return world


def days(n: int):
    return publication.today() + timedelta(days=n)


def last(action: str) -> HistoryEvent:
    return db.session.scalar(
        db.select(HistoryEvent)
        .where(HistoryEvent.action == action)
        .order_by(HistoryEvent.seq.desc())
        .limit(1)
    )


def test_a_window_is_set_on_a_submitted_period_by_a_supervisor(world):
    period = world.period()
    row = publication.open_window(world.user("supervisor"), period, days(0), days(4), True)
    window = publication.window_of(row)
    assert (window.state, window.days_left) == ("open", 5)
    assert json.loads(last("publication.open").after) == {
        "start": days(0).isoformat(), "end": days(4).isoformat(), "show_ranking": True,
    }  # fmt: skip
    # setting it again changes it
    publication.open_window(world.user("supervisor"), period, days(0), days(2), False)
    assert publication.window_of(publication.current_window(period)).days_left == 3
    assert last("publication.change") is not None
    with pytest.raises(InvalidInput):
        publication.open_window(world.user("supervisor"), period, days(3), days(1), False)
    # an open (not submitted) period has no 公示
    with pytest.raises(StateError):
        publication.open_window(world.user("supervisor"), world.period("2026Q2"), days(0),
                                days(1), False)  # fmt: skip


def test_approval_is_refused_while_the_window_is_open_unless_overridden(world):
    period = world.period()
    publication.open_window(world.user("supervisor"), period, days(0), days(4), False)
    with pytest.raises(Conflict) as refused:
        periods.approve(world.user("supervisor"), period)
    assert "公示期未结束" in refused.value.message
    assert period.status == "submitted"
    periods.approve(world.user("supervisor"), period, override_reason="区委常委会要求提前审定")
    event = last("period.approve")
    assert event.reason == "区委常委会要求提前审定"
    assert json.loads(event.after)["overridden"] == [f"公示期未结束（{days(0)} 至 {days(4)}）"]


def test_approval_after_a_closed_window_needs_no_override(world):
    period = world.period()
    publication.open_window(world.user("supervisor"), period, days(-6), days(-1), False)
    assert publication.approval_blockers(period) == []
    periods.approve(world.user("supervisor"), period)
    assert period.status == "approved"


# --- the workflow over the API ---------------------------------------------------------------


@pytest.fixture
def api(app):
    with app.app_context():
        world = build_world()
        period = open_period(world)
        fill_towns(world, period)
        fill_villages(world, period)
        tokens = {
            role: accounts.create_token(SETUP, world.user(role))
            for role in ("admin", "assessor", "supervisor", "auditor")
        }
        db.session.remove()
    client = app.test_client()

    def call(role, path, body=None, method="post"):
        return getattr(client, method)(
            f"/api/v1/{path}", json=body, headers={"Authorization": f"Bearer {tokens[role]}"}
        )

    return call


def test_the_workflow_over_the_api(api):
    # submit: the assessor's; the supervisor is refused 403
    assert api("supervisor", "periods/2026Q3/workflow/submit", {}).status_code == 403
    answer = api("assessor", "periods/2026Q3/workflow/submit", {})
    assert (answer.status_code, answer.json["status"]) == (200, "submitted")
    # submitting twice: the state does not allow it, 409
    assert api("assessor", "periods/2026Q3/workflow/submit", {}).status_code == 409
    # return needs a reason
    assert api("supervisor", "periods/2026Q3/workflow/return", {}).status_code == 422
    assert (
        api("supervisor", "periods/2026Q3/workflow/return", {"reason": "补充"}).json["status"]
        == "open"
    )
    assert api("assessor", "periods/2026Q3/workflow/submit", {}).status_code == 200
    # a 公示 window, open today: approve is refused naming it, then overridden
    today = publication.today()
    window = api("supervisor", "periods/2026Q3/publication",
                 {"start": today.isoformat(), "end": (today + timedelta(days=3)).isoformat(),
                  "show_ranking": True})  # fmt: skip
    assert window.status_code == 200 and window.json["state"] == "open"
    same_day = {"start": today.isoformat(), "end": today.isoformat()}
    assert api("assessor", "periods/2026Q3/publication", same_day).status_code == 403
    shown = api("auditor", "periods/2026Q3/publication", method="get")
    assert shown.json["blockers"] == [f"公示期未结束（{today} 至 {today + timedelta(days=3)}）"]
    refused = api("supervisor", "periods/2026Q3/workflow/approve", {})
    assert refused.status_code == 409
    assert "公示期未结束" in refused.json["error"]
    assert refused.json["details"]["blocks"] == shown.json["blockers"]
    approved = api("supervisor", "periods/2026Q3/workflow/approve", {"override_reason": "提前"})
    assert approved.status_code == 200
    assert approved.json["status"] == "approved" and len(approved.json["snapshot_hash"]) == 64
    # reopen is the admin's, with a reason
    assert (
        api("supervisor", "periods/2026Q3/workflow/reopen", {"reason": "更正"}).status_code == 403
    )
    assert (
        api("admin", "periods/2026Q3/workflow/reopen", {"reason": "更正"}).json["status"] == "open"
    )
    assert api("admin", "periods/2026Q3/workflow/fly", {}).status_code == 404
    assert api("admin", "periods/NOPE/workflow/open", {}).status_code == 404


# --- objections ------------------------------------------------------------------------------


def yunlu_total(period) -> str:
    db.session.expire_all()
    return next(r for r in reading.ranking(period)["results"] if r["unit"] == YUNLU)["total"]


def test_a_reporter_objects_and_sees_the_adjusted_figures(world):
    period = world.period()
    reporter = world.user("reporter")
    publication.open_window(world.user("supervisor"), period, days(0), days(4), False)
    before = yunlu_total(period)
    objection = publication.lodge_objection(
        reporter, period, world.unit(YUNLU), "indicator", "U02", "典型村创建成效评分偏低"
    )
    assert objection.status == "pending"
    assert objection.target_label == "U02 典型村培育创建成效"
    assert [str(block) for block in publication.approval_blockers(period)] == [
        f"公示期未结束（{days(0)} 至 {days(4)}）", "还有 1 件异议未答复",
    ]  # fmt: skip
    publication.answer_objection(
        world.user("assessor"), objection, "adjust", "28", "复核后按验收结论调整"
    )
    assert (objection.status, objection.value_before, objection.value_after) == (
        "adjusted", "25.5", "28",
    )  # fmt: skip
    # U02 is direct: the total rises by 28 − 25.5
    assert Decimal(yunlu_total(period)) - Decimal(before) == Decimal("2.5")
    change = last("score.set")
    assert change.actor == "assessor"
    assert json.loads(change.after)["objection"] == objection.id
    assert f"异议第 {objection.id} 号答复" in change.reason
    assert json.loads(last("objection.answer").after)["value_after"] == "28"


def test_objection_refusals(world):
    period = world.period()
    reporter = world.user("reporter")
    lodge = publication.lodge_objection
    # before any window: 409
    with pytest.raises(Conflict, match="尚未公示"):
        lodge(reporter, period, world.unit(YUNLU), "indicator", "U02", "理由")
    publication.open_window(world.user("supervisor"), period, days(0), days(4), False)
    # another town: 403; a role that does not object: 403
    with pytest.raises(Forbidden):
        lodge(reporter, period, world.unit(QUXI), "indicator", "U02", "理由")
    with pytest.raises(Forbidden):
        lodge(world.user("assessor"), period, world.unit(YUNLU), "indicator", "U02", "理由")
    # no reason, an unknown indicator, an adjustment of another town
    with pytest.raises(InvalidInput):
        lodge(reporter, period, world.unit(YUNLU), "indicator", "U02", "  ")
    with pytest.raises(NotFound):
        lodge(reporter, period, world.unit(YUNLU), "indicator", "X99", "理由")
    with pytest.raises(NotFound):
        lodge(reporter, period, world.unit(YUNLU), "veto", None, "理由")
    first = lodge(reporter, period, world.unit(YUNLU), "indicator", "U02", "理由")
    # twice on the same item in the same window: 409
    with pytest.raises(Conflict, match="同一事项只能提出一次"):
        lodge(reporter, period, world.unit(YUNLU), "indicator", "U02", "再次")
    # an answer by the reporter: 403; a bad decision: 422; adjust without a value: 422
    with pytest.raises(Forbidden):
        publication.answer_objection(reporter, first, "maintain", None, "自己答复")
    with pytest.raises(InvalidInput):
        publication.answer_objection(world.user("assessor"), first, "ignore", None, "理由")
    with pytest.raises(InvalidInput):
        publication.answer_objection(world.user("assessor"), first, "adjust", "", "理由")
    publication.answer_objection(world.user("assessor"), first, "maintain", None, "维持")
    with pytest.raises(Conflict, match="已由 assessor 答复"):
        publication.answer_objection(world.user("assessor"), first, "adjust", "29", "改")
    # the window closed yesterday: 409
    publication.open_window(world.user("supervisor"), period, days(-5), days(-1), False)
    with pytest.raises(Conflict, match="公示期已于"):
        lodge(reporter, period, world.unit(YUNLU), "indicator", "E01", "理由")
    assert [o.id for o in publication.period_objections(period)] == [first.id]


def test_approval_waits_for_answers_and_the_snapshot_has_the_adjusted_value(world):
    period = world.period()
    reporter = world.user("reporter")
    publication.open_window(world.user("supervisor"), period, days(0), days(2), False)
    one = publication.lodge_objection(reporter, period, world.unit(YUNLU), "indicator", "U02",
                                      "偏低")  # fmt: skip
    publication.lodge_objection(reporter, period, world.unit(YUNLU), "indicator", "E01", "偏低")
    publication.answer_objection(world.user("assessor"), one, "adjust", "29", "调整")
    # the window closes (the supervisor shortens it to yesterday): one objection still blocks
    publication.open_window(world.user("supervisor"), period, days(-3), days(-1), False)
    with pytest.raises(Conflict) as refused:
        periods.approve(world.user("supervisor"), period)
    assert refused.value.message == "不能审定：还有 1 件异议未答复。如确需审定，请填写审定说明"
    snapshot = periods.approve(world.user("supervisor"), period, "异议属同一事项，已合并答复")
    payload = json.loads(snapshot.payload)
    yunlu = next(r for r in payload["results"] if r["unit"] == YUNLU)
    assert yunlu["indicators"]["U02"] == "29.00"
    event = last("period.approve")
    assert event.reason == "异议属同一事项，已合并答复"
    assert json.loads(event.after)["overridden"] == ["还有 1 件异议未答复"]
    # after approval nothing more is answered
    pending = publication.period_objections(period)[1]
    with pytest.raises(Conflict):
        publication.answer_objection(world.user("assessor"), pending, "maintain", None, "迟到")
