"""Time the weights room's read pages and the ranking's interval run at province scale
(docs/weights.md#method-sensitivity).

On the last approved period of the province (1,609 towns): the what-if page (the period
scored under a draft copy of the town scheme with one point moved, beside the ranking as
it stands), the diagnostics page, the method-sensitivity page (one engine run per
alternative choice), and the ranking page's interval run (1,000 weight samples plus the
method choices). Each through the Flask test client as the supervisor: one warm-up
request, then the median of a few. The floor is the same period's ranking page without
the interval run, timed the same way. ``run_all.py`` (``make bench``) runs it on the bench
database; alone::

    .venv/bin/python bench/weights_pages.py [--keep]
    # or on a database ``flask seed-demo --scale province`` filled (a scratch copy: the
    # supervisor's password is set and a draft version of the town scheme is added):
    DATABASE_URL=sqlite:////tmp/province.db .venv/bin/python bench/weights_pages.py --as-is
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from common import (
    BENCH_PASSWORD,
    BenchDatabase,
    Row,
    add_arguments,
    prepare,
    print_rows,
    seconds,
    signed_in_client,
)
from pages import _server_time
from sqlalchemy import select

from evaluation import settle_worker
from evaluation.accounts import operations as accounts
from evaluation.core.writing import SystemActor
from evaluation.history import records
from evaluation.schemes import operations as schemes
from models import Indicator, Period, Scheme, User, db

#: docs/rules.md#scale-targets: the what-if (and the weights room's other read pages) at
#: province scale; the interval run as the engine's run with uncertainty.
TARGET = 2.0
INTERVAL_TARGET = 5.0
SETUP = SystemActor("bench")
DRAFT = "BENCH-WHATIF"


def _prepare_data(app) -> tuple[str, int, int]:
    """Set the supervisor's password and add the draft version; return the period's code
    and id and the draft's id."""
    with app.app_context():
        supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
        accounts.set_password(SETUP, supervisor, BENCH_PASSWORD)
        draft = db.session.scalar(select(Scheme).where(Scheme.code == DRAFT))
        if draft is None:
            published = db.session.scalar(
                select(Scheme)
                .where(Scheme.level == "town", Scheme.status == "published")
                .order_by(Scheme.version.desc())
            )
            draft = schemes.copy_scheme(SETUP, published, DRAFT)
            first, second = db.session.scalars(
                select(Indicator).where(Indicator.scheme_id == draft.id).order_by(Indicator.order)
            ).all()[:2]
            # Move a point from the first indicator to the second: some towns move.
            records.update(SETUP, first, {"points": first.points - 1})
            records.update(SETUP, second, {"points": second.points + 1})
        period = db.session.scalar(
            select(Period)
            .where(Period.status == "approved")
            .order_by(Period.end_date.desc(), Period.id.desc())
        )
        found = (period.code, period.id, draft.id)
        db.session.remove()
    return found


def measure(bench: BenchDatabase) -> list[Row]:
    """Time each page against the period's ranking page without the interval run."""
    app = bench.app()
    code, period_id, draft_id = _prepare_data(app)
    settle_worker()
    supervisor = signed_in_client(app, "supervisor")
    floor, _, _ = _server_time(supervisor, f"/admin/ranking/?period={code}")
    floor_text = f"ranking page {seconds(floor)}"
    pages = [
        ("what-if page, 1,609 towns under a draft version", TARGET,
         f"/admin/weights/whatif?period={period_id}&level=town&scheme={draft_id}"),
        ("diagnostics page, 1,609 towns", TARGET,
         f"/admin/weights/diagnostics?period={period_id}&level=town"),
        ("method-sensitivity page, 1,609 towns", TARGET,
         f"/admin/weights/sensitivity?period={period_id}&level=town"),
        ("ranking page, interval run (1,000 samples + method choices)", INTERVAL_TARGET,
         f"/admin/ranking/?period={code}&uncertainty=1"),
    ]  # fmt: skip
    rows = []
    for label, target, url in pages:
        median, status, cpu = _server_time(supervisor, url)
        rows.append(
            Row(
                label,
                seconds(median),
                f"< {seconds(target)}",
                floor_text,
                status == 200 and median < target,
                f"GET {url} → {status}, cpu {seconds(cpu)}",
            )
        )
    with app.app_context():
        db.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument(
        "--as-is",
        action="store_true",
        help="use DATABASE_URL as it is (a seed-demo province), not the bench database",
    )
    arguments = parser.parse_args()
    if arguments.as_is:
        if not os.environ.get("DATABASE_URL"):
            raise SystemExit("--as-is needs DATABASE_URL")
        folder = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
        bench = BenchDatabase(os.environ["DATABASE_URL"], folder, keep=False)
    else:
        bench = prepare(arguments)
    try:
        print_rows(measure(bench))
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
