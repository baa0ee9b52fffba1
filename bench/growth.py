"""How the scale figures grow from a district to a province to ten provinces
(docs/rules.md#growth).

Three ledgers, each measured by the same code:

- **district**: ``seed-demo`` (揭东区, 13 towns), built here in a SQLite file;
- **province**: the bench database (``seed-demo --scale province``, 1,609 towns, its
  history topped up to 1,000,000 events), shared with the other benchmarks;
- **national sample**: ``seed-demo --scale national-sample`` (16,090 towns, one open
  period), built here in a SQLite file. ``BENCH_SKIP_NATIONAL=1`` leaves it out (building
  it takes minutes).

Figures: ``rank`` of the open period's towns from the database (and its floor, a plain
SELECT of the period's town score rows), the open period's ranking page (server time,
median of 5: the first view after a value changed, and seen again), ``export-history
--format csv`` and ``verify-history`` (fresh ``flask`` processes, start-up included).
Printed as a table of figure × scale with the growth factor from one scale to the next.
SQLite only: with ``DATABASE_URL`` set the table is left out. Run from the repository
root::

    .venv/bin/python bench/growth.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import (
    BENCH_PASSWORD,
    BenchDatabase,
    Progress,
    _pad,
    _width,
    add_arguments,
    app_context,
    best_cpu_of,
    best_of,
    flask_measured,
    prepare,
    seconds,
)
from flask import current_app
from sqlalchemy import func, select

from evaluation import settle_worker
from evaluation.core.states import PeriodStatus
from evaluation.demo import district, province
from evaluation.ranking import reading
from evaluation.scoring.engine import forget_scored_columns
from models import HistoryEvent, Indicator, Period, Score, Unit, db

#: Set to 1 to leave the national sample out (it takes minutes to build).
SKIP_NATIONAL = "BENCH_SKIP_NATIONAL"
RUNS = 3
GROWTH_FILE = "growth-{}.sqlite3"


@dataclass
class Scale:
    """One ledger's figures (seconds), and what it holds."""

    name: str
    towns: int = 0
    values: int = 0
    events: int = 0
    figures: dict[str, float] = field(default_factory=dict)
    #: The same figures in CPU seconds (the machine is shared: wall times move with its load).
    cpu: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _own_database(name: str, keep: bool) -> BenchDatabase:
    folder = Path(tempfile.gettempdir()) / "ledger-bench"
    folder.mkdir(exist_ok=True)
    path = folder / GROWTH_FILE.format(name)
    return BenchDatabase(f"sqlite:///{path}", folder, keep)


def _has_units(bench: BenchDatabase) -> bool:
    path = Path(bench.url.removeprefix("sqlite:///"))
    if not path.exists():
        return False
    with app_context(bench):
        return db.session.scalar(select(func.count()).select_from(Unit)) > 0


