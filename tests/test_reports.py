"""A town's report through the ledger (docs/reports.md): the API, the page and the DOCX.

The small ledger (tests/ledger_world.py), worked by hand. 2026Q3:
曲溪街道 E01 6.5 → 20, E02 10 (the highest) → 20, U01 A → 30, U02 30: 100.00, rank 1, 好;
云路镇   E01 5.2 → 16, E02 4 (the lowest) → 20 × 0.6 = 12, U01 B → 25.5, U02 25.5:
         79.00, rank 2, 一般;
玉滘镇   E01 3.25 → 10, E02 7 → 20 × (0.6 + 0.4 × 0.5) = 16, U01 C → 21, U02 20: 67.00, 3.
2026Q2 as 2026Q3 except 云路镇 E01 6.5 (20) and U02 20: 77.50, rank 2.
"""

from __future__ import annotations

import pytest

from evaluation.services import accounts
from models import db
from tests.ledger_world import FULL_TOWN_VALUES, SETUP, build_world, fill_towns, open_period

YUNLU = "445203100000"
Q2_VALUES = {
    **FULL_TOWN_VALUES,
    YUNLU: {"E01": "6.5", "E02": "4", "U01": "B", "U02": "20"},
}


@pytest.fixture
def ledger(app):
    """2026Q2 and 2026Q3 open and filled; a token per role."""
    with app.app_context():
        world = build_world()
        fill_towns(world, open_period(world, "2026Q2"), Q2_VALUES)
        fill_towns(world, open_period(world, "2026Q3"))
        tokens = {
            role: accounts.create_token(SETUP, world.user(role))
            for role in ("admin", "assessor", "supervisor", "auditor", "reviewer")
        }
        db.session.remove()
    return app, tokens


def get(ledger, path, role="supervisor"):
    app, tokens = ledger
    return app.test_client().get(path, headers={"Authorization": f"Bearer {tokens[role]}"})


def test_the_report_of_yunlu_worked_by_hand(ledger):
    response = get(ledger, f"/api/v1/periods/2026Q3/units/{YUNLU}/report")
    assert response.status_code == 200
    report = response.json
    assert (report["unit"], report["name"], report["period"]) == (YUNLU, "云路镇", "2026Q3")
    assert (report["total"], report["rank"], report["grade"], report["units"]) == (
        "79.00", 2, "一般", 3,
    )  # fmt: skip
    assert report["next_grade"] == "较好"
    assert [(i["code"], i["points"], i["max"], i["rank_among"], i["value"])
            for i in report["indicators"]] == [
        ("E01", "16.00", "20.00", 2, "5.2"),
        ("E02", "12.00", "20.00", 3, "4"),
        ("U01", "25.50", "30.00", 2, "B"),
        ("U02", "25.50", "30.00", 2, "25.5"),
    ]  # fmt: skip
    # Four indicators: two of each. Ranks 2, 3, 2, 2; shares 0.80, 0.60, 0.85, 0.85.
    assert report["strengths"] == ["U01", "U02"]
    assert report["weaknesses"] == ["E02", "E01"]


def test_the_change_since_2026q2_adds_up(ledger):
    change = get(ledger, f"/api/v1/periods/2026Q3/units/{YUNLU}/report").json["change"]
    assert change == {
        "previous_total": "77.50",
        "previous_rank": 2,
        "total": "1.50",
        "indicators": {"E01": "-4.00", "E02": "0.00", "U01": "0.00", "U02": "5.50"},
        "bonus": "0.00",
        "penalty": "0.00",
        "floor": "0.00",
    }


def test_the_gaps_of_yunlu_worked_by_hand(ledger):
    gaps = {g["indicator"]: g for g in get(
        ledger, f"/api/v1/periods/2026Q3/units/{YUNLU}/report"
    ).json["gaps"]}
    # Rank 1 needs 100 (+21): no single indicator has that much room.
    assert {g["next_rank_reason"] for g in gaps.values()} == {"not_enough"}
    # 较好 needs 80 (+1).
    # E01: 20 × v / 6.5 ≥ 16.995 → v ≥ 5.523375 → 5.53 (5.52 gives 16.98).
    assert gaps["E01"]["value_for_next_grade"] == "5.53"
    assert gaps["E01"]["change_for_next_grade"] == "0.33"
    # E02: 云路镇 stays the lowest (0 of the range) up to 7; above, lo = 7:
    # 20 × (0.6 + 0.4 (v − 7) / 3) ≥ 12.995 → v ≥ 7.373125 → 7.38 (7.37 gives 12.99).
    assert gaps["E02"]["value_for_next_grade"] == "7.38"
    assert gaps["U01"]["value_for_next_grade"] == "A"  # 30: 83.50
    assert gaps["U02"]["value_for_next_grade"] == "26.5"
    assert gaps["U02"]["grade_at_value"] == "较好"


def test_the_first_town_has_no_next_rank_and_no_previous_in_2026q2(ledger):
    report = get(ledger, "/api/v1/periods/2026Q2/units/445203001000/report").json
    assert report["change"] is None and report["previous_period"] is None
    assert {g["next_rank_reason"] for g in report["gaps"]} == {"first"}
    assert {g["next_grade_reason"] for g in report["gaps"]} == {"top_grade"}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/periods/2026Q3/units/445203999999/report", 404),  # no such town
        ("/api/v1/periods/2026Q3/units/445203100201/report", 404),  # a village, not a town
        ("/api/v1/periods/2099Q1/units/445203100000/report", 404),
        ("/api/v1/periods/2026Q3/units/445203100000/report?level=city", 422),
    ],
)
def test_bad_requests(ledger, path, status):
    response = get(ledger, path)
    assert response.status_code == status
    assert "error" in response.json
