"""Change stamps in `meta`: a cache of figures derived from some tables keys itself on their stamp.

Every write of those tables touches the stamp in the same transaction, so a server sees a change
made by another process (the CLI, another worker) on its next read, without a restart.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from fabcity.storage.schema import meta

_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}

NODES = "nodes_written"  # node, equipment and audit rows (fabcity.directory.writer.save_nodes)
STATISTICS = "statistics"  # district_stat (fabcity.measure.census_import)


def touch(conn: Connection, key: str) -> None:
    """A new stamp for `key`."""
    put(conn, key, uuid.uuid4().hex)


def put(conn: Connection, key: str, value: str) -> None:
    """A `meta` value written as one upsert: the row is created if missing, else updated in place.

    Concurrent transactions then queue on the row's lock instead of both inserting the key
    (a delete-then-insert let two of them collide on the primary key: a 500 on PostgreSQL).
    """
    statement = _UPSERTS[conn.dialect.name](meta).values(key=key, value=value)
    conn.execute(statement.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": statement.excluded.value}))


def stamp(engine: Engine, key: str) -> str:
    """The current stamp; empty until the first write."""
    with engine.connect() as conn:
        return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar() or ""
