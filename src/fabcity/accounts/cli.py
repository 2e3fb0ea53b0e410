"""Accounts from the command line: the first admin is created here; the e-mail outbox is read and sent."""

from __future__ import annotations

import signal
import threading

import click

from fabcity.accounts.service import ROLES, create_user, list_users
from fabcity.booking.notices import queue_due
from fabcity.cli.options import db_option, told_plainly
from fabcity.clock import in_seoul
from fabcity.notify import outbox, worker
from fabcity.settings import Settings
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


@click.group(name="outbox", invoke_without_command=True)
@click.option("--to", "recipient", help="only the messages to this address")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--bodies/--no-bodies", default=True, show_default=True, help="print each message's text")
@db_option
@click.pass_context
def outbox_group(context: click.Context, recipient: str | None, limit: int, bodies: bool, db: str | None) -> None:
    """보낼 메일 목록. The e-mails the platform sent or will send, newest first (readable without a mail server)."""
    if context.invoked_subcommand is not None:
        return
    with open_platform(db).engine.connect() as conn:
        found = outbox.messages(conn, recipient.strip().casefold() if recipient else None, limit)
    for message in found:
        state = f"sent {in_seoul(message.sent_at):%Y-%m-%d %H:%M} KST" if message.sent_at else "waiting"
        if message.last_error:
            state += f" (try {message.attempts}: {message.last_error})"
        created = in_seoul(message.created_at)
        click.echo(f"#{message.id}\t{created:%Y-%m-%d %H:%M} KST\t{state}\tto {message.recipient}\t{message.subject}")
        if bodies:
            click.echo("\n".join(f"    {line}" for line in message.body.splitlines()) + "\n")


@outbox_group.command(name="send")
@db_option
def outbox_send(db: str | None) -> None:
    """메일을 보냅니다. Send the waiting e-mails through FABCITY_SMTP_HOST."""
    settings = Settings.from_environment()
    if not settings.smtp.host:
        raise click.UsageError("FABCITY_SMTP_HOST names no mail server; the messages wait in the outbox")
    click.echo(f"sent {outbox.deliver(open_platform(db), settings.smtp)}")


@outbox_group.command(name="retry")
@click.argument("message_id", type=int)
@db_option
def outbox_retry(message_id: int, db: str | None) -> None:
    """다시 보냅니다. Try again a message that stopped after its failed attempts (once the cause is fixed)."""
    with open_platform(db).engine.begin() as conn:
        if not outbox.retry(conn, message_id):
            raise click.UsageError(f"message {message_id} is not one that stopped after {outbox.MOST_ATTEMPTS} tries")
    click.echo(f"#{message_id} will be sent again")


@click.command(name="worker")
@click.option(
    "--interval", type=click.FloatRange(0.05, 3600), default=30, show_default=True, help="seconds between rounds"
)
@db_option
def worker_command(interval: float, db: str | None) -> None:
    """알림을 보냅니다. Run the notification worker: queue reminders and expiries, send the outbox, repeat.

    \b
    Stops cleanly on SIGTERM or Ctrl-C. Without FABCITY_SMTP_HOST the messages wait in the outbox.
    Any number of workers, and `fabcity serve`, may deliver at once: each message is sent by one.
    """
    settings = Settings.from_environment()
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    mail = settings.smtp.host or "no mail server: the messages wait in the outbox"
    click.echo(f"fabcity worker: a round every {interval:g} s ({mail}); SIGTERM or Ctrl-C stops it", err=True)
    worker.run(open_platform(db), settings.smtp, interval, stop, chores=(queue_due,))


commands = (user_group, outbox_group, worker_command)
