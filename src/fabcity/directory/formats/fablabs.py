"""fablabs.io `GET /api/labs` JSON: one array of labs with six capability flags.

A lab's `activity_start_at` (else `activity_inaugurated_at`) is kept as the day it opened
(`founded`): the activation trend counts a place from then, not from the day it was imported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fabcity.directory.formats.common import (
    FileProblem,
    ImportRejected,
    Located,
    array_lines,
    parse_json,
    read_text,
    stated,
)

SOURCE = "fablabs.io (The Fab Foundation), /api/labs"
LICENSE = "fablabs.io terms (no open licence stated)"
_STATUS = {"active": "active", "planned": "planned", "corona": "temporary_closure", "closed": "closed"}


def read(path: Path, encoding: str | None = None) -> list[Located]:
    text = read_text(path, encoding=encoding)
    data = parse_json(path, text)
    if not isinstance(data, list):
        raise ImportRejected(path, [FileProblem("file", "", "expected a JSON array of labs")])
    lines = array_lines(text)
    located = []
    for number, (lab, line) in enumerate(zip(data, lines, strict=False), start=1):
        where = f"lab {number} (line {line})"
        if not isinstance(lab, dict):
            raise ImportRejected(path, [FileProblem(where, "", "expected an object")])
        country, city = stated("country_code", lab.get("country_code")), stated("city", lab.get("city"))
        located.append(Located(where, record_from_lab(lab), country, city))
    return located


def record_from_lab(lab: dict[str, Any]) -> dict[str, Any]:
    address = ", ".join(
        str(lab[key]).strip()
        for key in ("address_1", "address_2", "city", "county", "postal_code", "country_code")
        if lab.get(key) and str(lab[key]).strip()
    )
    status = lab.get("activity_status")
    contact = {key: str(lab[key]) for key in ("email", "phone") if lab.get(key)}
    links = [
        {"rel": "website", "url": link["url"]}
        for link in lab.get("links") or []
        if isinstance(link, dict) and link.get("url")
    ]
    if lab.get("slug"):
        links.insert(0, {"rel": "fablabs_io", "url": f"https://www.fablabs.io/labs/{lab['slug']}"})
    opened = lab.get("activity_start_at") or lab.get("activity_inaugurated_at")
    return {
        **({"founded": str(opened)[:10]} if opened else {}),  # a file without the date erases none
        "name": (lab.get("name") or "").strip(),
        "description": {"en": (lab.get("description") or lab.get("blurb") or "").strip() or None},
        "node_type": "fab_lab",
        "status": _STATUS.get(status, status) if status else "active",
        "location": {"lat": lab.get("latitude"), "lon": lab.get("longitude"), "address": {"en": address or None}},
        "contact": contact,
        "links": links,
        "processes": [f"fablabs:{flag}" for flag in lab.get("capabilities") or []],
        "external_ids": {"fablabs_io": str(lab["slug"])} if lab.get("slug") else {},
        "provenance": {
            "source": SOURCE,
            "source_url": f"https://www.fablabs.io/labs/{lab['slug']}" if lab.get("slug") else None,
            "license": LICENSE,
        },
    }
