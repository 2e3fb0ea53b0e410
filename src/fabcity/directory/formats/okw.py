"""Open Know-Where facility lists in the Internet of Production Alliance's nested shape
(geocoding / address / region / location / facility, as in its 2024 fablabs.io list).

On export the same shape carries every node field: OKW's own names (facilityStatus, accessType,
typicalBatchSize, manufacturingProcesses, typicalMaterials, equipment, openingHours, …) sit in
`facility`, fabcity's in `facility.fabcity`, so the file stays readable by OKW tools and
re-imports whole.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fabcity.directory.formats.common import (
    FileProblem,
    ImportRejected,
    Located,
    array_lines,
    fablabs_slug,
    parse_json,
    read_text,
    stated,
)
from fabcity.directory.read import importable

IOPA_SOURCE = "Internet of Production Alliance, Open Know-Where facility list (from fablabs.io), 2024"
IOPA_LICENSE = "CC-BY-SA-4.0"
_STATUS_OUT = {"active": "Active", "planned": "Planned", "temporary_closure": "Temporary Closure", "closed": "Closed"}
_ACCESS_OUT = {
    "restricted": "Restricted",
    "restricted_with_public_hours": "Restricted with public hours",
    "shared_space": "Shared space",
    "public": "Public",
    "membership": "Membership",
}
_NAMESPACE = uuid.UUID("6f1c2a52-5a8e-4d1e-9a57-1c3a0b0f5e11")


def read(path: Path, encoding: str | None = None) -> list[Located]:
    text = read_text(path, encoding=encoding)
    data = parse_json(path, text)
    if not isinstance(data, list):
        raise ImportRejected(path, [FileProblem("file", "", "expected a JSON array of OKW facilities")])
    lines = array_lines(text)
    located = []
    problems = []
    for number, (record, line) in enumerate(zip(data, lines, strict=False), start=1):
        where = f"record {number} (line {line})"
        if not isinstance(record, dict) or not isinstance(record.get("facility"), dict):
            problems.append(FileProblem(where, "facility", "missing the facility object"))
            continue
        region = record.get("region") if isinstance(record.get("region"), dict) else {}
        country = stated("region.country", region.get("country"))
        located.append(
            Located(where, record_from_okw(record), country, stated("region.city_town", region.get("city_town")))
        )
    if problems:
        raise ImportRejected(path, problems)
    return located


def record_from_okw(record: dict[str, Any]) -> dict[str, Any]:
    facility = record["facility"]
    extension = facility.get("fabcity")
    if isinstance(extension, dict):
        return importable(extension)
    geocoding = record.get("geocoding") or {}
    address = record.get("address") or {}
    region = record.get("region") or {}
    parts = [
        address.get("extended"),
        region.get("city_town"),
        region.get("state_region"),
        address.get("zip_code"),
        region.get("country"),
    ]
    address_text = ", ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    slug = fablabs_slug(facility.get("url"))
    external = {"okw": str(facility["facility_id"])} if facility.get("facility_id") else {}
    if slug:
        external["fablabs_io"] = slug
    description = (facility.get("description") or "").strip()
    return {
        # OKW's opening day, which the activation trend counts from; a file without it erases none
        **({"founded": facility["dateFounded"]} if facility.get("dateFounded") else {}),
        "name": (facility.get("name") or "").strip(),
        "description": {"en": description} if description and description != "fablab" else {},
        "node_type": "fab_lab" if description == "fablab" else facility.get("node_type", "other"),
        "status": "active",
        "location": {
            "lat": geocoding.get("latitude"),
            "lon": geocoding.get("longitude"),
            "address": {"en": address_text or None},
        },
        "links": [{"rel": "fablabs_io", "url": facility["url"]}] if facility.get("url") else [],
        "external_ids": external,
        "provenance": {"source": IOPA_SOURCE, "source_url": facility.get("url"), "license": IOPA_LICENSE},
    }


def facility_of(public: dict[str, Any]) -> dict[str, Any]:
    """One node in the IoPA nested shape, with OKW fields and the full fabcity record."""
    location = public["location"]
    ids = {
        key: str(uuid.uuid5(_NAMESPACE, f"{key}:{public['id']}"))
        for key in ("geocoding", "address", "region", "location")
    }
    geocoding = None
    if location["lat"] is not None:
        geocoding = {"latitude": location["lat"], "longitude": location["lon"], "geocoding_id": ids["geocoding"]}
    district = location.get("gu") or {}
    return {
        "geocoding": geocoding,
        "address": {
            "zip_code": None,
            "extended": location["address"]["en"] or location["address"]["ko"],
            "address_id": ids["address"],
        },
        "region": {
            "country": "KR" if location.get("gu_code") else None,
            "state_region": (district.get("name") or {}).get("en"),
            "city_town": "Seoul" if location.get("gu_code") else None,
            "region_id": ids["region"],
        },
        "location": {
            "geocoding_id": ids["geocoding"] if geocoding else None,
            "address_id": ids["address"],
            "region_id": ids["region"],
            "location_id": ids["location"],
        },
        "facility": {
            "name": public["name"]["en"] or public["name"]["ko"],
            "url": next((link["url"] for link in public["links"] if link.get("rel") == "fablabs_io"), None),
            "description": public["description"]["en"] or public["description"]["ko"],
            "facility_id": public["external_ids"].get("okw", public["id"]),
            "location_id": ids["location"],
            "facilityStatus": _STATUS_OUT[public["status"]],
            "accessType": _ACCESS_OUT.get(public["access_type"] or ""),
            "typicalBatchSize": public["batch_size"],
            "openingHours": public["opening_hours"],
            "size": public["floor_area_sqm"],
            "dateFounded": public["founded"],
            "manufacturingProcesses": public["capabilities"]["processes"],
            "typicalMaterials": public["capabilities"]["materials"],
            "equipment": [
                {
                    "equipmentType": m["type"],
                    "make": m["make"],
                    "model": m["model"],
                    "quantity": m["quantity"],
                    **m["specs"],
                }
                for m in public["equipment"]
            ],
            "dateVerified": public["provenance"]["verified_at"],
            "verifiedBy": public["provenance"]["verified_by"],
            "fabcity": importable(public),
        },
    }
