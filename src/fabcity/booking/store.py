"""The booking writes' transactions: one at a time per resource family, and a taken slot told as such.

PostgreSQL: an exclusion constraint (migration 0012) refuses two blocking bookings of one unit with
overlapping blocked periods, whatever happens above it; a write first locks the rows of the
resource, its parent and its children in id order, so that a room and the machines in it (which
the constraint, being per unit, cannot see) are checked one request at a time. The constraint's
error, a deadlock and a serialisation failure all mean another request took the slot first.
SQLite: the write takes the database's write lock at its first statement (`BEGIN IMMEDIATE`), so
check and insert are one step for every other writer.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError

from fabcity.errors import Conflict
from fabcity.storage.schema import booking_resource

SLOT_TAKEN = "starts_at: this slot was just taken; choose another time"
# exclusion violation, deadlock detected, serialisation failure
_TAKEN_STATES = ("23P01", "40P01", "40001")


def begin_write(conn: Connection) -> None:
    """The first statement of a booking write: on SQLite it takes the write lock now, not at the first write."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def lock_resources(conn: Connection, ids: Collection[int]) -> None:
    """Hold these resources' rows until the transaction ends (PostgreSQL; SQLite's write lock holds all)."""
    if conn.dialect.name == "sqlite":
        return
    query = select(booking_resource.c.id).where(booking_resource.c.id.in_(sorted(ids)))
    conn.execute(query.order_by(booking_resource.c.id).with_for_update()).all()


def is_slot_taken(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in _TAKEN_STATES


@contextmanager
def taken_is_a_conflict() -> Iterator[None]:
    """The database's refusal of an overlapping booking, or a lock cycle, as the 409 a client can act on."""
    try:
        yield
    except DBAPIError as error:
        if is_slot_taken(error):
            raise Conflict(SLOT_TAKEN) from None
        raise


def overlaps(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> bool:
    """Half-open periods share a moment."""
    return start < other_end and other_start < end
