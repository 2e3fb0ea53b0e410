"""What a citizen or a venture needs made, as the matcher reads it.

A need comes either structured (the API, a corrected form) or as free text, which parse.py turns
into this same model and a list of what it understood, so a person can see and correct it.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fabcity.directory import vocabulary
from fabcity.directory.models import TERMS_MAX, Code, Name, resolve_terms


def size_text(sides: list[float], separator: str = "×") -> str:
    """A part size as people write it: 300×200 (the form uses x, which anyone can type)."""
    return separator.join(f"{side:g}" for side in sides)


class Place(BaseModel):
    """Where the need is: a point, and what it was named after (a gu, a dong, a station)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    label: Name | None = None
    precision: Code = "exact"

    @field_validator("precision")
    @classmethod
    def _known_precision(cls, value: str) -> str:
        if value not in vocabulary.PRECISIONS:
            raise ValueError(f"unknown precision {value!r}; use one of {', '.join(vocabulary.PRECISIONS)}")
        return value


class Need(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    processes: list[Code] = Field(
        default_factory=list, max_length=TERMS_MAX, description="process ids or aliases (레이저커팅, sewing)"
    )
    materials: list[Code] = Field(
        default_factory=list, max_length=TERMS_MAX, description="material ids or aliases (아크릴, fabric)"
    )
    quantity: int | None = Field(None, ge=1, le=10_000_000, description="units to make")
    part_size_mm: list[float] | None = Field(
        None, min_length=2, max_length=3, description="the part's size, to fit a machine's bed or build volume"
    )
    place: Place | None = None
    max_distance_m: float | None = Field(None, gt=0, le=200_000)
    needed_by: date | None = None
    budget_krw: int | None = Field(None, ge=0)
    access: list[Code] = Field(
        default_factory=list, max_length=10, description="access the person has, e.g. public, membership"
    )

    @field_validator("processes")
    @classmethod
    def _processes(cls, value: list[str]) -> list[str]:
        return resolve_terms("processes", value, "process")

    @field_validator("materials")
    @classmethod
    def _materials(cls, value: list[str]) -> list[str]:
        return resolve_terms("materials", value, "material")

    @field_validator("part_size_mm")
    @classmethod
    def _positive(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(side <= 0 for side in value):
            raise ValueError("every side of the part must be more than 0 mm")
        return value

    @field_validator("access")
    @classmethod
    def _access(cls, value: list[str]) -> list[str]:
        for item in value:
            if item not in vocabulary.ACCESS_TYPES:
                raise ValueError(f"unknown access {item!r}; use one of {', '.join(vocabulary.ACCESS_TYPES)}")
        return value
