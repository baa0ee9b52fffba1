"""Files in and out: ``import-scores`` and ``export-history`` (SPEC §8.3)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from evaluation.cli import CLI_ACTOR, fails_in_one_line
from evaluation.services import exports


@click.command("export-history")
@click.option("--period", default="", help="Only the events of this period (code).")
@click.option("--format", "fmt", required=True, type=click.Choice(exports.FORMATS))
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True))
@with_appcontext
@fails_in_one_line
def export_history(period, fmt, output):
    """Export the change history as CSV, XLSX or JSONL (streamed; the export is logged)."""
    flt = exports.HistoryFilter(period=period)
    count = exports.write_export(CLI_ACTOR, fmt, flt, output)
    click.echo(f"已导出 {count} 条变更历史到 {Path(output).resolve()}")


COMMANDS = [export_history]
