"""Answers in another format than JSON: CSV in UTF-8 with a BOM (so Excel opens Korean text
correctly), GeoJSON; and how the API document says a route gives them."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.responses import Response

CSV = "text/csv"
GEOJSON = "application/geo+json"


def csv_download(rows: list[dict[str, Any]], filename: str) -> Response:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return Response(
        buffer.getvalue().encode("utf-8"),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def also_as(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of a route whose answer can also come as these (`format=csv`, `format=geojson`)."""
    schemas = {CSV: {"type": "string"}, GEOJSON: {"type": "object"}}
    return {200: {"content": {media_type: {"schema": schemas[media_type]} for media_type in media_types}}}
