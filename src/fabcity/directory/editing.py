"""People's writes to single nodes (the API and the web forms): who may, what changed, the trail.

Roles: a host creates nodes and edits and closes the ones they host; a curator (팹시티 협의회)
verifies, edits and closes any node and decides claims; an admin may do all of that and change
roles. A closed node is marked closed, never deleted. Every write lands with its audit record in
one transaction. Edits are JSON merge patches (RFC 7396) on the node's importable record, so the
API, the web form and an import validate through the same model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from fabcity import audit
from fabcity.accounts.service import User, get_user
from fabcity.directory.models import validate_node
from fabcity.directory.read import importable, public_nodes
from fabcity.directory.writer import prepare, save_nodes
from fabcity.errors import FieldError, Forbidden, NotAuthenticated, NotFound, RecordInvalid
from fabcity.platform import Platform
from fabcity.storage.schema import node, node_claim, node_host, user_account
from fabcity.text import not_text

CONTRIBUTION_LICENSE = "CC-BY-4.0"
_VERIFICATION_FIELDS = ("verified_at", "verified_by")


def _node_keys(conn: Connection, node_id: str) -> tuple[int, str]:
    """(pk, id) of the node with this id or slug."""
    if not_text(node_id):  # no id or slug holds a control character, and PostgreSQL refuses a NUL outright
        raise NotFound(f"no node {node_id!r}")
    row = conn.execute(select(node.c.pk, node.c.id).where(or_(node.c.id == node_id, node.c.slug == node_id))).first()
    if row is None:
        raise NotFound(f"no node {node_id!r}")
    return row.pk, row.id


def node_pk_of(conn: Connection, node_id: str) -> int:
    return _node_keys(conn, node_id)[0]


def node_id_of(conn: Connection, node_id_or_slug: str) -> str:
    return _node_keys(conn, node_id_or_slug)[1]


def is_host(conn: Connection, user: User, node_pk: int) -> bool:
    query = select(node_host.c.user_id).where(node_host.c.node_pk == node_pk, node_host.c.user_id == user.id)
    return conn.execute(query).first() is not None


def hosts_of(conn: Connection, node_pk: int) -> list[User]:
    query = select(node_host.c.user_id).where(node_host.c.node_pk == node_pk).order_by(node_host.c.user_id)
    return [found for user_id in conn.execute(query).scalars() if (found := get_user(conn, user_id))]


def may_create(user: User | None) -> bool:
    return user is not None and user.role in ("host", "curator", "admin")


def may_edit(conn: Connection, user: User | None, node_pk: int) -> bool:
    if user is None:
        return False
    return user.role in ("curator", "admin") or (user.role == "host" and is_host(conn, user, node_pk))


def may_verify(user: User | None) -> bool:
    return user is not None and user.role in ("curator", "admin")


def _require(allowed: bool, user: User | None) -> None:
    if not allowed:
        raise NotAuthenticated() if user is None else Forbidden()


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge key by key, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _refuse_self_verification(user: User, before: dict[str, Any], after: dict[str, Any]) -> None:
    if may_verify(user):
        return
    old, new = before.get("provenance") or {}, after.get("provenance") or {}
    if not isinstance(new, dict):
        return  # not a provenance at all: validating the record refuses it
    for field in _VERIFICATION_FIELDS:
        if old.get(field) != new.get(field):
            raise RecordInvalid([FieldError(f"provenance.{field}", "only a curator verifies a node")])


def _save(conn: Connection, platform: Platform, record: dict[str, Any]) -> int:
    prepared = prepare(validate_node(record), platform.districts)
    return save_nodes(conn, [prepared], platform.districts, platform.stations).pks[0]


def create_node(platform: Platform, user: User | None, data: dict[str, Any]) -> dict[str, Any]:
    """A new node from a person; a host who creates it becomes its host."""
    _require(may_create(user), user)
    record = dict(data)
    record.pop("id", None)
    provenance = {"source": f"fabcity user {user.id}", "license": CONTRIBUTION_LICENSE}
    given = record.get("provenance") or {}
    if not isinstance(given, dict):
        raise RecordInvalid([FieldError("provenance", "must be an object: source, license, source_url …")])
    provenance.update(given)
    record["provenance"] = provenance
    _refuse_self_verification(user, {}, record)
    record["provenance"].setdefault("retrieved_at", datetime.now(UTC).isoformat())
    with platform.engine.begin() as conn:
        pk = _save(conn, platform, record)
        if user.role == "host":
            conn.execute(insert(node_host).values(node_pk=pk, user_id=user.id, granted_at=datetime.now(UTC)))
        created = public_nodes(conn, [pk])[0]
        audit.record(
            conn, user.id, "node.create", "node", created["id"], audit.changes_between({}, importable(created))
        )
    return created


def update_node(
    platform: Platform, user: User | None, node_id: str, patch: dict[str, Any], action: str = "node.update"
) -> dict[str, Any]:
    """Apply a merge patch to a node the user may edit; returns the new public record."""
    with platform.engine.begin() as conn:
        pk = node_pk_of(conn, node_id)
        _require(may_edit(conn, user, pk), user)
        before = importable(public_nodes(conn, [pk])[0])
        after = merge_patch(before, {key: value for key, value in patch.items() if key != "id"})
        _refuse_self_verification(user, before, after)
        _save(conn, platform, after)
        updated = public_nodes(conn, [pk])[0]
        changes = audit.changes_between(before, importable(updated))
        if changes:
            audit.record(conn, user.id, action, "node", updated["id"], changes)
    return updated


def close_node(platform: Platform, user: User | None, node_id: str) -> dict[str, Any]:
    """Closed, not deleted: the record and its history stay, searches skip it by default."""
    return update_node(platform, user, node_id, {"status": "closed"}, action="node.close")


def verify_node(platform: Platform, user: User | None, node_id: str) -> dict[str, Any]:
    """A curator confirms the listing is true today: sets verified_at and verified_by."""
    if not may_verify(user):
        with platform.engine.connect() as conn:
            node_pk_of(conn, node_id)  # an unknown node is a 404 before it is a 403
        _require(False, user)
    stamp = {"verified_at": datetime.now(UTC).isoformat(), "verified_by": user.display_name}
    return update_node(platform, user, node_id, {"provenance": stamp}, action="node.verify")


def claim_node(platform: Platform, user: User | None, node_id: str, message: str) -> dict[str, Any]:
    """A person who runs a listed place asks to host it; a curator decides."""
    _require(user is not None, user)
    with platform.engine.begin() as conn:
        pk = node_pk_of(conn, node_id)
        values = {"node_pk": pk, "user_id": user.id, "message": message.strip(), "status": "pending"}
        claim_id = conn.execute(
            insert(node_claim).values(**values, created_at=datetime.now(UTC)).returning(node_claim.c.id)
        ).scalar_one()
        audit.record(conn, user.id, "claim.create", "claim", str(claim_id), {"node": [None, node_id]})
    return {"id": claim_id, "node": node_id, "status": "pending"}


def pending_claims(conn: Connection) -> list[dict[str, Any]]:
    query = (
        select(node_claim, node.c.slug, node.c.name_ko, node.c.name_en, user_account.c.email)
        .join(node, node.c.pk == node_claim.c.node_pk)
        .join(user_account, user_account.c.id == node_claim.c.user_id)
        .where(node_claim.c.status == "pending")
        .order_by(node_claim.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def decide_claim(platform: Platform, user: User | None, claim_id: int, approve: bool) -> dict[str, Any]:
    """Approving makes the claimant a host of the node (and a member a host)."""
    _require(may_verify(user), user)
    with platform.engine.begin() as conn:
        claim = conn.execute(select(node_claim).where(node_claim.c.id == claim_id)).first()
        if claim is None or claim.status != "pending":
            raise NotFound(f"no pending claim {claim_id}")
        status = "approved" if approve else "rejected"
        conn.execute(
            update(node_claim)
            .where(node_claim.c.id == claim_id)
            .values(status=status, decided_by=user.id, decided_at=datetime.now(UTC))
        )
        if approve:
            claimant = get_user(conn, claim.user_id)
            if not is_host(conn, claimant, claim.node_pk):
                conn.execute(
                    insert(node_host).values(node_pk=claim.node_pk, user_id=claimant.id, granted_at=datetime.now(UTC))
                )
            if claimant.role == "member":
                conn.execute(update(user_account).where(user_account.c.id == claimant.id).values(role="host"))
                audit.record(conn, user.id, "user.role", "user", str(claimant.id), {"role": ["member", "host"]})
        audit.record(conn, user.id, f"claim.{status}", "claim", str(claim_id), {"status": ["pending", status]})
    return {"id": claim_id, "status": status}
