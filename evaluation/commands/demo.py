"""``flask seed-demo``: load the demo data of docs/rules.md#demo-data into an empty ledger."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from evaluation.cli import fails_in_one_line
from evaluation.demo import district as demo
from evaluation.demo import district_data


@click.command("seed-demo")
@click.option(
    "--scale",
    type=click.Choice(demo.SCALES),
    default="district",
    show_default=True,
    help=(
        "district: 揭东区 (13 镇街); province: 122 区县, 1,609 镇街, 26,500 村居, 12 months; "
        "national-sample: 10 × a province's towns (16,090 镇街), one open month, for benchmarks."
    ),
)
@click.option("--seed", type=int, default=demo.DEFAULT_SEED, show_default=True)
@click.option(
    "--if-empty", is_flag=True, help="Do nothing (and succeed) when the database holds units."
)
@with_appcontext
@fails_in_one_line
def seed_demo(scale, seed, if_empty):
    """Load the demo data (演示数据); passwords go to instance/demo-credentials.txt."""
    if demo.has_units():
        if if_empty:
            click.echo("数据库中已有数据，未载入演示数据")
            return
        raise click.ClickException("数据库中已有行政单元，不再载入演示数据（请使用空数据库）")
    started = time.perf_counter()
    if scale in ("province", "national-sample"):
        return seed_province(seed, started, national=scale == "national-sample")
    result = demo.seed_demo(scale=scale, seed=seed)
    counts = result.counts
    click.echo(
        f"已载入演示数据（{district_data.DISTRICT_NAME}，种子 {seed}，用时 "
        f"{time.perf_counter() - started:.1f} 秒）：镇街 {counts['towns']} 个，"
        f"村居 {counts['villages']} 个（典型村 {counts['typical_villages']} 个），"
        f"干部 {counts['cadres']} 名，重点项目 {counts['key_projects']} 个，"
        f"考核周期 {counts['periods']} 个"
    )
    echo_users(result)
    echo_survey_slips(result)


def echo_survey_slips(result) -> None:
    """Print the open 民主测评's slips to the instance folder (docs/surveys.md#demo)."""
    from evaluation.surveys import demo as surveys_demo

    if not result.survey_slips:
        return
    base = current_app.config.get("SURVEY_VOTE_URL") or "http://127.0.0.1:5000/vote"
    listing, slips = surveys_demo.print_slips(current_app.instance_path, result.survey_slips, base)
    if slips is None:
        click.echo(f"民主测评的测评码已写入 {listing}（未找到 Chromium，未生成选票 PDF）")
    else:
        click.echo(f"民主测评（进行中）的选票已写入 {slips}，测评码清单 {listing}")


def seed_province(seed: int, started: float, *, national: bool = False) -> None:
    """Load the province-scale demo (docs/rules.md#scale-targets), or the national sample of
    ten provinces' towns (docs/rules.md#growth), showing each stage's progress."""
    from evaluation.demo import province

    def progress(stage: str, done: int, total: int) -> None:
        click.echo(f"[{time.perf_counter() - started:7.1f}s] {stage} {done:,}/{total:,}")

    scale = province.NATIONAL_SAMPLE if national else province.PROVINCE
    result = province.seed_province(seed=seed, progress=progress, scale=scale)
    counts = result.counts
    what = "十倍省级规模样本" if national else "省级规模演示数据"
    click.echo(
        f"已载入{what}（种子 {seed}，用时 {time.perf_counter() - started:.1f} 秒）："
        f"区县 {counts['counties']} 个，镇街 {counts['towns']:,} 个，"
        f"村居 {counts['villages']:,} 个（典型村 {counts['typical_villages']:,} 个），"
        f"考核周期 {counts['periods']} 个，分数 {counts['scores']:,} 条，"
        f"变更历史 {counts['history_events']:,} 条"
    )
    echo_users(result)


def echo_users(result) -> None:
    """Write the new users' passwords to the instance folder and say who is who."""
    path = demo.write_credentials(current_app.instance_path, result.credentials)
    for username in result.kept_users:
        click.echo(f"用户 {username} 已存在，沿用原密码")
    click.echo(f"演示账号（角色 用户名 密码），已写入 {path}：")
    for cred in result.credentials:
        click.echo(f"{cred.role} {cred.username} {cred.password}")


COMMANDS = [seed_demo]
