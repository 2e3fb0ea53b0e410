"""What clients send and receive: resources, availability rules and exceptions, bookings.

Every instant sent must name its zone (an offset or Z) and is kept in UTC; rules are written in the
resource's own wall-clock time ("HH:MM"). What cannot be stored is refused here, naming the field.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from fabcity.booking.policy import DEFAULT_POLICY
from fabcity.directory.models import Code, Name, Note, only_text

Kind = Literal["machine", "room", "desk", "focus_booth", "production_line"]
Mode = Literal["instant", "approval"]
ExceptionKind = Literal["closure", "maintenance", "extra_opening", "external_block"]
UnitLabel = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(str.strip)]
MAX_DURATION_MIN = 14 * 24 * 60  # a booking of a unit, at most two weeks (a production run is several)
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")


def _utc(value: datetime) -> datetime:
    """In UTC, and within years bookings are made for (far dates would overflow the arithmetic on them)."""
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be between the years 2000 and 2100")
    return value.astimezone(UTC)


Instant = Annotated[AwareDatetime, AfterValidator(_utc)]


def minute_of(clock: str) -> int:
    """'HH:MM' as minutes after midnight ('24:00' is 1440)."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def clock_of(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _clock(value: str) -> str:
    if not _CLOCK.fullmatch(value):
        raise ValueError("a local time of day, HH:MM (00:00 to 24:00)")
    return value


Clock = Annotated[str, Field(examples=["09:00"]), AfterValidator(_clock)]
RowNumber = Annotated[int, Field(ge=1, le=2**31 - 1)]
Tier = tuple[Annotated[int, Field(ge=0, le=365)], Annotated[int, Field(ge=0, le=100)]]


