"""Qualifications: the trainings a node's hosts give (e.g. 레이저 커터 안전교육), who passed them and when,
and the refusal of a booking by a member who lacks one that the resource requires.

A pass counts until it is revoked, until `valid_months` after the day it was passed, and until
`lapse_months` after its last use ("use": a confirmed or completed booking by that member of a
resource requiring the training, or else the day it was passed). Its status is computed when it is
read, so nothing waits for a timer; days are Seoul days (KST). A pass is never deleted: an expired,
lapsed or revoked one stays in the history, and revoking is a compare-and-swap with its audit record.

Who may define trainings, record passes and revoke them: the node's hosts, curators and admins
(directory.editing.may_edit, the rule resources follow). The check of a booking runs inside
create_booking's transaction (booking.service), so a refused booking changes nothing.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Row, delete, func, insert, select, update

from fabcity import audit
from fabcity.accounts.service import User
from fabcity.booking.models import PassIn, TrainingIn
from fabcity.clock import KST
from fabcity.directory.editing import may_edit, merge_patch, node_pk_of, require
from fabcity.directory.models import problems_of
from fabcity.errors import Conflict, FieldError, NotFound, RecordInvalid
from fabcity.platform import Platform
from fabcity.storage.schema import (
    booking,
    booking_qualification,
    booking_resource_training,
    booking_training,
    node,
    user_account,
)

# A booking in these states is a use of the trainings its resource requires (it keeps a pass from lapsing).
USING_STATES = ("confirmed", "completed")
_EDITABLE = tuple(TrainingIn.model_fields)


def _aware(value: datetime | None) -> datetime | None:
    """A stored instant in UTC (SQLite hands them back without their zone)."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _day(at: datetime) -> date:
    return at.astimezone(KST).date()


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it is shorter (31 January + 1 → 28 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Standing:
    """Where a pass stands on a day: its status and `until` (the first day it no longer counts, or stopped)."""

    status: str
    until: date | None


def standing(passed_on: date, revoked_at: datetime | None, training: Row, last_use: date | None, on: date) -> Standing:
    """The status of a pass on the day `on`: revoked, expired, lapsed or valid (see the module's docstring)."""
    if revoked_at is not None:
        return Standing("revoked", _day(_aware(revoked_at)))
    ends: list[tuple[date, str]] = []
    if training.valid_months:
        ends.append((add_months(passed_on, training.valid_months), "expired"))
    if training.lapse_months:
        ends.append((add_months(max(passed_on, last_use or passed_on), training.lapse_months), "lapsed"))
    for end, status in sorted(ends):
        if on >= end:
            return Standing(status, end)
    return Standing("valid", min(ends)[0] if ends else None)


def _last_use(conn: Connection, member_id: int, training_id: int, before: datetime) -> date | None:
    """The day of the member's latest booking starting before `before` that used the training."""
    query = (
        select(func.max(booking.c.starts_at))
        .join(booking_resource_training, booking_resource_training.c.resource_id == booking.c.resource_id)
        .where(
            booking.c.member_id == member_id,
            booking_resource_training.c.training_id == training_id,
            booking.c.state.in_(USING_STATES),
            booking.c.starts_at < before,
        )
    )
    found = conn.execute(query).scalar_one_or_none()
    return _day(_aware(found)) if found is not None else None


# --------------------------------------------------------------------------------------------
# what a resource requires, and the check of a booking


def required_by(conn: Connection, resource_id: int) -> list[int]:
    """The ids of the trainings, not retired, a member must hold to book the resource."""
    query = (
        select(booking_training.c.id)
        .join(booking_resource_training, booking_resource_training.c.training_id == booking_training.c.id)
        .where(booking_resource_training.c.resource_id == resource_id, booking_training.c.retired_at.is_(None))
        .order_by(booking_training.c.id)
    )
    return list(conn.execute(query).scalars())


def set_required(conn: Connection, node_pk: int, resource_id: int, training_ids: list[int]) -> None:
    """The resource requires exactly these trainings, each a training of its own node that is not retired."""
    if training_ids:
        query = select(booking_training.c.id).where(
            booking_training.c.id.in_(training_ids),
            booking_training.c.node_pk == node_pk,
            booking_training.c.retired_at.is_(None),
        )
        unknown = sorted(set(training_ids) - set(conn.execute(query).scalars()))
        if unknown:
            listed = ", ".join(map(str, unknown))
            raise FieldError("trainings", f"not a current training of this resource's node: {listed}")
    link = booking_resource_training.c
    conn.execute(delete(booking_resource_training).where(link.resource_id == resource_id))
    if training_ids:
        links = [{"resource_id": resource_id, "training_id": training_id} for training_id in training_ids]
        conn.execute(insert(booking_resource_training), links)


def missing_for(conn: Connection, member_id: int, resource_id: int, at: datetime) -> list[Row]:
    """The trainings the resource requires that the member holds no valid pass of on the day of `at`."""
    trainings = conn.execute(
        select(booking_training)
        .join(booking_resource_training, booking_resource_training.c.training_id == booking_training.c.id)
        .where(booking_resource_training.c.resource_id == resource_id, booking_training.c.retired_at.is_(None))
        .order_by(booking_training.c.id)
    ).all()
    missing = []
    for training in trainings:
        passes = conn.execute(
            select(booking_qualification.c.passed_on, booking_qualification.c.revoked_at).where(
                booking_qualification.c.member_id == member_id,
                booking_qualification.c.training_id == training.id,
                booking_qualification.c.passed_on <= _day(at),
            )
        ).all()
        last_use = _last_use(conn, member_id, training.id, at) if passes else None
        if not any(standing(p.passed_on, p.revoked_at, training, last_use, _day(at)).status == "valid" for p in passes):
            missing.append(training)
    return missing


def refuse_unqualified(conn: Connection, member_id: int, resource_id: int, at: datetime) -> None:
    """409 naming each training (Korean and English names) the member lacks for a booking starting at `at`."""
    missing = missing_for(conn, member_id, resource_id, at)
    if not missing:
        return
    names = [f"{t.name_ko} ({t.name_en})" if t.name_en else t.name_ko for t in missing]
    verb = "is" if len(names) == 1 else "are"
    raise Conflict(f"qualification: {' and '.join(names)} {verb} required")


# --------------------------------------------------------------------------------------------
# trainings


def _training_row(conn: Connection, training_id: int) -> Row:
    row = conn.execute(select(booking_training).where(booking_training.c.id == training_id)).first()
    if row is None:
        raise NotFound(f"no training {training_id}")
    return row


def _public_training(conn: Connection, row: Row) -> dict[str, Any]:
    return {
        **{name: getattr(row, name) for name in _EDITABLE},
        "id": row.id,
        "node": _node_id(conn, row.node_pk),
        "retired_at": _aware(row.retired_at),
        "version": row.version,
    }


def _node_id(conn: Connection, node_pk: int) -> str:
    return conn.execute(select(node.c.id).where(node.c.pk == node_pk)).scalar_one()


def _managed_training(conn: Connection, user: User | None, training_id: int) -> Row:
    row = _training_row(conn, training_id)
    require(may_edit(conn, user, row.node_pk), user)
    return row


def create_training(platform: Platform, user: User | None, node: str, data: TrainingIn) -> dict[str, Any]:
    """A new training of the node, by one of its hosts (or a curator, an admin)."""
    now = datetime.now(UTC)
    with platform.engine.begin() as conn:
        node_pk = node_pk_of(conn, node)
        require(may_edit(conn, user, node_pk), user)
        values = {**data.model_dump(), "node_pk": node_pk, "created_at": now, "updated_at": now}
        training_id = conn.execute(
            insert(booking_training).values(values).returning(booking_training.c.id)
        ).scalar_one()
        created = _public_training(conn, _training_row(conn, training_id))
        audit.record(conn, user.id, "training.create", "training", str(training_id), _changes({}, created), now)
    return created


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What the audit trail keeps of a training's write: its editable fields that changed."""
    return audit.changes_between(
        {key: before[key] for key in _EDITABLE} if before else {}, {key: after[key] for key in _EDITABLE}
    )


def _swap_training(conn: Connection, row: Row, values: dict[str, Any]) -> None:
    """Write the training only at the version read; else someone wrote it meanwhile (409)."""
    statement = (
        update(booking_training)
        .where(booking_training.c.id == row.id, booking_training.c.version == row.version)
        .values(**values, version=row.version + 1)
    )
    if conn.execute(statement).rowcount != 1:
        raise Conflict("version: the training was changed meanwhile; read it again")


def update_training(platform: Platform, user: User | None, training_id: int, patch: dict[str, Any]) -> dict[str, Any]:
    """Rename a training or change its validity (a JSON merge patch); passes are read with the new rules."""
    now = datetime.now(UTC)
    with platform.engine.begin() as conn:
        row = _managed_training(conn, user, training_id)
        before = _public_training(conn, row)
        try:
            data = TrainingIn.model_validate(merge_patch({key: before[key] for key in _EDITABLE}, patch))
        except ValidationError as error:
            raise RecordInvalid(problems_of(error)) from None
        changes = _changes(before, data.model_dump())
        if changes:
            _swap_training(conn, row, {**data.model_dump(), "updated_at": now})
            audit.record(conn, user.id, "training.update", "training", str(training_id), changes, now)
        return _public_training(conn, _training_row(conn, training_id))


def retire_training(platform: Platform, user: User | None, training_id: int) -> dict[str, Any]:
    """No longer required by any resource, nor recorded; its passes stay. A second retirement is a 409."""
    now = datetime.now(UTC)
    with platform.engine.begin() as conn:
        row = _managed_training(conn, user, training_id)
        if row.retired_at is not None:
            raise Conflict("retired_at: the training is retired already")
        _swap_training(conn, row, {"retired_at": now, "updated_at": now})
        audit.record(
            conn, user.id, "training.retire", "training", str(training_id), {"retired_at": [None, now.isoformat()]}, now
        )
        return _public_training(conn, _training_row(conn, training_id))


def _holder(conn: Connection, row: Row, training: Row, today: date, now: datetime) -> dict[str, Any]:
    last_use = _last_use(conn, row.member_id, training.id, now)
    found = standing(row.passed_on, row.revoked_at, training, last_use, today)
    return {
        "id": row.id,
        "training": training.id,
        "member": row.member_id,
        "display_name": row.display_name,
        "email": row.email,
        "passed_on": row.passed_on,
        "note": row.note,
        "recorded_by": row.recorded_by,
        "recorded_at": _aware(row.recorded_at),
        "status": found.status,
        "until": found.until,
        "revoked_at": _aware(row.revoked_at),
        "revoke_reason": row.revoke_reason,
    }


def trainings_of(
    platform: Platform, user: User | None, node: str, at: datetime | None = None, managers_only: bool = False
) -> list[dict]:
    """A node's trainings, retired ones too; with every recorded pass (and its status) for those who manage it.

    `managers_only`: refused to anyone else (the hosts' page).
    """
    now = (at or datetime.now(UTC)).astimezone(UTC)
    with platform.engine.connect() as conn:
        node_pk = node_pk_of(conn, node)
        manager = may_edit(conn, user, node_pk)
        if managers_only:
            require(manager, user)
        rows = conn.execute(
            select(booking_training).where(booking_training.c.node_pk == node_pk).order_by(booking_training.c.id)
        ).all()
        answer = []
        for training in rows:
            public = {**_public_training(conn, training), "holders": None}
            if manager:
                passes = conn.execute(
                    select(booking_qualification, user_account.c.display_name, user_account.c.email)
                    .join(user_account, user_account.c.id == booking_qualification.c.member_id)
                    .where(booking_qualification.c.training_id == training.id)
                    .order_by(booking_qualification.c.passed_on.desc(), booking_qualification.c.id.desc())
                ).all()
                public["holders"] = [_holder(conn, p, training, _day(now), now) for p in passes]
            answer.append(public)
        return answer


# --------------------------------------------------------------------------------------------
# passes


def _member_by_email(conn: Connection, email: str) -> int:
    query = select(user_account.c.id).where(
        user_account.c.email == email.strip().casefold(), user_account.c.deleted_at.is_(None)
    )
    member_id = conn.execute(query).scalar_one_or_none()
    if member_id is None:
        raise FieldError("email", "no account has this e-mail address")
    return member_id


def record_pass(platform: Platform, user: User | None, training_id: int, data: PassIn) -> dict[str, Any]:
    """A member passed the training on a day (not in the future); recorded by whom, with a note."""
    now = datetime.now(UTC)
    with platform.engine.begin() as conn:
        training = _managed_training(conn, user, training_id)
        if training.retired_at is not None:
            raise Conflict("training: this training is retired; passes are no longer recorded")
        if data.passed_on > _day(now):
            raise FieldError("passed_on", "a day in the future")
        member_id = _member_by_email(conn, data.email)
        values = {
            "training_id": training_id,
            "member_id": member_id,
            "passed_on": data.passed_on,
            "note": data.note,
            "recorded_by": user.id,
            "recorded_at": now,
        }
        pass_id = conn.execute(
            insert(booking_qualification).values(values).returning(booking_qualification.c.id)
        ).scalar_one()
        changes = {
            "training": [None, training_id],
            "member": [None, member_id],
            "passed_on": [None, data.passed_on.isoformat()],
        }
        audit.record(conn, user.id, "qualification.record", "qualification", str(pass_id), changes, now)
        return _holder(conn, _pass_row(conn, pass_id), training, _day(now), now)


def _pass_row(conn: Connection, pass_id: int) -> Row:
    row = conn.execute(
        select(booking_qualification, user_account.c.display_name, user_account.c.email)
        .join(user_account, user_account.c.id == booking_qualification.c.member_id)
        .where(booking_qualification.c.id == pass_id)
    ).first()
    if row is None:
        raise NotFound(f"no qualification {pass_id}")
    return row


def revoke(platform: Platform, user: User | None, pass_id: int, reason: str) -> dict[str, Any]:
    """The pass no longer counts, from now on; it stays in the history. Revoking it again is a 409."""
    now = datetime.now(UTC)
    with platform.engine.begin() as conn:
        row = _pass_row(conn, pass_id)
        training = _managed_training(conn, user, row.training_id)
        statement = (
            update(booking_qualification)
            .where(booking_qualification.c.id == pass_id, booking_qualification.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_by=user.id, revoke_reason=reason)
        )
        if conn.execute(statement).rowcount != 1:
            raise Conflict("revoked_at: this qualification is revoked already")
        changes = {"revoked_at": [None, now.isoformat()], "reason": [None, reason]}
        audit.record(conn, user.id, "qualification.revoke", "qualification", str(pass_id), changes, now)
        return _holder(conn, _pass_row(conn, pass_id), training, _day(now), now)


def my_qualifications(platform: Platform, user: User | None, at: datetime | None = None) -> list[dict[str, Any]]:
    """The member's own recorded passes, history included, each with its status as of now; latest first."""
    require(user is not None, user)
    now = (at or datetime.now(UTC)).astimezone(UTC)
    with platform.engine.connect() as conn:
        rows = conn.execute(
            select(booking_qualification)
            .where(booking_qualification.c.member_id == user.id)
            .order_by(booking_qualification.c.passed_on.desc(), booking_qualification.c.id.desc())
        ).all()
        answer = []
        for row in rows:
            training = _training_row(conn, row.training_id)
            last_use = _last_use(conn, user.id, training.id, now)
            found = standing(row.passed_on, row.revoked_at, training, last_use, _day(now))
            answer.append(
                {
                    "id": row.id,
                    "training": training.id,
                    "node": _node_id(conn, training.node_pk),
                    "name_ko": training.name_ko,
                    "name_en": training.name_en,
                    "passed_on": row.passed_on,
                    "status": found.status,
                    "until": found.until,
                    "revoked_at": _aware(row.revoked_at),
                }
            )
        return answer
