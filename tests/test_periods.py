"""The period workflow (docs/rules.md#period-workflow): every transition, its refusals, snapshots,
review cases."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from evaluation.core.writing import Forbidden, InvalidInput, StateError, SystemActor
from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.ranking import reading
from evaluation.scores import operations as ledger
from models import HistoryEvent, RankingSnapshot, ReviewCase, Unit, db
from tests.ledger_world import (
    FULL_TOWN_VALUES,
    SETUP,
    build_world,
    fill_towns,
    fill_villages,
    history_actions,
)


@pytest.fixture
def world(ctx):
    return build_world()


def last_event() -> HistoryEvent:
    return db.session.scalar(db.select(HistoryEvent).order_by(HistoryEvent.seq.desc()).limit(1))


def status_of(world, code="2026Q3") -> str:
    db.session.expire_all()
    return world.period(code).status


def submitted(world, villages=True):
    """Open, fill and submit 2026Q3; ``villages=False`` leaves the typical villages empty."""
    period = world.period()
    periods.open_period(world.user("admin"), period)
    fill_towns(world, period)
    if villages:
        fill_villages(world, period)
    periods.submit(world.user("assessor"), period)
    return period


# --- open ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_admin_or_supervisor_opens_a_draft(world, role):
    periods.open_period(world.user(role), world.period())
    assert status_of(world) == "open"
    event = last_event()
    assert (event.action, event.entity, event.entity_key, event.period, event.actor) == (
        "period.open", "period", "2026Q3", "2026Q3", role,
    )
    assert json.loads(event.before) == {"status": "draft"}
    assert json.loads(event.after) == {"status": "open"}


@pytest.mark.parametrize("role", ["assessor", "auditor", "reviewer"])
def test_other_roles_may_not_open(world, role):
    with pytest.raises(Forbidden):
        periods.open_period(world.user(role), world.period())
    assert status_of(world) == "draft"


def test_an_open_period_cannot_be_opened_again(world):
    periods.open_period(world.user("admin"), world.period())
    with pytest.raises(StateError, match="填报中"):
        periods.open_period(world.user("admin"), world.period())


# --- submit -----------------------------------------------------------------------------------


def test_submit_is_refused_while_town_values_are_missing_and_lists_them(world):
    period = world.period()
    periods.open_period(world.user("admin"), period)
    assessor = world.user("assessor")
    with pytest.raises(InvalidInput) as refused:
        periods.submit(assessor, period)
    assert "12 项" in refused.value.message
    # The gaps travel as data, one item per town, not as text to be parsed back.
    assert refused.value.details == [
        {"level": "town", "unit": "445203001000", "name": "曲溪街道",
         "indicators": ["E01", "E02", "U01", "U02"]},
        {"level": "town", "unit": "445203100000", "name": "云路镇",
         "indicators": ["E01", "E02", "U01", "U02"]},
        {"level": "town", "unit": "445203101000", "name": "玉滘镇",
         "indicators": ["E01", "E02", "U01", "U02"]},
    ]

    partial = {code: dict(row) for code, row in FULL_TOWN_VALUES.items()}
    del partial["445203100000"]["U01"]
    fill_towns(world, period, partial)
    with pytest.raises(InvalidInput) as refused:
        periods.submit(assessor, period)
    assert refused.value.details == [
        {"level": "town", "unit": "445203100000", "name": "云路镇", "indicators": ["U01"]}
    ]
    assert status_of(world) == "open"


def test_assessor_submits_a_complete_period(world):
    period = submitted(world)
    assert status_of(world) == "submitted"
    assert period.submitted_by == "assessor"
    event = last_event()
    assert (event.action, json.loads(event.after)) == ("period.submit", {"status": "submitted"})


def test_submit_needs_an_assessor_and_an_open_period(world):
    period = world.period()
    with pytest.raises(StateError, match="草稿"):
        periods.submit(world.user("assessor"), period)
    periods.open_period(world.user("admin"), period)
    fill_towns(world, period)
    for role in ("admin", "supervisor", "auditor", "reviewer"):
        with pytest.raises(Forbidden):
            periods.submit(world.user(role), period)
    assert status_of(world) == "open"


# --- return -------------------------------------------------------------------------------------


def test_supervisor_returns_a_submitted_period_with_a_reason(world):
    period = submitted(world)
    supervisor = world.user("supervisor")
    with pytest.raises(InvalidInput, match="理由"):
        periods.return_period(supervisor, period, "  ")
    for role in ("admin", "assessor"):
        with pytest.raises(Forbidden):
            periods.return_period(world.user(role), period, "数据有误")
    periods.return_period(supervisor, period, "云路镇 E01 数据待核实")
    assert status_of(world) == "open"
    event = last_event()
    assert (event.action, event.reason) == ("period.return", "云路镇 E01 数据待核实")
    # Open again: the assessors can correct the value.
    ledger.set_score(
        world.user("assessor"), period, world.unit("云路镇"), world.indicator("E01"), "5.5",
        version=1,
    )
    with pytest.raises(StateError, match="填报中"):
        periods.return_period(supervisor, period, "再退回")


# --- approve ------------------------------------------------------------------------------------


def test_approval_stores_a_snapshot_whose_hash_anyone_can_recompute(world):
    period = submitted(world)
    live = reading.ranking(period)["results"]
    snapshot = periods.approve(world.user("supervisor"), period)
    assert status_of(world) == "approved"
    assert period.approved_by == "supervisor"

    assert snapshot.level == "town" and snapshot.superseded is False
    assert snapshot.sha256 == hashlib.sha256(snapshot.payload.encode("utf-8")).hexdigest()
    payload = json.loads(snapshot.payload)
    assert snapshot.payload == json.dumps(
        payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    assert (payload["period"], payload["level"], payload["scheme"]) == ("2026Q3", "town", "T26")
    assert payload["results"] == live
    assert [r["total"] for r in payload["results"]] == ["100.00", "79.00", "67.00"]

    levels = db.session.scalars(
        db.select(RankingSnapshot.level).order_by(RankingSnapshot.level)
    ).all()
    assert levels == ["town", "village"]
    answer = reading.ranking(period)
    assert (answer["from_snapshot"], answer["snapshot_hash"]) == (True, snapshot.sha256)

    event = db.session.scalar(
        db.select(HistoryEvent).where(HistoryEvent.action == "period.approve")
    )
    assert json.loads(event.after)["snapshots"]["town"] == snapshot.sha256


def test_the_submitter_may_not_approve_their_own_period(world):
    period = submitted(world)
    # The same person, later given the supervisor role.
    same_person = SystemActor("assessor", role="supervisor")
    with pytest.raises(Forbidden, match="提交人"):
        periods.approve(same_person, period)
    for role in ("admin", "assessor", "auditor", "reviewer"):
        with pytest.raises(Forbidden):
            periods.approve(world.user(role), period)
    assert status_of(world) == "submitted"
    assert db.session.scalar(db.select(db.func.count()).select_from(RankingSnapshot)) == 0


def test_only_a_submitted_period_can_be_approved(world):
    period = world.period()
    periods.open_period(world.user("admin"), period)
    fill_towns(world, period)
    with pytest.raises(StateError, match="已提交"):
        periods.approve(world.user("supervisor"), period)
    assert status_of(world) == "open"


def test_approval_opens_review_cases_for_flagged_typical_villages(world):
    period = submitted(world, villages=False)
    periods.approve(world.user("supervisor"), period, override_reason="村级数据下季度补录")
    cases = db.session.scalars(db.select(ReviewCase).order_by(ReviewCase.id)).all()
    # No village values were entered: each typical village is incomplete, not scored
    # low as if it had earned nothing.
    assert [c.unit.name for c in cases] == ["新桃村", "瑞联村", "汾水村"]
    assert [c.group.name for c in cases] == ["第一研判组", "第二研判组", "第一研判组"]
    assert [c.reasons for c in cases] == [["INCOMPLETE", "NO_RECENT_REVIEW"]] * 3
    assert cases[0].priority == "medium" and cases[0].status == "open"
    opened = db.session.scalars(
        db.select(HistoryEvent).where(HistoryEvent.action == "review_case.open")
    ).all()
    assert [e.entity_key for e in opened] == [
        "2026Q3/445203100201", "2026Q3/445203101202", "2026Q3/445203001203",
    ]
    # Syncing again keeps the cases and writes nothing.
    before = len(history_actions())
    summary = periods.sync_review_cases(world.user("supervisor"), period)
    assert summary == {"opened": [], "updated": [],
                       "kept": ["445203100201", "445203101202", "445203001203"]}
    assert len(history_actions()) == before
    with pytest.raises(Forbidden):
        periods.sync_review_cases(world.user("assessor"), period)


def approve_event() -> HistoryEvent:
    return db.session.scalar(
        db.select(HistoryEvent).where(HistoryEvent.action == "period.approve")
    )


def test_approval_is_refused_while_typical_villages_lack_values_and_lists_them(world):
    period = submitted(world, villages=False)
    before = len(history_actions())
    with pytest.raises(InvalidInput) as refused:
        periods.approve(world.user("supervisor"), period)
    assert refused.value.message == (
        "还有 3 个单位数据不全（共缺 6 项），不能审定；如确需审定，请填写审定说明"
    )
    both = ["V01", "V02"]
    assert refused.value.details == [
        {"level": "village", "unit": "445203100201", "name": "新桃村", "indicators": both},
        {"level": "village", "unit": "445203101202", "name": "瑞联村", "indicators": both},
        {"level": "village", "unit": "445203001203", "name": "汾水村", "indicators": both},
    ]
    # A blank override reason is no reason.
    with pytest.raises(InvalidInput):
        periods.approve(world.user("supervisor"), period, override_reason="  ")
    assert status_of(world) == "submitted"
    assert len(history_actions()) == before
    assert db.session.scalar(db.select(db.func.count()).select_from(RankingSnapshot)) == 0


def test_approval_is_refused_while_a_town_lacks_values(world):
    period = submitted(world)
    # A town set up after the submission has no values in the period.
    records.create(
        SETUP, Unit,
        {"code": "445203102000", "name": "新设镇", "level": "town", "kind": "镇", "sort_order": 9},
    )
    with pytest.raises(InvalidInput) as refused:
        periods.approve(world.user("supervisor"), period)
    assert refused.value.details == [
        {"level": "town", "unit": "445203102000", "name": "新设镇",
         "indicators": ["E01", "E02", "U01", "U02"]},
    ]
    assert status_of(world) == "submitted"


def test_an_override_reason_approves_incomplete_data_and_the_history_says_so(world):
    period = submitted(world, villages=False)
    # One village entered in part: it is listed with the value it still lacks.
    periods.return_period(world.user("supervisor"), period, "补录典型村")
    fill_villages(world, period, {"445203101202": {"V01": "40", "V02": "B"},
                                  "445203100201": {"V01": "45"}})
    periods.submit(world.user("assessor"), period)
    reason = "  汾水村暗访结果延期，先行审定  "
    periods.approve(world.user("supervisor"), period, override_reason=reason)
    assert status_of(world) == "approved"
    event = approve_event()
    assert event.reason == "汾水村暗访结果延期，先行审定"
    after = json.loads(event.after)
    assert after["status"] == "approved"
    assert after["incomplete"] == [
        {"level": "village", "unit": "445203100201", "indicators": ["V02"]},
        {"level": "village", "unit": "445203001203", "indicators": ["V01", "V02"]},
    ]


def test_a_complete_period_is_approved_without_a_reason_and_records_none(world):
    period = submitted(world)
    periods.approve(world.user("supervisor"), period, override_reason="无需说明")
    event = approve_event()
    assert event.reason is None
    assert set(json.loads(event.after)) == {"status", "snapshots"}


@pytest.mark.parametrize("role", ["admin", "assessor", "auditor", "reviewer"])
def test_an_override_reason_does_not_let_other_roles_approve(world, role):
    period = submitted(world, villages=False)
    with pytest.raises(Forbidden):
        periods.approve(world.user(role), period, override_reason="先行审定")
    assert status_of(world) == "submitted"


# --- reopen -------------------------------------------------------------------------------------


def test_admin_reopens_with_a_reason_and_the_old_snapshot_stays_superseded(world):
    period = submitted(world)
    first = periods.approve(world.user("supervisor"), period)
    first_hash = first.sha256
    with pytest.raises(Forbidden):
        periods.reopen(world.user("supervisor"), period, "更正")
    with pytest.raises(InvalidInput, match="理由"):
        periods.reopen(world.user("admin"), period, "")
    periods.reopen(world.user("admin"), period, "云路镇数据更正")
    assert status_of(world) == "open"
    event = last_event()
    assert (event.action, event.reason) == ("period.reopen", "云路镇数据更正")
    assert first_hash in json.loads(event.after)["superseded"]
    db.session.expire_all()
    kept = db.session.get(RankingSnapshot, first.id)
    assert kept.superseded is True and kept.sha256 == first_hash
    assert reading.ranking(period)["from_snapshot"] is False

    ledger.set_score(
        world.user("assessor"), period, world.unit("云路镇"), world.indicator("U02"), "30",
        version=1,
    )
    periods.submit(world.user("assessor"), period)
    second = periods.approve(world.user("supervisor"), period)
    assert second.sha256 != first_hash
    answer = reading.ranking(period)
    assert answer["snapshot_hash"] == second.sha256
    assert [r["total"] for r in answer["results"]] == ["100.00", "83.50", "67.00"]
    snapshots = db.session.scalars(
        db.select(RankingSnapshot).where(RankingSnapshot.level == "town")
        .order_by(RankingSnapshot.id)
    ).all()
    assert [s.superseded for s in snapshots] == [True, False]


def test_only_an_approved_period_can_be_reopened(world):
    period = submitted(world)
    with pytest.raises(StateError, match="已审定"):
        periods.reopen(world.user("admin"), period, "更正")
    assert status_of(world) == "submitted"


def test_every_transition_is_one_history_event(world):
    period = submitted(world)
    periods.return_period(world.user("supervisor"), period, "补充说明")
    periods.submit(world.user("assessor"), period)
    periods.approve(world.user("supervisor"), period)
    periods.reopen(world.user("admin"), period, "更正")
    transitions = [
        a for a in history_actions() if a.startswith("period.") and a != "period.create"
    ]
    assert transitions == [
        "period.open", "period.submit", "period.return", "period.submit", "period.approve",
        "period.reopen",
    ]


def test_the_auditor_sees_the_override_reason_and_the_gaps_in_the_history(app, client, auth):
    with app.app_context():
        world = build_world()
        submitted(world, villages=False)
        periods.approve(world.user("supervisor"), world.period(), override_reason="村级数据延期")
        db.session.remove()
    auth.login("auditor")
    page = client.get("/admin/history/?action=period.approve").get_data(as_text=True)
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*村级数据延期.*?</tr>", page, re.S)
    assert row, "the approval's reason is not on the history page"
    assert "审定时数据不全的单位" in row.group(0)
    assert "445203100201" in row.group(0) and "V01" in row.group(0)
