"""容错纠错 cases (docs/publication.md#tolerance): states, who may act, an upheld case
removing the penalty or veto from the total with the case named in the history."""

from __future__ import annotations

import json

import pytest

from evaluation.core.writing import Conflict, Forbidden, InvalidInput, StateError
from evaluation.ranking import reading
from evaluation.scores import operations as ledger
from evaluation.tolerance import operations as tolerance
from models import Adjustment, HistoryEvent, Veto, db
from tests.ledger_world import build_world, fill_towns, open_period

YUNLU = "445203100000"
SITUATION = "上级尚无明确限制的探索性试验中的失误"


@pytest.fixture
def world(ctx):
    world = build_world()
    period = open_period(world)
    fill_towns(world, period)
    return world


def total_of(world, unit=YUNLU) -> str:
    db.session.expire_all()
    results = reading.ranking(world.period(), "town")["results"]
    return next(r for r in results if r["unit"] == unit)["total"]


def penalty(world, points="3") -> Adjustment:
    return ledger.add_adjustment(
        world.user("assessor"), world.period(), world.unit(YUNLU), "penalty", points, "安全生产事故"
    )


def test_an_upheld_case_removes_the_penalty_from_the_total_and_names_the_case(world):
    before = total_of(world)
    item = penalty(world)
    assert total_of(world) == f"{float(before) - 3:.2f}"
    case = tolerance.apply(
        world.user("admin"),
        world.period(),
        world.unit(YUNLU),
        "adjustment",
        item.id,
        SITUATION,
        "试点中按上级口径推进，事故非主观故意",
    )
    assert case.status == "applied"
    tolerance.add_findings(world.user("assessor"), case, "经核实，属探索性试验中的失误")
    assert case.status == "verifying"
    tolerance.determine(world.user("supervisor"), case, "upheld", "符合三个区分开来")
    assert case.status == "upheld"
    assert total_of(world) == before
    assert db.session.get(Adjustment, item.id) is None
    removal = db.session.scalar(
        db.select(HistoryEvent).where(HistoryEvent.action == "adjustment.remove")
    )
    assert removal.actor == "supervisor"
    assert json.loads(removal.after) == {"tolerance_case": case.id}
    assert f"容错纠错第 {case.id} 号" in removal.reason
    determination = db.session.scalar(
        db.select(HistoryEvent).where(HistoryEvent.action == "tolerance_case.determine")
    )
    assert json.loads(determination.after)["status"] == "upheld"
    assert determination.reason == "符合三个区分开来"
    assert [c.id for c in tolerance.town_cases(world.unit(YUNLU))] == [case.id]


def test_a_rejected_case_keeps_the_penalty(world):
    item = penalty(world, "2")
    with_penalty = total_of(world)
    case = tolerance.apply(
        world.user("admin"),
        world.period(),
        world.unit(YUNLU),
        "adjustment",
        str(item.id),
        SITUATION,
        "理由",
    )
    tolerance.add_findings(world.user("assessor"), case, "不属实")
    tolerance.determine(world.user("supervisor"), case, "rejected", "不符合容错情形")
    assert case.status == "rejected"
    assert total_of(world) == with_penalty
    assert db.session.get(Adjustment, item.id) is not None


def test_an_upheld_case_against_a_veto_lifts_it(world):
    ledger.set_veto(world.user("assessor"), world.period(), world.unit(YUNLU), "重大安全事故")
    assert next(r for r in reading.ranking(world.period())["results"] if r["unit"] == YUNLU)[
        "vetoed"
    ]
    case = tolerance.apply(
        world.user("admin"), world.period(), world.unit(YUNLU), "veto", None, SITUATION, "理由"
    )
    tolerance.add_findings(world.user("assessor"), case, "属实")
    tolerance.determine(world.user("supervisor"), case, "upheld", "认定")
    db.session.expire_all()
    assert db.session.scalar(db.select(Veto)) is None
    assert not next(r for r in reading.ranking(world.period())["results"] if r["unit"] == YUNLU)[
        "vetoed"
    ]


def test_refusals(world):
    item = penalty(world)
    bonus = ledger.add_adjustment(
        world.user("assessor"), world.period(), world.unit(YUNLU), "bonus", "1", "表彰"
    )
    apply = tolerance.apply
    args = (world.period(), world.unit(YUNLU))
    # roles: applying is the reporter's or the admin's; findings the assessor's;
    # determination the supervisor's
    with pytest.raises(Forbidden):
        apply(world.user("assessor"), *args, "adjustment", item.id, SITUATION, "理由")
    # a bonus is no penalty; a situation must come from the list; grounds are required
    with pytest.raises(InvalidInput):
        apply(world.user("admin"), *args, "adjustment", bonus.id, SITUATION, "理由")
    with pytest.raises(InvalidInput):
        apply(world.user("admin"), *args, "adjustment", item.id, "自拟情形", "理由")
    with pytest.raises(InvalidInput):
        apply(world.user("admin"), *args, "adjustment", item.id, SITUATION, "  ")
    case = apply(world.user("admin"), *args, "adjustment", item.id, SITUATION, "理由")
    # one undetermined case per item
    with pytest.raises(Conflict):
        apply(world.user("admin"), *args, "adjustment", item.id, SITUATION, "再次")
    # determination before findings, findings by a supervisor, reason required
    with pytest.raises(Conflict):
        tolerance.determine(world.user("supervisor"), case, "upheld", "认定")
    with pytest.raises(Forbidden):
        tolerance.add_findings(world.user("supervisor"), case, "核实")
    tolerance.add_findings(world.user("assessor"), case, "核实")
    with pytest.raises(InvalidInput):
        tolerance.determine(world.user("supervisor"), case, "upheld", "")
    with pytest.raises(Forbidden):
        tolerance.determine(world.user("assessor"), case, "upheld", "认定")
    with pytest.raises(Forbidden):
        tolerance.determine(world.user("admin"), case, "upheld", "认定")
    tolerance.determine(world.user("supervisor"), case, "rejected", "不予认定")
    with pytest.raises(Conflict):
        tolerance.determine(world.user("supervisor"), case, "upheld", "改判")
    # nothing on a draft period
    with pytest.raises(StateError):
        apply(
            world.user("admin"),
            world.period("2026Q2"),
            world.unit(YUNLU),
            "veto",
            None,
            SITUATION,
            "理由",
        )


def test_the_situation_list_is_the_admins_to_change(world):
    assert tolerance.situations()[1] == SITUATION
    with pytest.raises(Forbidden):
        tolerance.set_situations(world.user("supervisor"), "甲")
    with pytest.raises(InvalidInput):
        tolerance.set_situations(world.user("admin"), "\n  \n")
    assert tolerance.set_situations(world.user("admin"), "新情形甲\n\n新情形乙\n新情形甲") == [
        "新情形甲",
        "新情形乙",
    ]
    assert tolerance.situations() == ["新情形甲", "新情形乙"]
    item = penalty(world)
    with pytest.raises(InvalidInput):
        tolerance.apply(
            world.user("admin"),
            world.period(),
            world.unit(YUNLU),
            "adjustment",
            item.id,
            SITUATION,
            "理由",
        )
