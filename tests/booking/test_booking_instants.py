"""Stored instants come back in `datetime.UTC` on both backends: free slots compare thousands of them with
slots in that zone, and psycopg's own `Etc/UTC` makes each comparison about ten times slower."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from builders import bookable, new_user, node_host
from fabcity.booking import service
from fabcity.booking.models import BookingIn

NOW = datetime(2027, 3, 2, 0, tzinfo=UTC)


def test_a_booking_read_back_is_in_the_utc_of_the_standard_library(platform):
    cutter = bookable(platform, node_host(platform))
    member = new_user(platform, "ara", "member")
    start = NOW + timedelta(days=1)
    data = BookingIn(resource=cutter["id"], starts_at=start, ends_at=start + timedelta(hours=1), idempotency_key="k")
    made = service.create_booking(platform, member, data, at=NOW)
    read = service.get_booking(platform, member, made["id"], at=NOW)
    assert read["starts_at"] == start and read["starts_at"].tzinfo is UTC and read["created_at"].tzinfo is UTC
