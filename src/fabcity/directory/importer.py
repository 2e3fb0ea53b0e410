"""Importing a file of nodes: read, validate every record, then write all of them in one transaction.

Nothing is written until the whole file has passed, and the write is a single transaction, so a
file with one bad record, or an import killed midway, leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fabcity.directory.formats import csvfile, fablabs, geojson, okw
from fabcity.directory.formats.common import FileProblem, ImportRejected, Located, parse_json, read_text
from fabcity.directory.formats.flat import record_from_columns
from fabcity.directory.models import validate_node
from fabcity.directory.writer import Prepared, prepare, save_nodes
from fabcity.errors import FieldError, RecordInvalid
from fabcity.platform import Platform
from fabcity.storage.db import analyze

FORMATS = ("okw", "fablabs", "csv", "geojson")
BATCH = 2000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportReport:
    path: str
    file_format: str
    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated


def guess_format(path: Path) -> str:
    """By extension, then by shape: CSV, GeoJSON FeatureCollection, IoPA facilities, fablabs.io labs."""
    suffix = path.suffix.casefold()
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix == ".geojson":
        return "geojson"
    data = parse_json(path, read_text(path)) if suffix == ".json" else None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        return "geojson"
    if isinstance(data, list) and data and isinstance(data[0], dict):
        if "facility" in data[0]:
            return "okw"
        if "slug" in data[0] or "capabilities" in data[0] or "kind_name" in data[0]:
            return "fablabs"
    raise ImportRejected(path, [FileProblem("file", "", "cannot tell the format; pass --format " + "|".join(FORMATS))])


def _read(path: Path, file_format: str, source: str | None, license_: str | None) -> list[Located]:
    if file_format == "csv":
        located, problems = [], []
        for where, row in csvfile.read(path):
            try:
                located.append(Located(where, record_from_columns(row, source or f"import of {path.name}", license_)))
            except FieldError as problem:
                problems.append(FileProblem(where, problem.field, problem.message))
        if problems:
            raise ImportRejected(path, problems)
        return located
    reader = {"okw": okw.read, "fablabs": fablabs.read, "geojson": geojson.read}[file_format]
    return reader(path)


def validate_file(platform: Platform, path: Path, located: list[Located]) -> list[Prepared]:
    """Every record validated and placed, or the whole file rejected with every problem named."""
    if not located:
        raise ImportRejected(path, [FileProblem("file", "", "the file holds no records")])
    prepared: list[Prepared] = []
    problems: list[FileProblem] = []
    seen: dict[tuple[str, str], str] = {}
    for entry in located:
        try:
            item = validate_node(entry.record)
            prepared.append(prepare(item, platform.districts))
        except RecordInvalid as invalid:
            problems += [FileProblem(entry.where, p.field, p.message) for p in invalid.problems]
            continue
        except FieldError as problem:
            problems.append(FileProblem(entry.where, problem.field, problem.message))
            continue
        identities = [("id", item.id)] if item.id else []
        identities += [(f"external_ids.{scheme}", value) for scheme, value in item.external_ids.items()]
        for identity in identities:
            if identity in seen:
                problems.append(
                    FileProblem(entry.where, identity[0], f"duplicate {identity[1]!r}, also in {seen[identity]}")
                )
            seen.setdefault(identity, entry.where)
    if problems:
        raise ImportRejected(path, problems)
    return prepared


def import_file(
    platform: Platform,
    path: Path,
    file_format: str | None = None,
    source: str | None = None,
    license_: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    path = Path(path)
    file_format = file_format or guess_format(path)
    if file_format not in FORMATS:
        raise ImportRejected(path, [FileProblem("file", "", f"unknown format {file_format!r}; use one of {FORMATS}")])
    prepared = validate_file(platform, path, _read(path, file_format, source, license_))
    created = updated = 0
    with platform.engine.begin() as conn:
        for start in range(0, len(prepared), BATCH):
            summary = save_nodes(conn, prepared[start : start + BATCH], platform.districts, platform.stations)
            created += summary.created
            updated += summary.updated
            if progress:
                progress(start + len(prepared[start : start + BATCH]), len(prepared))
    analyze(platform.engine)
    return ImportReport(str(path), file_format, created, updated)
