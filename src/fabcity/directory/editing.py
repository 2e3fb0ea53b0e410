"""People's writes to single nodes (the API and the web forms): who may, what changed, the trail.

Roles: a host creates nodes and edits and closes the ones they host; a curator (팹시티 협의회)
verifies, edits and closes any node and decides claims; an admin may do all of that and change
roles. A closed node is marked closed, never deleted. Every write lands with its audit record in
one transaction. Edits are JSON merge patches (RFC 7396) on the node's importable record, so the
API, the web form and an import validate through the same model.

Concurrent edits (docs/decisions/0003-optimistic-concurrency.md): every write of a node bumps its
`version` (the API's ETag). An edit first claims the node's row, then reads, merges and saves, so
two edits of different fields both land and the audit trail says what really changed; an edit
that names the version it was made on (If-Match, the form's hidden field) is refused once another
write came first. A person's create or edit never takes an external id another node holds: only
an import may update a node found by its external id.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Connection, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from fabcity import audit
from fabcity.accounts.service import User, get_user
from fabcity.directory.models import NOTE_MAX, NodeIn, validate_node
from fabcity.directory.read import importable, public_nodes
from fabcity.directory.writer import prepare, save_nodes
from fabcity.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    PreconditionFailed,
    RecordInvalid,
)
from fabcity.notify import outbox
from fabcity.platform import Platform
from fabcity.storage.schema import node, node_claim, node_external_id, node_host, node_record, user_account
from fabcity.text import not_text

CONTRIBUTION_LICENSE = "CC-BY-4.0"
_VERIFICATION_FIELDS = ("verified_at", "verified_by")


def _named(node_id: str) -> ColumnElement[bool]:
    """The condition for the node with this id or slug; a name no node can have is not found here."""
    if not_text(node_id):  # no id or slug holds a control character, and PostgreSQL refuses a NUL outright
        raise NotFound(f"no node {node_id!r}")
    return or_(node.c.id == node_id, node.c.slug == node_id)


def _node_keys(conn: Connection, node_id: str) -> tuple[int, str]:
    """(pk, id) of the node with this id or slug."""
    row = conn.execute(select(node.c.pk, node.c.id).where(_named(node_id))).first()
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


def require(allowed: bool, user: User | None) -> None:
    """NotAuthenticated for a visitor, Forbidden for a signed-in user, unless the action is allowed."""
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


@dataclass(frozen=True)
class Written:
    """A node as a write left it: its public record and its version (the API sends it as the ETag)."""

    record: dict[str, Any]
    version: int


_RECORD_AND_VERSION = select(node_record.c.record, node.c.version).join(node, node.c.pk == node_record.c.node_pk)


def stored_node(conn: Connection, node_id: str) -> tuple[str, int]:
    """The stored public record (JSON text) of the node with this id or slug and its version.

    Read in one statement, so the version is the one of the record sent (an ETag that named a
    later version would let a client overwrite a change it never saw).
    """
    row = conn.execute(_RECORD_AND_VERSION.where(_named(node_id))).first()
    if row is None:
        raise NotFound(f"no node {node_id!r}")
    return row.record, row.version


def _written(conn: Connection, pk: int) -> Written:
    row = conn.execute(_RECORD_AND_VERSION.where(node.c.pk == pk)).one()
    return Written(json.loads(row.record), row.version)


def _claim(conn: Connection, pk: int, expected_versions: Collection[int] | None) -> None:
    """Hold the node for this transaction before reading it; with `expected_versions`, only at one of them.

    The UPDATE takes the row's lock on PostgreSQL and the database's write lock on SQLite, so a
    concurrent edit of the node waits here and then reads what the other one saved. It changes no
    value: the save that follows bumps the version (schema.node's `version` column).
    """
    statement = update(node).where(node.c.pk == pk).values(version=node.c.version)
    if expected_versions is not None:
        statement = statement.where(node.c.version.in_(expected_versions))
    if conn.execute(statement).rowcount == 0:
        current = conn.execute(select(node.c.version).where(node.c.pk == pk)).scalar_one()
        raise PreconditionFailed(
            f'the node was changed after the version you read; it is now at ETag "{current}":'
            " read it again and make your change on that"
        )


def _refuse_taken_external_ids(conn: Connection, item: NodeIn, own_pk: int | None) -> None:
    """An external id names one node: a person's create or edit may not give another node's to this one.

    The writer updates the node an external id names (that is how an import updates); from a
    person's create that would hand any node to whoever names its id, so it is refused here.
    """
    wanted = list(item.external_ids.items())
    if not wanted:
        return
    query = (
        select(node_external_id.c.scheme, node.c.slug)
        .join(node, node.c.pk == node_external_id.c.node_pk)
        .where(tuple_(node_external_id.c.scheme, node_external_id.c.value).in_(wanted))
        .order_by(node_external_id.c.scheme)
    )
    if own_pk is not None:
        query = query.where(node_external_id.c.node_pk != own_pk)
    taken = conn.execute(query).first()
    if taken is not None:
        message = f"this id already names the node {taken.slug!r}; only an import may update a node by its external id"
        raise Conflict(f"external_ids.{taken.scheme}: {message}")


@contextmanager
def _taken_meanwhile_is_a_conflict() -> Iterator[None]:
    """Two writes that take the same external id or slug at once: the other one is told so, not a 500.

    The database's unique keys let only one through; the loser's error names the field.
    """
    try:
        yield
    except IntegrityError as error:
        reason = str(error.orig)
        for marker, field in (("node_external_id", "external_ids"), ("slug", "slug")):
            if marker in reason:
                message = "another write took the same value at the same moment; read the node again and retry"
                raise Conflict(f"{field}: {message}") from None
        raise


def _save(conn: Connection, platform: Platform, record: dict[str, Any], own_pk: int | None) -> int:
    """Validate and store a person's record: the node `own_pk`, or a new node when it is None."""
    item = validate_node(record)
    _refuse_taken_external_ids(conn, item, own_pk)
    summary = save_nodes(conn, [prepare(item, platform.districts)], platform.districts, platform.stations)
    if own_pk is None and summary.updated:  # another write gave one of its external ids to a node since the check
        raise Conflict("external_ids: another write took one of these ids at the same moment; read and retry")
    return summary.pks[0]


def create_node(platform: Platform, user: User | None, data: dict[str, Any]) -> Written:
    """A new node from a person; a host who creates it becomes its host."""
    require(may_create(user), user)
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
    with _taken_meanwhile_is_a_conflict(), platform.engine.begin() as conn:
        pk = _save(conn, platform, record, None)
        if user.role == "host":
            conn.execute(insert(node_host).values(node_pk=pk, user_id=user.id, granted_at=datetime.now(UTC)))
        created = _written(conn, pk)
        changes = audit.changes_between({}, importable(created.record))
        audit.record(conn, user.id, "node.create", "node", created.record["id"], changes)
    return created


def update_node(
    platform: Platform,
    user: User | None,
    node_id: str,
    patch: dict[str, Any],
    action: str = "node.update",
    expected_versions: Collection[int] | None = None,
) -> Written:
    """Apply a merge patch to a node the user may edit, to the record as stored once the edit holds it.

    `expected_versions` (the API's If-Match, the form's version): PreconditionFailed unless the
    node is still at one of them. Without it, concurrent patches of different fields all land.
    """
    with _taken_meanwhile_is_a_conflict(), platform.engine.begin() as conn:
        pk = node_pk_of(conn, node_id)
        require(may_edit(conn, user, pk), user)
        _claim(conn, pk, expected_versions)
        before = importable(public_nodes(conn, [pk])[0])
        after = merge_patch(before, {key: value for key, value in patch.items() if key != "id"})
        _refuse_self_verification(user, before, after)
        updated = _written(conn, _save(conn, platform, after, pk))
        changes = audit.changes_between(before, importable(updated.record))
        if changes:
            audit.record(conn, user.id, action, "node", updated.record["id"], changes)
    return updated


def close_node(
    platform: Platform, user: User | None, node_id: str, expected_versions: Collection[int] | None = None
) -> Written:
    """Closed, not deleted: the record and its history stay, searches skip it by default."""
    return update_node(platform, user, node_id, {"status": "closed"}, "node.close", expected_versions)


def verify_node(
    platform: Platform, user: User | None, node_id: str, expected_versions: Collection[int] | None = None
) -> Written:
    """A curator confirms the listing is true today: sets verified_at and verified_by."""
    if not may_verify(user):
        with platform.engine.connect() as conn:
            node_pk_of(conn, node_id)  # an unknown node is a 404 before it is a 403
        require(False, user)
    stamp = {"verified_at": datetime.now(UTC).isoformat(), "verified_by": user.display_name}
    return update_node(platform, user, node_id, {"provenance": stamp}, "node.verify", expected_versions)


def claim_node(
    platform: Platform, user: User | None, node_id: str, message: str, proof_url: str = ""
) -> dict[str, Any]:
    """A person who runs a listed place asks to host it, saying how; a curator decides.

    One pending claim per person and place: the partial unique index `uq_node_claim_pending`
    refuses a second one, however many requests arrive at once.
    """
    require(user is not None, user)
    problems = [problem for problem in (_claim_message_problem(message), _proof_link_problem(proof_url)) if problem]
    if problems:
        raise RecordInvalid(problems)
    message, proof_url = message.strip(), proof_url.strip()
    try:
        with platform.engine.begin() as conn:
            pk = node_pk_of(conn, node_id)
            if is_host(conn, user, pk):
                raise Conflict("you already host this place")
            values = {"node_pk": pk, "user_id": user.id, "message": message, "proof_url": proof_url or None}
            claim_id = conn.execute(
                insert(node_claim).values(**values, status="pending", created_at=datetime.now(UTC))
                .returning(node_claim.c.id)
            ).scalar_one()  # fmt: skip
            audit.record(conn, user.id, "claim.create", "claim", str(claim_id), {"node": [None, node_id]})
    except IntegrityError:
        raise Conflict("you already asked to host this place; the council will decide") from None
    return {"id": claim_id, "node": node_id, "status": "pending"}


def _claim_message_problem(message: str) -> FieldError | None:
    message = message.strip()
    if not message:
        return FieldError("message", "say how you run this place")
    if len(message) > NOTE_MAX:
        return FieldError("message", "too long")
    if not_text(message):
        return FieldError("message", "remove the control characters")
    return None


def _proof_link_problem(url: str) -> FieldError | None:
    """An optional web address (http or https) where the council can check the claim."""
    url = url.strip()
    if not url:
        return None
    try:
        parts = urlsplit(url) if len(url) <= NOTE_MAX and not not_text(url) else None
    except ValueError:  # e.g. an unclosed IPv6 bracket: "https://["
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return FieldError("proof_url", "give a web address starting with https://")
    return None


_CLAIM_COLUMNS = (node_claim, node.c.slug, node.c.name_ko, node.c.name_en)


def pending_claims(conn: Connection) -> list[dict[str, Any]]:
    """Every claim waiting for the council, oldest first, with who made it."""
    query = (
        select(*_CLAIM_COLUMNS, user_account.c.email, user_account.c.display_name)
        .join(node, node.c.pk == node_claim.c.node_pk)
        .join(user_account, user_account.c.id == node_claim.c.user_id)
        .where(node_claim.c.status == "pending")
        .order_by(node_claim.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def claims_of(conn: Connection, user: User) -> list[dict[str, Any]]:
    """A person's own claims, newest first, with their states."""
    query = (
        select(*_CLAIM_COLUMNS)
        .join(node, node.c.pk == node_claim.c.node_pk)
        .where(node_claim.c.user_id == user.id)
        .order_by(node_claim.c.id.desc())
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def hosted_by(conn: Connection, user: User) -> list[dict[str, Any]]:
    """The places a person hosts (slug and names), by name."""
    query = (
        select(node.c.slug, node.c.name_ko, node.c.name_en)
        .join(node_host, node_host.c.node_pk == node.c.pk)
        .where(node_host.c.user_id == user.id)
        .order_by(node.c.name_sort)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def has_pending_claim(conn: Connection, user: User | None, node_pk: int) -> bool:
    if user is None:
        return False
    query = select(node_claim.c.id).where(
        node_claim.c.node_pk == node_pk, node_claim.c.user_id == user.id, node_claim.c.status == "pending"
    )
    return conn.execute(query).first() is not None


def decide_claim(platform: Platform, user: User | None, claim_id: int, approve: bool) -> dict[str, Any]:
    """Approving makes the claimant a host of the node (and a member a host); the claimant is told by e-mail.

    The decision is a compare-and-swap on the claim's state: of two decisions at once, or a second
    press, only one changes anything; the other is a Conflict.
    """
    require(may_verify(user), user)
    status = "approved" if approve else "rejected"
    with platform.engine.begin() as conn:
        decided = conn.execute(
            update(node_claim)
            .where(node_claim.c.id == claim_id, node_claim.c.status == "pending")
            .values(status=status, decided_by=user.id, decided_at=datetime.now(UTC))
        ).rowcount
        claim = conn.execute(select(node_claim).where(node_claim.c.id == claim_id)).first()
        if claim is None:
            raise NotFound(f"no claim {claim_id}")
        if decided != 1:
            raise Conflict(f"this claim was already decided: {claim.status}")
        claimant = get_user(conn, claim.user_id)
        if approve:
            if not is_host(conn, claimant, claim.node_pk):
                conn.execute(
                    insert(node_host).values(node_pk=claim.node_pk, user_id=claimant.id, granted_at=datetime.now(UTC))
                )
            if claimant.role == "member":
                conn.execute(update(user_account).where(user_account.c.id == claimant.id).values(role="host"))
                audit.record(conn, user.id, "user.role", "user", str(claimant.id), {"role": ["member", "host"]})
        audit.record(conn, user.id, f"claim.{status}", "claim", str(claim_id), {"status": ["pending", status]})
        _tell_claimant(conn, claimant, claim.node_pk, approve)
    return {"id": claim_id, "status": status}


def _tell_claimant(conn: Connection, claimant: User, node_pk: int, approved: bool) -> None:
    """The decision by e-mail, in Korean and in English (the account keeps no language)."""
    place = conn.execute(select(node.c.name_ko, node.c.name_en).where(node.c.pk == node_pk)).one()
    name_ko, name_en = place.name_ko or place.name_en, place.name_en or place.name_ko
    if approved:
        subject = f"[팹시티 서울] 운영 신청이 승인되었습니다 / Your claim was approved: {name_ko}"
        body = (
            f"{claimant.display_name}님, '{name_ko}' 운영 신청이 승인되었습니다.\n"
            "이제 팹시티 서울에서 이 공간의 정보를 고칠 수 있습니다.\n\n"
            f"{claimant.display_name}, your claim to host '{name_en}' was approved: you can now edit its listing."
        )
    else:
        subject = f"[팹시티 서울] 운영 신청이 거절되었습니다 / Your claim was declined: {name_ko}"
        body = (
            f"{claimant.display_name}님, '{name_ko}' 운영 신청이 받아들여지지 않았습니다. "
            "확인할 수 있는 자료를 붙여 다시 신청할 수 있습니다.\n\n"
            f"{claimant.display_name}, your claim to host '{name_en}' was declined. "
            "You may claim it again with a link the council can check."
        )
    outbox.queue(conn, claimant.email, subject, body)
