"""Seoul time: instants are stored in UTC and shown, and opening hours read, in KST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

KST = ZoneInfo("Asia/Seoul")


def seoul_wall_time() -> datetime:
    """The current local time in Seoul, without zone: what opening hours are written against."""
    return datetime.now(KST).replace(tzinfo=None)


def seoul_month() -> str:
    """The current month in Seoul, 'YYYY-MM': what monthly indicators default to."""
    return datetime.now(KST).strftime("%Y-%m")


def in_seoul(stored: datetime) -> datetime:
    """A stored UTC instant in Seoul time; SQLite gives it back without its zone."""
    return (stored if stored.tzinfo else stored.replace(tzinfo=UTC)).astimezone(KST)
