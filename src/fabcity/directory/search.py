"""The one search engine behind the CLI, the API and the web map.

Every filter becomes an indexed SQL condition on both backends: area queries go through the grid
cells (geo.cells), processes and materials through node_term (which carries the cell too, so
"laser cutting within 2 km" is one index range), free text through the bigram index unless an
area already narrows the candidates, in which case the substring test runs on those alone.
Pagination is keyset-based: a cursor holds the last row's sort key, so page 50 costs what page 1 does.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, and_, case, literal, or_, select, true

from fabcity.directory import vocabulary
from fabcity.directory.read import public_nodes
from fabcity.directory.taxonomy import taxonomy
from fabcity.geo.cells import METRES_PER_DEGREE_LAT, BBox, circle_bbox, distance_m, metres_per_degree_lon
from fabcity.platform import Platform
from fabcity.storage import textindex
from fabcity.storage.schema import node, node_term
from fabcity.text import gram_tokens, query_terms

Sort = Literal["distance", "relevance", "name"]
MAX_LIMIT = 1000
DEFAULT_RADIUS_M = 50_000.0


class QueryError(ValueError):
    """A search parameter that cannot be used; `param` names it for the 422 answer."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


@dataclass
class SearchQuery:
    q: str | None = None
    near: tuple[float, float] | None = None
    radius_m: float | None = None
    bbox: BBox | None = None
    gu: list[str] = field(default_factory=list)
    dong: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    processes: list[str] = field(default_factory=list)
    materials: list[str] = field(default_factory=list)
    access: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=lambda: ["active"])
    sort: Sort | None = None
    limit: int = 20
    cursor: str | None = None


@dataclass
class SearchPage:
    results: list[dict[str, Any]]
    next_cursor: str | None
    sort: str


