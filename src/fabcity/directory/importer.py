"""Importing a file of nodes: read, validate every record, then merge all of them in one transaction.

Nothing is written until the whole file has passed, and the write is a single transaction, so a
file with one bad record, or an import killed midway, leaves the database as it was.

A record is the node it names by id or by any external id; a record with neither is the stored node
with the same name and place (writer.match_key), so a CSV without ids updates on re-import instead
of duplicating. Each record is merged into its node field by field by the precedence of its source
(directory.precedence, docs/decisions/0004-import-precedence.md): fields that curators, hosts or the
curated dataset set are kept against a weaker source, a field the file does not carry is never
erased, and a node the file does not change is not written. Every import is audited in the same
transaction: one `import` entry with its counts, and a `node.import` entry with the changes of each
node it updated. A dry run works out all of that without writing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from fabcity import audit
from fabcity.directory.formats import csvfile, fablabs, geojson, okw
from fabcity.directory.formats.common import FileProblem, ImportRejected, Located, parse_json, read_text
from fabcity.directory.formats.flat import record_from_columns
from fabcity.directory.models import validate_node
from fabcity.directory.precedence import Kept, Precedence
from fabcity.directory.writer import (
    Planned,
    Prepared,
    begin_import,
    lock_nodes,
    match_key,
    nodes_by_key,
    plan_nodes,
    prepare,
    save_nodes,
)
from fabcity.errors import FieldError, RecordInvalid
from fabcity.geo.districts import DistrictIndex
from fabcity.platform import Platform
from fabcity.storage.db import analyze

FORMATS = ("okw", "fablabs", "csv", "geojson")
BATCH = 2000

# The Republic of Korea with Jeju, Ulleungdo and Dokdo: south, north, west, east.
KOREA_BOUNDS = (32.8, 38.9, 124.0, 132.0)
KOREA_NAMES = {"kr", "kor", "korea", "southkorea", "republicofkorea", "대한민국", "한국", "남한"}
SEOUL_NAMES = {"seoul", "seoulcity", "seoulspecialcity", "seoulmetropolitancity", "서울", "서울시", "서울특별시"}
# How far outside the city, gu or dong it names a point may lie and still be an honest geocode.
NEAR_SEOUL_M = 2000.0
NEAR_DISTRICT_M = 1000.0

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class NodeOutcome:
    """What an import did (or, in a dry run, would do) to one node."""

    node_id: str | None
    name: str
    action: str
    """create | update | unchanged"""
    changes: dict[str, list[Any]]
    """{field: [before, after]} of an updated node."""
    kept: dict[str, Kept]
    """Fields the file offered that a stronger source holds."""


@dataclass(frozen=True)
class ImportReport:
    path: str
    file_format: str
    created: int
    updated: int
    unchanged: int = 0
    outcomes: tuple[NodeOutcome, ...] = ()
    """Every node created, updated, or left unchanged with fields kept."""
    dry_run: bool = False

    @property
    def skipped(self) -> int:
        """Fields the file offered and the nodes kept, because a stronger source set them."""
        return sum(len(outcome.kept) for outcome in self.outcomes)


def guess_format(path: Path, encoding: str | None = None) -> str:
    """By extension, then by shape: CSV, GeoJSON FeatureCollection, IoPA facilities, fablabs.io labs."""
    suffix = path.suffix.casefold()
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix == ".geojson":
        return "geojson"
    data = parse_json(path, read_text(path, encoding=encoding)) if suffix == ".json" else None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        return "geojson"
    if isinstance(data, list) and data and isinstance(data[0], dict):
        if "facility" in data[0]:
            return "okw"
        if "slug" in data[0] or "capabilities" in data[0] or "kind_name" in data[0]:
            return "fablabs"
    raise ImportRejected(path, [FileProblem("file", "", "cannot tell the format; pass --format " + "|".join(FORMATS))])


def _read(
    path: Path, file_format: str, source: str | None, license_: str | None, encoding: str | None
) -> list[Located]:
    if file_format == "csv":
        located, problems = [], []
        for where, row in csvfile.read(path, encoding):
            try:
                located.append(Located(where, record_from_columns(row, source or f"import of {path.name}", license_)))
            except FieldError as problem:
                problems.append(FileProblem(where, problem.field, problem.message))
        if problems:
            raise ImportRejected(path, problems)
        return located
    reader = {"okw": okw.read, "fablabs": fablabs.read, "geojson": geojson.read}[file_format]
    return reader(path, encoding)


def _identities(prepared: Prepared) -> list[tuple[str, str]]:
    """What makes a record the same node as another: its id, its external ids, else its name and place."""
    item = prepared.item
    found = [("id", item.id)] if item.id else []
    found += [(f"external_ids.{scheme}", value) for scheme, value in item.external_ids.items()]
    return found or [("name", match_key(prepared))]


def validate_file(platform: Platform, path: Path, located: list[Located]) -> list[Prepared]:
    """Every record validated and placed, or the whole file rejected with every problem named."""
    if not located:
        raise ImportRejected(path, [FileProblem("file", "", "the file holds no records")])
    prepared: list[Prepared] = []
    problems: list[FileProblem] = []
    seen: dict[tuple[str, str], str] = {}
    for entry in located:
        try:
            placed = prepare(validate_node(entry.record), platform.districts)
        except RecordInvalid as invalid:
            problems += [FileProblem(entry.where, p.field, p.message) for p in invalid.problems]
            continue
        except FieldError as problem:
            problems.append(FileProblem(entry.where, problem.field, problem.message))
            continue
        prepared.append(placed)
        problems += _place_problems(entry, placed, platform.districts)
        for identity in _identities(placed):
            if identity in seen:
                what = "the same name and place as" if identity[0] == "name" else f"duplicate {identity[1]!r}, also in"
                problems.append(FileProblem(entry.where, identity[0], f"{what} {seen[identity]}"))
            seen.setdefault(identity, entry.where)
    if problems:
        raise ImportRejected(path, problems)
    return prepared


def _place_problems(entry: Located, prepared: Prepared, districts: DistrictIndex) -> list[FileProblem]:
    """A point far from the country, city, gu or dong its own record names is a mistake to report
    (swapped or mistyped coordinates), never a node to store in the wrong place."""
    lat, lon = prepared.place["lat"], prepared.place["lon"]
    if lat is None or lon is None:
        return []
    problems = []
    south, north, west, east = KOREA_BOUNDS
    if (
        entry.country
        and _key(entry.country.value) in KOREA_NAMES
        and not (south <= lat <= north and west <= lon <= east)
    ):
        message = f"the point ({lat}, {lon}) lies outside Korea, the country the record names"
        problems.append(FileProblem(entry.where, entry.country.field, message))
    elif entry.city and _key(entry.city.value) in SEOUL_NAMES and prepared.place["gu_code"] is None:
        away = min(districts.reach(gu.code, lat, lon).nearest_m for gu in districts.gus())
        if away > NEAR_SEOUL_M:
            message = f"the point ({lat}, {lon}) lies {away / 1000:.0f} km outside Seoul, the city the record names"
            problems.append(FileProblem(entry.where, entry.city.field, message))
    location = prepared.item.location
    for field, level, named in (("gu_code", "gu", location.gu_code), ("dong_code", "dong", location.dong_code)):
        problem = _district_problem(districts, level, named, prepared.place)
        if problem:
            problems.append(FileProblem(entry.where, f"location.{field}", problem))
    return problems


def _district_problem(districts: DistrictIndex, level: str, named: str | None, place: dict[str, Any]) -> str | None:
    if not named:
        return None
    candidates = districts.resolve(named, level=level)
    if not candidates:
        return f"unknown {level} {named[:40]!r}"
    if place[f"{level}_code"] in {district.code for district in candidates}:
        return None
    away = min(districts.reach(district.code, place["lat"], place["lon"]).nearest_m for district in candidates)
    if away <= NEAR_DISTRICT_M:
        return None
    point = f"({place['lat']}, {place['lon']})"
    return f"the point {point} lies {away / 1000:.1f} km outside {candidates[0].name_ko}, the {level} the record names"


def _key(name: str) -> str:
    return "".join(character for character in name.casefold() if character.isalnum())


def _recognised(conn: Connection, path: Path, located: list[Located], prepared: list[Prepared]) -> list[Prepared]:
    """Records without an id or external id, given the id of the one stored node with their name and place."""
    keys = {position: match_key(p) for position, p in enumerate(prepared) if not p.item.id and not p.item.external_ids}
    stored = nodes_by_key(conn, set(keys.values())) if keys else {}
    recognised = list(prepared)
    problems = []
    for position, key in keys.items():
        ids = stored.get(key, [])
        if len(ids) > 1:
            message = f"{len(ids)} stored nodes have this name and place; give the record an id to say which"
            problems.append(FileProblem(located[position].where, "name", message))
        elif ids:
            item = prepared[position].item
            recognised[position] = Prepared(item.model_copy(update={"id": ids[0]}), prepared[position].place)
    if problems:
        raise ImportRejected(path, problems)
    return recognised


def _outcomes(plans: list[Planned]) -> tuple[NodeOutcome, ...]:
    return tuple(
        NodeOutcome(plan.node_id, plan.prepared.item.name.best("ko") or "", plan.action, plan.changes, plan.kept)
        for plan in plans
        if plan.action != "unchanged" or plan.kept
    )


def _report(path: Path, file_format: str, plans: list[Planned], dry_run: bool = False) -> ImportReport:
    actions = [plan.action for plan in plans]
    return ImportReport(
        str(path),
        file_format,
        created=actions.count("create"),
        updated=actions.count("update"),
        unchanged=actions.count("unchanged"),
        outcomes=_outcomes(plans),
        dry_run=dry_run,
    )


def _audit(conn: Connection, report: ImportReport, precedence: Precedence) -> None:
    """One entry for the import with its counts, and one per node it changed, with the changes."""
    at = datetime.now(UTC)
    for outcome in report.outcomes:
        if outcome.action == "update":
            audit.record(conn, None, "node.import", "node", outcome.node_id, outcome.changes, at=at)
    summary = {
        "file": Path(report.path).name,
        "format": report.file_format,
        "precedence": precedence.value,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "skipped_fields": report.skipped,
    }
    audit.record(conn, None, "import", "import", uuid.uuid4().hex, {k: [None, v] for k, v in summary.items()}, at=at)


def import_file(
    platform: Platform,
    path: Path,
    file_format: str | None = None,
    source: str | None = None,
    license_: str | None = None,
    progress: Progress | None = None,
    *,
    encoding: str | None = None,
    precedence: Precedence = Precedence.BULK,
    dry_run: bool = False,
) -> ImportReport:
    """Import a file whole, merged by `precedence` (bulk unless the caller vouches for it), or with
    `dry_run` only report what it would create, change and keep."""
    path = Path(path)
    file_format = file_format or guess_format(path, encoding)
    if file_format not in FORMATS:
        raise ImportRejected(path, [FileProblem("file", "", f"unknown format {file_format!r}; use one of {FORMATS}")])
    located = _read(path, file_format, source, license_, encoding)
    prepared = validate_file(platform, path, located)
    if dry_run:
        with platform.engine.connect() as conn:
            prepared = _recognised(conn, path, located, prepared)
            plans = [
                plan
                for start in range(0, len(prepared), BATCH)
                for plan in plan_nodes(conn, prepared[start : start + BATCH], platform.districts, precedence)
            ]
        return _report(path, file_format, plans, dry_run=True)
    plans = []
    with platform.engine.begin() as conn:
        begin_import(conn)
        prepared = _recognised(conn, path, located, prepared)
        lock_nodes(conn, [p.item for p in prepared])
        for start in range(0, len(prepared), BATCH):
            batch = prepared[start : start + BATCH]
            plans += save_nodes(conn, batch, platform.districts, platform.stations, precedence=precedence).plans
            if progress:
                progress(start + len(batch), len(prepared))
        report = _report(path, file_format, plans)
        _audit(conn, report, precedence)
    if report.created or report.updated:
        analyze(platform.engine)
    return report
