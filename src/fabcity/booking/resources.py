"""Hosts' writes of what can be booked: resources, their units, weekly rules and exceptions.

Who may: the hosts of the resource's node, curators and admins (the same rule as editing the node,
directory.editing.may_edit). Every write lands with its audit record in one transaction and bumps
the resource's version (its ETag), so a client that names the version it read (If-Match) is
refused once another write came first. A resource is retired, never deleted: its bookings stay.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from fabcity import audit
from fabcity.accounts.service import User
from fabcity.booking import qualifications, store
from fabcity.booking.availability import Exceptional, Rule
from fabcity.booking.models import ExceptionIn, ResourceIn, ResourcePublic, RuleIn, clock_of, minute_of
from fabcity.directory.editing import may_edit, merge_patch, node_pk_of
from fabcity.directory.hours import DAYS, week_of
from fabcity.directory.models import problems_of
from fabcity.directory.taxonomy import taxonomy
from fabcity.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    PreconditionFailed,
    RecordInvalid,
)
from fabcity.platform import Platform
from fabcity.storage.schema import (
    availability_exception,
    availability_rule,
    booking_resource,
    booking_unit,
    equipment,
    node,
)

# The fields of a resource a patch may change; its node and its units' removal may not.
_STORED_FIELDS = tuple(name for name in ResourceIn.model_fields if name not in ("node", "units", "parent", "trainings"))


def utc(value: datetime | None) -> datetime | None:
    """A stored instant in `datetime.UTC`: SQLite hands them back without their zone, psycopg in its
    `Etc/UTC` zone, against which every comparison with a slot's UTC instant is about ten times slower
    (free slots over 30 days of a busy resource on PostgreSQL: p50 33 → 15 ms)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def require(allowed: bool, user: User | None) -> None:
    if not allowed:
        raise NotAuthenticated() if user is None else Forbidden()


def resource_row(conn: Connection, resource_id: int) -> Row:
    row = conn.execute(select(booking_resource).where(booking_resource.c.id == resource_id)).first()
    if row is None:
        raise NotFound(f"no resource {resource_id}")
    return row


def may_manage(conn: Connection, user: User | None, resource: Row) -> bool:
    """Whether the user may change this resource and decide its bookings."""
    return may_edit(conn, user, resource.node_pk)


def unit_labels(conn: Connection, resource_id: int) -> list[str]:
    query = select(booking_unit.c.label).where(booking_unit.c.resource_id == resource_id).order_by(booking_unit.c.id)
    return list(conn.execute(query).scalars())


def public_resource(conn: Connection, row: Row) -> dict[str, Any]:
    node_id = conn.execute(select(node.c.id).where(node.c.pk == row.node_pk)).scalar_one()
    return {
        **{name: getattr(row, name) for name in _STORED_FIELDS},
        "id": row.id,
        "node": node_id,
        "units": unit_labels(conn, row.id),
        "parent": row.parent_id,
        "trainings": qualifications.required_by(conn, row.id),
        "cancellation_policy": [list(tier) for tier in row.cancellation_policy],
        "retired_at": utc(row.retired_at),
        "equipment": row.equipment_pk,
        "equipment_type": row.equipment_type,
        "version": row.version,
    }


def _audited(resource: dict[str, Any]) -> dict[str, Any]:
    """A public resource as the audit trail stores it (JSON: instants as text)."""
    return ResourcePublic.model_validate(resource).model_dump(mode="json")


def get_resource(platform: Platform, resource_id: int) -> dict[str, Any]:
    with platform.engine.connect() as conn:
        return public_resource(conn, resource_row(conn, resource_id))


def resources_of(platform: Platform, node_id: str) -> list[dict[str, Any]]:
    """The resources of a node, retired ones included (they say so), in the order they were made."""
    with platform.engine.connect() as conn:
        pk = node_pk_of(conn, node_id)
        rows = conn.execute(select(booking_resource).where(booking_resource.c.node_pk == pk).order_by("id")).all()
        return [public_resource(conn, row) for row in rows]