def build_district(keep: bool) -> BenchDatabase:
    """The district demo (``seed-demo``) in its own SQLite file."""
    bench = _own_database("district", keep)
    if keep and _has_units(bench):
        return bench
    Path(bench.url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    with app_context(bench):
        db.create_all()
        district.seed_demo(scale="district", password_factory=lambda: BENCH_PASSWORD)
    return bench


def build_national(keep: bool, seed: int) -> BenchDatabase:
    """The national sample (``seed-demo --scale national-sample``) in its own SQLite file."""
    bench = _own_database("national", keep)
    if keep and _has_units(bench):
        print(f"reusing {bench.url}", flush=True)
        return bench
    Path(bench.url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    started = time.perf_counter()
    with app_context(bench):
        db.create_all()
        province.seed_province(
            seed=seed,
            scale=province.NATIONAL_SAMPLE,
            progress=Progress("seed-demo national-sample"),
            password_factory=lambda: BENCH_PASSWORD,
        )
    print(f"  national sample built in {seconds(time.perf_counter() - started)}", flush=True)
    return bench


def measure_scale(bench: BenchDatabase, name: str) -> Scale:
    """Measure one ledger: rank and its floor, the open ranking page, export and verify."""
    from common import signed_in_client
    from pages import _server_time

    scale = Scale(name)
    with app_context(bench):
        period = db.session.scalar(
            select(Period).where(Period.status == PeriodStatus.OPEN).order_by(Period.code.desc())
        )
        code = period.code
        town_indicators = select(Indicator.id).where(Indicator.scheme_id == period.town_scheme_id)
        scale.towns = db.session.scalar(
            select(func.count()).select_from(Unit).where(Unit.level == "town")
        )
        scale.events = db.session.scalar(select(func.count()).select_from(HistoryEvent))

        def plain_select():
            return db.session.execute(
                select(Score.unit_id, Score.indicator_id, Score.number, Score.grade).where(
                    Score.period_id == period.id, Score.indicator_id.in_(town_indicators)
                )
            ).all()

        def computed_ranking():
            # As a new ``flask rank`` process would: nothing kept from an earlier run.
            current_app.extensions.pop("computed_rankings", None)
            current_app.extensions.pop("stored_values", None)
            forget_scored_columns()
            return reading.ranking(period, "town")

        scale.values = len(plain_select())
        floor = ranked = float("inf")
        for _ in range(RUNS):  # interleaved: both see the same machine
            floor = min(floor, best_of(plain_select, 1))
            ranked = min(ranked, best_of(computed_ranking, 1))
        scale.figures["select"] = floor
        scale.figures["rank"] = ranked
        scale.cpu["select"] = best_cpu_of(plain_select, RUNS)
        scale.cpu["rank"] = best_cpu_of(computed_ranking, RUNS)
        db.session.rollback()

    app = bench.app()
    settle_worker()
    supervisor = signed_in_client(app, "supervisor")
    url = f"/admin/ranking/?period={code}"
    changed, status, changed_cpu = _server_time(supervisor, url, change=code)
    again, status_again, again_cpu = _server_time(supervisor, url)
    scale.figures["page after change"], scale.cpu["page after change"] = changed, changed_cpu
    scale.figures["page again"], scale.cpu["page again"] = again, again_cpu
    if status != 200 or status_again != 200:
        scale.notes.append(f"{name}: GET {url} → {status} / {status_again}")
    with app.app_context():
        db.engine.dispose()

    env = bench.environment()
    output = bench.folder / f"growth-{name}.csv"
    run = flask_measured(
        ["export-history", "--format", "csv", "--output", str(output)], env, timeout=1800
    )
    output.unlink(missing_ok=True)
    scale.figures["export"], scale.cpu["export"] = run.seconds, run.cpu_seconds
    if run.returncode != 0:
        scale.notes.append(f"{name}: export-history failed: {run.stderr.strip()[-200:]}")
    run = flask_measured(["verify-history"], env, timeout=1800)
    scale.figures["verify"], scale.cpu["verify"] = run.seconds, run.cpu_seconds
    if run.returncode != 0:
        scale.notes.append(f"{name}: verify-history failed: {run.stderr.strip()[-200:]}")
    return scale


#: (key, label) of the figures, in the order printed.
FIGURES = [
    ("rank", "rank from the database (open period, towns)"),
    ("select", "  its floor: SELECT the period's town rows"),
    ("page after change", "open ranking page, first view after a change"),
    ("page again", "open ranking page, seen again"),
    ("export", "export-history --format csv (whole history)"),
    ("verify", "verify-history (whole history)"),
]


def measure(bench: BenchDatabase, *, keep: bool = False, seed: int = 2026) -> list[Scale]:
    """Measure the district, the province (``bench``) and, unless skipped, the national
    sample; return their figures in that order."""
    if bench.dialect != "sqlite":
        return []
    ledgers = [("district", build_district(keep)), ("province", bench)]
    if os.environ.get(SKIP_NATIONAL) != "1":
        ledgers.append(("national sample", build_national(keep, seed)))
    scales = []
    try:
        for name, ledger in ledgers:
            print(f"  growth: {name} …", flush=True)
            scales.append(measure_scale(ledger, name))
    finally:
        for _, ledger in ledgers[::2]:  # the district and national files, not the bench's
            if not keep:
                Path(ledger.url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    return scales


def _figure(scale: Scale, key: str) -> str:
    if key not in scale.figures:
        return "—"
    wall, cpu = scale.figures[key], scale.cpu.get(key)
    text = seconds(wall) + (f" (cpu {seconds(cpu)})" if cpu else "")
    if key in ("export", "verify") and wall:
        text += f", {scale.events / wall:,.0f}/s"
    return text


def print_growth(scales: list[Scale]) -> None:
    """Print figure × scale, with the factor from each scale to the next (wall, and cpu)."""
    if not scales:
        print("Growth curve: measured on SQLite only (DATABASE_URL is set).\n")
        return
    head = ["figure"]
    for k, scale in enumerate(scales):
        head.append(scale.name)
        if k:
            head.append(f"× {scales[k - 1].name[:4]}→{scale.name[:4]} (cpu)")
    rows = [
        ["towns"] + _with_ratios([s.towns for s in scales], str_of=lambda n: f"{n:,}"),
        ["town values in the open period"]
        + _with_ratios([s.values for s in scales], str_of=lambda n: f"{n:,}"),
        ["history events"] + _with_ratios([s.events for s in scales], str_of=lambda n: f"{n:,}"),
    ]
    for key, label in FIGURES:
        rows.append(
            [label]
            + _with_ratios(
                [s.figures.get(key) for s in scales],
                texts=[_figure(s, key) for s in scales],
                cpu=[s.cpu.get(key) for s in scales],
            )
        )
    widths = [max(_width(row[c]) for row in [head, *rows]) for c in range(len(head))]
    print("Growth: district → province → 10 × province (docs/rules.md#growth), SQLite")
    print(" | ".join(_pad(h, w) for h, w in zip(head, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)))
    for scale in scales:
        for note in scale.notes:
            print(f"  note: {note}")
    print(flush=True)


def _with_ratios(
    numbers: list, *, str_of=None, texts: list[str] | None = None, cpu: list | None = None
) -> list[str]:
    """Each number's text, and between neighbours the factor from one to the next."""
    cells: list[str] = []
    for k, number in enumerate(numbers):
        cells.append(texts[k] if texts is not None else str_of(number))
        if k:
            before = numbers[k - 1]
            ratio = f"{number / before:.1f} ×" if number and before else "—"
            if cpu is not None and cpu[k] and cpu[k - 1]:
                ratio += f" ({cpu[k] / cpu[k - 1]:.1f} ×)"
            cells.append(ratio)
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    arguments = parser.parse_args()
    bench = prepare(arguments)
    try:
        print_growth(measure(bench, keep=arguments.keep, seed=arguments.seed))
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
