"""Benchmark the import of one province period (30,571 values, XLSX) (docs/rules.md#scale-targets).

A new period is created and opened (through the services), an XLSX with every town's
19 values (those of 2026-12) is written, and ``import_scores`` applies it as
the assessor: all or nothing, one history event per value. The floor is parsing the
same workbook (``read_table``). The import is bounded: past ``--limit``
seconds it is aborted (and so rolled back, all or nothing) and the full time is
projected from the share done. Run from the repository root::

    .venv/bin/python bench/import_period.py [--keep] [--limit 120]
"""

from __future__ import annotations

import argparse
import io
import time
from datetime import date

from common import Row, add_arguments, app_context, best_of, prepare, print_rows, seconds
from sqlalchemy import func, select

from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.scores.importer.apply import import_scores
from evaluation.scores.importer.read import read_table
from models import HistoryEvent, Indicator, Period, Score, Unit, User, db
from models.types import plain

TARGET = 15.0
SOURCE_PERIOD = "2026-12"


class Aborted(Exception):
    """Raised from the progress callback to stop an import past its time limit."""

    def __init__(self, done: int, total: int):
        super().__init__(f"{done}/{total}")
        self.done = done
        self.total = total


def workbook(period_code: str, source: Period) -> tuple[bytes, int]:
    """Write the XLSX of a period: one row per town value of ``source``."""
    from openpyxl import Workbook

    rows = db.session.execute(
        select(Unit.code, Indicator.code, Score.number, Score.grade)
        .join(Unit, Unit.id == Score.unit_id)
        .join(Indicator, Indicator.id == Score.indicator_id)
        .where(Score.period_id == source.id, Indicator.scheme_id == source.town_scheme_id)
        .order_by(Unit.sort_order, Indicator.order)
    ).all()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("分数导入")
    sheet.append(["考核周期", "单位代码", "指标代码", "数值", "备注"])
    for unit, indicator, number, grade in rows:
        value = grade if grade is not None else float(plain(number))
        sheet.append([period_code, unit, indicator, value, ""])
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue(), len(rows)


def measure(bench, *, limit: float = 120.0) -> list[Row]:
    """Time one province period's import against parsing its workbook."""
    with app_context(bench):
        users = {u.username: u for u in db.session.scalars(select(User))}
        admin, supervisor, assessor = users["admin"], users["supervisor"], users["assessor"]
        source = db.session.scalar(select(Period).where(Period.code == SOURCE_PERIOD))
        number = db.session.scalar(select(func.count()).select_from(Period)) + 1
        code = f"BENCH-{number:03d}"
        period = records.create(
            admin,
            Period,
            {
                "code": code,
                "name": f"基准测试导入周期 {number}",
                "start_date": date(2027, 1, 1),
                "end_date": date(2027, 1, 31),
                "town_scheme": source.town_scheme,
            },
        )
        periods.open_period(supervisor, period)
        data, values = workbook(code, source)
        floor = best_of(lambda: read_table(data, "period.xlsx"), 2)
        events_before = db.session.scalar(select(func.count()).select_from(HistoryEvent))
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if time.perf_counter() - started > limit and done < total:
                raise Aborted(done, total)

        note = ""
        try:
            report = import_scores(assessor, code, data, filename="period.xlsx", progress=progress)
            elapsed = time.perf_counter() - started
            events = (
                db.session.scalar(select(func.count()).select_from(HistoryEvent)) - events_before
            )
            ok = report.applied and elapsed <= TARGET
            measured = seconds(elapsed)
            note = f"{report.new:,} new values, {events:,} history events"
            if not report.applied:
                note = f"not applied: {report.summary()}"[:160]
        except Aborted as stop:
            elapsed = time.perf_counter() - started
            projected = elapsed * stop.total / max(stop.done, 1)
            ok = False
            measured = f"> {seconds(elapsed)} (aborted at {stop.done:,}/{stop.total:,})"
            note = f"projected {seconds(projected)} for all; rolled back"
        db.session.rollback()
    return [
        Row(
            f"import one province period ({values:,} values, XLSX)",
            measured,
            f"≤ {seconds(TARGET)}",
            f"parse the workbook {seconds(floor)}",
            ok,
            note,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--limit", type=float, default=120.0, help="abort the import after N s")
    arguments = parser.parse_args()
    bench = prepare(arguments)
    try:
        print_rows(measure(bench, limit=arguments.limit))
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
