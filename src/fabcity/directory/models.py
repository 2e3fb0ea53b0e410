"""The node and equipment records every import format is turned into, validated once, here.

Field names follow Open Know-Where in snake_case. Validation resolves taxonomy aliases to ids, so
that a record saying "레이저 가공" is stored as `laser_cutting`, and rejects what cannot be stored
honestly (coordinates out of range or swapped, unknown types, a record without a name).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fabcity.directory import vocabulary
from fabcity.directory.hours import to_osm
from fabcity.directory.taxonomy import taxonomy
from fabcity.errors import FieldError, RecordInvalid

_HANGUL = re.compile(r"[\uac00-\ud7a3]")


class Localized(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ko: str | None = None
    en: str | None = None

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


class Specs(BaseModel):
    """Typed machine specs, named after OKW equipment sub-properties."""

    model_config = ConfigDict(extra="forbid")
    bed_size_mm: list[float] | None = Field(None, min_length=2, max_length=2)
    build_volume_mm: list[float] | None = Field(None, min_length=3, max_length=3)
    working_area_mm: list[float] | None = Field(None, min_length=2, max_length=2)
    x_travel_mm: float | None = Field(None, gt=0)
    y_travel_mm: float | None = Field(None, gt=0)
    z_travel_mm: float | None = Field(None, gt=0)
    laser_power_w: float | None = Field(None, gt=0)
    laser_type: str | None = None
    axes: int | None = Field(None, ge=1, le=9)
    max_spindle_speed_rpm: float | None = Field(None, gt=0)
    layer_resolution_mm: float | None = Field(None, gt=0)
    nozzle_size_mm: float | None = Field(None, gt=0)
    technology: str | None = None
    tolerance_class: str | None = None

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

    model_config = ConfigDict(extra="forbid")
    processes: list[str] = Field(default_factory=list)
    materials: list[str] = Field(default_factory=list)

    @field_validator("processes")
    @classmethod
    def _known_processes(cls, value: list[str]) -> list[str]:
        return resolve_terms("processes", value, "process")

    @field_validator("materials")
    @classmethod
    def _known_materials(cls, value: list[str]) -> list[str]:
        return resolve_terms("materials", value, "material")


class EquipmentIn(_Capable):
    type: str
    name: Localized = Field(default_factory=Localized)
    make: str | None = None
    model: str | None = None
    quantity: int | None = Field(None, ge=1)
    specs: Specs = Field(default_factory=Specs)
    notes: str | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return resolve_terms("equipment_types", [value], "equipment type")[0]

    def all_processes(self) -> list[str]:
        """Declared processes, or else the ones its equipment type performs."""
        return self.processes or list(taxonomy().get("equipment_types", self.type).processes)


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float | None = None
    lon: float | None = None
    precision: str | None = None
    address: Localized = Field(default_factory=Localized)
    gu_code: str | None = None
    dong_code: str | None = None

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
    source: str
    source_url: str | None = None
    license: str
    retrieved_at: datetime | None = None
    verified_at: datetime | None = None
    verified_by: str | None = None

    @field_validator("retrieved_at", "verified_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


class NodeIn(_Capable):
    """A production node as it arrives from any import format or the write API."""

    id: str | None = None
    slug: str | None = Field(None, pattern=r"^[0-9a-z\uac00-\ud7a3][0-9a-z\uac00-\ud7a3-]{0,118}$")
    name: Localized
    description: Localized = Field(default_factory=Localized)
    node_type: str
    status: str = "active"
    access_type: str | None = None
    batch_size: str | None = None
    run_sizes: list[str] = Field(default_factory=list)
    opening_hours: str | None = None
    floor_area_sqm: float | None = Field(None, gt=0)
    founded: date | None = None
    operator: str | None = None
    location: Location = Field(default_factory=Location)
    contact: dict[str, str] = Field(default_factory=dict)
    links: list[dict[str, str]] = Field(default_factory=list)
    external_ids: dict[str, str] = Field(default_factory=dict)
    equipment: list[EquipmentIn] = Field(default_factory=list)
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
