"""``flask …`` commands (docs/architecture.md#command-line): thin wrappers that parse, call a
service, print.

A command that fails says why in one line and exits non-zero.
"""

from __future__ import annotations

import sys
from functools import wraps

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from evaluation.accounts import operations as accounts
from evaluation.core.writing import InvalidInput, ServiceError, SystemActor
from evaluation.history import chain as history
from models import ROLES, Unit, User, db

CLI_ACTOR = SystemActor("cli")


def fails_in_one_line(command):
    """Turn a refused change into one line on stderr and exit status 1."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ServiceError as error:
            raise click.ClickException(error.message) from None

    return wrapper


#: Modules of ``evaluation.commands`` that define ``COMMANDS`` (a list of click commands).
COMMAND_MODULES: list[str] = ["io", "demo", "ranking", "annual", "evidence"]


def init_app(app: Flask) -> None:
    """Register the commands."""
    import importlib

    for command in (init_db, verify_history, create_user, create_token):
        app.cli.add_command(command)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"evaluation.commands.{name}")
        for command in module.COMMANDS:
            app.cli.add_command(command)


@click.command("init-db")
@with_appcontext
def init_db():
    """Bring the database to the latest schema."""
    from flask_migrate import upgrade

    upgrade()
    click.echo(f"数据库已是最新结构：{db.engine.url.render_as_string(hide_password=True)}")


@click.command("verify-history")
@with_appcontext
def verify_history():
    """Recompute the history chain and name the first bad seq."""
    result = history.verify()
    if not result.ok:
        click.echo(f"校验失败：{result.message}（seq {result.first_bad_seq}）", err=True)
        sys.exit(1)
    click.echo(result.message)


@click.command("create-user")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--display-name", default="")
@click.option("--unit", "unit_code", default=None, help="A reporter's town (its 12-digit code).")
@with_appcontext
@fails_in_one_line
def create_user(name, role, password_stdin, display_name, unit_code):
    """Create a user; without --password-stdin a password is generated and printed once.

    A reporter (镇街填报员) needs ``--unit CODE``, its town; no other role takes one.
    """
    unit = None
    if unit_code is not None:
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise InvalidInput(f"没有代码为 {unit_code} 的单位")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        password = accounts.generate_password()
        generated = True
    fields = {"display_name": display_name or name}
    if unit is not None:
        fields["unit"] = unit
    accounts.create_user(CLI_ACTOR, name, role, password, **fields)
    where = f"，{unit.name}" if unit is not None else ""
    click.echo(f"已创建用户 {name}（{ROLES[role]}{where}）")
    if generated:
        click.echo(f"初始密码（只显示这一次）：{password}")


@click.command("create-token")
@click.argument("name")
@with_appcontext
@fails_in_one_line
def create_token(name):
    """Create an API token for user NAME; the token is printed alone on the last line."""
    user = db.session.scalar(select(User).where(User.username == name))
    if user is None:
        raise click.ClickException(f"没有名为 {name} 的用户")
    token = accounts.create_token(CLI_ACTOR, user, name)
    click.echo(f"已为 {name} 创建 API 令牌（只显示这一次，请妥善保存）：")
    click.echo(token)