def _check_parent(conn: Connection, node_pk: int, parent_id: int | None, own_id: int | None) -> None:
    """A parent is a resource of the same node that has no parent itself (one level: a room and its machines)."""
    if parent_id is None:
        return
    parent = conn.execute(select(booking_resource).where(booking_resource.c.id == parent_id)).first()
    if parent is None or parent.node_pk != node_pk:
        raise FieldError("parent", "not a resource of this node")
    if parent.parent_id is not None or parent_id == own_id:
        raise FieldError("parent", "a resource inside another one cannot hold resources itself")
    if own_id is not None:
        children = select(booking_resource.c.id).where(booking_resource.c.parent_id == own_id).limit(1)
        if conn.execute(children).first() is not None:
            raise FieldError("parent", "this resource holds other resources, so it cannot be inside one")


def _columns(data: ResourceIn) -> dict[str, Any]:
    values = {name: getattr(data, name) for name in _STORED_FIELDS}
    values["cancellation_policy"] = sorted(
        ([days, percent] for days, percent in data.cancellation_policy), reverse=True
    )
    values["parent_id"] = data.parent
    return values


def create_resource(platform: Platform, user: User | None, data: ResourceIn) -> dict[str, Any]:
    """A new resource of a node, with its units, by one of the node's hosts (or a curator, an admin)."""
    now = datetime.now(UTC)
    with platform.engine.begin() as conn:
        node_pk = node_pk_of(conn, data.node)
        require(may_edit(conn, user, node_pk), user)
        _check_parent(conn, node_pk, data.parent, None)
        values = {**_columns(data), "node_pk": node_pk, "created_at": now, "updated_at": now}
        resource_id = conn.execute(
            insert(booking_resource).values(values).returning(booking_resource.c.id)
        ).scalar_one()
        conn.execute(insert(booking_unit), [{"resource_id": resource_id, "label": label} for label in data.units])
        qualifications.set_required(conn, node_pk, resource_id, data.trainings)
        created = public_resource(conn, resource_row(conn, resource_id))
        audit.record(
            conn, user.id, "resource.create", "resource", str(resource_id), audit.changes_between({}, _audited(created))
        )
    return created


def _claim(conn: Connection, resource_id: int, expected_versions: Collection[int] | None) -> None:
    """Hold the resource for this transaction; with `expected_versions`, only at one of them (else 412)."""
    statement = update(booking_resource).where(booking_resource.c.id == resource_id)
    statement = statement.values(version=booking_resource.c.version)
    if expected_versions is not None:
        statement = statement.where(booking_resource.c.version.in_(expected_versions))
    if conn.execute(statement).rowcount == 0:
        current = resource_row(conn, resource_id).version
        raise PreconditionFailed(
            f'the resource was changed after the version you read; it is now at ETag "{current}":'
            " read it again and make your change on that"
        )


def _manage(conn: Connection, user: User | None, resource_id: int, expected: Collection[int] | None) -> Row:
    """The resource, once the user is known to manage it and this transaction holds it."""
    row = resource_row(conn, resource_id)
    require(may_manage(conn, user, row), user)
    _claim(conn, resource_id, expected)
    return resource_row(conn, resource_id)


