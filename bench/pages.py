"""Benchmark the history and ranking pages at province scale (docs/rules.md#scale-targets).

Server time of each page through the Flask test client (the whole WSGI stack, no
network): one warm-up request, then the median of a few. The auditor opens the history
(first page, a page deep in the table, one period's events); the supervisor opens the
ranking of an approved period (its stored snapshot) and of the open one: the first view
after an assessor changed one of its values (so computed afresh), then again, and the
charts' figures the page fetches after it. Each server process starts as ``wsgi.py``
starts it (``settle_worker``). The floor is the smallest signed-in page (the password
form), timed the same way.
Run from the repository root::

    .venv/bin/python bench/pages.py [--keep]
"""

from __future__ import annotations

from decimal import Decimal

from common import Row, main_for, seconds, signed_in_client, timed_get
from sqlalchemy import func, select

from evaluation import settle_worker
from evaluation.scores import operations as ledger
from models import HistoryEvent, Indicator, Period, Score, User, db

TARGET = 0.2
RUNS = 5


def _change_a_score(app, period_code: str) -> None:
    """Enter a new value in one cell of a period, as an assessor would (service layer)."""
    with app.app_context():
        period = db.session.scalar(select(Period).where(Period.code == period_code))
        score = db.session.scalar(
            select(Score)
            .join(Indicator, Indicator.id == Score.indicator_id)
            .where(Score.period_id == period.id, Indicator.method == "direct")
            .order_by(Score.id)
            .limit(1)
        )
        assessor = db.session.scalar(select(User).where(User.username == "assessor"))
        # A cent up, or down where that would pass the indicator's points.
        cent = Decimal("0.01")
        up = score.number + cent <= score.indicator.points
        value = score.number + cent if up else score.number - cent
        ledger.set_score(
            assessor, period, score.unit, score.indicator, str(value), version=score.version
        )
        db.session.remove()


def _server_time(client, url: str, *, change: str | None = None) -> tuple[float, int, float]:
    """Return the median wall time, the last status and the median CPU time of a page.

    ``change``: before each timed request, change one value of that period (so its
    ranking must be worked out again, as after any entry).
    """
    before = (lambda: _change_a_score(client.application, change)) if change else None
    timed = timed_get(client, url, RUNS, before=before)
    return timed.median, timed.status, timed.cpu


def measure(bench) -> list[Row]:
    """Time each page against the smallest signed-in page."""
    app = bench.app()
    with app.app_context():
        top = db.session.scalar(select(func.max(HistoryEvent.seq)))
        db.session.remove()
    settle_worker()  # as wsgi.py does in every server process
    auditor = signed_in_client(app, "auditor")
    supervisor = signed_in_client(app, "supervisor")
    floor, _, _ = _server_time(auditor, "/account/password")
    floor_text = f"password form {seconds(floor)}"
    pages = [
        (auditor, "history list, first page", "/admin/history/"),
        (auditor, "history list, a page mid-table", f"/admin/history/?before={top // 2}"),
        (auditor, "history list, one period's events", "/admin/history/?period=2026-06"),
        (supervisor, "ranking page, approved period", "/admin/ranking/?period=2026-11"),
        (supervisor, "ranking page, open period, first view after a change",
         "/admin/ranking/?period=2026-12", "2026-12"),
        (supervisor, "ranking page, open period, seen again before any change",
         "/admin/ranking/?period=2026-12"),
        (supervisor, "  its charts' figures, fetched after the page (all units)",
         "/admin/ranking/charts.json?period=2026-12"),
        (supervisor, "village list (26,500 rows)", "/admin/village/"),
    ]  # fmt: skip
    rows = []
    for client, label, url, *change in pages:
        median, status, cpu = _server_time(client, url, change=change[0] if change else None)
        ok = status == 200 and median < TARGET
        rows.append(
            Row(
                label,
                seconds(median),
                f"< {seconds(TARGET)}",
                floor_text,
                ok,
                f"GET {url} → {status}, cpu {seconds(cpu)}",
            )
        )
    with app.app_context():
        db.engine.dispose()
    return rows


if __name__ == "__main__":
    main_for(__doc__, measure)
