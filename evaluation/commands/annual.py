"""``flask create-annual`` (docs/annual.md#definition): define an annual period from the
command line, through ``evaluation.annual.operations`` like every other door."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from evaluation.annual import operations
from evaluation.cli import CLI_ACTOR, fails_in_one_line
from evaluation.core.writing import InvalidInput, NotFound
from models import Period, Scheme, db


def _pairs(texts: tuple[str, ...], what: str) -> list[tuple[str, str]]:
    pairs = []
    for text in texts:
        name, sign, value = text.partition("=")
        if not sign or not name.strip() or not value.strip():
            raise InvalidInput(f"{what}应写作 名称=数值：{text}")
        pairs.append((name.strip(), value.strip()))
    return pairs


@click.command("create-annual")
@click.argument("code")
@click.option("--name", required=True, help="名称，如 2026年度综合考评")
@click.option("--scheme", "scheme_code", required=True, help="等次与并列规则所用的方案代码")
@click.option(
    "--source",
    "sources",
    multiple=True,
    required=True,
    help="考核周期=权重，可重复，权重之和须恰为 100，如 --source 2026Q1=15",
)
@click.option("--quota", "quotas", multiple=True, help="等次=百分比，如 --quota 好=20")
@with_appcontext
@fails_in_one_line
def create_annual(code, name, scheme_code, sources, quotas):  # fmt: skip
    """Define an annual period (年度综合考评) over listed periods with weights."""
    scheme = db.session.scalar(select(Scheme).where(Scheme.code == scheme_code))
    if scheme is None:
        raise NotFound(f"没有指标方案 {scheme_code}")
    listed = []
    for period_code, weight in _pairs(sources, "考核周期"):
        period = db.session.scalar(select(Period).where(Period.code == period_code))
        if period is None:
            raise NotFound(f"没有考核周期 {period_code}")
        listed.append((period, weight))
    annual = operations.create_annual(
        CLI_ACTOR, code=code, name=name, scheme=scheme, sources=listed,
        quotas=dict(_pairs(quotas, "名额")),
    )  # fmt: skip
    click.echo(f"已设立 {annual.name}（{annual.code}）")


COMMANDS = [create_annual]