def parse_point(value: str, param: str) -> tuple[float, float]:
    try:
        lat, lon = (float(part) for part in value.split(","))
    except ValueError:
        raise QueryError(param, f"expected 'lat,lon', got {value!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise QueryError(param, f"{value!r} is not a point (lat -90..90, lon -180..180)")
    return lat, lon


def parse_bbox(value: str) -> BBox:
    """'south,west,north,east' — the order Leaflet's toBBoxString does not use, so say it plainly."""
    try:
        south, west, north, east = (float(part) for part in value.split(","))
    except ValueError:
        raise QueryError("bbox", f"expected 'south,west,north,east', got {value!r}") from None
    if not (-90 <= south <= north <= 90 and -180 <= west <= east <= 180):
        raise QueryError("bbox", f"{value!r} is not a box: need south ≤ north and west ≤ east, in range")
    return BBox(south, west, north, east)


def _codes(platform: Platform, values: list[str], level: str) -> list[str]:
    codes = []
    for value in values:
        found = platform.districts.resolve(value, level=level)
        if not found:
            raise QueryError(level, f"unknown {level} {value!r} (a code, or a Korean or English name)")
        codes += [d.code for d in found]
    return codes


def _terms(kind: str, values: list[str], param: str) -> list[str]:
    ids = []
    for value in values:
        term_id = taxonomy().resolve(kind, value)
        if term_id is None:
            raise QueryError(param, f"unknown {param} {value!r} (see /api/v1/taxonomy)")
        ids.append(term_id)
    return ids


def _one_of(values: list[str], allowed: dict, param: str) -> list[str]:
    for value in values:
        if value not in allowed:
            raise QueryError(param, f"unknown value {value!r}; use one of {', '.join(allowed)}")
    return values


def _encode_cursor(sort: str, key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([sort, *key]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> list[Any]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise QueryError("cursor", "not a cursor this server issued") from None
    if not isinstance(decoded, list) or not decoded or decoded[0] != sort:
        raise QueryError("cursor", "the cursor belongs to another sort order; start again without it")
    return decoded[1:]


def _term_subquery(kind: str, term_ids: list[str], cells: list[int] | None):
    query = select(node_term.c.node_pk).where(node_term.c.kind == kind, node_term.c.term.in_(term_ids))
    if cells is not None:
        query = query.where(node_term.c.cell.in_(cells))
    return query


def search(platform: Platform, query: SearchQuery) -> SearchPage:
    if not 1 <= query.limit <= MAX_LIMIT:
        raise QueryError("limit", f"must be between 1 and {MAX_LIMIT}")
    if query.radius_m is not None and not 0 < query.radius_m <= 1_000_000:
        raise QueryError("radius_m", "must be more than 0 and at most 1,000,000 metres")
    if query.radius_m is not None and query.near is None:
        raise QueryError("radius_m", "needs near=lat,lon")
    _one_of(query.types, vocabulary.NODE_TYPES, "type")
    _one_of(query.access, vocabulary.ACCESS_TYPES, "access")
    _one_of(query.status, vocabulary.STATUSES, "status")
    terms = query_terms(query.q)
    sort = query.sort or ("relevance" if terms else "distance" if query.near else "name")
    if sort == "distance" and query.near is None:
        raise QueryError("sort", "sorting by distance needs near=lat,lon")
    if sort == "relevance" and not terms:
        raise QueryError("sort", "sorting by relevance needs q")

    conditions: list[ColumnElement[bool]] = [node.c.status.in_(query.status)]
    cells: list[int] | None = None
    distance2 = None
    if query.near is not None:
        lat0, lon0 = query.near
        radius = query.radius_m or DEFAULT_RADIUS_M
        kx, ky = metres_per_degree_lon(lat0), METRES_PER_DEGREE_LAT
        dx = (node.c.lon - lon0) * kx
        dy = (node.c.lat - lat0) * ky
        distance2 = dx * dx + dy * dy
        box = circle_bbox(lat0, lon0, radius)
        cells = box.cells()
        conditions += [node.c.lat.between(box.south, box.north), node.c.lon.between(box.west, box.east)]
        conditions.append(distance2 <= radius * radius)
    if query.bbox is not None:
        box = query.bbox
        conditions += [node.c.lat.between(box.south, box.north), node.c.lon.between(box.west, box.east)]
        bbox_cells = box.cells()
        if bbox_cells is not None:
            cells = bbox_cells if cells is None else sorted(set(cells) & set(bbox_cells))
    if cells is not None:
        conditions.append(node.c.cell.in_(cells))
    if query.gu:
        conditions.append(node.c.gu_code.in_(_codes(platform, query.gu, "gu")))
    if query.dong:
        conditions.append(node.c.dong_code.in_(_codes(platform, query.dong, "dong")))
    if query.types:
        conditions.append(node.c.node_type.in_(query.types))
    if query.access:
        conditions.append(node.c.access_type.in_(query.access))
    if query.processes:
        conditions.append(node.c.pk.in_(_term_subquery("p", _terms("processes", query.processes, "process"), cells)))
    if query.materials:
        conditions.append(node.c.pk.in_(_term_subquery("m", _terms("materials", query.materials, "material"), cells)))

    # A few grid cells (a 2 km circle is ~30) hold few nodes: test the substring on those alone.
    narrowed = cells is not None and len(cells) <= 100
    score = literal(0)
    with platform.engine.connect() as conn:
        for term in terms:
            conditions.append(_text_condition(conn, term, use_grams=not narrowed))
            pattern = {"autoescape": True}
            score = score + case(
                (node.c.name_text.contains(term, **pattern), 3),
                (node.c.tags_text.contains(term, **pattern), 2),
                (node.c.body_text.contains(term, **pattern), 1),
                else_=0,
            )
        return _page(conn, platform, query, sort, conditions, distance2, score)


def _text_condition(conn: Connection, term: str, use_grams: bool) -> ColumnElement[bool]:
    """The term inside the node's text, or the term naming a process, material or machine it has."""
    pattern = {"autoescape": True}
    found = or_(
        node.c.name_text.contains(term, **pattern),
        node.c.tags_text.contains(term, **pattern),
        node.c.body_text.contains(term, **pattern),
    )
    grams = gram_tokens(term)
    if use_grams and grams:
        found = and_(node.c.pk.in_(textindex.matching_pks(conn, grams)), found)
    aliases = [
        (kind_code, term_id)
        for kind, kind_code in (("processes", "p"), ("materials", "m"), ("equipment_types", "e"))
        if (term_id := taxonomy().resolve(kind, term))
    ]
    for kind_code, term_id in aliases:
        found = or_(found, node.c.pk.in_(_term_subquery(kind_code, [term_id], None)))
    return found


def _page(conn, platform, query, sort, conditions, distance2, score) -> SearchPage:
    if sort == "distance":
        keys = [distance2, node.c.pk]
        directions = ["asc", "asc"]
    elif sort == "relevance":
        keys = [score, node.c.name_sort, node.c.pk]
        directions = ["desc", "asc", "asc"]
    else:
        keys = [node.c.name_sort, node.c.pk]
        directions = ["asc", "asc"]
    if query.cursor:
        conditions.append(_after(keys, directions, _decode_cursor(query.cursor, sort)))
    columns = [node.c.pk, *(k.label(f"k{i}") for i, k in enumerate(keys[:-1]))]
    statement = (
        select(*columns)
        .where(and_(true(), *conditions))
        .order_by(*(k.desc() if d == "desc" else k.asc() for k, d in zip(keys, directions, strict=False)))
        .limit(query.limit + 1)
    )
    rows = conn.execute(statement).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    results = public_nodes(conn, [r.pk for r in rows], platform.districts, platform.stations)
    for result, row in zip(results, rows, strict=False):
        if sort == "distance":
            result["distance_m"] = round(row.k0**0.5, 1)
        elif query.near is not None and result["location"]["lat"] is not None:
            result["distance_m"] = round(
                distance_m(*query.near, result["location"]["lat"], result["location"]["lon"]), 1
            )
        if sort == "relevance":
            result["relevance"] = row.k0
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = _encode_cursor(sort, [*(getattr(last, f"k{i}") for i in range(len(keys) - 1)), last.pk])
    return SearchPage(results, next_cursor, sort)


def _after(keys, directions, values) -> ColumnElement[bool]:
    """Rows strictly after the cursor in the (mixed-direction) sort order."""
    if len(values) != len(keys):
        raise QueryError("cursor", "not a cursor this server issued")
    clauses = []
    for i, (key, direction) in enumerate(zip(keys, directions, strict=False)):
        beyond = key < values[i] if direction == "desc" else key > values[i]
        clauses.append(and_(*(keys[j] == values[j] for j in range(i)), beyond))
    return or_(*clauses)
