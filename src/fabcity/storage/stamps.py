"""Change stamps in `meta`: a cache of figures derived from some tables keys itself on their stamp.

Every write of those tables touches the stamp in the same transaction, so a server sees a change
made by another process (the CLI, another worker) on its next read, without a restart.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, Engine, delete, insert, select

from fabcity.storage.schema import meta

NODES = "nodes_written"  # node, equipment and audit rows (fabcity.directory.writer.save_nodes)
STATISTICS = "statistics"  # district_stat (fabcity.measure.census_import)


def touch(conn: Connection, key: str) -> None:
    conn.execute(delete(meta).where(meta.c.key == key))
    conn.execute(insert(meta), [{"key": key, "value": uuid.uuid4().hex}])


def stamp(engine: Engine, key: str) -> str:
    """The current stamp; empty until the first write."""
    with engine.connect() as conn:
        return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar() or ""
