"""Benchmark ``export-history`` and ``verify-history`` over a million events
(docs/rules.md#scale-targets).

Each command runs as ``flask …`` in a fresh interpreter, so the figure is what an
auditor waits for (start-up included) and the peak memory is that process's maximum
resident set (``getrusage`` ``ru_maxrss``). The floor is a fresh interpreter that only
reads the history table in ``seq`` order (keyset pages of 5,000 rows, every column).
Run from the repository root::

    .venv/bin/python bench/history.py [--keep] [--xlsx]
"""

from __future__ import annotations

import argparse

from common import Row, add_arguments, app_context, flask_measured, prepare, print_rows, seconds
from common import python_measured as python_run
from sqlalchemy import func, select

from models import HistoryEvent, db

RATE_TARGET = 100_000
MEMORY_TARGET_MB = 200

READ_TABLE = """
from sqlalchemy import select
from evaluation import create_app
from models import HistoryEvent, db
import os
app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"]})
columns = list(HistoryEvent.__table__.columns)
with app.app_context():
    # Core rows on the session's connection: the cheapest way the app can read the table.
    connection = db.session.connection()
    after, count = 0, 0
    while True:
        rows = connection.execute(
            select(*columns).where(HistoryEvent.seq > after).order_by(HistoryEvent.seq).limit(5000)
        ).all()
        if not rows:
            break
        count += len(rows)
        after = rows[-1].seq
    print(count)
"""


def measure(bench, *, xlsx: bool = False) -> list[Row]:
    """Time the export formats and the verification against reading the table."""
    with app_context(bench):
        events = db.session.scalar(select(func.count()).select_from(HistoryEvent))
    env = bench.environment()
    floor = python_run(READ_TABLE, env)
    start_up = flask_measured(["--help"], env)
    if floor.returncode != 0:
        raise SystemExit(f"reading the history table failed:\n{floor.stderr}")
    floor_text = (
        f"read table {seconds(floor.seconds)} = {events / floor.seconds:,.0f}/s, "
        f"peak {floor.max_rss_mb:.0f} MB"
    )
    start_note = f"start-up {seconds(start_up.seconds)} included"
    rows = []
    formats = ["csv", "jsonl"] + (["xlsx"] if xlsx else [])
    for fmt in formats:
        output = bench.folder / f"history.{fmt}"
        run = flask_measured(
            ["export-history", "--format", fmt, "--output", str(output)], env, timeout=1800
        )
        if run.returncode != 0:
            rows.append(Row(f"export-history {fmt}", "failed", "", "", False, _last(run.stderr)))
            continue
        rate = events / run.seconds
        size = output.stat().st_size / 2**20
        output.unlink()
        rows.append(
            Row(
                f"export-history --format {fmt}, {events:,} events",
                f"{rate:,.0f} rows/s ({seconds(run.seconds)}), peak {run.max_rss_mb:.0f} MB",
                f"≥ {RATE_TARGET:,} rows/s, ≤ {MEMORY_TARGET_MB} MB",
                floor_text,
                rate >= RATE_TARGET and run.max_rss_mb <= MEMORY_TARGET_MB,
                f"{size:,.0f} MiB file; {_cpu(run, events)}; {start_note}",
            )
        )
    run = flask_measured(["verify-history"], env, timeout=1800)
    rate = events / run.seconds
    rows.append(
        Row(
            f"verify-history, {events:,} events",
            f"{rate:,.0f} events/s ({seconds(run.seconds)}), peak {run.max_rss_mb:.0f} MB",
            f"≥ {RATE_TARGET:,} events/s",
            floor_text,
            run.returncode == 0 and rate >= RATE_TARGET,
            ("chain valid" if run.returncode == 0 else _last(run.stderr))
            + f"; {_cpu(run, events)}; floor {_cpu(floor, events)}; {start_note}",
        )
    )
    return rows


def _cpu(run, events: int) -> str:
    # CPU time shows what the figure would be on an idle machine (wall time includes waits).
    if not run.cpu_seconds:
        return "cpu n/a"
    return f"cpu {seconds(run.cpu_seconds)} = {events / run.cpu_seconds:,.0f}/s"


def _last(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("USAGE")]
    return lines[-1][:160] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--xlsx", action="store_true", help="also time the XLSX export")
    arguments = parser.parse_args()
    bench = prepare(arguments)
    try:
        print_rows(measure(bench, xlsx=arguments.xlsx))
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
