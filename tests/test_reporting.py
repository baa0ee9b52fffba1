"""镇街报送 through the operations: claims, submission, verdicts, reopening
(docs/reporting.md). 云路镇's reporter is ``reporter`` (tests.ledger_world)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from evaluation.core.writing import Conflict, Forbidden, InvalidInput
from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.reporting import operations as reporting
from models import Claim, HistoryEvent, Score, db
from models.states import TownReportingState
from tests import evidence_files
from tests.ledger_world import SETUP, build_world, fill_towns, fill_villages, open_period

YUNLU = "445203100000"
YUJIAO = "445203101000"


@pytest.fixture
def world(ctx):
    world = build_world()
    period = open_period(world)
    records.update(SETUP, period, {"report_due": reporting.local_today() + timedelta(days=5)})
    # E01 needs its 验收报告; set on the test scheme directly (test data, not a door).
    db.session.execute(
        text("UPDATE indicator SET evidence_required = '项目清单、验收报告' WHERE code = 'E01'")
    )
    db.session.commit()
    return world


def names(world):
    return (
        world.period("2026Q3"),
        world.unit(YUNLU),
        world.user("reporter"),
        world.user("assessor"),
    )


class Event:
    """A history event with its JSON fields read."""

    def __init__(self, row: HistoryEvent):
        self.entity_key, self.reason = row.entity_key, row.reason
        self.before = json.loads(row.before) if row.before else None
        self.after = json.loads(row.after) if row.after else None


def events(action: str) -> list[Event]:
    return [
        Event(row)
        for row in db.session.scalars(
            select(HistoryEvent).where(HistoryEvent.action == action).order_by(HistoryEvent.seq)
        )
    ]


def test_a_reporter_saves_its_own_towns_claim_and_the_history_records_it(world):
    period, yunlu, reporter, _ = names(world)
    claim = reporting.save_claim(
        reporter, period, yunlu, world.indicator("U02"), "28", "完成典型村创建", version=None
    )
    assert (claim.value, claim.status, claim.version) == ("28", "draft", 1)
    again = reporting.save_claim(
        reporter, period, yunlu, world.indicator("U02"), "29.5", "补充", version=1
    )
    assert (again.value, again.version) == ("29.5", 2)
    saved = events("claim.save")
    assert [e.entity_key for e in saved] == [f"{YUNLU}/U02"] * 2
    assert saved[1].before["value"] == "28" and saved[1].after["value"] == "29.5"


def test_a_grade_indicator_takes_a_grade_and_bad_values_are_refused(world):
    period, yunlu, reporter, _ = names(world)
    claim = reporting.save_claim(reporter, period, yunlu, world.indicator("U01"), "A", version=None)
    assert claim.grade == "A"
    with pytest.raises(InvalidInput) as refused:
        reporting.save_claim(reporter, period, yunlu, world.indicator("U02"), "31", version=None)
    assert refused.value.details[0]["path"] == "value"
    with pytest.raises(InvalidInput):
        reporting.save_claim(reporter, period, yunlu, world.indicator("U02"), "abc", version=None)
    assert (
        db.session.scalar(select(Claim).where(Claim.indicator_id == world.indicator("U02").id))
        is None
    )


def test_a_claim_on_another_town_is_forbidden(world):
    period, _, reporter, _ = names(world)
    with pytest.raises(Forbidden):
        reporting.save_claim(
            reporter, period, world.unit(YUJIAO), world.indicator("U02"), "20", version=None
        )


def test_only_a_reporter_saves_claims(world):
    period, yunlu, _, assessor = names(world)
    with pytest.raises(Forbidden):
        reporting.save_claim(assessor, period, yunlu, world.indicator("U02"), "20", version=None)


def test_after_the_deadline_a_claim_is_refused_with_409_until_an_assessor_reopens(world):
    period, yunlu, reporter, assessor = names(world)
    reporting.save_claim(reporter, period, yunlu, world.indicator("U02"), "20", version=None)
    yesterday = reporting.local_today() - timedelta(days=1)
    records.update(SETUP, period, {"report_due": yesterday})
    with pytest.raises(Conflict) as refused:
        reporting.save_claim(reporter, period, yunlu, world.indicator("U02"), "21", version=1)
    assert refused.value.status == 409
    assert "截止日" in refused.value.message and yesterday.isoformat() in refused.value.message
    assert reporting.town_state(period, yunlu).state == TownReportingState.OVERDUE
    assert reporting.days_left(period, yunlu) == -1
    with pytest.raises(InvalidInput):
        reporting.reopen_reporting(assessor, period, yunlu, "  ")
    with pytest.raises(Forbidden):
        reporting.reopen_reporting(reporter, period, yunlu, "补报")
    reporting.reopen_reporting(assessor, period, yunlu, "镇里停电两天，同意补报")
    assert reporting.days_left(period, yunlu) == reporting.REOPEN_DAYS
    claim = reporting.save_claim(reporter, period, yunlu, world.indicator("U02"), "21", version=1)
    assert claim.value == "21"
    assert events("reporting.reopen")[0].reason == "镇里停电两天，同意补报"


def test_reopening_before_the_deadline_is_refused(world):
    period, yunlu, _, assessor = names(world)
    with pytest.raises(Conflict):
        reporting.reopen_reporting(assessor, period, yunlu, "提前")


def test_a_locked_period_refuses_claims_with_409(world):
    period, yunlu, reporter, _ = names(world)
    fill_towns(world, period)
    fill_villages(world, period)
    periods.submit(world.user("assessor"), period)
    with pytest.raises(Conflict) as refused:
        reporting.save_claim(reporter, period, yunlu, world.indicator("U02"), "20", version=None)
    assert refused.value.status == 409 and "已提交" in refused.value.message


def test_a_stale_version_is_409_with_the_current_value(world):
    period, yunlu, reporter, _ = names(world)
    reporting.save_claim(reporter, period, yunlu, world.indicator("U02"), "20", version=None)
    reporting.save_claim(reporter, period, yunlu, world.indicator("U02"), "22", version=1)
    with pytest.raises(Conflict) as stale:
        reporting.save_claim(reporter, period, yunlu, world.indicator("U02"), "25", version=1)
    assert stale.value.details["value"] == "22" and stale.value.details["version"] == 2
    assert "22" in stale.value.message


def test_submit_is_refused_listing_the_indicators_missing_evidence(world):
    period, yunlu, reporter, _ = names(world)
    reporting.save_claim(reporter, period, yunlu, world.indicator("E01"), "6.8", version=None)
    reporting.save_claim(reporter, period, yunlu, world.indicator("U02"), "27", version=None)
    with pytest.raises(InvalidInput) as refused:
        reporting.submit_town(reporter, period, yunlu)
    assert refused.value.status == 422
    assert "E01 地区生产总值增速" in refused.value.message
    assert refused.value.details == [
        {"path": "E01", "message": "地区生产总值增速须附佐证材料：项目清单、验收报告"}
    ]
    statuses = set(db.session.scalars(select(Claim.status)))
    assert statuses == {"draft"}  # nothing partial
    reporting.attach_evidence(reporter, period, yunlu, world.indicator("E01"), evidence_files.pdf())
    sent = reporting.submit_town(reporter, period, yunlu)
    assert [c.indicator.code for c in sent] == ["E01", "U02"]
    assert set(db.session.scalars(select(Claim.status))) == {"submitted"}
    assert reporting.town_state(period, yunlu).state == TownReportingState.SUBMITTED
    assert events("claim.submit")[0].after == {"indicators": ["E01", "U02"]}
    # A submitted claim is no longer the reporter's to change.
    with pytest.raises(Conflict):
        reporting.save_claim(reporter, period, yunlu, world.indicator("U02"), "1", version=2)


def test_evidence_on_a_claim_is_refused_for_another_town_and_a_bad_file(world):
    period, yunlu, reporter, _ = names(world)
    reporting.save_claim(reporter, period, yunlu, world.indicator("E01"), "6.8", version=None)
    with pytest.raises(Forbidden):
        reporting.attach_evidence(
            reporter, period, world.unit(YUJIAO), world.indicator("E01"), evidence_files.pdf()
        )
    with pytest.raises(InvalidInput):
        reporting.attach_evidence(
            reporter, period, yunlu, world.indicator("E01"), evidence_files.HTML
        )


def _submitted(world):
    period, yunlu, reporter, _ = names(world)
    reporting.save_claim(reporter, period, yunlu, world.indicator("E01"), "6.8", version=None)
    reporting.attach_evidence(
        reporter, period, yunlu, world.indicator("E01"), evidence_files.jpeg()
    )
    reporting.save_claim(reporter, period, yunlu, world.indicator("E02"), "9", version=None)
    reporting.save_claim(reporter, period, yunlu, world.indicator("U01"), "A", version=None)
    reporting.save_claim(reporter, period, yunlu, world.indicator("U02"), "28", version=None)
    reporting.submit_town(reporter, period, yunlu)


def score_of(world, code):
    return db.session.scalar(
        select(Score).where(
            Score.unit_id == world.unit(YUNLU).id, Score.indicator_id == world.indicator(code).id
        )
    )


def test_verdicts_write_scores_naming_the_claim(world):
    _submitted(world)
    period, yunlu, reporter, assessor = names(world)
    accepted = reporting.verdict(assessor, period, yunlu, world.indicator("E01"), "accept")
    assert accepted.status == "accepted" and score_of(world, "E01").value == "6.8"
    with pytest.raises(InvalidInput):
        reporting.verdict(assessor, period, yunlu, world.indicator("E02"), "adjust", value="7")
    adjusted = reporting.verdict(
        assessor, period, yunlu, world.indicator("E02"), "adjust", value="7",
        reason="两个项目未落地",
    )  # fmt: skip
    assert adjusted.status == "adjusted" and score_of(world, "E02").value == "7"
    with pytest.raises(InvalidInput):
        reporting.verdict(assessor, period, yunlu, world.indicator("U01"), "return")
    returned = reporting.verdict(
        assessor, period, yunlu, world.indicator("U01"), "return", reason="缺少整治前后照片"
    )
    assert returned.status == "returned" and score_of(world, "U01") is None
    sets = {e.entity_key: e for e in events("score.set")}
    assert sets[f"{YUNLU}/E01"].after["claim"] == accepted.id
    assert sets[f"{YUNLU}/E02"].after["claim"] == adjusted.id
    assert sets[f"{YUNLU}/E02"].reason == "两个项目未落地"
    verdicts = events("claim.verdict")
    assert [(e.entity_key, e.after["decision"]) for e in verdicts] == [
        (f"{YUNLU}/E01", "accept"), (f"{YUNLU}/E02", "adjust"), (f"{YUNLU}/U01", "return"),
    ]  # fmt: skip
    # The reporter only, and only a verdict's subject: a reporter may not judge.
    with pytest.raises(Forbidden):
        reporting.verdict(reporter, period, yunlu, world.indicator("U02"), "accept")
    # A returned claim is the town's again: saved, it is a draft, and submitted again.
    fixed = reporting.save_claim(
        reporter, period, yunlu, world.indicator("U01"), "B", "补充照片", version=returned.version
    )
    assert fixed.status == "draft"
    assert reporting.town_state(period, yunlu).state == TownReportingState.IN_PROGRESS
    reporting.submit_town(reporter, period, yunlu)
    reporting.verdict(assessor, period, yunlu, world.indicator("U01"), "accept")
    assert score_of(world, "U01").value == "B"
    # A verdict on a claim not submitted is 409.
    with pytest.raises(Conflict):
        reporting.verdict(assessor, period, yunlu, world.indicator("E01"), "accept")


def test_bulk_accept_takes_a_town_whose_claims_are_undisputed(world):
    _submitted(world)
    period, yunlu, _, assessor = names(world)
    accepted = reporting.bulk_accept(assessor, period, yunlu)
    assert [c.indicator.code for c in accepted] == ["E01", "E02", "U01", "U02"]
    assert {code: score_of(world, code).value for code in ("E01", "E02", "U01", "U02")} == {
        "E01": "6.8", "E02": "9", "U01": "A", "U02": "28",
    }  # fmt: skip
    with pytest.raises(Conflict):  # nothing left to accept
        reporting.bulk_accept(assessor, period, yunlu)


def test_bulk_accept_is_refused_while_a_claim_differs_from_an_entered_score(world):
    from evaluation.scores import operations as ledger

    _submitted(world)
    period, yunlu, _, assessor = names(world)
    ledger.set_score(assessor, period, yunlu, world.indicator("U02"), "20", version=None)
    with pytest.raises(Conflict) as refused:
        reporting.bulk_accept(assessor, period, yunlu)
    assert "U02 自评 28，核定 20" in refused.value.message
    assert set(db.session.scalars(select(Claim.status))) == {"submitted"}


def test_town_states_count_every_town(world):
    _submitted(world)
    period, yunlu, _, _ = names(world)
    states = reporting.town_states(period)
    assert len(states) == 3
    by_state = sorted(s.state.value for s in states.values())
    assert by_state == ["not_started", "not_started", "submitted"]
