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
import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal

from opening_hours import OpeningHours
from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Row,
    Select,
    Text,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)

from fabcity.clock import seoul_wall_time
from fabcity.directory import vocabulary
from fabcity.directory.read import record_texts
from fabcity.directory.taxonomy import taxonomy
from fabcity.errors import ParameterError
from fabcity.geo.cells import (
    METRES_PER_DEGREE_LAT,
    BBox,
    Ground,
    circle_bbox,
    distance_m,
    ground_cell_range,
    metres_per_degree_lon,
)
from fabcity.platform import Platform
from fabcity.storage import textindex
from fabcity.storage.schema import area_cell, node, node_term
from fabcity.text import gram_tokens, query_terms

Sort = Literal["distance", "relevance", "name"]
MAX_LIMIT = 1000
DEFAULT_RADIUS_M = 50_000.0
MAX_RADIUS_M = 1_000_000.0


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
    located: bool | None = None  # True: only nodes with a point; False: only those known by district or not at all


@dataclass
class SearchPage:
    """One page of results as JSON (UTF-8 bytes): the API sends them as they are, other callers decode them."""

    records: list[bytes]
    next_cursor: str | None
    sort: str

    @property
    def results(self) -> list[dict[str, Any]]:
        return [json.loads(record) for record in self.records]