class ResourceIn(BaseModel):
    """A bookable resource of a node, as its host describes it."""

    model_config = ConfigDict(extra="forbid")

    node: Code = Field(description="the node's id or slug")
    kind: Kind
    name_ko: Name = Field(min_length=1)
    name_en: Name | None = None
    units: list[UnitLabel] = Field(["1"], min_length=1, max_length=200, description="identical units; never removed")
    granularity_min: Literal[15, 30, 60] = 60
    min_duration_min: int = Field(60, ge=15, le=MAX_DURATION_MIN)
    max_duration_min: int = Field(240, ge=15, le=MAX_DURATION_MIN)
    lead_time_min: int = Field(
        60, ge=0, le=365 * 24 * 60, description="how long before its start a booking may be made"
    )
    horizon_days: int = Field(60, ge=1, le=730, description="how many days ahead a booking may start")
    buffer_before_min: int = Field(0, ge=0, le=24 * 60)
    buffer_after_min: int = Field(0, ge=0, le=24 * 60)
    mode: Mode = "approval"
    hold_hours: int = Field(3, ge=1, le=168, description="how long a request, then an unpaid booking, holds its slot")
    price_per_slot_krw: int = Field(0, ge=0, le=100_000_000, description="0: free, no payment step")
    cancellation_policy: list[Tier] = Field(
        default_factory=lambda: [tuple(tier) for tier in DEFAULT_POLICY],
        max_length=10,
        description="[[days_before, refund_percent], …]: a member's refund by how early they cancel",
    )
    parent: int | None = Field(None, ge=1, le=2**31 - 1, description="a resource of the same node that holds this one")
    time_zone: str = Field("Asia/Seoul", max_length=64, description="IANA zone its weekly rules are written in")
    trainings: list[RowNumber] = Field(
        default_factory=list, max_length=20, description="ids of the node's trainings a member must hold to book it"
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a known IANA time zone, e.g. Asia/Seoul") from None
        return value

    @field_validator("trainings")
    @classmethod
    def _distinct_trainings(cls, value: list[int]) -> list[int]:
        return sorted(set(value))

    @field_validator("units")
    @classmethod
    def _distinct_units(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value) or not all(value):
            raise ValueError("each unit needs its own non-empty label")
        return value

    @model_validator(mode="after")
    def _durations_fit_the_grid(self) -> ResourceIn:
        for field in ("min_duration_min", "max_duration_min"):
            if getattr(self, field) % self.granularity_min:
                raise ValueError(f"{field}: a whole number of {self.granularity_min}-minute slots")
        if self.min_duration_min > self.max_duration_min:
            raise ValueError("min_duration_min: longer than max_duration_min")
        return self


class RuleIn(BaseModel):
    """A weekly opening: on `weekday` (0 = Monday … 6 = Sunday) from `start` to `end`, local time."""

    model_config = ConfigDict(extra="forbid")

    weekday: int = Field(ge=0, le=6)
    start: Clock
    end: Clock
    valid_from: date | None = None
    valid_until: date | None = None

    @model_validator(mode="after")
    def _in_order(self) -> RuleIn:
        if minute_of(self.start) >= minute_of(self.end):
            raise ValueError("end: must be after start")
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            raise ValueError("valid_until: before valid_from")
        return self


class ExceptionIn(BaseModel):
    """A period departing from the weekly rules."""

    model_config = ConfigDict(extra="forbid")

    kind: ExceptionKind
    starts_at: Instant
    ends_at: Instant
    note: Note = ""

    @model_validator(mode="after")
    def _in_order(self) -> ExceptionIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at: must be after starts_at")
        if self.ends_at - self.starts_at > timedelta(days=366):
            raise ValueError("ends_at: at most a year after starts_at")
        return self


class BookingIn(BaseModel):
    """A member's booking of one unit of a resource for [starts_at, ends_at)."""

    model_config = ConfigDict(extra="forbid")

    resource: int = Field(ge=1, le=2**31 - 1)
    starts_at: Instant
    ends_at: Instant
    idempotency_key: Code = Field(
        min_length=1, description="the client's own key: sending the same one again returns the first booking"
    )


class FromMachine(BaseModel):
    """A machine the node lists, to be made a bookable resource."""

    model_config = ConfigDict(extra="forbid")

    node: Code = Field(description="the node's id or slug")
    equipment: int = Field(ge=1, le=2**31 - 1, description="the listed machine's `pk` (GET …/machines/bookable)")


class Payment(BaseModel):
    """How a booking was paid. Payment itself is outside the product: a host records it (on site, by
    transfer), and a payment provider's confirmation would be recorded the same way, with its id."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["on_site", "transfer", "provider"] = "on_site"
    reference: Note = Field("", description="e.g. the transfer's name or the provider's payment id")


class Decision(BaseModel):
    """Why a booking is moved (kept in the audit trail)."""

    model_config = ConfigDict(extra="forbid")

    reason: Note = ""


class PaidDecision(Decision):
    """A booking marked paid, and how (kept in the audit trail with the move)."""

    payment: Payment = Field(default_factory=Payment)


class RulePublic(BaseModel):
    id: int
    weekday: int
    start: str
    end: str
    valid_from: date | None
    valid_until: date | None


class ExceptionPublic(BaseModel):
    id: int
    kind: str
    starts_at: datetime
    ends_at: datetime
    note: str


class ResourcePublic(BaseModel):
    id: int
    node: str
    kind: str
    name_ko: str
    name_en: str | None
    units: list[str]
    granularity_min: int
    min_duration_min: int
    max_duration_min: int
    lead_time_min: int
    horizon_days: int
    buffer_before_min: int
    buffer_after_min: int
    mode: str
    hold_hours: int
    price_per_slot_krw: int
    cancellation_policy: list[list[int]]
    parent: int | None
    time_zone: str
    trainings: list[int] = Field(description="the trainings a member must hold to book it (booking.qualifications)")
    retired_at: datetime | None
    equipment: int | None = Field(None, description="the node's listed machine it was made from (its pk)")
    equipment_type: str | None = Field(None, description="that machine's equipment type, e.g. laser_cutter")
    version: int


class SlotPublic(BaseModel):
    starts_at: datetime
    ends_at: datetime
    free_units: int


class SlotsPublic(BaseModel):
    resource: int
    granularity_min: int
    slots: list[SlotPublic]


class BookingPublic(BaseModel):
    id: int
    resource: int
    unit: str
    member: int
    starts_at: datetime
    ends_at: datetime
    state: str = Field(description="as of now: a request or unpaid booking past its hold reads as expired")
    hold_expires_at: datetime | None
    price_krw: int
    policy: list[list[int]] | None
    refund_krw: int | None = Field(None, description="on a cancellation: what is paid back")
    created_at: datetime
    updated_at: datetime
    version: int


class BookingList(BaseModel):
    results: list[BookingPublic]


# --------------------------------------------------------------------------------------------
# qualifications (booking.qualifications)

Months = Annotated[int, Field(ge=1, le=240)]
QualificationStatus = Literal["valid", "expired", "lapsed", "revoked"]


class TrainingIn(BaseModel):
    """A training of a node that members pass before they may book what requires it."""

    model_config = ConfigDict(extra="forbid")

    name_ko: Name = Field(min_length=1, examples=["레이저 커터 안전교육"])
    name_en: Name | None = Field(None, examples=["Laser cutter safety"])
    valid_months: Months | None = Field(None, description="a pass expires this many months after it was passed")
    lapse_months: Months | None = Field(
        None, description="a pass lapses after this many months without a confirmed or completed booking using it"
    )


class PassIn(BaseModel):
    """A member passed a training on a day (KST)."""

    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, Field(min_length=3, max_length=254), AfterValidator(only_text)] = Field(
        description="the member's account e-mail"
    )
    passed_on: date = Field(ge=date(2000, 1, 1), description="the day it was passed, not in the future")
    note: Note = ""


class HolderPublic(BaseModel):
    """One recorded pass of a training, with its status as of now."""

    id: int
    training: int
    member: int
    display_name: str
    email: str
    passed_on: date
    note: str
    recorded_by: int
    recorded_at: datetime
    status: QualificationStatus
    until: date | None = Field(description="valid: the first day (KST) it no longer counts; else the day it stopped")
    revoked_at: datetime | None
    revoke_reason: str | None


class TrainingPublic(BaseModel):
    id: int
    node: str
    name_ko: str
    name_en: str | None
    valid_months: int | None
    lapse_months: int | None
    retired_at: datetime | None
    version: int
    holders: list[HolderPublic] | None = Field(
        None, description="every recorded pass, history included; only for those who manage the node"
    )


class QualificationPublic(BaseModel):
    """A member's own recorded pass, with its status as of now."""

    id: int
    training: int
    node: str
    name_ko: str
    name_en: str | None
    passed_on: date
    status: QualificationStatus
    until: date | None = Field(description="valid: the first day (KST) it no longer counts; else the day it stopped")
    revoked_at: datetime | None


class QualificationList(BaseModel):
    results: list[QualificationPublic]


class RevokeIn(BaseModel):
    """Why a pass no longer counts (kept on the record and in the audit trail)."""

    model_config = ConfigDict(extra="forbid")

    reason: Note = Field(min_length=1)
