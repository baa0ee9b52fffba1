"""Run every benchmark of docs/rules.md#scale-targets and print each figure with its target and a
floor.

Builds (or with ``--keep`` reuses) the bench database — the province of
``seed-demo --scale province`` with its history topped up to 1,000,000 events — in a
SQLite file in a temporary directory, or in the PostgreSQL database named by
``DATABASE_URL``. Each row pairs the figure with a floor measured in the same run:

- engine: 1,609 towns × 19 indicators vs. one pass summing the values and sorting
  the towns; with 1,000-sample uncertainty vs. the bare numpy work (weights,
  totals, ranks);
- ``rank`` from the database vs. a plain SELECT of the period's score rows;
- import of one province period vs. parsing its workbook;
- ``export-history`` / ``verify-history`` over a million events vs. reading the table;
- the history and ranking pages vs. the smallest signed-in page;
- the weights room's what-if, diagnostics and method-sensitivity pages and the ranking's
  interval run vs. the same period's ranking page;
- the 通报 DOCX and PDF of the approved province period and one town's report vs. the
  ranking API (docs/reports.md#speed);
- 8 concurrent API writers vs. ``GET /periods`` under the same load.

Then the growth curve (``bench/growth.py``): rank, the open ranking page, export and
verify on the district, the province and the national sample (16,090 towns; built in
minutes, ``BENCH_SKIP_NATIONAL=1`` leaves it out), printed as figure × scale.

Run from the repository root (``make bench``; ``make bench DATABASE_URL=…``)::

    .venv/bin/python bench/run_all.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import UTC, datetime
from decimal import Decimal

import engine as engine_bench
import growth
import history as history_bench
import import_period
import numpy as np
import pages
import ranking
import reports
import weights_pages
import writers
from common import Row, add_arguments, best_cpu_of, best_of, prepare, print_rows, seconds


def engine_rows(runs: int = 5) -> list[Row]:
    """Time the pure engine at province scale against the least work the same answer needs."""
    document = engine_bench.build_document()
    plain = engine_bench.best_time(document, runs)
    plain_cpu = best_cpu_of(lambda: engine_bench.cold_compute(document), runs)

    floor = best_of(lambda: engine_bench.sum_and_sort(document), runs)
    floor_cpu = best_cpu_of(lambda: engine_bench.sum_and_sort(document), runs)
    document["sensitivity"] = {"samples": 1000, "spread": Decimal("0.2"), "seed": 1}
    uncertain = engine_bench.best_time(document, 2)
    uncertain_cpu = best_cpu_of(lambda: engine_bench.cold_compute(document), 1)
    fractions = np.random.default_rng(2).uniform(size=(engine_bench.TOWNS, 19))

    def bare_numpy():
        weights = np.random.default_rng(1).uniform(0.8, 1.2, size=(1000, 19))
        totals = np.round(fractions @ weights.T, 2)
        return np.argsort(-totals, axis=0, kind="stable")

    numpy_floor = best_of(bare_numpy, runs)
    towns = f"{engine_bench.TOWNS:,}"
    factor = engine_bench.FLOOR_FACTOR
    return [
        Row(
            f"engine: {towns} towns × 19 indicators, scores + ranks",
            f"{seconds(plain)} ({plain / floor:.1f} × floor)",
            f"< 500 ms, ≤ {factor} × floor = {seconds(factor * floor)}",
            f"sum values + sort {seconds(floor)}",
            plain < 0.5 and plain <= factor * floor,
            f"cpu {seconds(plain_cpu)} = {plain_cpu / floor_cpu:.1f} × floor's "
            f"{seconds(floor_cpu)}",
        ),
        Row(
            "  with 1,000-sample rank uncertainty",
            seconds(uncertain),
            "< 5.00 s",
            f"bare numpy {seconds(numpy_floor)}",
            uncertain < 5.0,
            f"cpu {seconds(uncertain_cpu)}",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--xlsx", action="store_true", help="also time the XLSX export")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers for writers")
    parser.add_argument("--import-limit", type=float, default=120.0, help="abort import after N s")
    parser.add_argument("--skip-import", action="store_true", help="leave the import out")
    arguments = parser.parse_args()

    started = time.perf_counter()
    rows: list[Row] = []
    print("engine …", flush=True)
    rows += engine_rows()
    bench = prepare(arguments)
    scales: list[growth.Scale] = []  # the growth curve's ledgers, measured last
    try:
        for name, step in [
            ("rank from the database", lambda: ranking.measure(bench)),
            ("pages", lambda: pages.measure(bench)),
            ("weights pages and the interval run", lambda: weights_pages.measure(bench)),
            ("通报 and town reports", lambda: reports.measure(bench)),
            (
                "export-history / verify-history",
                lambda: history_bench.measure(bench, xlsx=arguments.xlsx),
            ),
            ("8 concurrent API writers", lambda: writers.measure(bench, workers=arguments.workers)),
            (
                "import of one province period",
                lambda: (
                    import_period.measure(bench, limit=arguments.import_limit)
                    if not arguments.skip_import
                    else []
                ),
            ),
        ]:
            print(f"{name} …", flush=True)
            try:
                rows += step()
            except Exception as error:  # one broken figure must not hide the others
                rows.append(Row(name, "failed", "", "", False, f"{type(error).__name__}: {error}"))

        # --- growth curve (docs/rules.md#growth): a section of its own ------------------
        print("growth: district → province → national sample …", flush=True)
        try:
            scales = growth.measure(bench, keep=arguments.keep, seed=arguments.seed)
        except Exception as error:  # the growth table must not hide the figures above
            print(f"  growth failed: {type(error).__name__}: {error}", flush=True)
    finally:
        bench.cleanup()
    database = "PostgreSQL" if bench.dialect == "postgresql" else "SQLite"
    title = (
        f"Scale benchmarks (docs/rules.md#scale-targets) — {database}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}, "
        f"Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"whole run {seconds(time.perf_counter() - started)}"
    )
    print()
    print_rows(rows, title=title)
    growth.print_growth(scales)


if __name__ == "__main__":
    main()
