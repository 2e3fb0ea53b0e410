"""`fabcity booking` on both backends: resources and bookings listed, a decision made as a named host."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from builders import BOOKING_NODE, bookable, new_user, node_host
from fabcity import audit
from fabcity.booking import service
from fabcity.booking.models import BookingIn
from fabcity.cli.main import main


def _run(db_url: str, *args: str):
    return CliRunner(env={"COLUMNS": "240"}).invoke(main, ["booking", *args, "--db", db_url])  # rows unwrapped


def _requested(platform, host) -> dict:
    cutter = bookable(platform, host, mode="approval", name_en="Laser cutter")
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=1, minute=0, second=0, microsecond=0)
    data = BookingIn(resource=cutter["id"], starts_at=start, ends_at=start + timedelta(hours=1), idempotency_key="k")
    return service.create_booking(platform, new_user(platform, "member", "member"), data)


def test_resources_and_bookings_are_listed_with_their_states(platform, db_url):
    asked = _requested(platform, node_host(platform))
    listed = _run(db_url, "resources", BOOKING_NODE)
    assert listed.exit_code == 0 and "레이저 커터 / Laser cutter" in listed.output and "호스트 승인" in listed.output
    waiting = _run(db_url, "list", "--node", BOOKING_NODE, "--state", "requested")
    assert waiting.exit_code == 0 and "member@example.kr" in waiting.output and "1 / 1" in waiting.output
    assert str(asked["id"]) in waiting.output and "10:00" in waiting.output  # 01:00 UTC in KST
    assert "0 / 0" in _run(db_url, "list", "--state", "confirmed").output
    unknown = _run(db_url, "resources", "no-such-node")
    assert unknown.exit_code == 1 and "no-such-node" in unknown.output


def test_a_host_decides_as_themself_and_a_stranger_is_refused(platform, db_url):
    host = node_host(platform)
    asked = _requested(platform, host)
    new_user(platform, "stranger", "host")
    refused = _run(db_url, "decide", str(asked["id"]), "approve", "--as", "stranger@example.kr")
    assert refused.exit_code == 1 and service.get_booking(platform, host, asked["id"])["state"] == "requested"
    stale = _run(db_url, "decide", str(asked["id"]), "decline", "--as", "host@example.kr", "--version", "9")
    assert stale.exit_code == 1 and "read it again" in stale.output
    declined = _run(db_url, "decide", str(asked["id"]), "decline", "--as", "HOST@example.kr", "--reason", "점검 중")
    assert declined.exit_code == 0, declined.output
    assert "거절됨 / Declined" in declined.output
    with platform.engine.connect() as conn:
        last = audit.history(conn, "booking", str(asked["id"]))[-1]
    assert last["user_id"] == host.id and last["changes"]["reason"] == [None, "점검 중"]
    again = _run(db_url, "decide", str(asked["id"]), "approve", "--as", "host@example.kr")
    assert again.exit_code == 1 and "declined" in again.output
    nobody = _run(db_url, "decide", str(asked["id"]), "approve", "--as", "nobody@example.kr")
    assert nobody.exit_code == 2 and "--as" in nobody.output