def update_resource(
    platform: Platform,
    user: User | None,
    resource_id: int,
    patch: dict[str, Any],
    expected_versions: Collection[int] | None = None,
) -> dict[str, Any]:
    """Apply a JSON merge patch; units may be added, never removed; the node never changes."""
    with platform.engine.begin() as conn:
        row = _manage(conn, user, resource_id, expected_versions)
        before = public_resource(conn, row)
        stored = {key: before[key] for key in ResourceIn.model_fields}
        merged = merge_patch(stored, patch)
        try:
            data = ResourceIn.model_validate(merged)
        except ValidationError as error:
            raise RecordInvalid(problems_of(error)) from None
        if data.node != before["node"]:
            raise FieldError("node", "a resource stays with its node")
        if missing := [label for label in before["units"] if label not in data.units]:
            raise FieldError("units", f"a unit is never removed (it may hold bookings): {', '.join(missing)}")
        _check_parent(conn, row.node_pk, data.parent, resource_id)
        values = {**_columns(data), "updated_at": datetime.now(UTC)}
        conn.execute(update(booking_resource).where(booking_resource.c.id == resource_id).values(values))
        added = [label for label in data.units if label not in before["units"]]
        if added:
            conn.execute(insert(booking_unit), [{"resource_id": resource_id, "label": label} for label in added])
        if data.trainings != before["trainings"]:
            qualifications.set_required(conn, row.node_pk, resource_id, data.trainings)
        after = public_resource(conn, resource_row(conn, resource_id))
        changes = audit.changes_between(_audited(before), _audited(after))
        changes.pop("version", None)
        if changes:
            audit.record(conn, user.id, "resource.update", "resource", str(resource_id), changes)
    return after


def retire_resource(
    platform: Platform, user: User | None, resource_id: int, expected_versions: Collection[int] | None = None
) -> dict[str, Any]:
    """No new bookings from now on; the resource, its bookings and its history stay."""
    now = datetime.now(UTC)
    with platform.engine.begin() as conn:
        row = _manage(conn, user, resource_id, expected_versions)
        if row.retired_at is None:
            conn.execute(
                update(booking_resource)
                .where(booking_resource.c.id == resource_id)
                .values(retired_at=now, updated_at=now)
            )
            audit.record(
                conn, user.id, "resource.retire", "resource", str(resource_id), {"retired_at": [None, now.isoformat()]}
            )
        return public_resource(conn, resource_row(conn, resource_id))


# --------------------------------------------------------------------------------------------
# weekly rules and exceptions


def _public_rule(row: Row) -> dict[str, Any]:
    return {
        "id": row.id,
        "weekday": row.weekday,
        "start": clock_of(row.start_minute),
        "end": clock_of(row.end_minute),
        "valid_from": row.valid_from,
        "valid_until": row.valid_until,
    }


def _public_exception(row: Row) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "starts_at": utc(row.starts_at),
        "ends_at": utc(row.ends_at),
        "note": row.note,
    }


def rule_of(row: Row) -> Rule:
    return Rule(row.weekday, row.start_minute, row.end_minute, row.valid_from, row.valid_until)


def exception_of(row: Row) -> Exceptional:
    return Exceptional(row.kind, utc(row.starts_at), utc(row.ends_at))


def rules_of(conn: Connection, resource_id: int) -> list[Rule]:
    rows = conn.execute(select(availability_rule).where(availability_rule.c.resource_id == resource_id)).all()
    return [rule_of(r) for r in rows]


def exceptions_of(conn: Connection, resource_id: int, start: datetime, end: datetime) -> list[Exceptional]:
    """The exceptions of a resource that touch [start, end)."""
    query = select(availability_exception).where(
        availability_exception.c.resource_id == resource_id,
        availability_exception.c.starts_at < end,
        availability_exception.c.ends_at > start,
    )
    return [exception_of(r) for r in conn.execute(query)]


def availability(platform: Platform, resource_id: int) -> dict[str, Any]:
    """The weekly rules and every exception of a resource."""
    with platform.engine.connect() as conn:
        resource_row(conn, resource_id)
        rules = conn.execute(
            select(availability_rule).where(availability_rule.c.resource_id == resource_id).order_by("id")
        ).all()
        exceptions = conn.execute(
            select(availability_exception)
            .where(availability_exception.c.resource_id == resource_id)
            .order_by(availability_exception.c.starts_at)
        ).all()
    return {"rules": [_public_rule(r) for r in rules], "exceptions": [_public_exception(e) for e in exceptions]}


def _touch(conn: Connection, resource_id: int) -> None:
    """A rule or an exception changes what can be booked: the resource's version moves on."""
    conn.execute(
        update(booking_resource).where(booking_resource.c.id == resource_id).values(updated_at=datetime.now(UTC))
    )


