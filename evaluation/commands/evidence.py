"""``export-evidence`` and ``verify-evidence``: the auditor's evidence bundle and the
store's check (docs/evidence.md#the-auditors-bundle)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from evaluation.cli import fails_in_one_line
from evaluation.evidence import bundle
from evaluation.evidence.store import current_store, human_size


@click.command("export-evidence")
@click.option("--period", required=True, help="Period code, e.g. 2026Q3.")
@click.option(
    "--output",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory for files/ and manifest.csv (created if missing).",
)
@with_appcontext
@fails_in_one_line
def export_evidence(period, output):
    """Copy a period's evidence files and write manifest.csv; exit 1 naming any file
    missing from the store or altered."""
    done = bundle.export_period(period, Path(output))
    for problem in done.problems:
        click.echo(problem, err=True)
    click.echo(
        f"已导出 {done.files} 个文件（{human_size(done.bytes)}），清单 {done.rows} 行："
        f"{Path(output) / 'manifest.csv'}"
    )
    if done.problems:
        click.echo(f"导出不完整：{len(done.problems)} 个文件缺失或被改动", err=True)
        sys.exit(1)


@click.command("verify-evidence")
@with_appcontext
@fails_in_one_line
def verify_evidence():
    """Re-hash every stored evidence file; check rows and links against the history's
    evidence.add events. Exit 1 naming every missing or altered file."""
    found = bundle.verify_store()
    for problem in found.problems:
        click.echo(problem, err=True)
    if found.unregistered:
        click.echo(
            f"提示：存储中有 {len(found.unregistered)} 个文件没有登记记录（上传未完成的事务留下，"
            f"保留不删）：{', '.join(sha[:12] + '…' for sha in found.unregistered[:10])}"
        )
    if not found.ok:
        click.echo(
            f"佐证材料校验未通过：{len(found.problems)} 处问题（{current_store()!r}）", err=True
        )
        sys.exit(1)
    click.echo(
        f"佐证材料完整：{found.files} 个文件哈希一致，{found.links} 条关联与变更历史中的 "
        f"{found.events} 条 evidence.add 事件相符"
    )


COMMANDS = [export_evidence, verify_evidence]
