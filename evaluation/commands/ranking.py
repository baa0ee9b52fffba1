"""``flask rank`` and ``flask flag-villages`` (docs/architecture.md#command-line): figures from
``evaluation.ranking.reading``.

The table is meant for a terminal: Chinese characters take two columns there, so widths
are counted by East Asian width, not by ``len``.
"""

from __future__ import annotations

import csv
import json
import sys
import unicodedata

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from evaluation.cli import CLI_ACTOR, fails_in_one_line
from evaluation.grades import shown_grade
from evaluation.periods import operations as periods
from evaluation.ranking import reading
from models import Period, db
from models.reviews import PRIORITIES, REASONS
from models.units import LEVELS


def display_width(text: str) -> int:
    """Return how many terminal columns ``text`` takes (wide and full-width count 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - display_width(text))
    return gap + text if right else text + gap


def format_table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    """Lay out rows in aligned columns; columns in ``right`` are right-aligned (numbers)."""
    widths = [
        max(display_width(row[i]) for row in [header, *rows]) for i in range(len(header))
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            _pad(cell, widths[i], i in right) for i, cell in enumerate(cells)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def _period(code: str) -> Period:
    period = db.session.scalar(select(Period).where(Period.code == code))
    if period is None:
        raise click.ClickException(f"没有代码为 {code} 的考核周期")
    return period


def _provenance(answer: dict) -> str:
    if answer["from_snapshot"]:
        return f"来自审定快照 SHA-256 {answer['snapshot_hash']}"
    return "实时计算（周期未审定，数值仍可能变化）"


@click.command("rank")
@click.option("--period", "period_code", required=True, help="考核周期代码，如 2026Q3")
@click.option("--level", type=click.Choice(list(LEVELS)), default="town", show_default=True)
@click.option(
    "--format", "output", type=click.Choice(["table", "json", "csv"]), default="table",
    show_default=True,
)
@with_appcontext
@fails_in_one_line
def rank(period_code: str, level: str, output: str):
    """Rank a period's towns (or typical villages); an approved period uses its snapshot."""
    period = _period(period_code)
    answer = reading.ranking(period, level)
    if output == "json":
        click.echo(json.dumps(answer, ensure_ascii=False, indent=1))
        return
    dimensions = reading.scheme_for(period, level).dimensions
    if output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(
            ["rank", "unit", "name", *(d.code for d in dimensions), "bonus", "penalty",
             "total", "grade", "vetoed", "complete", "missing"]
        )
        for r in answer["results"]:
            writer.writerow(
                [r["rank"], r["unit"], r["name"], *(r["dimensions"][d.code] for d in dimensions),
                 r["bonus"], r["penalty"], r["total"], shown_grade(r),
                 str(r["vetoed"]).lower(), str(r["complete"]).lower(), " ".join(r["missing"])]
            )
        return
    header = ["排名", "代码", "名称", *(d.name for d in dimensions), "加分", "减分", "总分",
              "等次", "完整"]
    rows = [
        [
            str(r["rank"]),
            r["unit"],
            r["name"],
            *(r["dimensions"][d.code] for d in dimensions),
            r["bonus"],
            r["penalty"],
            r["total"],
            shown_grade(r) + ("（一票否决）" if r["vetoed"] else ""),
            "是" if r["complete"] else f"缺 {len(r['missing'])} 项",
        ]
        for r in answer["results"]
    ]
    numbers = {0, *range(3, 3 + len(dimensions) + 3)}
    shown_level = "典型村" if level == "village" else LEVELS[level]
    click.echo(f"{period.name}（{period.code}）{shown_level}排名 · {period.status_name}")
    click.echo(_provenance(answer))
    click.echo(format_table(header, rows, numbers))


@click.command("flag-villages")
@click.option("--period", "period_code", required=True, help="考核周期代码，如 2026Q3")
@click.option(
    "--format", "output", type=click.Choice(["table", "json"]), default="table",
    show_default=True,
)
@click.option("--sync", is_flag=True, help="同时为需研判的典型村开立（或保留）研判案")
@with_appcontext
@fails_in_one_line
def flag_villages(period_code: str, output: str, sync: bool):
    """Check every typical village of a period by the review rules (docs/rules.md#review-flags)."""
    period = _period(period_code)
    answer = reading.flags(period)
    summary = periods.sync_review_cases(CLI_ACTOR, period) if sync else None
    if output == "json":
        if summary is not None:
            answer["cases"] = summary
        click.echo(json.dumps(answer, ensure_ascii=False, indent=1))
        return
    flags = answer["flags"]
    if period.village_scheme_id is None:
        click.echo(f"{period.name}（{period.code}）没有村级指标方案，无典型村研判提示")
        return
    header = ["代码", "名称", "批次", "研判组", "总分", "优先级", "原因"]
    rows = [
        [
            f["unit"],
            f["name"],
            f"第{f['batch']}批",
            f["analysis_group"] or "—",
            f["total"],
            str(PRIORITIES.get(f["priority"], "—")) if f["priority"] else "—",
            "、".join(str(REASONS.get(code, code)) for code in f["reasons"]) or "无异常",
        ]
        for f in flags
    ]
    click.echo(f"{period.name}（{period.code}）典型村研判提示 · {period.status_name}")
    click.echo(format_table(header, rows, {4}))
    flagged = sum(1 for f in flags if f["flagged"])
    click.echo(f"共 {len(flags)} 个典型村，其中 {flagged} 个需研判")
    if summary is not None:
        click.echo(
            f"研判案：新开 {len(summary['opened'])} 个，更新 {len(summary['updated'])} 个，"
            f"保留 {len(summary['kept'])} 个"
        )


COMMANDS = [rank, flag_villages]
