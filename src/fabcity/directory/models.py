"""The node and equipment records every import format is turned into, validated once, here.

Field names follow Open Know-Where in snake_case. Validation resolves taxonomy aliases to ids, so
that a record saying "레이저 가공" is stored as `laser_cutting`, and rejects what cannot be stored
honestly (coordinates out of range or swapped, unknown types, a record without a name).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from fabcity.directory import vocabulary
from fabcity.directory.hours import to_osm
from fabcity.directory.taxonomy import taxonomy
from fabcity.errors import FieldError, RecordInvalid
from fabcity.text import TEXT_PATTERN, not_text

_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def only_text(value: str) -> str:
    """Refuse a control character (text.not_text): PostgreSQL rejects a NUL, SQLite would store it."""
    if character := not_text(value):
        raise ValueError(f"holds a control character ({character}), which is not stored; remove it")
    return value


# Every text of a record is one of these: no control characters, and at most so many characters,
# generous for what people write (the embedded dataset's longest description is 748, its longest
# source note 557) and small enough that a record stays a record. The request body limit
# (settings.MAX_BODY) bounds a record as a whole.
NAME_MAX = 200  # names, operators, makes and models, who verified
DESCRIPTION_MAX = 10_000
ADDRESS_MAX = 500
NOTE_MAX = 2_000  # an equipment note, a provenance's source, a claim's message
URL_MAX = 2_000  # links, contact details, source_url
CODE_MAX = 100  # ids, vocabulary terms, district codes, licences, external ids, keys
HOURS_MAX = 500  # an opening_hours expression
SCHEME_MAX = 20  # an external id's scheme (fablabs_io, okw, osm …), as node_external_id stores it
EXTERNAL_ID_MAX = 200  # an external id's value, likewise
TERMS_MAX = 100  # processes or materials of one node or machine
_TEXT = (AfterValidator(only_text), Field(json_schema_extra={"pattern": TEXT_PATTERN}))  # checked, and documented
Name = Annotated[str, StringConstraints(max_length=NAME_MAX), *_TEXT]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX), *_TEXT]
Address = Annotated[str, StringConstraints(max_length=ADDRESS_MAX), *_TEXT]
Note = Annotated[str, StringConstraints(max_length=NOTE_MAX), *_TEXT]
Url = Annotated[str, StringConstraints(max_length=URL_MAX), *_TEXT]
Code = Annotated[str, StringConstraints(max_length=CODE_MAX), *_TEXT]
Hours = Annotated[str, StringConstraints(max_length=HOURS_MAX), *_TEXT]
Scheme = Annotated[str, StringConstraints(max_length=SCHEME_MAX), *_TEXT]
ExternalId = Annotated[str, StringConstraints(max_length=EXTERNAL_ID_MAX), *_TEXT]


class Localized(BaseModel):
    """A short text (a name) in Korean and English; a plain string is taken as the language it is written in."""

    model_config = ConfigDict(extra="forbid")
    ko: Name | None = None
    en: Name | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_plain_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"ko": value} if _HANGUL.search(value) else {"en": value}
        return value

    @field_validator("ko", "en")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    def best(self, language: str = "ko") -> str | None:
        return (self.ko or self.en) if language == "ko" else (self.en or self.ko)


class LocalizedAddress(Localized):
    ko: Address | None = None
    en: Address | None = None


class LocalizedDescription(Localized):
    ko: Description | None = None
    en: Description | None = None


class Specs(BaseModel):
    """Typed machine specs, named after OKW equipment sub-properties."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    bed_size_mm: list[float] | None = Field(None, min_length=2, max_length=2)
    build_volume_mm: list[float] | None = Field(None, min_length=3, max_length=3)
    working_area_mm: list[float] | None = Field(None, min_length=2, max_length=2)
    x_travel_mm: float | None = Field(None, gt=0)
    y_travel_mm: float | None = Field(None, gt=0)
    z_travel_mm: float | None = Field(None, gt=0)
    laser_power_w: float | None = Field(None, gt=0)
    laser_type: Code | None = None
    axes: int | None = Field(None, ge=1, le=9)
    max_spindle_speed_rpm: float | None = Field(None, gt=0)
    layer_resolution_mm: float | None = Field(None, gt=0)
    nozzle_size_mm: float | None = Field(None, gt=0)
    technology: Code | None = None
    tolerance_class: Code | None = None

    @field_validator("bed_size_mm", "build_volume_mm", "working_area_mm")
    @classmethod
    def _positive(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(v <= 0 for v in value):
            raise ValueError("every dimension must be greater than 0")
        return value


def resolve_terms(kind: str, values: list[str], label: str) -> list[str]:
    resolved: dict[str, None] = {}
    for value in values:
        term_id = taxonomy().resolve(kind, value)
        if term_id is None:
            raise ValueError(f"unknown {label} {value!r} (see GET /api/v1/taxonomy)")
        resolved.setdefault(term_id, None)
    return list(resolved)


class _Capable(BaseModel):
    """Processes and materials, given as ids or aliases and stored as ids."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    processes: list[Code] = Field(default_factory=list, max_length=TERMS_MAX)
    materials: list[Code] = Field(default_factory=list, max_length=TERMS_MAX)

    @field_validator("processes")
    @classmethod
    def _known_processes(cls, value: list[str]) -> list[str]:
        return resolve_terms("processes", value, "process")

    @field_validator("materials")
    @classmethod
    def _known_materials(cls, value: list[str]) -> list[str]:
        return resolve_terms("materials", value, "material")


class EquipmentIn(_Capable):
    type: Code
    name: Localized = Field(default_factory=Localized)
    make: Name | None = None
    model: Name | None = None
    quantity: int | None = Field(None, ge=1, le=100_000)
    specs: Specs = Field(default_factory=Specs)
    notes: Note | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return resolve_terms("equipment_types", [value], "equipment type")[0]

    def all_processes(self) -> list[str]:
        """Declared processes, or else the ones its equipment type performs."""
        return self.processes or list(taxonomy().get("equipment_types", self.type).processes)


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lat: float | None = None
    lon: float | None = None
    precision: Code | None = None
    address: LocalizedAddress = Field(default_factory=LocalizedAddress)
    gu_code: Code | None = None
    dong_code: Code | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Location:
        if (self.lat is None) != (self.lon is None):
            raise FieldError("lat" if self.lat is None else "lon", "latitude and longitude come together")
        if self.lat is not None and self.lon is not None:
            swapped = abs(self.lon) <= 90 and abs(self.lat) <= 180 and (abs(self.lat) > 90 or _looks_swapped(self))
            if swapped:
                raise FieldError("lat", f"latitude {self.lat} and longitude {self.lon} look swapped")
            if not -90 <= self.lat <= 90:
                raise FieldError("lat", f"latitude {self.lat} is outside -90..90")
            if not -180 <= self.lon <= 180:
                raise FieldError("lon", f"longitude {self.lon} is outside -180..180")
        if self.precision is not None and self.precision not in vocabulary.PRECISIONS:
            raise FieldError(
                "precision", f"unknown precision {self.precision!r}; use one of {list(vocabulary.PRECISIONS)}"
            )
        if self.precision in vocabulary.POINT_PRECISIONS and self.lat is None:
            raise FieldError("precision", f"precision {self.precision!r} needs lat and lon")
        return self


def _looks_swapped(location: Location) -> bool:
    """Korea sits at lat 33–39, lon 124–132: a point at lat ~127, lon ~37 was written the wrong way round."""
    return 124 <= (location.lat or 0) <= 132 and 33 <= (location.lon or 0) <= 39


class Provenance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: Note
    source_url: Url | None = None
    license: Code
    retrieved_at: datetime | None = None
    verified_at: datetime | None = None
    verified_by: Name | None = None

    @field_validator("retrieved_at", "verified_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


class NodeIn(_Capable):
    """A production node as it arrives from any import format or the write API."""

    id: Code | None = None
    slug: str | None = Field(None, pattern=r"^[0-9a-z\uac00-\ud7a3][0-9a-z\uac00-\ud7a3-]{0,118}$")
    name: Localized
    description: LocalizedDescription = Field(default_factory=LocalizedDescription)
    node_type: Code
    status: Code = "active"
    access_type: Code | None = None
    batch_size: Code | None = None
    run_sizes: list[Code] = Field(default_factory=list, max_length=len(vocabulary.RUN_SIZES))
    opening_hours: Hours | None = None
    floor_area_sqm: float | None = Field(None, gt=0, le=10_000_000)
    founded: date | None = None
    operator: Name | None = None
    location: Location = Field(default_factory=Location)
    contact: dict[Code, Url] = Field(default_factory=dict, max_length=20)
    links: list[dict[Code, Url]] = Field(default_factory=list, max_length=50)
    external_ids: dict[Scheme, ExternalId] = Field(default_factory=dict, max_length=20)
    equipment: list[EquipmentIn] = Field(default_factory=list, max_length=500)
    provenance: Provenance

    @field_validator("name")
    @classmethod
    def _named(cls, value: Localized) -> Localized:
        if not value.ko and not value.en:
            raise ValueError("a node needs a name (name.ko or name.en)")
        return value

    @field_validator("node_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _one_of(value, vocabulary.NODE_TYPES, "node type")

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        return _one_of(value, vocabulary.STATUSES, "status")

    @field_validator("access_type")
    @classmethod
    def _known_access(cls, value: str | None) -> str | None:
        return None if value is None else _one_of(value, vocabulary.ACCESS_TYPES, "access type")

    @field_validator("batch_size")
    @classmethod
    def _known_batch(cls, value: str | None) -> str | None:
        return None if value is None else _one_of(value, vocabulary.BATCH_SIZES, "batch size band")

    @field_validator("opening_hours")
    @classmethod
    def _hours_syntax(cls, value: str | None) -> str | None:
        return to_osm(value) if value and value.strip() else None

    @field_validator("run_sizes")
    @classmethod
    def _known_runs(cls, value: list[str]) -> list[str]:
        return [_one_of(v, vocabulary.RUN_SIZES, "run size") for v in value]

    def all_processes(self) -> list[str]:
        found: dict[str, None] = dict.fromkeys(self.processes)
        for item in self.equipment:
            found.update(dict.fromkeys(item.all_processes()))
        return list(found)

    def all_materials(self) -> list[str]:
        found: dict[str, None] = dict.fromkeys(self.materials)
        for item in self.equipment:
            found.update(dict.fromkeys(item.materials))
        return list(found)


def _one_of(value: str, allowed: dict, label: str) -> str:
    key = value.strip().casefold().replace(" ", "_").replace("-", "_") if value else value
    for candidate in allowed:
        if candidate.replace("-", "_") == key:
            return candidate
    raise ValueError(f"unknown {label} {value!r}; use one of {', '.join(allowed)}")


def problems_of(error: ValidationError) -> list[FieldError]:
    """Pydantic's errors as (dotted field, plain message) pairs."""
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        context_error = (item.get("ctx") or {}).get("error")
        if isinstance(context_error, FieldError):
            field = ".".join(p for p in (field, context_error.field) if p)
            message = context_error.message
        else:
            message = item["msg"].removeprefix("Value error, ")
        problems.append(FieldError(field or "record", message))
    return problems


def validate_node(data: dict[str, Any]) -> NodeIn:
    """Validate one record, or raise RecordInvalid listing every problem found."""
    try:
        return NodeIn.model_validate(data)
    except ValidationError as error:
        raise RecordInvalid(problems_of(error)) from None
