"""公示, 异议 and the approval guard (docs/publication.md), through the operations and the
API: windows, objections (once per item, only one's own town, only while open),
answers (one wins), approval refused while due process is pending unless overridden."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from evaluation.accounts import operations as accounts
from evaluation.core.writing import Conflict, InvalidInput, StateError
from evaluation.periods import operations as periods
from evaluation.publication import operations as publication
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
    assert api("assessor", "periods/2026Q3/publication",
               {"start": today.isoformat(), "end": today.isoformat()}).status_code == 403  # fmt: skip
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
