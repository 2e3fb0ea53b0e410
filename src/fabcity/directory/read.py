"""Stored nodes as public records: the shape the API returns and every export format starts from.

A public record is a NodeIn plus fields derived on write (district names, nearest station,
capabilities). `importable()` strips those again, so export → import gives back the same nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from fabcity.directory.taxonomy import taxonomy
from fabcity.geo.districts import DistrictIndex
from fabcity.geo.stations import StationIndex
from fabcity.storage.schema import equipment, node, node_external_id

OUTPUT_ONLY = ("created_at", "updated_at", "nearest_station", "capabilities", "distance_m", "relevance")
LOCATION_OUTPUT_ONLY = ("gu", "dong")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _district(districts: DistrictIndex, code: str | None) -> dict | None:
    if not code:
        return None
    found = districts.by_code[code]
    return {"code": found.code, "name": {"ko": found.name_ko, "en": found.name_en}}


def public_nodes(
    conn: Connection, pks: Sequence[int], districts: DistrictIndex, stations: StationIndex
) -> list[dict[str, Any]]:
    """Public records for these node pks, in the order given."""
    if not pks:
        return []
    rows = {r["pk"]: r for r in conn.execute(select(node).where(node.c.pk.in_(pks))).mappings()}
    machines: dict[int, list[dict]] = {}
    query = select(equipment).where(equipment.c.node_pk.in_(pks)).order_by(equipment.c.node_pk, equipment.c.position)
    for row in conn.execute(query).mappings():
        machines.setdefault(row["node_pk"], []).append(
            {
                "type": row["type"],
                "name": {"ko": row["name_ko"], "en": row["name_en"]},
                "make": row["make"],
                "model": row["model"],
                "quantity": row["quantity"],
                "specs": row["specs"],
                "processes": row["processes"],
                "materials": row["materials"],
                "notes": row["notes"],
            }
        )
    external: dict[int, dict[str, str]] = {}
    for row in conn.execute(select(node_external_id).where(node_external_id.c.node_pk.in_(pks))):
        external.setdefault(row.node_pk, {})[row.scheme] = row.value
    return [
        _public(rows[pk], machines.get(pk, []), external.get(pk, {}), districts, stations) for pk in pks if pk in rows
    ]


SUMMARY_COLUMNS = (
    node.c.pk,
    node.c.id,
    node.c.slug,
    node.c.name_ko,
    node.c.name_en,
    node.c.node_type,
    node.c.status,
    node.c.access_type,
    node.c.lat,
    node.c.lon,
    node.c.precision,
    node.c.gu_code,
    node.c.dong_code,
    node.c.station_id,
    node.c.station_distance_m,
)


def summary_nodes(conn: Connection, pks: Sequence[int], stations: StationIndex) -> list[dict[str, Any]]:
    """Just enough to draw and list a node on a map: one indexed read, no JSON columns."""
    if not pks:
        return []
    rows = {r.pk: r for r in conn.execute(select(*SUMMARY_COLUMNS).where(node.c.pk.in_(pks)))}
    results = []
    for pk in pks:
        row = rows[pk]
        station = stations.by_id.get(row.station_id) if row.station_id else None
        results.append(
            {
                "id": row.id,
                "slug": row.slug,
                "name": {"ko": row.name_ko, "en": row.name_en},
                "node_type": row.node_type,
                "status": row.status,
                "access_type": row.access_type,
                "location": {
                    "lat": row.lat,
                    "lon": row.lon,
                    "precision": row.precision,
                    "gu_code": row.gu_code,
                    "dong_code": row.dong_code,
                },
                "nearest_station": (
                    {
                        "id": station.id,
                        "name": {"ko": station.name_ko, "en": station.name_en},
                        "distance_m": round(row.station_distance_m),
                    }
                    if station
                    else None
                ),
            }
        )
    return results


def _public(row, machines, external, districts: DistrictIndex, stations: StationIndex) -> dict[str, Any]:
    processes = list(dict.fromkeys(row["processes"] + [p for m in machines for p in _machine_processes(m)]))
    materials = list(dict.fromkeys(row["materials"] + [x for m in machines for x in m["materials"]]))
    station = stations.by_id.get(row["station_id"]) if row["station_id"] else None
    return {
        "id": row["id"],
        "slug": row["slug"],
        "name": {"ko": row["name_ko"], "en": row["name_en"]},
        "description": {"ko": row["description_ko"], "en": row["description_en"]},
        "node_type": row["node_type"],
        "status": row["status"],
        "access_type": row["access_type"],
        "batch_size": row["batch_size"],
        "run_sizes": row["run_sizes"],
        "opening_hours": row["opening_hours"],
        "floor_area_sqm": row["floor_area_sqm"],
        "founded": row["founded"],
        "operator": row["operator"],
        "location": {
            "lat": row["lat"],
            "lon": row["lon"],
            "precision": row["precision"],
            "address": {"ko": row["address_ko"], "en": row["address_en"]},
            "gu_code": row["gu_code"],
            "dong_code": row["dong_code"],
            "gu": _district(districts, row["gu_code"]),
            "dong": _district(districts, row["dong_code"]),
        },
        "contact": row["contact"],
        "links": row["links"],
        "external_ids": external,
        "processes": row["processes"],
        "materials": row["materials"],
        "equipment": machines,
        "capabilities": {"processes": processes, "materials": materials},
        "provenance": {
            "source": row["source"],
            "source_url": row["source_url"],
            "license": row["license"],
            "retrieved_at": _iso(row["retrieved_at"]),
            "verified_at": _iso(row["verified_at"]),
            "verified_by": row["verified_by"],
        },
        "nearest_station": station.public(row["station_distance_m"]) if station else None,
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def _machine_processes(machine: dict) -> list[str]:
    return machine["processes"] or list(taxonomy().get("equipment_types", machine["type"]).processes)


def importable(public: dict[str, Any]) -> dict[str, Any]:
    """A public record reduced to what NodeIn accepts (derived fields dropped)."""
    record = {key: value for key, value in public.items() if key not in OUTPUT_ONLY}
    if isinstance(record.get("location"), dict):
        record["location"] = {k: v for k, v in record["location"].items() if k not in LOCATION_OUTPUT_ONLY}
    if isinstance(record.get("equipment"), list):
        record["equipment"] = [
            {key: value for key, value in machine.items() if value not in (None, {}, [])}
            if isinstance(machine, dict)
            else machine
            for machine in record["equipment"]
        ]
    return record
