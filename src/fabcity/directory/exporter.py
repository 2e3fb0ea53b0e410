"""Exporting every node (all statuses) as GeoJSON, CSV (UTF-8 with BOM) or OKW JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

from sqlalchemy import select

from fabcity.directory.formats import csvfile, geojson, okw
from fabcity.directory.read import public_nodes
from fabcity.platform import Platform
from fabcity.storage.schema import node

EXPORT_FORMATS = ("geojson", "csv", "okw")
_BATCH = 1000


def all_records(platform: Platform) -> Iterator[dict[str, Any]]:
    with platform.engine.connect() as conn:
        pks = list(conn.execute(select(node.c.pk).order_by(node.c.pk)).scalars())
        for start in range(0, len(pks), _BATCH):
            yield from public_nodes(conn, pks[start : start + _BATCH])


def export(platform: Platform, file_format: str, handle: TextIO) -> int:
    records = list(all_records(platform))
    if file_format == "csv":
        csvfile.write(records, handle)
    elif file_format == "geojson":
        json.dump(geojson.feature_collection(records), handle, ensure_ascii=False, indent=1)
    elif file_format == "okw":
        json.dump([okw.facility_of(r) for r in records], handle, ensure_ascii=False, indent=1)
    else:
        raise ValueError(f"unknown export format {file_format!r}; use one of {EXPORT_FORMATS}")
    return len(records)
