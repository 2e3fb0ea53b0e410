"""Accounts from the command line: the first admin is created here."""

from __future__ import annotations

import click

from fabcity.accounts.service import ROLES, create_user, list_users
from fabcity.cli.options import db_option, told_plainly
from fabcity.startup import open_platform


@click.group(name="user")
def user_group() -> None:
    """계정을 관리합니다. Manage accounts (the first admin is created here)."""


@user_group.command(name="create")
@click.argument("email")
@click.option("--name", "display_name", required=True, help="표시 이름 / display name")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.password_option(help="Asked for when not given (10 to 1,024 characters, hard to guess).")
@db_option
def user_create(email: str, display_name: str, role: str, password: str, db: str | None) -> None:
    """계정을 만듭니다. Create an account.

    \b
    예: fabcity user create admin@fabcity.seoul.kr --name 관리자 --role admin
    """
    with told_plainly():
        user = create_user(open_platform(db), email, password, display_name, role)
    click.echo(f"{user.email}: {user.role} (id {user.id})")


@user_group.command(name="list")
@db_option
def user_list(db: str | None) -> None:
    """계정 목록. List accounts with their roles."""
    with open_platform(db).engine.connect() as conn:
        for user in list_users(conn):
            click.echo(f"{user.id}\t{user.role}\t{user.email}\t{user.display_name}")


commands = (user_group,)
