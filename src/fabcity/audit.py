"""The audit trail: who changed what, when. Every write service records here, in its own transaction.

An import is recorded once as entity `import` (its file, format, precedence and counts) and once
per node it changed (`node.import`), all at the same instant; the CLI acts as no user (user_id null).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from fabcity.storage.schema import audit_log


def changes_between(before: Any, after: Any, prefix: str = "") -> dict[str, list[Any]]:
    """{dotted field: [before, after]} for every leaf that differs (lists compare whole)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: dict[str, list[Any]] = {}
        for key in dict.fromkeys([*before, *after]):
            found.update(changes_between(before.get(key), after.get(key), f"{prefix}{key}."))
        return found
    return {} if before == after else {prefix.rstrip("."): [before, after]}


def record(
    conn: Connection,
    user_id: int | None,
    action: str,
    entity: str,
    entity_id: str,
    changes: dict[str, Any],
    at: datetime | None = None,
) -> None:
    """One entry; `at` (default: now) lets the entries of one act share their instant."""
    conn.execute(
        insert(audit_log).values(
            at=at or datetime.now(UTC),
            user_id=user_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            changes=changes,
        )
    )


def history(conn: Connection, entity: str, entity_id: str) -> list[dict[str, Any]]:
    """The recorded changes of one entity, oldest first."""
    query = (
        select(audit_log)
        .where(audit_log.c.entity == entity, audit_log.c.entity_id == entity_id)
        .order_by(audit_log.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]
