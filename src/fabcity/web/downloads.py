"""Tables as downloads: CSV in UTF-8 with a BOM, so Excel opens Korean text correctly."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.responses import Response


def csv_download(rows: list[dict[str, Any]], filename: str) -> Response:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return Response(
        buffer.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
