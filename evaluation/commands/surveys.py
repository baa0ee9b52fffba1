"""``flask survey-codes`` (docs/surveys.md#codes): codes for one rater group of a survey and
their slips as an A4 PDF, through ``evaluation.surveys.operations`` like the admin page."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from evaluation.cli import CLI_ACTOR, fails_in_one_line
from evaluation.surveys import operations, slips

DEFAULT_URL = "http://127.0.0.1:5000/vote"


@click.command("survey-codes")
@click.argument("survey")
@click.option("--group", "group_name", required=True, help="测评人群体名称，如 群众代表")
@click.option("--count", type=click.IntRange(1, operations.MOST_CODES), required=True)
@click.option("--output", type=click.Path(dir_okay=False), required=True, help="选票 PDF 的路径")
@click.option("--url", default=None, help="选票上印的投票地址（默认 SURVEY_VOTE_URL 或本机地址）")
@with_appcontext
@fails_in_one_line
def survey_codes(survey, group_name, count, output, url):
    """Make COUNT codes for a rater group of SURVEY (its id); print them, one per line, and
    write their slips to OUTPUT (PDF)."""
    found = operations.find(survey)
    base = url or current_app.config.get("SURVEY_VOTE_URL") or DEFAULT_URL
    codes, _ = issue_codes_to_file(CLI_ACTOR, found, group_name, count, Path(output), base)
    for code in codes:
        click.echo(code)
    click.echo(f"已生成 {len(codes)} 个测评码，选票已写入 {output}", err=True)


def issue_codes_to_file(actor, survey, group_name: str, count: int, path: Path, base: str):
    """Issue codes and write their slips' PDF to ``path`` before the codes are stored."""

    def write(group, codes):
        path.write_bytes(slips.slips_pdf(survey, group, codes, base))
        return path

    try:
        return operations.issue_codes(actor, survey, group_name, count, prepare=write)
    except BaseException:
        path.unlink(missing_ok=True)  # slips of codes that were never stored: useless
        raise


COMMANDS = [survey_codes]