def _rule_columns(data: RuleIn) -> dict[str, Any]:
    return {
        "weekday": data.weekday,
        "start_minute": minute_of(data.start),
        "end_minute": minute_of(data.end),
        "valid_from": data.valid_from,
        "valid_until": data.valid_until,
    }


def add_rule(platform: Platform, user: User | None, resource_id: int, data: RuleIn) -> dict[str, Any]:
    with platform.engine.begin() as conn:
        _manage(conn, user, resource_id, None)
        values = {"resource_id": resource_id, **_rule_columns(data)}
        rule_id = conn.execute(insert(availability_rule).values(values).returning(availability_rule.c.id)).scalar_one()
        _touch(conn, resource_id)
        added = _public_rule(conn.execute(select(availability_rule).where(availability_rule.c.id == rule_id)).one())
        audit.record(
            conn,
            user.id,
            "resource.rule.add",
            "resource",
            str(resource_id),
            {f"rules.{rule_id}": [None, data.model_dump(mode="json")]},
        )
    return added


def add_exception(platform: Platform, user: User | None, resource_id: int, data: ExceptionIn) -> dict[str, Any]:
    with platform.engine.begin() as conn:
        _manage(conn, user, resource_id, None)
        values = {"resource_id": resource_id, **data.model_dump()}
        exception_id = conn.execute(
            insert(availability_exception).values(values).returning(availability_exception.c.id)
        ).scalar_one()
        _touch(conn, resource_id)
        row = conn.execute(select(availability_exception).where(availability_exception.c.id == exception_id)).one()
        audit.record(
            conn,
            user.id,
            "resource.exception.add",
            "resource",
            str(resource_id),
            {f"exceptions.{exception_id}": [None, data.model_dump(mode="json")]},
        )
    return _public_exception(row)


def remove_rule(platform: Platform, user: User | None, resource_id: int, rule_id: int) -> None:
    _remove(platform, user, resource_id, availability_rule, rule_id, "rules")


def remove_exception(platform: Platform, user: User | None, resource_id: int, exception_id: int) -> None:
    _remove(platform, user, resource_id, availability_exception, exception_id, "exceptions")


def _remove(platform: Platform, user: User | None, resource_id: int, table: Any, row_id: int, what: str) -> None:
    """A rule or an exception is deleted (bookings made under it stay as they are); the trail keeps it."""
    with platform.engine.begin() as conn:
        _manage(conn, user, resource_id, None)
        where = (table.c.id == row_id, table.c.resource_id == resource_id)
        found = conn.execute(select(table).where(*where)).first()
        if found is None:
            raise NotFound(f"no {what[:-1]} {row_id} of resource {resource_id}")
        conn.execute(delete(table).where(*where))
        _touch(conn, resource_id)
        public = _public_rule(found) if what == "rules" else _public_exception(found)
        before = {key: (value.isoformat() if hasattr(value, "isoformat") else value) for key, value in public.items()}
        audit.record(
            conn,
            user.id,
            f"resource.{what[:-1]}.remove",
            "resource",
            str(resource_id),
            {f"{what}.{row_id}": [before, None]},
        )


# --------------------------------------------------------------------------------------------
# a machine resource from a listed machine


def _machine_names(machine: Row) -> tuple[str, str | None]:
    """The machine's own names, else its type's, each followed by its make and model when listed."""
    term = taxonomy().get("equipment_types", machine.type)
    maker = " ".join(part for part in (machine.make, machine.model) if part)
    suffix = f" ({maker})" if maker else ""
    return f"{machine.name_ko or term.label_ko}{suffix}", f"{machine.name_en or term.label_en}{suffix}"


def rules_from_hours(opening_hours: str | None) -> list[RuleIn]:
    """The node's OSM opening hours as weekly rules when they are that simple; none otherwise (the host adds them)."""
    week = week_of(opening_hours)
    if week is None:
        return []
    return [
        RuleIn(weekday=weekday, start=span[0], end=span[1])
        for weekday, day in enumerate(DAYS)
        if (span := week.days.get(day)) is not None and minute_of(span[0]) < minute_of(span[1])
    ]


