"""Stored nodes as public records: the shape the API returns and every export format starts from.

A public record is a NodeIn plus fields derived on write (district names, nearest station,
capabilities). The writer renders it once per write into node_record, full and as a map-marker
summary, so a read is one indexed lookup of ready JSON that the API sends without re-encoding.
`importable()` strips the derived fields again, so export → import gives back the same nodes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, LargeBinary, Select, cast, func, select

from fabcity.directory.taxonomy import taxonomy
from fabcity.geo.districts import DistrictIndex
from fabcity.geo.stations import StationIndex
from fabcity.storage.listparam import in_list
from fabcity.storage.schema import equipment, node, node_external_id, node_record

OUTPUT_ONLY = ("created_at", "updated_at", "nearest_station", "capabilities", "distance_m", "relevance")
LOCATION_OUTPUT_ONLY = ("gu", "dong")


def _iso(value: datetime | None) -> str | None:
    """A stored instant as ISO 8601 in UTC with its `Z`: stored in UTC, though SQLite hands it back without a zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _district(districts: DistrictIndex, code: str | None) -> dict | None:
    if not code:
        return None
    found = districts.by_code[code]
    return {"code": found.code, "name": {"ko": found.name_ko, "en": found.name_en}}


def render_records(
    conn: Connection, pks: Sequence[int], districts: DistrictIndex, stations: StationIndex
) -> dict[int, dict[str, Any]]:
    """Public records built from the stored rows of these nodes (the writer stores them as JSON)."""
    if not pks:
        return {}
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
    return {
        pk: _public(row, machines.get(pk, []), external.get(pk, {}), districts, stations) for pk, row in rows.items()
    }


def summary_of(record: dict[str, Any]) -> dict[str, Any]:
    """Just enough to draw and list a node on a map."""
    location = record["location"]
    station = record["nearest_station"]
    return {
        "id": record["id"],
        "slug": record["slug"],
        "name": record["name"],
        "node_type": record["node_type"],
        "status": record["status"],
        "access_type": record["access_type"],
        "location": {key: location[key] for key in ("lat", "lon", "precision", "gu_code", "dong_code")},
        "nearest_station": (
            {"id": station["id"], "name": station["name"], "distance_m": station["distance_m"]} if station else None
        ),
    }


def to_json(value: Any) -> str:
    """The compact JSON every stored record and API answer uses."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def record_texts(conn: Connection, pks: Sequence[int], fields: str = "full") -> list[bytes]:
    """The stored JSON records (full or summary) of these nodes, in the order given: one indexed read.

    As UTF-8 bytes, straight from the database: the API joins them into its answer, and decoding
    then encoding again the 600 KB of a 500-node viewport took longer than finding the nodes.
    """
    if not pks:
        return []
    found = dict(conn.execute(_records_statement(conn.dialect.name, fields), {"pks": list(pks)}).all())
    return [found[pk] for pk in pks if pk in found]


@cache
def _records_statement(dialect: str, fields: str) -> Select:
    column = node_record.c.record if fields == "full" else node_record.c.summary
    # PostgreSQL's text-to-bytea cast would read backslashes as escapes; convert_to only encodes
    utf8 = cast(column, LargeBinary) if dialect == "sqlite" else func.convert_to(column, "UTF8", type_=LargeBinary)
    return select(node_record.c.node_pk, utf8).where(in_list(dialect, node_record.c.node_pk, "pks"))


def public_nodes(conn: Connection, pks: Sequence[int]) -> list[dict[str, Any]]:
    """Public records for these node pks, in the order given."""
    return [json.loads(text) for text in record_texts(conn, pks)]


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
