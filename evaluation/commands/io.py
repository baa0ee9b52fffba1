"""Files in and out: ``import-scores`` and ``export-history``
(docs/architecture.md#command-line)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from evaluation.cli import CLI_ACTOR, fails_in_one_line
from evaluation.core.writing import SystemActor
from evaluation.history import exports
from evaluation.scores.importer import apply
from models import User, db

#: Scores are entered by assessors; an import from the server's shell acts as one,
#: recorded in the history as ``cli`` unless ``--user`` names a real assessor.
CLI_ASSESSOR = SystemActor("cli", role="assessor")
#: Changes listed by a dry run before "… and N more".
LISTED_CHANGES = 200
#: Warnings listed before "… and N more".
LISTED_WARNINGS = 200


@click.command("import-scores")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--period", required=True, help="Period code, e.g. 2026Q3.")
@click.option("--level", default="town", type=click.Choice(["town", "village"]))
@click.option("--dry-run", is_flag=True, help="Check and show what would change; write nothing.")
@click.option("--user", "username", default="", help="Record the import as this assessor.")
@click.option(
    "--overwrite",
    is_flag=True,
    help="Let a file without versions or export time change stored values (needs --reason).",
)
@click.option("--reason", default="", help="Why stored values are overwritten (kept in history).")
@with_appcontext
@fails_in_one_line
def import_scores(file, period, level, dry_run, username, overwrite, reason):
    """Import scores from an XLSX or CSV file, all or nothing (docs/rules.md#import-file)."""
    actor = CLI_ASSESSOR
    if username:
        actor = db.session.scalar(select(User).where(User.username == username))
        if actor is None:
            raise click.ClickException(f"没有名为 {username} 的用户")
    data = Path(file).read_bytes()

    def progress(done: int, total: int) -> None:
        click.echo(f"正在写入：{done}/{total}", err=True)

    report = apply.import_scores(
        actor,
        period,
        data,
        filename=file,
        level=level,
        dry_run=dry_run,
        overwrite=overwrite,
        reason=reason,
        progress=progress,
    )
    if report.layout:
        click.echo(f"读取方式：{report.layout}")
    for warning in report.warnings[:LISTED_WARNINGS]:
        click.echo(f"提示：{warning}")
    if len(report.warnings) > LISTED_WARNINGS:
        click.echo(f"……另有 {len(report.warnings) - LISTED_WARNINGS} 处提示")
    if report.problems:
        for problem in report.problems:
            click.echo(str(problem), err=True)
        click.echo(f"导入失败：{report.summary()}", err=True)
        sys.exit(1)
    if dry_run:
        if not report.period_open:
            click.echo(f"注意：考核周期 {report.period} 当前不在填报中，正式导入将被拒绝")
        for change in report.changes[:LISTED_CHANGES]:
            old = change.old_value if change.old_value is not None else "（无）"
            note = (
                f"（备注：{change.new_note}）" if change.new_note != (change.old_note or "") else ""
            )
            overwrites = "（覆盖）" if change.overwrites else ""
            click.echo(
                f"第{change.row}行 {change.unit} {change.unit_name} / {change.indicator} "
                f"{change.indicator_name}：{old} → {change.new_value}{note}{overwrites}"
            )
        if len(report.changes) > LISTED_CHANGES:
            click.echo(f"……另有 {len(report.changes) - LISTED_CHANGES} 项变更")
    click.echo(report.summary())


@click.command("export-history")
@click.option("--period", default="", help="Only the events of this period (code).")
@click.option("--format", "fmt", required=True, type=click.Choice(exports.FORMATS))
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--utc", is_flag=True, help="CSV/XLSX times in UTC instead of Beijing time.")
@with_appcontext
@fails_in_one_line
def export_history(period, fmt, output, utc):
    """Export the change history as CSV, XLSX or JSONL (streamed; the export is logged)."""
    flt = exports.HistoryFilter(period=period)
    try:
        count = exports.write_export(CLI_ACTOR, fmt, flt, output, utc=utc)
    except OSError as error:
        raise click.ClickException(f"无法写入 {output}：{error.strerror or error}") from None
    click.echo(f"已导出 {count} 条变更历史到 {Path(output).resolve()}")
    click.echo(f"签名检查点：{Path(exports.checkpoint_path(output)).resolve()}")


COMMANDS = [import_scores, export_history]
