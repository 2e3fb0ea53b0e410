"""Booking from the command line: a node's resources, bookings across nodes, and a host's decision.

Thin, on the services the pages and the API use: a decision is booking.service.move_booking, made
as the person named by --as, with their rights and an audit record in their name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from fabcity.accounts.service import User, get_user
from fabcity.booking import hosting, resources, service
from fabcity.booking.vocabulary import KINDS, MODES, STATES
from fabcity.cli.options import db_option, told_plainly
from fabcity.clock import in_seoul
from fabcity.errors import FieldError, RecordInvalid, ServiceError
from fabcity.platform import Platform
from fabcity.startup import open_platform
from fabcity.storage.schema import user_account


@click.group(name="booking")
def booking_group() -> None:
    """예약 자원과 예약을 보고, 예약을 결정합니다. Bookable resources, bookings, and hosts' decisions."""


def _both(pair: tuple[str, str] | tuple[str, str | None]) -> str:
    ko, en = pair
    return f"{ko} / {en}" if en and en != ko else ko


@booking_group.command(name="resources")
@click.argument("node")
@db_option
def resources_command(node: str, db: str | None) -> None:
    """노드의 예약 자원. The bookable resources of a node (its id or slug), retired ones marked.

    \b
    예: fabcity booking resources fab-lab-seoul
    """
    with told_plainly(), _plainly():
        found = resources.resources_of(open_platform(db), node)
    table = Table()
    for heading in ("id", "이름 name", "종류 kind", "단위 units", "방식 mode", "슬롯 slot", "가격 price (KRW)", ""):
        table.add_column(heading)
    for item in found:
        table.add_row(
            str(item["id"]),
            _both((item["name_ko"], item["name_en"])),
            _both(KINDS[item["kind"]]),
            ", ".join(item["units"]),
            _both(MODES[item["mode"]]),
            f"{item['granularity_min']} min",
            f"{item['price_per_slot_krw']:,}",
            "운영 종료 retired" if item["retired_at"] else "",
        )
    Console().print(table)


@booking_group.command(name="list")
@click.option("--node", help="노드의 id 또는 slug / a node's id or slug")
@click.option("--state", type=click.Choice(list(STATES)), help="지금의 상태 / the state as of now")
@click.option("--from", "first_day", type=click.DateTime(["%Y-%m-%d"]), help="첫날 (KST) / first day, e.g. 2027-03-03")
@click.option("--to", "last_day", type=click.DateTime(["%Y-%m-%d"]), help="마지막 날 (KST) / last day, included")
@click.option("--limit", type=click.IntRange(1, hosting.EXPORT_LIMIT), default=50, show_default=True)
@db_option
def list_command(
    node: str | None,
    state: str | None,
    first_day: datetime | None,
    last_day: datetime | None,
    limit: int,
    db: str | None,
) -> None:
    """예약 목록 (최근 시작 순). Bookings across nodes, the latest start first, times in KST.

    \b
    예: fabcity booking list --node fab-lab-seoul --state requested
    """
    filters = hosting.Filters(node, state, _day(first_day), _day(last_day))
    with told_plainly(), _plainly(), open_platform(db).engine.connect() as conn:
        found, total = hosting.find_bookings(conn, filters, datetime.now(UTC), limit)
    table = Table(caption=f"{len(found)} / {total}")
    for heading in (
        "id",
        "노드 node",
        "자원 resource",
        "예약자 member",
        "시작 starts (KST)",
        "끝 ends",
        "상태 state",
        "v",
    ):
        table.add_column(heading)
    for item in found:
        table.add_row(
            str(item["id"]),
            item["node"],
            f"{_both(item['resource_name'])} ({item['unit']})",
            item["member_email"],
            f"{in_seoul(item['starts_at']):%Y-%m-%d %H:%M}",
            f"{in_seoul(item['ends_at']):%H:%M}",
            _both(STATES[item["state"]]),
            str(item["version"]),
        )
    Console().print(table)


@booking_group.command(name="decide")
@click.argument("booking_id", type=click.IntRange(1, 2**31 - 1))
@click.argument("action", type=click.Choice(list(service.MOVES)))
@click.option("--as", "email", required=True, help="결정하는 사람의 이메일 / the e-mail of who decides (a host)")
@click.option("--reason", default="", help="사유 (감사 기록에 남습니다) / why, kept in the audit trail")
@click.option("--version", "version", type=click.IntRange(1), help="읽은 버전에서만 / only from this version")
@db_option
def decide_command(booking_id: int, action: str, email: str, reason: str, version: int | None, db: str | None) -> None:
    """예약을 승인·거절·결제 확인·취소·노쇼·완료로 옮깁니다. Move a booking, as the person --as names.

    \b
    예: fabcity booking decide 12 approve --as host@example.kr
        fabcity booking decide 13 decline --as host@example.kr --reason "점검 중"
    """
    platform = open_platform(db)
    with told_plainly(), _plainly():
        user = _user_by_email(platform, email)
        expected = None if version is None else {version}
        moved = service.move_booking(platform, user, booking_id, action, reason, expected)
    click.echo(f"{moved['id']}: {_both(STATES[moved['state']])} (version {moved['version']})")


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _user_by_email(platform: Platform, email: str) -> User:
    with platform.engine.connect() as conn:
        query = select(user_account.c.id).where(
            user_account.c.email == email.strip().casefold(), user_account.c.deleted_at.is_(None)
        )
        user_id = conn.execute(query).scalar_one_or_none()
        user = get_user(conn, user_id) if user_id is not None else None
    if user is None:
        raise click.BadParameter("no account has this e-mail", param_hint="'--as'")
    return user


@contextmanager
def _plainly() -> Iterator[None]:
    """A refusal (not found, forbidden, a conflict) as click's error: its message on stderr, exit code 1.

    Field errors are left to told_plainly, which names the option.
    """
    try:
        yield
    except (FieldError, RecordInvalid):
        raise
    except ServiceError as error:
        raise click.ClickException(str(error) or type(error).__name__) from None


commands = (booking_group,)
