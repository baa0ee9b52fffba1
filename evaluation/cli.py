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
from evaluation.history import checkpoints
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
COMMAND_MODULES: list[str] = ["io", "demo", "ranking", "annual", "evidence", "surveys"]


def init_app(app: Flask) -> None:
    """Register the commands."""
    import importlib

    for command in (
        init_db,
        verify_history,
        history_checkpoint,
        history_public_key,
        create_user,
        create_token,
    ):
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
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.File("rb"),
    help="A signed checkpoint (flask history-checkpoint): also name a cut or rewritten tail.",
)
@click.option(
    "--public-key",
    "public_key_file",
    type=click.File("rb"),
    help="The auditor's copy of the public key (default: this installation's key).",
)
@with_appcontext
@fails_in_one_line
def verify_history(checkpoint_file, public_key_file):
    """Recompute the history chain and name the first bad seq; with --checkpoint, also
    check the checkpoint's signature and that its seq and hash are still in the chain
    (docs/history.md#checkpoints)."""
    checkpoint = None
    if checkpoint_file is not None:
        checkpoint = checkpoints.read_checkpoint(checkpoint_file.read())
        if public_key_file is not None:
            key = checkpoints.load_public_key(public_key_file.read())
        else:
            key = checkpoints.public_key(create=False)
    elif public_key_file is not None:
        raise click.UsageError("--public-key 只与 --checkpoint 一起使用")
    result = history.verify()
    failed = not result.ok
    if failed:
        click.echo(f"校验失败：{result.message}（seq {result.first_bad_seq}）", err=True)
    else:
        click.echo(result.message)
    if checkpoint is not None:
        found = checkpoints.check(checkpoint, key)
        if found.ok:
            click.echo(found.message)
        else:
            failed = True
            for problem in found.problems:
                click.echo(f"校验失败：{problem}", err=True)
    if failed:
        sys.exit(1)


@click.command("history-checkpoint")
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True))
@with_appcontext
@fails_in_one_line
def history_checkpoint(output):
    """Sign a checkpoint of the history's last event and write it to FILE (JSON)."""
    row = checkpoints.make(CLI_ACTOR)
    with open(output, "w", encoding="utf-8") as stream:
        stream.write(checkpoints.as_json(row.document()))
    click.echo(f"已写出签名检查点：第 {row.seq} 号事件，key_id {row.key_id} → {output}")


@click.command("history-public-key")
@with_appcontext
@fails_in_one_line
def history_public_key():
    """Print the public key that checks history checkpoints (PEM), for auditors."""
    click.echo(checkpoints.public_pem(checkpoints.public_key()), nl=False)


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
