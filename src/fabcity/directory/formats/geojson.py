"""GeoJSON (RFC 7946): a FeatureCollection of Points at [lon, lat]; a node without a point has
geometry null. Properties are the public node record, or flat columns as in CSV.

When the properties state a point too (`location.lat`/`lon`, or columns such as latitude and
longitude), the geometry must hold the same point: files that write their points [lat, lon] are
caught here, feature by feature, instead of being stored on the other side of the world."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fabcity.directory.formats.common import FileProblem, ImportRejected, Located, parse_json, read_text
from fabcity.directory.formats.flat import record_from_columns
from fabcity.directory.read import importable
from fabcity.errors import FieldError

# How far apart (degrees) the geometry and the properties may put a point: rounding, not a mistake.
_SAME_POINT = 1e-6


def read(path: Path, encoding: str | None = None) -> list[Located]:
    data = parse_json(path, read_text(path, encoding=encoding))
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise ImportRejected(path, [FileProblem("file", "type", "expected a GeoJSON FeatureCollection")])
    located = []
    problems = []
    for number, feature in enumerate(data["features"], start=1):
        where = f"feature {number}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(FileProblem(where, "type", "expected a Feature"))
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            problems.append(FileProblem(where, "properties", "expected an object"))
            continue
        try:
            full = isinstance(properties.get("name"), dict)
            record = importable(properties) if full else record_from_columns(properties)
        except FieldError as problem:
            problems.append(FileProblem(where, problem.field, problem.message))
            continue
        geometry = feature.get("geometry")
        if geometry is not None:
            coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
            if not isinstance(coordinates, list) or geometry.get("type") != "Point" or len(coordinates) < 2:
                problems.append(FileProblem(where, "geometry", "expected a Point [lon, lat] or null"))
                continue
            location = record.setdefault("location", {})
            if not isinstance(location, dict):
                problems.append(FileProblem(where, "location", "expected an object"))
                continue
            disagreement = _disagreement(coordinates[:2], location.get("lat"), location.get("lon"))
            if disagreement:
                problems.append(FileProblem(where, "geometry", disagreement))
                continue
            location["lon"], location["lat"] = coordinates[0], coordinates[1]
        located.append(Located(where, record))
    if problems:
        raise ImportRejected(path, problems)
    return located


def _disagreement(coordinates: list[Any], lat: Any, lon: Any) -> str | None:
    """What is wrong when the properties state a point the geometry does not hold (None: nothing)."""
    values = [*coordinates, lat, lon]
    if not all(isinstance(value, int | float) and not isinstance(value, bool) for value in values):
        return None  # no point in the properties, or a value validation will name
    x, y = coordinates

    def same(first: float, second: float) -> bool:
        return abs(first - second) <= _SAME_POINT

    if same(x, lon) and same(y, lat):
        return None
    point = f"[{x}, {y}]"
    if same(x, lat) and same(y, lon):
        return (
            f"the point {point} is written [latitude, longitude]: GeoJSON points are [longitude, latitude]"
            f" (the properties say latitude {lat}, longitude {lon})"
        )
    return f"the point {point} disagrees with the properties, which say latitude {lat}, longitude {lon}"


def feature(record: dict[str, Any]) -> dict[str, Any]:
    location = record.get("location") or {}
    point = None
    if location.get("lat") is not None:
        point = {"type": "Point", "coordinates": [location["lon"], location["lat"]]}
    return {"type": "Feature", "id": record.get("id"), "geometry": point, "properties": record}


def feature_collection(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [feature(r) for r in records]}
