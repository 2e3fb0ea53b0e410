"""The one search engine behind the CLI, the API and the web map.

Every filter becomes an indexed SQL condition on both backends: area queries go through the grid
cells (geo.cells), processes and materials through node_term (which carries the cell too, so
"laser cutting within 2 km" is one index range), free text through the text index (bigrams,
taxonomy terms and area tokens, see storage.textindex), confirmed on the node's text.
Pagination is keyset-based: a cursor holds the last row's sort key, so page 50 costs what page 1 does.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from opening_hours import OpeningHours
from sqlalchemy import ColumnElement, Connection, Row, Select, and_, case, false, func, literal, or_, select, true

from fabcity.clock import seoul_wall_time
from fabcity.directory import vocabulary
from fabcity.directory.read import record_texts
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
    fields: Literal["full", "summary"] = "full"
    open_now: bool = False


@dataclass
class SearchPage:
    """One page of results as JSON texts: the API sends them as they are, other callers decode them."""

    records: list[str]
    next_cursor: str | None
    sort: str

    @property
    def results(self) -> list[dict[str, Any]]:
        return [json.loads(record) for record in self.records]


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


def _term_subquery(kind: str, term_ids: list[str], cells: list[int] | None) -> Select:
    query = select(node_term.c.node_pk).where(node_term.c.kind == kind, node_term.c.term.in_(term_ids))
    if cells is not None:
        query = query.where(node_term.c.cell.in_(cells))
    return query


def search(platform: Platform, query: SearchQuery) -> SearchPage:
    """One page of nodes matching every filter, in the requested (or most natural) order."""
    if not 1 <= query.limit <= MAX_LIMIT:
        raise QueryError("limit", f"must be between 1 and {MAX_LIMIT}")
    if query.radius_m is not None and not 0 < query.radius_m <= 1_000_000:
        raise QueryError("radius_m", "must be more than 0 and at most 1,000,000 metres")
    if query.radius_m is not None and query.near is None:
        raise QueryError("radius_m", "needs near=lat,lon")
    if query.fields not in ("full", "summary"):
        raise QueryError("fields", "use full or summary")
    _one_of(query.types, vocabulary.NODE_TYPES, "type")
    _one_of(query.access, vocabulary.ACCESS_TYPES, "access")
    _one_of(query.status, vocabulary.STATUSES, "status")
    terms = query_terms(query.q)
    centre = query.near or (query.bbox.centre() if query.bbox else None)
    sort = query.sort or ("distance" if centre else "relevance" if terms else "name")
    if sort == "distance" and centre is None:
        raise QueryError("sort", "sorting by distance needs near=lat,lon or a bbox")
    if sort == "relevance" and not terms:
        raise QueryError("sort", "sorting by relevance needs q")

    filters: list[ColumnElement[bool]] = [node.c.status.in_(query.status)]
    if query.open_now:
        filters.append(node.c.opening_hours.is_not(None))
    if query.gu:
        filters.append(node.c.gu_code.in_(_codes(platform, query.gu, "gu")))
    if query.dong:
        filters.append(node.c.dong_code.in_(_codes(platform, query.dong, "dong")))
    if query.types:
        filters.append(node.c.node_type.in_(query.types))
    if query.access:
        filters.append(node.c.access_type.in_(query.access))
    term_filters = [
        (kind, _terms(vocabulary_kind, values, param))
        for kind, vocabulary_kind, values, param in (
            ("p", "processes", query.processes, "process"),
            ("m", "materials", query.materials, "material"),
        )
        if values
    ]
    cursor_key = _decode_cursor(query.cursor, sort) if query.cursor else None
    plan = _Plan(query, centre, sort, terms, filters, term_filters, cursor_key)
    with platform.engine.connect() as conn:
        for radius in plan.rings():
            rows = conn.execute(plan.statement(conn, radius)).all()
            if len(rows) > plan.fetch or radius is None or radius >= plan.max_radius:
                break
        return _page(conn, query, sort, plan, rows)


_RINGS_M = (250.0, 500.0, 1_000.0, 2_000.0, 4_000.0, 8_000.0, 16_000.0, 32_000.0)
_FILTERED_FIRST_RING_M = 1_000.0


class _Plan:
    """The SQL for one search, for a given search radius.

    Distance-ordered searches try growing rings around the centre and stop at the first ring that
    holds more than a page: the nearest nodes are inside it, so the page is exact, and a dense
    city block is answered from a few grid cells instead of the whole radius.
    """

    def __init__(
        self,
        query: SearchQuery,
        centre: tuple[float, float] | None,
        sort: str,
        terms: list[str],
        filters: list[ColumnElement[bool]],
        term_filters: list[tuple[str, list[str]]],
        cursor_key: list[Any] | None,
    ) -> None:
        self.query, self.centre, self.sort, self.terms = query, centre, sort, terms
        self.filters, self.term_filters, self.cursor_key = filters, term_filters, cursor_key
        self.max_radius = self._max_radius()
        self.selective = bool(term_filters or terms or query.types or query.access)
        self.distance2 = None
        if centre is not None:
            lat0, lon0 = centre
            dx = (node.c.lon - lon0) * metres_per_degree_lon(lat0)
            dy = (node.c.lat - lat0) * METRES_PER_DEGREE_LAT
            self.distance2 = dx * dx + dy * dy
        self.key_count = {"distance": 1, "relevance": 2, "name": 1}[sort]
        # "open now" is decided in Python on the hours text: examine a full batch of candidates
        self.fetch = MAX_LIMIT if query.open_now else query.limit

    def _max_radius(self) -> float:
        if self.query.near is not None:
            return self.query.radius_m or DEFAULT_RADIUS_M
        if self.query.bbox is not None:
            box = self.query.bbox
            return max(
                distance_m(*self.centre, lat, lon) for lat in (box.south, box.north) for lon in (box.west, box.east)
            )
        return float("inf")

    def rings(self) -> list[float | None]:
        if self.centre is None:
            return [None]
        if self.sort != "distance":
            return [self.max_radius]
        done = (self.cursor_key[0] ** 0.5) if self.cursor_key else 0.0
        # A filter (process, type, text…) thins the nodes out: start where a page is likelier to be.
        first = _FILTERED_FIRST_RING_M if self.selective else _RINGS_M[0]
        return [r for r in _RINGS_M if done < r < self.max_radius and r >= first] + [self.max_radius]

    def statement(self, conn: Connection, radius: float | None) -> Select:
        conditions = list(self.filters)
        cells: list[int] | None = None
        box: BBox | None = None
        if radius is not None:
            box = circle_bbox(*self.centre, radius)
            if self.query.bbox is not None:
                box = box.intersection(self.query.bbox)
            if box is None:
                conditions.append(false())
            else:
                cells = box.cells()
                conditions += [node.c.lat.between(box.south, box.north), node.c.lon.between(box.west, box.east)]
                if cells is not None:
                    conditions.append(node.c.cell.in_(cells))
            conditions.append(self.distance2 <= radius * radius)
        for kind, term_ids in self.term_filters:
            conditions.append(node.c.pk.in_(_term_subquery(kind, term_ids, cells)))
        score = literal(0)
        for term in self.terms:
            conditions.append(_text_condition(conn, term, box))
            score = score + case(
                (_contains(conn, node.c.name_text, term), 3),
                (_contains(conn, node.c.tags_text, term), 2),
                (_contains(conn, node.c.body_text, term), 1),
                else_=0,
            )
        if self.sort == "distance":
            keys, directions = [self.distance2, node.c.pk], ["asc", "asc"]
        elif self.sort == "relevance":
            keys, directions = [score, node.c.name_sort, node.c.pk], ["desc", "asc", "asc"]
        else:
            keys, directions = [node.c.name_sort, node.c.pk], ["asc", "asc"]
        if self.cursor_key is not None:
            conditions.append(_after(keys, directions, self.cursor_key))
        columns = [node.c.pk, *(k.label(f"k{i}") for i, k in enumerate(keys[:-1]))]
        if self.query.open_now:
            columns.append(node.c.opening_hours)
        if self.query.near is not None and self.sort != "distance":
            columns.append(self.distance2.label("near_d2"))
        return (
            select(*columns)
            .where(and_(true(), *conditions))
            .order_by(*(k.desc() if d == "desc" else k.asc() for k, d in zip(keys, directions, strict=True)))
            .limit(self.fetch + 1)
        )


def _contains(conn: Connection, column: ColumnElement[str], term: str) -> ColumnElement[bool]:
    """Exact substring test (the text is stored normalised): a plain byte search, several times
    faster than LIKE '%…%' on long Korean text, which matters when thousands of candidates are checked."""
    position = func.instr(column, term) if conn.dialect.name == "sqlite" else func.strpos(column, term)
    return position > 0


def _text_condition(conn: Connection, term: str, box: BBox | None) -> ColumnElement[bool]:
    """The term inside the node's text, or the term naming a process, material or machine it has.

    Both come from the text index, narrowed to the area by its area tokens when there is one, so
    the database reads only those rows by key; the bigram matches are then confirmed on the text.
    """
    written = or_(
        _contains(conn, node.c.name_text, term),
        _contains(conn, node.c.tags_text, term),
        _contains(conn, node.c.body_text, term),
    )
    area = (box.area_tokens() if box else None) or []
    named = [
        [textindex.term_token(kind_code, term_id)]
        for kind, kind_code in (("processes", "p"), ("materials", "m"), ("equipment_types", "e"))
        if (term_id := taxonomy().resolve(kind, term))
    ]
    grams = gram_tokens(term)
    if not grams and not named:  # a one-letter term: only the substring test (within the area) finds it
        return written
    # One index query gives every candidate. A two-letter term is one bigram, so its index match is
    # exact and the rows are read from a covering index; longer terms are confirmed on the text.
    candidates = node.c.pk.in_(textindex.matching_pks(conn, [grams] + named if grams else named, area))
    if len(term) == 2:
        return candidates
    if not named:
        return and_(candidates, written)
    return and_(candidates, or_(node.c.pk.in_(textindex.matching_pks(conn, named, area)), written))


def _page(conn: Connection, query: SearchQuery, sort: str, plan: _Plan, rows: list[Row]) -> SearchPage:
    """The first `limit` rows (open ones only, with open_now) and the cursor after the last one used.

    With open_now a page may hold fewer than `limit` results while more candidates remain: the
    cursor then continues after the last candidate examined, so paging stays exact.
    """
    more = len(rows) > plan.fetch  # candidates remain beyond the examined batch
    examined = rows[: plan.fetch]
    last = examined[-1] if more and examined else None
    if query.open_now:
        moment = seoul_wall_time()
        examined = [row for row in examined if OpeningHours(row.opening_hours).is_open(moment)]
    if len(examined) > query.limit:
        last = examined[query.limit - 1]
    rows = examined[: query.limit]
    records = record_texts(conn, [r.pk for r in rows], query.fields)
    if query.near is not None or sort == "relevance":
        records = [_with_extras(record, row, query, sort) for record, row in zip(records, rows, strict=True)]
    next_cursor = None
    if last is not None:
        next_cursor = _encode_cursor(sort, [*(getattr(last, f"k{i}") for i in range(plan.key_count)), last.pk])
    return SearchPage(records, next_cursor, sort)


def _with_extras(record: str, row: Row, query: SearchQuery, sort: str) -> str:
    """The stored record with this search's distance and relevance added (spliced, not re-encoded)."""
    extras = ""
    if query.near is not None:
        squared = row.k0 if sort == "distance" else row.near_d2
        extras += f',"distance_m":{json.dumps(round(squared**0.5, 1))}'
    if sort == "relevance":
        extras += f',"relevance":{json.dumps(row.k0)}'
    return record[:-1] + extras + "}"


def _after(keys: list[ColumnElement], directions: list[str], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after the cursor in the (mixed-direction) sort order."""
    if len(values) != len(keys):
        raise QueryError("cursor", "not a cursor this server issued")
    clauses = []
    for i, (key, direction) in enumerate(zip(keys, directions, strict=False)):
        beyond = key < values[i] if direction == "desc" else key > values[i]
        clauses.append(and_(*(keys[j] == values[j] for j in range(i)), beyond))
    return or_(*clauses)
