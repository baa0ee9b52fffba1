"""Benchmark the documents of results in use (docs/reports.md#speed) at province scale.

Server time through the Flask test client (the whole WSGI stack, no network), signed in
as the supervisor, on the approved province period ``2026-11`` (1,609 towns):

- the 通报 as DOCX and as PDF (headless Chromium), each < 10 s; floor: the figures they
  print (``GET …/ranking`` of the approved period, its stored snapshot);
- one town's report (the page and the API's JSON), < 300 ms, with the period's parsed and
  scored document kept (as on every report after the first) and not kept (as after
  any change); floor: the ranking API above.

Each document is made once as a warm-up (fonts, matplotlib, templates), then the median
of ``RUNS``. Run from the repository root::

    .venv/bin/python bench/reports.py [--keep]
"""

from __future__ import annotations

from common import BENCH_ACTOR, Row, main_for, seconds, signed_in_client, timed_get
from sqlalchemy import select

from evaluation import settle_worker
from evaluation.accounts import operations as accounts
from models import User, db

PERIOD = "2026-11"
DOCUMENT_TARGET = 10.0
TOWN_TARGET = 0.3
RUNS = 3


def _timed(client, url: str, runs: int, before=None, **kwargs) -> tuple[float, int, int]:
    """Median wall time, last status and size of ``GET url`` after one warm-up
    (``before()`` run ahead of each timed request, untimed)."""
    timed = timed_get(client, url, runs, before=before, **kwargs)
    return timed.median, timed.status, timed.size


def measure(bench) -> list[Row]:
    app = bench.app()
    settle_worker()
    client = signed_in_client(app, "supervisor")
    with app.app_context():
        supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
        token = accounts.create_token(BENCH_ACTOR, supervisor)
        db.session.commit()
        db.session.remove()
    api = {"headers": {"Authorization": f"Bearer {token}"}}
    floor, _, _ = _timed(client, f"/api/v1/periods/{PERIOD}/ranking", RUNS, **api)
    results = client.get(f"/api/v1/periods/{PERIOD}/ranking", **api).json["results"]
    town = results[len(results) // 2]["unit"]  # a town mid-table
    floor_text = f"ranking API (snapshot) {seconds(floor)}"
    rows = []
    for label, url, target, runs, kwargs in [
        (f"通报 DOCX, {len(results):,} towns", f"/admin/reports/notice.docx?period={PERIOD}",
         DOCUMENT_TARGET, 1, {}),
        (f"通报 PDF, {len(results):,} towns (Chromium)",
         f"/admin/reports/notice.pdf?period={PERIOD}", DOCUMENT_TARGET, 1, {}),
        ("one town's report, page", f"/admin/reports/town?period={PERIOD}&unit={town}",
         TOWN_TARGET, RUNS, {}),
        ("one town's report, API JSON", f"/api/v1/periods/{PERIOD}/units/{town}/report",
         TOWN_TARGET, RUNS, api),
        ("  the same, the period not kept (as after any change)",
         f"/api/v1/periods/{PERIOD}/units/{town}/report", TOWN_TARGET, RUNS,
         {**api, "before": lambda: app.extensions.pop("scored_inputs", None)}),
        ("one town's report, PDF", f"/admin/reports/town.pdf?period={PERIOD}&unit={town}",
         None, 1, {}),
    ]:  # fmt: skip
        median, status, size = _timed(client, url, runs, **kwargs)
        ok = status == 200 and (target is None or median < target)
        rows.append(
            Row(
                label,
                seconds(median),
                f"< {seconds(target)}" if target else "—",
                floor_text,
                ok,
                f"GET {url.split('?')[0]} → {status}, {size / 1024:,.0f} KB",
            )
        )
    with app.app_context():
        db.engine.dispose()
    return rows


if __name__ == "__main__":
    main_for(__doc__, measure)
