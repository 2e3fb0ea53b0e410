"""Finding what is free: "a focus booth near 가산디지털단지역 tomorrow 10:00–11:00".

A kind is a booking kind (`focus_booth`, `desk`, `meeting_room` for a room, `production_line`,
`machine`) or an equipment type of the taxonomy (`laser_cutter`, `3d_printer`, …: the machine
resources made from such machines). The place is a point and a radius, a subway station (by its
Korean or English name, with or without 역) and a radius, or a gu. Candidates are read with one
indexed query over the resources of active nodes in the box, nearest first; each is then asked
the same question a booking would be (booking.service.units_free_for_each: rules, exceptions,
holidays, lead time, horizon, buffers, the holds of its family), so search never promises a slot
the booking would refuse. A resource not free then says when it is first free for as long.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, select

from fabcity.booking.service import earliest_free, units_free_for_each
from fabcity.directory.taxonomy import taxonomy
from fabcity.errors import ParameterError
from fabcity.geo.cells import METRES_PER_DEGREE_LAT, distance_m, metres_per_degree_lon
from fabcity.platform import Platform
from fabcity.storage.schema import booking_resource, node

# The kinds people say, as the booking kinds they are stored as.
BOOKING_KINDS = {
    "focus_booth": "focus_booth",
    "desk": "desk",
    "meeting_room": "room",
    "room": "room",
    "production_line": "production_line",
    "machine": "machine",
}
DEFAULT_RADIUS_M = 3_000
MAX_RADIUS_M = 50_000
MAX_PERIOD = timedelta(days=14)
# How far past `from` a resource not free then is searched for its earliest free period.
EARLIEST_WITHIN = timedelta(days=14)
# Resources examined, nearest first: each costs a few indexed reads.
CANDIDATES = 200
DEFAULT_LIMIT = 20
# Candidates checked together (their rules, exceptions, holds read at once), and the "free later" shown.
BATCH = 25
LATER = 5
# Columns a search never reads: the policy is JSON, decoded for every candidate were it read.
_UNREAD = ("cancellation_policy",)
_POINT = re.compile(r"\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*")


@dataclass(frozen=True)
class Place:
    """Where to look: around a point within `radius_m`, or anywhere in a gu (`gu_code`; the point is its centre)."""

    lat: float
    lon: float
    radius_m: float
    gu_code: str | None = None
    name: dict[str, str | None] | None = None


def kind_condition(kind: str) -> ColumnElement[bool]:
    """The resources of a kind: a booking kind, or the machines of an equipment type."""
    text = kind.strip()
    if text in BOOKING_KINDS:
        return booking_resource.c.kind == BOOKING_KINDS[text]
    equipment_type = taxonomy().resolve("equipment_types", text) if text else None
    if equipment_type is None:
        kinds = ", ".join(BOOKING_KINDS)
        raise ParameterError("kind", f"not a kind: one of {kinds}, or an equipment type such as laser_cutter")
    return and_(booking_resource.c.kind == "machine", booking_resource.c.equipment_type == equipment_type)


def place_of(
    platform: Platform, near: str | None, station: str | None, gu: str | None, radius_m: float | None
) -> Place:
    """The one place a query names (near, station or gu), else a 422 naming the parameter."""
    given = [name for name, value in (("near", near), ("station", station), ("gu", gu)) if value]
    if len(given) != 1:
        raise ParameterError("near", "give exactly one of near (lat,lon), station or gu")
    radius = DEFAULT_RADIUS_M if radius_m is None else radius_m
    if not 0 < radius <= MAX_RADIUS_M:
        raise ParameterError("radius", f"between 1 and {MAX_RADIUS_M} metres")
    if near:
        match = _POINT.fullmatch(near)
        if match is None or not (-90 <= float(match[1]) <= 90 and -180 <= float(match[2]) <= 180):
            raise ParameterError("near", "a point as lat,lon, e.g. 37.4810,126.8826")
        return Place(float(match[1]), float(match[2]), radius)
    if station:
        name = station.strip().removesuffix("역").strip()  # 가산디지털단지역, but 서울역 is a station's own name
        stations = platform.stations
        found = stations.exact(station) or stations.exact(name) or (stations.named(name, limit=1) if name else [])
        if not found:
            raise ParameterError("station", "no subway station is called that")
        stop = found[0]
        return Place(stop.lat, stop.lon, radius, name={"ko": stop.name_ko, "en": stop.name_en})
    districts = platform.districts.resolve(gu or "", level="gu")
    if len(districts) != 1:
        raise ParameterError("gu", "not one gu of Seoul: a name (금천구, Geumcheon-gu) or its code")
    district = districts[0]
    return Place(
        district.center_lat,
        district.center_lon,
        math.inf,
        district.code,
        {"ko": district.name_ko, "en": district.name_en},
    )


def _candidates(conn: Connection, kind: ColumnElement[bool], place: Place) -> list[tuple[float, Row]]:
    """The live resources of the kind at active nodes in the place, nearest first, with their distances."""
    query = (
        select(
            *(column for column in booking_resource.c if column.name not in _UNREAD),
            node.c.id.label("node_id"),
            node.c.slug.label("node_slug"),
            node.c.name_ko.label("node_name_ko"),
            node.c.name_en.label("node_name_en"),
            node.c.lat.label("node_lat"),
            node.c.lon.label("node_lon"),
        )
        .join(node, node.c.pk == booking_resource.c.node_pk)
        .where(kind, booking_resource.c.retired_at.is_(None), node.c.status == "active")
    )
    if place.gu_code is not None:
        query = query.where(node.c.gu_code == place.gu_code)
    else:
        dlat = place.radius_m / METRES_PER_DEGREE_LAT
        dlon = place.radius_m / metres_per_degree_lon(place.lat)
        query = query.where(
            node.c.lat.between(place.lat - dlat, place.lat + dlat),
            node.c.lon.between(place.lon - dlon, place.lon + dlon),
        )
    found = []
    for row in conn.execute(query):
        distance = math.inf if row.node_lat is None else distance_m(place.lat, place.lon, row.node_lat, row.node_lon)
        if place.gu_code is not None or distance <= place.radius_m:
            found.append((distance, row))
    found.sort(key=lambda item: (item[0], item[1].id))
    return found[:CANDIDATES]


def _public(row: Row, distance: float) -> dict[str, Any]:
    return {
        "resource": {
            "id": row.id,
            "kind": row.kind,
            "equipment_type": row.equipment_type,
            "name": {"ko": row.name_ko, "en": row.name_en},
        },
        "node": {
            "id": row.node_id,
            "slug": row.node_slug,
            "name": {"ko": row.node_name_ko, "en": row.node_name_en},
            "location": {"lat": row.node_lat, "lon": row.node_lon},
        },
        "distance_m": None if math.isinf(distance) else round(distance),
    }


def _period(period: tuple[datetime, datetime] | None) -> dict[str, datetime] | None:
    return None if period is None else {"starts_at": period[0], "ends_at": period[1]}


def find_free(
    platform: Platform,
    kind: str,
    place: Place,
    start: datetime,
    end: datetime,
    limit: int = DEFAULT_LIMIT,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The resources of a kind in a place free for all of [start, end), nearest first; and, for those
    that are not (the nearest LATER of them), the earliest period as long from `start` on (`later`)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise ParameterError("to", "must be after from")
    if end - start > MAX_PERIOD:
        raise ParameterError("to", f"at most {MAX_PERIOD.days} days after from")
    condition = kind_condition(kind)
    now = (at or datetime.now(UTC)).astimezone(UTC)
    free: list[dict[str, Any]] = []
    later: list[dict[str, Any]] = []
    with platform.engine.connect() as conn:
        candidates = _candidates(conn, condition, place)
        for offset in range(0, len(candidates), BATCH):
            batch = candidates[offset : offset + BATCH]
            units = units_free_for_each(conn, [row for _, row in batch], start, end, now)
            for distance, row in batch:
                if len(free) >= limit:
                    break
                if units[row.id]:
                    free.append(
                        {**_public(row, distance), "free_units": len(units[row.id]), "period": _period((start, end))}
                    )
                elif len(later) < LATER:
                    first = earliest_free(conn, row, end - start, start, start + EARLIEST_WITHIN, now)
                    later.append({**_public(row, distance), "free_units": 0, "period": _period(first)})
            if len(free) >= limit:
                break
    return {
        "kind": kind,
        "place": {"lat": place.lat, "lon": place.lon, "name": place.name, "gu": place.gu_code},
        "from": start,
        "to": end,
        "results": free,
        "later": later,
    }


def earliest_for_equipment(
    platform: Platform, node_ids: list[str], equipment_types: list[str], length: timedelta, at: datetime | None = None
) -> dict[str, tuple[datetime, datetime] | None]:
    """For each node (by id): the earliest free period of `length` from now of its machines of these types;
    a node with no such bookable machine is absent, one whose machines are full for EARLIEST_WITHIN maps to None."""
    now = (at or datetime.now(UTC)).astimezone(UTC)
    if not node_ids or not equipment_types:
        return {}
    query = select(booking_resource, node.c.id.label("node_id")).join(node, node.c.pk == booking_resource.c.node_pk)
    query = query.where(
        node.c.id.in_(node_ids),
        booking_resource.c.kind == "machine",
        booking_resource.c.equipment_type.in_(equipment_types),
        booking_resource.c.retired_at.is_(None),
    )
    earliest: dict[int, tuple[datetime, datetime] | None] = {}
    with platform.engine.connect() as conn:
        for row in conn.execute(query.order_by(booking_resource.c.id)).all():
            first = earliest_free(conn, row, length, now, now + EARLIEST_WITHIN, now)
            known = earliest.get(row.node_id)
            if first is not None and (known is None or first < known):
                earliest[row.node_id] = first
            else:
                earliest.setdefault(row.node_id, None)
    return earliest