def _made_from(conn: Connection, equipment_pk: int) -> Row | None:
    return conn.execute(select(booking_resource).where(booking_resource.c.equipment_pk == equipment_pk)).first()


def _refuse_twice(conn: Connection, equipment_pk: int) -> None:
    if (made := _made_from(conn, equipment_pk)) is not None:
        raise Conflict(f"equipment: this machine is already bookable as resource {made.id} ({made.name_ko})")


def resource_from_machine(platform: Platform, user: User | None, node_id: str, equipment_pk: int) -> dict[str, Any]:
    """A machine resource made in one step from a machine the node lists: its names, one unit per machine,
    the defaults of ResourceIn (Asia/Seoul) and the node's opening hours as weekly rules when they can be read.
    The same hosts may as for create_resource; a machine already bookable is a 409 naming its resource."""
    now = datetime.now(UTC)
    try:
        with platform.engine.begin() as conn:
            store.begin_write(conn)  # SQLite: a second maker waits here, then finds the first's resource
            node_pk = node_pk_of(conn, node_id)
            require(may_edit(conn, user, node_pk), user)
            query = select(equipment).where(equipment.c.pk == equipment_pk, equipment.c.node_pk == node_pk)
            machine = conn.execute(query).first()
            if machine is None:
                raise FieldError("equipment", f"no machine {equipment_pk} is listed by this node")
            _refuse_twice(conn, equipment_pk)
            name_ko, name_en = _machine_names(machine)
            count = max(1, min(machine.quantity or 1, 200))
            data = ResourceIn(node=node_id, kind="machine", name_ko=name_ko, name_en=name_en, units=_labels(count))
            values = {**_columns(data), "node_pk": node_pk, "created_at": now, "updated_at": now}
            values |= {"equipment_pk": equipment_pk, "equipment_type": machine.type}
            resource_id = conn.execute(
                insert(booking_resource).values(values).returning(booking_resource.c.id)
            ).scalar_one()
            conn.execute(insert(booking_unit), [{"resource_id": resource_id, "label": label} for label in data.units])
            hours = conn.execute(select(node.c.opening_hours).where(node.c.pk == node_pk)).scalar_one()
            rules = rules_from_hours(hours)
            if rules:
                conn.execute(
                    insert(availability_rule), [{"resource_id": resource_id, **_rule_columns(r)} for r in rules]
                )
            created = public_resource(conn, resource_row(conn, resource_id))
            changes = audit.changes_between({}, _audited(created))
            changes |= {"equipment": [None, equipment_pk], "rules": [None, [r.model_dump(mode="json") for r in rules]]}
            audit.record(conn, user.id, "resource.create", "resource", str(resource_id), changes)
    except IntegrityError:
        # Another host made the same machine bookable at the same moment: the unique index kept one.
        with platform.engine.connect() as conn:
            _refuse_twice(conn, equipment_pk)
        raise
    return created


def _labels(count: int) -> list[str]:
    return [str(number) for number in range(1, count + 1)]


def bookable_machines(platform: Platform, user: User | None, node_id: str) -> list[dict[str, Any]]:
    """The machines a node lists, each with the resource made from it (None while it is not bookable),
    for those who may make them bookable."""
    with platform.engine.connect() as conn:
        pk = node_pk_of(conn, node_id)
        require(may_edit(conn, user, pk), user)
        query = (
            select(equipment, booking_resource.c.id.label("resource_id"))
            .outerjoin(booking_resource, booking_resource.c.equipment_pk == equipment.c.pk)
            .where(equipment.c.node_pk == pk)
            .order_by(equipment.c.position)
        )
        rows = conn.execute(query).all()
    return [
        {
            "pk": row.pk,
            "type": row.type,
            "names": _machine_names(row),
            "quantity": row.quantity,
            "resource": row.resource_id,
        }
        for row in rows
    ]
