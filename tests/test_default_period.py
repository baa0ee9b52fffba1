"""Which period a page opens on when none is named: one table of purposes
(``evaluation/core/periods.py``, docs/rules.md#period-workflow)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update

from evaluation.core.periods import PERIOD_PREFERENCES, default_period, periods_in_order
from evaluation.history import records
from models import Period, db
from tests.ledger_world import SETUP, build_world

#: code, end date, status — stored directly: this is about choosing, not the workflow.
PERIODS = [
    ("2026Q1", date(2026, 3, 31), "approved"),
    ("2026Q2", date(2026, 6, 30), "submitted"),
    ("2026Q3", date(2026, 9, 30), "open"),
    ("2026Q4", date(2026, 12, 31), "draft"),
]


def build_periods(world) -> None:
    q2 = world.period("2026Q2")
    for code, end, _ in PERIODS:
        if db.session.scalar(db.select(Period).where(Period.code == code)) is None:
            records.create(
                SETUP,
                Period,
                {
                    "code": code,
                    "name": code,
                    "start_date": date(end.year, end.month - 2, 1),
                    "end_date": end,
                    "town_scheme": q2.town_scheme,
                },
            )
    for code, _, status in PERIODS:
        db.session.execute(update(Period).where(Period.code == code).values(status=status))
    db.session.commit()


def test_each_purpose_opens_on_its_period(app):
    with app.app_context():
        build_periods(build_world())
        chosen = {purpose: default_period(purpose).code for purpose in PERIOD_PREFERENCES}
        assert chosen == {
            "ranking": "2026Q2",  # the one waiting for review first
            "review": "2026Q2",  # the latest whose figures are in
            "settled": "2026Q2",
            "entry": "2026Q3",  # the one being filled in
            "whatif": "2026Q1",  # approved only: the submitted 2026Q2 may still move
            "reporting": "2026Q3",  # the open period the towns report in
        }
        assert [p.code for p in periods_in_order("whatif")] == ["2026Q1"]
        assert [p.code for p in periods_in_order("entry")] == [
            "2026Q3",
            "2026Q4",
            "2026Q2",
            "2026Q1",
        ]
        assert [p.code for p in periods_in_order("review")] == ["2026Q2", "2026Q1", "2026Q3"]
        assert [p.code for p in periods_in_order("ranking")] == [
            "2026Q2",  # submitted: waiting for review
            "2026Q1",  # approved
            "2026Q3",  # open
            "2026Q4",  # draft
        ]
        # Nothing approved or submitted: the dashboard's ranking panel has no period.
        db.session.execute(update(Period).values(status="draft"))
        db.session.commit()
        assert default_period("settled") is None
        assert default_period("review") is None
        assert default_period("ranking").code == "2026Q4"
        assert default_period("entry").code == "2026Q4"


def test_pages_open_on_the_table_s_choice(app, client, auth):
    with app.app_context():
        build_periods(build_world())
    auth.login("supervisor")
    ranking = client.get("/admin/ranking/").get_data(as_text=True)
    assert "2026Q2）镇街排名" in ranking  # the period waiting for review
    assert "2026Q3" in client.get("/admin/entry/").get_data(as_text=True)
    assert "（2026Q2" in client.get("/admin/review/").get_data(as_text=True)