def parse_point(value: str, param: str) -> tuple[float, float]:
    try:
        lat, lon = (float(part) for part in value.split(","))
    except ValueError:
        raise ParameterError(param, f"expected 'lat,lon', got {value!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ParameterError(param, f"{value!r} is not a point (lat -90..90, lon -180..180)")
    return lat, lon


def parse_bbox(value: str) -> BBox:
    """'south,west,north,east' — the order Leaflet's toBBoxString does not use, so say it plainly."""
    try:
        south, west, north, east = (float(part) for part in value.split(","))
    except ValueError:
        raise ParameterError("bbox", f"expected 'south,west,north,east', got {value!r}") from None
    if not (-90 <= south <= north <= 90 and -180 <= west <= east <= 180):
        raise ParameterError("bbox", f"{value!r} is not a box: need south ≤ north and west ≤ east, in range")
    return BBox(south, west, north, east)


def _codes(platform: Platform, values: list[str], level: str) -> list[str]:
    codes = []
    for value in values:
        found = platform.districts.resolve(value, level=level)
        if not found:
            raise ParameterError(level, f"unknown {level} {value!r} (a code, or a Korean or English name)")
        codes += [d.code for d in found]
    return codes


def _terms(kind: str, values: list[str], param: str) -> list[str]:
    ids = []
    for value in values:
        term_id = taxonomy().resolve(kind, value)
        if term_id is None:
            raise ParameterError(param, f"unknown {param} {value!r} (see /api/v1/taxonomy)")
        ids.append(term_id)
    return ids


def _one_of(values: list[str], allowed: dict, param: str) -> list[str]:
    for value in values:
        if value not in allowed:
            raise ParameterError(param, f"unknown value {value!r}; use one of {', '.join(allowed)}")
    return values


def _encode_cursor(sort: str, key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([sort, *key]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> list[Any]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise ParameterError("cursor", "not a cursor this server issued") from None
    if not isinstance(decoded, list) or not decoded or decoded[0] != sort:
        raise ParameterError("cursor", "the cursor belongs to another sort order; start again without it")
    key = decoded[1:]
    kinds = _CURSOR_KINDS[sort]
    if len(key) != len(kinds) or not all(_is_kind(value, kind) for value, kind in zip(key, kinds, strict=True)):
        raise ParameterError("cursor", "not a cursor this server issued")
    return key


# what each sort key is (the last is node.pk), so that a forged cursor cannot reach the database
_CURSOR_KINDS = {"distance": (float, int), "relevance": (int, str, int), "name": (str, int)}


def _is_kind(value: Any, kind: type) -> bool:
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, int | float) and math.isfinite(value)
    if kind is str:
        return isinstance(value, str) and "\x00" not in value
    return isinstance(value, kind)


def search(platform: Platform, query: SearchQuery) -> SearchPage:
    """One page of nodes matching every filter, in the requested (or most natural) order."""
    if not 1 <= query.limit <= MAX_LIMIT:
        raise ParameterError("limit", f"must be between 1 and {MAX_LIMIT}")
    if query.radius_m is not None and not 0 < query.radius_m <= MAX_RADIUS_M:
        raise ParameterError("radius_m", f"must be more than 0 and at most {MAX_RADIUS_M:,.0f} metres")
    if query.radius_m is not None and query.near is None:
        raise ParameterError("radius_m", "needs near=lat,lon")
    if query.fields not in ("full", "summary"):
        raise ParameterError("fields", "use full or summary")
    if query.located is False and (query.near is not None or query.bbox is not None):
        raise ParameterError("located", "a node without a point is in no area: use gu or dong, not near or bbox")
    _one_of(query.types, vocabulary.NODE_TYPES, "type")
    _one_of(query.access, vocabulary.ACCESS_TYPES, "access")
    _one_of(query.status, vocabulary.STATUSES, "status")
    terms = query_terms(query.q)
    centre = query.near or (query.bbox.centre() if query.bbox else None)
    sort = query.sort or ("distance" if centre else "relevance" if terms else "name")
    if sort == "distance" and centre is None:
        raise ParameterError("sort", "sorting by distance needs near=lat,lon or a bbox")
    if sort == "relevance" and not terms:
        raise ParameterError("sort", "sorting by relevance needs q")

    filters = {"status": query.status}  # node column: the values it may take
    if query.gu:
        filters["gu_code"] = _codes(platform, query.gu, "gu")
    if query.dong:
        filters["dong_code"] = _codes(platform, query.dong, "dong")
    if query.types:
        filters["node_type"] = query.types
    if query.access:
        filters["access_type"] = query.access
    term_filters = {
        kind: _terms(vocabulary_kind, values, param)
        for kind, vocabulary_kind, values, param in (
            ("p", "processes", query.processes, "process"),
            ("m", "materials", query.materials, "material"),
        )
        if values
    }
    cursor_key = _decode_cursor(query.cursor, sort) if query.cursor else None
    texts = [_Text.of(term) for term in terms]
    plan = _Plan(platform.engine.dialect.name, query, centre, sort, texts, filters, term_filters, cursor_key)
    rows: list[Row] = []
    with platform.engine.connect() as conn:
        ground = plan.ground(conn)
        for radius in plan.rings(ground):
            rows = plan.run(conn, radius, ground)
            if len(rows) > plan.fetch or radius is None or radius >= plan.max_radius:
                break
        return _page(conn, query, sort, plan, rows)


_MIN_FIRST_RING_M = 100.0
_FILTERED_SHARE = 0.1  # the share of nodes a filter (process, type, text…) is taken to keep
# the sort keys' directions; the last key is always node.pk
_DIRECTIONS = {"distance": ("asc", "asc"), "relevance": ("desc", "asc", "asc"), "name": ("asc", "asc")}
_GROUND = select(area_cell.c.cell, area_cell.c.nodes).where(
    area_cell.c.cell.between(bindparam("low"), bindparam("high"))
)


@dataclass(frozen=True)
class _Text:
    """How one query term is matched (see _text_condition) and the text-index tokens it looks for."""

    term: str
    mode: Literal["written", "indexed", "confirmed", "named"]
    any_of: list[list[str]]  # its grams, or a taxonomy term it names: the candidates
    named: tuple[tuple[str, str], ...]  # the taxonomy terms it names: (node_term kind, term id)

    @classmethod
    def of(cls, term: str) -> _Text:
        named = tuple(
            (kind_code, term_id)
            for kind, kind_code in (("processes", "p"), ("materials", "m"), ("equipment_types", "e"))
            if (term_id := taxonomy().resolve(kind, term))
        )
        tokens = [[textindex.term_token(kind_code, term_id)] for kind_code, term_id in named]
        grams = gram_tokens(term)
        if not grams and not named:  # a one-letter term: only the substring test (within the area) finds it
            return cls(term, "written", [], ())
        # A two-letter term is one bigram, so its index match is exact and the rows are read from a
        # covering index; longer terms are confirmed on the text.
        mode = "indexed" if len(term) == 2 else "named" if named else "confirmed"
        return cls(term, mode, [grams] + tokens if grams else tokens, named)


@dataclass(frozen=True)
class _Shape:
    """What decides the SQL text of a search statement; every value goes in as a parameter.

    Building and compiling a statement cost more than running it on an indexed page, so each
    shape is built once (_statement) and then only executed with new parameters.
    """

    dialect: str
    sort: str
    filters: tuple[str, ...]  # node columns tested with IN
    open_now: bool
    located: bool | None  # the node has a point (True), has none (False), either (None)
    term_kinds: tuple[str, ...]  # node_term kinds (p, m) a node must have
    texts: tuple[tuple[str, tuple[str, ...]], ...]  # each query term's _Text.mode and named kinds
    centre: bool
    ring: bool  # a box and a radius
    node_cells: bool  # node.cell among the ring's grid cells
    term_cells: bool  # node_term.cell among them
    after: bool  # a cursor
    near_column: bool  # the distance to `near` as a column, for a page in another order


class _Plan:
    """The statements of one search, one for each search radius it tries.

    Distance-ordered searches try growing rings around the centre and stop at the first ring that
    holds more than a page: the nearest nodes are inside it, so the page is exact, and a dense
    city block is answered from a few grid cells instead of the whole radius. The rings grow
    from the nearest occupied ground (geo.cells.Ground) and read only occupied cells, so a
    search from outside the city reads the edge nearest to it, ring by ring, not half the city.
    """

    def __init__(
        self,
        dialect: str,
        query: SearchQuery,
        centre: tuple[float, float] | None,
        sort: str,
        texts: list[_Text],
        filters: dict[str, list[str]],
        term_filters: dict[str, list[str]],
        cursor_key: list[Any] | None,
    ) -> None:
        self.dialect, self.query, self.centre, self.sort, self.texts = dialect, query, centre, sort, texts
        self.cursor_key = cursor_key
        self.max_radius = self._max_radius()
        self.selective = bool(term_filters or texts or query.types or query.access)
        self.key_count = len(_DIRECTIONS[sort]) - 1
        # "open now" is decided in Python on the hours text: examine a full batch of candidates
        self.fetch = MAX_LIMIT if query.open_now else query.limit
        self.params: dict[str, Any] = {**filters, "limit": self.fetch + 1}
        self.params.update({f"terms_{kind}": ids for kind, ids in term_filters.items()})
        self.params.update({f"t{i}": text.term for i, text in enumerate(texts)})
        self.params.update(
            {f"n{i}_{j}": term_id for i, t in enumerate(texts) for j, (_, term_id) in enumerate(t.named)}
        )
        self.params.update({f"c{i}": value for i, value in enumerate(cursor_key or [])})
        if centre is not None:
            self.params.update(lat0=centre[0], lon0=centre[1], kx=metres_per_degree_lon(centre[0]))
        self.shape = _Shape(
            dialect=dialect,
            sort=sort,
            filters=tuple(filters),
            open_now=query.open_now,
            located=query.located,
            term_kinds=tuple(term_filters),
            texts=tuple((text.mode, tuple(kind for kind, _ in text.named)) for text in texts),
            centre=centre is not None,
            ring=False,
            node_cells=False,
            term_cells=False,
            after=cursor_key is not None,
            near_column=query.near is not None and sort != "distance",
        )

    def _max_radius(self) -> float:
        if self.query.near is not None:
            return self.query.radius_m or DEFAULT_RADIUS_M
        if self.query.bbox is not None:
            box = self.query.bbox
            return max(
                distance_m(*self.centre, lat, lon) for lat in (box.south, box.north) for lon in (box.west, box.east)
            )
        return float("inf")

    def ground(self, conn: Connection) -> Ground | None:
        """The occupied cells within the search radius (and the bbox), when there is a centre."""
        if self.centre is None:
            return None
        reach = circle_bbox(*self.centre, self.max_radius) if self.query.bbox is None else self.query.bbox
        low, high = ground_cell_range(reach)
        return Ground(*self.centre, conn.execute(_GROUND, {"low": low, "high": high}), self.query.bbox)

    def rings(self, ground: Ground | None) -> list[float | None]:
        if ground is None:
            return [None]
        nearest = ground.nearest()
        if nearest is None or nearest > self.max_radius:
            return []
        if self.sort != "distance":
            return [self.max_radius]
        done = (self.cursor_key[0] ** 0.5) if self.cursor_key else 0.0
        # Each ring should hold about twice as many nodes as the one before, the first two batches:
        # one too small costs another statement, one too large reads rows the page does not need.
        wanted = 2 * (self.fetch + 1) / (_FILTERED_SHARE if self.selective else 1.0)
        rings: list[float] = []
        while (radius := max(ground.reach(wanted), nearest + _MIN_FIRST_RING_M)) < self.max_radius:
            if not rings or radius > rings[-1]:
                rings.append(radius)
            wanted *= 2
        return [r for r in rings if r > done] + [self.max_radius]

    def run(self, conn: Connection, radius: float | None, ground: Ground | None) -> list[Row]:
        """The rows of one ring (radius None: no area), at most one more than a batch."""
        params = dict(self.params)
        shape = self.shape
        tokens: list[str] = []
        if radius is not None and ground is not None:
            box = circle_bbox(*self.centre, radius)
            if self.query.bbox is not None:
                box = box.intersection(self.query.bbox)
            area = ground.ring(radius, box, textindex.AREA_TOKEN_BUDGET[self.dialect]) if box is not None else None
            if box is None or area is None:
                return []
            params.update(south=box.south, north=box.north, west=box.west, east=box.east, r2=radius * radius)
            tokens = area.tokens or []
            # Text candidates come by pk from the text index, already narrowed to the ring's cells:
            # testing node.cell again would read every candidate's wide row just for that column.
            narrowed = bool(tokens) and any(text.mode != "written" for text in self.texts)
            if area.cells is not None:
                params["cells"] = area.cells
            cells = area.cells is not None
            shape = replace(shape, ring=True, node_cells=cells and not narrowed, term_cells=cells)
        for i, text in enumerate(self.texts):
            if text.mode != "written":
                params[f"g{i}"] = textindex.gram_query(self.dialect, text.any_of, tokens)
        return conn.execute(_statement(shape), params).all()


@lru_cache(maxsize=512)  # bounded: a long q makes a shape per combination of its terms' modes
def _statement(shape: _Shape) -> Select:
    """The search statement of one shape, with bind parameters named as _Plan.run fills them."""
    conditions: list[ColumnElement[bool]] = [
        node.c[name].in_(bindparam(name, expanding=True)) for name in shape.filters
    ]
    if shape.open_now:
        conditions.append(node.c.opening_hours.is_not(None))
    if shape.located is not None:
        conditions.append(node.c.lat.is_not(None) if shape.located else node.c.lat.is_(None))
    distance2: ColumnElement[float] | None = None
    if shape.centre:
        dx = (node.c.lon - bindparam("lon0", type_=Float)) * bindparam("kx", type_=Float)
        dy = (node.c.lat - bindparam("lat0", type_=Float)) * METRES_PER_DEGREE_LAT
        distance2 = dx * dx + dy * dy
    if shape.ring:
        conditions += [
            node.c.lat.between(bindparam("south", type_=Float), bindparam("north", type_=Float)),
            node.c.lon.between(bindparam("west", type_=Float), bindparam("east", type_=Float)),
        ]
        if shape.node_cells:
            conditions.append(node.c.cell.in_(bindparam("cells", expanding=True)))
        conditions.append(distance2 <= bindparam("r2", type_=Float))
    for kind in shape.term_kinds:
        having = select(node_term.c.node_pk).where(
            node_term.c.kind == kind, node_term.c.term.in_(bindparam(f"terms_{kind}", expanding=True))
        )
        if shape.term_cells:
            having = having.where(node_term.c.cell.in_(bindparam("cells", expanding=True)))
        conditions.append(node.c.pk.in_(having))
    score: ColumnElement[int] = literal(0)
    for i, (mode, kinds) in enumerate(shape.texts):
        term = bindparam(f"t{i}", type_=Text)
        conditions.append(_text_condition(shape.dialect, term, mode, i, kinds))
        score = score + case(
            (_contains(shape.dialect, node.c.name_text, term), 3),
            (_contains(shape.dialect, node.c.tags_text, term), 2),
            (_contains(shape.dialect, node.c.body_text, term), 1),
            else_=0,
        )
    keys = {"distance": [distance2], "relevance": [score, node.c.name_sort], "name": [node.c.name_sort]}[shape.sort]
    keys.append(node.c.pk)
    directions = _DIRECTIONS[shape.sort]
    if shape.after:
        conditions.append(_after(keys, directions))
    columns = [node.c.pk, *(k.label(f"k{i}") for i, k in enumerate(keys[:-1]))]
    if shape.open_now:
        columns.append(node.c.opening_hours)
    if shape.near_column:
        columns.append(distance2.label("near_d2"))
    return (
        select(*columns)
        .where(and_(true(), *conditions))
        .order_by(*(k.desc() if d == "desc" else k.asc() for k, d in zip(keys, directions, strict=True)))
        .limit(bindparam("limit"))
    )


def _contains(dialect: str, column: ColumnElement[str], term: ColumnElement[str]) -> ColumnElement[bool]:
    """Exact substring test (the text is stored normalised): a plain byte search, several times
    faster than LIKE '%…%' on long Korean text, which matters when thousands of candidates are checked."""
    position = func.instr(column, term) if dialect == "sqlite" else func.strpos(column, term)
    return position > 0


def _text_condition(
    dialect: str, term: ColumnElement[str], mode: str, i: int, kinds: tuple[str, ...]
) -> ColumnElement[bool]:
    """Term i inside the node's text, or naming a process, material or machine the node has.

    Both come from the text index, narrowed to the area by its area tokens when there are some, so
    the database reads only those rows by key; the bigram matches are then confirmed on the text.
    One index query (parameter g<i>) gives every candidate; a candidate with a taxonomy term the
    term names (n<i>_<j>, of these kinds) is one by its node_term key: asking the text index a
    second time made PostgreSQL scan it whole once a ring named many area tokens.
    """
    written = or_(
        _contains(dialect, node.c.name_text, term),
        _contains(dialect, node.c.tags_text, term),
        _contains(dialect, node.c.body_text, term),
    )
    if mode == "written":
        return written
    candidates = node.c.pk.in_(textindex.matching_pks(dialect, f"g{i}"))
    if mode == "indexed":
        return candidates
    if mode == "confirmed":
        return and_(candidates, written)
    has = [
        exists().where(
            node_term.c.kind == kind, node_term.c.term == bindparam(f"n{i}_{j}"), node_term.c.node_pk == node.c.pk
        )
        for j, kind in enumerate(kinds)
    ]
    return and_(candidates, or_(*has, written))


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


def _with_extras(record: bytes, row: Row, query: SearchQuery, sort: str) -> bytes:
    """The stored record with this search's distance and relevance added (spliced, not re-encoded)."""
    extras = ""
    if query.near is not None:
        squared = row.k0 if sort == "distance" else row.near_d2
        extras += f',"distance_m":{json.dumps(round(squared**0.5, 1))}'
    if sort == "relevance":
        extras += f',"relevance":{json.dumps(row.k0)}'
    return record[:-1] + extras.encode() + b"}"


def _after(keys: list[ColumnElement], directions: tuple[str, ...]) -> ColumnElement[bool]:
    """Rows strictly after the cursor (parameters c0, c1, …) in the (mixed-direction) sort order."""
    values = [bindparam(f"c{i}") for i in range(len(keys))]
    clauses = []
    for i, (key, direction) in enumerate(zip(keys, directions, strict=True)):
        beyond = key < values[i] if direction == "desc" else key > values[i]
        clauses.append(and_(*(keys[j] == values[j] for j in range(i)), beyond))
    return or_(*clauses)
