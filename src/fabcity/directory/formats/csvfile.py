"""CSV in UTF-8 (BOM optional on import, always written on export so Excel opens Korean text), or on
import in the encoding the caller names (`--encoding cp949`)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from fabcity.directory.formats.common import FileProblem, ImportRejected, read_text
from fabcity.directory.formats.flat import COLUMNS, canonical_column
from fabcity.errors import FieldError


def read(path: Path, encoding: str | None = None) -> list[tuple[str, dict[str, str]]]:
    """Rows as (where, columns); the header is checked here, the cells by the importer."""
    text = read_text(path, encoding=encoding)
    delimiter = "\t" if path.suffix.casefold() == ".tsv" else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = reader.fieldnames or []
    problems = []
    for column in header:
        try:
            canonical_column(column)
        except FieldError as problem:
            problems.append(FileProblem("line 1", problem.field, problem.message))
    if problems:
        raise ImportRejected(path, problems)
    rows = []
    while True:
        start = reader.line_num + 1  # a quoted cell may span lines: name the line the row starts on
        row = next(reader, None)
        if row is None:
            return rows
        if None in row:
            raise ImportRejected(path, [FileProblem(f"line {start}", "", "more cells than columns")])
        if any((value or "").strip() for value in row.values()):
            rows.append((f"line {start}", row))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ";".join(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return str(value)


def row_of(record: dict[str, Any]) -> list[str]:
    location = record["location"]
    provenance = record["provenance"]
    external = record["external_ids"]
    values = {
        **{key: record.get(key) for key in COLUMNS if key in record},
        "name_ko": record["name"]["ko"],
        "name_en": record["name"]["en"],
        "description_ko": record["description"]["ko"],
        "description_en": record["description"]["en"],
        "lat": location["lat"],
        "lon": location["lon"],
        "precision": location["precision"],
        "address_ko": location["address"]["ko"],
        "address_en": location["address"]["en"],
        "gu": location["gu_code"],
        "dong": location["dong_code"],
        "phone": record["contact"].get("phone"),
        "email": record["contact"].get("email"),
        "website": record["contact"].get("website"),
        "equipment": [{k: v for k, v in m.items() if v not in (None, {}, [])} for m in record["equipment"]],
        "fablabs_io": external.get("fablabs_io"),
        "okw_id": external.get("okw"),
        "osm": external.get("osm"),
        **{
            key: provenance[key]
            for key in ("source", "source_url", "license", "retrieved_at", "verified_at", "verified_by")
        },
    }
    return [_cell(values.get(column)) for column in COLUMNS]


def write(records: list[dict[str, Any]], handle: io.TextIOBase) -> None:
    handle.write("\ufeff")
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow(row_of(record))
