"""HTTP API (v1). Thin: every endpoint parses parameters and calls the same services as the CLI."""

from __future__ import annotations

import gzip
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from fabcity import __version__, dataset
from fabcity.directory import vocabulary
from fabcity.directory.formats import geojson
from fabcity.directory.read import record_texts, to_json
from fabcity.directory.search import QueryError, SearchQuery, parse_bbox, parse_point, search
from fabcity.directory.taxonomy import KINDS, taxonomy
from fabcity.geo import service as geo_service
from fabcity.matching.allocate import Demand, allocate, allocate_greedy, node_capacities
from fabcity.matching.need import Need
from fabcity.matching.parse import Reading, read_need
from fabcity.matching.rank import rank
from fabcity.measure.activation import activation, activation_trend
from fabcity.measure.districts import KSIC_SECTIONS, CensusTable, PeriodError, census_table
from fabcity.measure.io import MeasureError
from fabcity.measure.iotables import Quotient, list_tables, load_table
from fabcity.measure.resilience import CAPITAL_REGION, korea_regions
from fabcity.measure.resilience import METHOD as RESILIENCE_METHOD
from fabcity.platform import Platform
from fabcity.storage.schema import node
from fabcity.web import pages
from fabcity.web.api_write import SERVICE_ERRORS, error_answer
from fabcity.web.api_write import router as write_router
from fabcity.web.downloads import csv_download
from fabcity.web.query import openapi_parameters, read_query
from fabcity.web.security import SecurityHeaders
from fabcity.web.turns import Turns

Period = Annotated[str | None, Query(description="census year, e.g. 2018 (default: the latest)", max_length=10)]
# Request threads per worker process, for the endpoints declared with `def` (the search takes
# turns on the event loop instead: web.turns). SQLite work is all CPU in this process, so one
# thread serves best; with PostgreSQL a second one runs while the first waits on the server.
# Measured on the search when it still ran in threads, 32 clients, 2 cores, 2 workers, 100k nodes
# (bench/http_bench.py): 40 threads (the default) gave 321 req/s and p99 440 ms on SQLite, 164
# req/s and 719 ms on PostgreSQL; these settings 464 req/s and 170 ms, 170 req/s and 464 ms.
REQUEST_THREADS = {"sqlite": 1, "postgresql": 2}


def _split(values: list[str]) -> list[str]:
    """Repeated parameters and comma-separated lists mean the same: ?type=a&type=b or ?type=a,b."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def query_error(param: str, message: str) -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content={"detail": [{"loc": ["query", param], "msg": message, "type": "value_error"}]},
    )


class CallNeed(BaseModel):
    id: str = Field(max_length=100)
    text: str | None = Field(None, max_length=2000)
    need: Need | None = None


class AllocateRequest(BaseModel):
    needs: list[CallNeed] = Field(min_length=1, max_length=20_000)
    capacities: dict[str, int] = Field(
        default_factory=dict, description="units per node (id or slug); others take their typical batch band's top"
    )


class MatchRequest(BaseModel):
    text: str | None = Field(None, max_length=2000, examples=["아크릴 간판 200개, 레이저 커팅, 은평구 근처, 3월까지"])
    need: Need | None = None
    limit: int = Field(20, ge=1, le=100)


class NodeSearchParams(BaseModel):
    """The query parameters of GET /api/v1/nodes (read by web.query, not by FastAPI's signature)."""

    q: str | None = Field(None, description="Free text (레이저 finds 레이저커터)", max_length=200)
    near: str | None = Field(None, description="lat,lon", examples=["37.5665,126.9780"])
    radius_m: float | None = Field(None, description="metres around `near` (default 50 km)")
    bbox: str | None = Field(None, description="south,west,north,east")
    gu: list[str] = Field([], description="gu: code, Korean or English name; repeat or separate by commas")
    dong: list[str] = Field([], description="administrative dong: code or name")
    type: list[str] = Field([], description="node type, e.g. fab_lab")
    process: list[str] = Field([], description="process id or alias, e.g. laser_cutting or 레이저커팅")
    material: list[str] = Field([], description="material id or alias")
    access: list[str] = Field([], description="access type (Open Know-Where)")
    status: list[str] = Field(["active"], description="node status")
    sort: Literal["distance", "relevance", "name"] | None = None
    limit: int = Field(20, ge=1, le=1000)
    cursor: str | None = Field(None, max_length=2000)
    format: Literal["json", "geojson"] = "json"
    open_now: bool = Field(False, description="only nodes whose opening hours say open now (KST)")
    fields: Literal["full", "summary"] = Field("full", description="summary: what a map marker needs, much lighter")


def create_app(platform: Platform) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = REQUEST_THREADS.get(platform.engine.dialect.name, 2)
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="fabcity API",
        version=__version__,
        description="Seoul's production nodes: where they are, what they can make, and how to get access. "
        "서울의 생산 노드 — 위치, 제작 역량, 이용 방법.",
        docs_url=None,  # served by the pages, from local Swagger UI files (no CDN)
        redoc_url=None,
    )
    app.state.platform = platform
    searches = Turns()
    app.add_middleware(SecurityHeaders, tile_url=os.environ.get("FABCITY_TILE_URL", ""))
    # Map viewports shrink ~6×. Starlette compresses at level 9 unless told: 3.8 ms for a summary
    # viewport of 500 nodes (148 KB -> 25 KB), more than finding them. Level 1 takes 0.8 ms for
    # 31 KB; with browsers' Accept-Encoding, 32 clients, 100k nodes, 2 workers: 660 -> 950 req/s,
    # p99 81 -> 50 ms (level 4: 890 req/s, 52 ms, 28 KB).
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=1)
    error_page = pages.install(app, platform)

    async def _service_error(request: Request, error: Exception) -> Response:
        """JSON for the API, a page (or the sign-in form) for a person."""
        return error_answer(error) if request.url.path.startswith("/api/") else error_page(request, error)

    for error_class in SERVICE_ERRORS:
        app.add_exception_handler(error_class, _service_error)
    app.include_router(write_router(platform))

    @app.exception_handler(QueryError)
    async def _query_error(_request: Request, error: QueryError) -> JSONResponse:
        return query_error(error.param, error.message)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        with platform.engine.connect() as conn:
            conn.execute(select(1))
        return {"status": "ok", "version": __version__}

    @app.get(
        "/api/v1/nodes",
        tags=["directory"],
        summary="Search production nodes",
        openapi_extra={"parameters": openapi_parameters(NodeSearchParams)},
        responses={422: {"description": "A parameter is invalid: `detail[].loc` names it"}},
    )
    async def list_nodes(request: Request) -> Response:
        params = read_query(NodeSearchParams, request.query_params)
        query = SearchQuery(
            q=params.q,
            near=parse_point(params.near, "near") if params.near else None,
            radius_m=params.radius_m,
            bbox=parse_bbox(params.bbox) if params.bbox else None,
            gu=_split(params.gu),
            dong=_split(params.dong),
            types=_split(params.type),
            processes=_split(params.process),
            materials=_split(params.material),
            access=_split(params.access),
            status=_split(params.status),
            sort=params.sort,
            limit=params.limit,
            cursor=params.cursor,
            fields=params.fields,
            open_now=params.open_now,
        )
        return await searches.run(_nodes_answer, query, params.format)

    def _nodes_answer(query: SearchQuery, format: str) -> Response:  # noqa: A002
        page = search(platform, query)
        if format == "geojson":
            collection = geojson.feature_collection(page.results)
            collection["next_cursor"] = page.next_cursor
            return JSONResponse(collection, media_type="application/geo+json")
        # The records are stored JSON: join them as they are instead of decoding and re-encoding.
        tail = to_json({"count": len(page.records), "sort": page.sort, "next_cursor": page.next_cursor})
        body = b"".join((b'{"results":[', b",".join(page.records), b"],", tail[1:].encode()))
        return Response(body, media_type="application/json")

    @app.get("/api/v1/nodes/{node_id}", tags=["directory"], summary="One node by id or slug")
    def get_node(node_id: str) -> Response:
        with platform.engine.connect() as conn:
            pk = conn.execute(select(node.c.pk).where(or_(node.c.id == node_id, node.c.slug == node_id))).scalar()
            if pk is None:
                raise HTTPException(404, f"no node {node_id!r}")
            return Response(record_texts(conn, [pk])[0], media_type="application/json")

    @app.get("/api/v1/districts", tags=["geography"], summary="Gu or dongs with statistics and node counts")
    def list_districts(
        request: Request,
        level: Literal["gu", "dong"] = "gu",
        parent: Annotated[str | None, Query(description="a gu code, to list its dongs")] = None,
        format: Literal["json", "geojson"] = "json",  # noqa: A002
        fields: Annotated[
            Literal["full", "outline"], Query(description="outline: shapes with codes and names only, for maps")
        ] = "full",
    ) -> Any:
        if format == "geojson" and fields == "outline":
            body = geo_service.outlines(platform, level, parent)
            if "gzip" in request.headers.get("accept-encoding", ""):
                headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
                return Response(_gzipped(body), media_type="application/geo+json", headers=headers)
            return Response(body, media_type="application/geo+json")
        if format == "geojson":
            return JSONResponse(geo_service.boundaries(platform, level, parent), media_type="application/geo+json")
        return {"results": geo_service.districts(platform, level, parent)}

    @app.get("/api/v1/districts/{code}", tags=["geography"])
    def get_district(code: str) -> dict[str, Any]:
        detail = geo_service.district_detail(platform, code)
        if detail is None:
            raise HTTPException(404, f"no district with code {code!r} (MOIS or KOSTAT)")
        return detail

    @app.get("/api/v1/clusters", tags=["geography"], summary="Production cluster zones (집적지)")
    def clusters() -> dict[str, Any]:
        return geo_service.cluster_zones(platform)

    @app.get("/api/v1/stations", tags=["geography"], summary="Subway stations near a point or by name")
    def stations(
        near: Annotated[str | None, Query(description="lat,lon: the nearest stations")] = None,
        q: Annotated[str | None, Query(description="part of a name, Korean or English (연신내)", max_length=50)] = None,
        limit: Annotated[int, Query(ge=1, le=50)] = 5,
    ) -> Any:
        if near:
            lat, lon = parse_point(near, "near")
            return {"results": [s.public(d) for s, d in platform.stations.nearest(lat, lon, limit)]}
        if q:
            return {"results": [s.public() for s in platform.stations.named(q, limit)]}
        return query_error("near", "give near=lat,lon or q=name")

    @app.get("/api/v1/taxonomy", tags=["directory"], summary="Processes, materials, machines, vocabularies")
    def get_taxonomy() -> dict[str, Any]:
        vocabulary_lists = {
            "node_types": vocabulary.public_list(vocabulary.NODE_TYPES),
            "statuses": vocabulary.public_list(vocabulary.STATUSES),
            "access_types": vocabulary.public_list(vocabulary.ACCESS_TYPES),
            "run_sizes": vocabulary.public_list(vocabulary.RUN_SIZES),
            "precisions": vocabulary.public_list(vocabulary.PRECISIONS),
            "batch_sizes": list(vocabulary.BATCH_SIZES),
        }
        terms = {kind: [t.public() for t in taxonomy().terms[kind].values()] for kind in KINDS}
        return {**terms, **vocabulary_lists}

    @app.post("/api/v1/match", tags=["matching"], summary="Nodes that can make a need, ranked and explained")
    def match(request: MatchRequest) -> dict[str, Any]:
        """Give `text` (Korean or English) or a structured `need`; the answer says how the need was read."""
        if request.need is not None:
            reading = Reading(request.need)
        elif request.text and request.text.strip():
            reading = read_need(request.text, platform.districts, platform.stations)
        else:
            return query_error("text", "give the need as text or as a structured need")
        return {**reading.public(), **rank(platform, reading.need, request.limit).public()}

    @app.post("/api/v1/match/allocate", tags=["matching"], summary="Allocate an open call's needs to nodes")
    def allocate_call(request: AllocateRequest) -> Any:
        """Most needs covered, then least total distance; with the greedy nearest-first result for comparison."""
        demands = []
        for item in request.needs:
            if item.need is None and not (item.text and item.text.strip()):
                return query_error("needs", f"need {item.id!r}: give text or a structured need")
            need = item.need or read_need(item.text, platform.districts, platform.stations).need
            demands.append(Demand(item.id, need))
        capacities = node_capacities(platform, request.capacities)
        try:
            best = allocate(demands, capacities)
        except ValueError as error:
            return query_error("needs", str(error))
        baseline = allocate_greedy(demands, capacities)
        slugs = {c.id: c.slug for c in capacities}
        answer = best.public()
        for assignment in answer["assignments"]:
            assignment["node"] = {"id": assignment["node"], "slug": slugs[assignment["node"]]}
        answer["baseline"] = {k: baseline.public()[k] for k in ("method", "covered", "total_distance_m")}
        return answer

    def census(period: str | None = None) -> CensusTable:
        try:
            return census_table(platform, period)
        except PeriodError as error:
            raise QueryError("period", str(error)) from None

    def _place(place: str):  # noqa: ANN202
        found = platform.districts.resolve(place)
        if len(found) != 1:
            raise QueryError("place", f"{place!r} names {'no' if not found else 'more than one'} gu or dong")
        return found[0]

    @app.get("/api/v1/indicators/sections", tags=["measurement"], summary="Location quotients and capacity by district")
    def indicator_sections(
        level: Literal["gu", "dong"] = "gu",
        parent: Annotated[str | None, Query(description="a gu code, to list its dongs")] = None,
        section: Annotated[str | None, Query(description="a KSIC section letter, e.g. C (manufacturing)")] = None,
        format: Literal["json", "csv"] = "json",  # noqa: A002
        period: Period = None,
    ) -> Any:
        if section is not None and section not in KSIC_SECTIONS:
            return query_error("section", f"unknown KSIC section {section!r}; use one of {', '.join(KSIC_SECTIONS)}")
        table = census(period)
        rows = table.rows(level, parent, section)
        if format == "csv":
            return csv_download(rows, f"fabcity-sections-{level}.csv")
        return {"method": table.method, "results": rows}

    @app.get("/api/v1/indicators/activation", tags=["measurement"], summary="Activation per gu for a month")
    def indicator_activation(
        month: Annotated[str | None, Query(description="YYYY-MM (default: this month, KST)")] = None,
        format: Literal["json", "csv"] = "json",  # noqa: A002
    ) -> Any:
        try:
            answer = activation(platform, month)
        except ValueError as error:
            return query_error("month", str(error).removeprefix("month: "))
        if format == "csv":
            rows = [{**row, "suppressed": ";".join(row["suppressed"])} for row in [answer["seoul"], *answer["results"]]]
            return csv_download(rows, f"fabcity-activation-{answer['month']}.csv")
        return answer

    @app.get("/api/v1/indicators/activation/trend", tags=["measurement"], summary="Active nodes month by month")
    def indicator_activation_trend(
        until: Annotated[str | None, Query(description="the last month, YYYY-MM (default: this month, KST)")] = None,
        months: Annotated[int, Query(ge=1, le=120, description="how many months up to `until`")] = 12,
        format: Literal["json", "csv"] = "json",  # noqa: A002
    ) -> Any:
        try:
            answer = activation_trend(platform, until, months)
        except ValueError as error:
            return query_error("until", str(error).removeprefix("month: "))
        if format == "csv":
            rows = [
                {key: series[key] for key in ("code", "name_ko", "name_en")}
                | dict(zip(answer["months"], series["active_nodes"], strict=True))
                for series in answer["series"]
            ]
            return csv_download(rows, f"fabcity-activation-trend-{answer['months'][-1]}.csv")
        return answer

    @app.get("/api/v1/indicators/resilience", tags=["measurement"], summary="The 11 OECD well-being topics, 0–10")
    def indicator_resilience(format: Literal["json", "csv"] = "json") -> Any:  # noqa: A002
        regions = korea_regions()
        if format == "csv":
            rows = [{"region": region["code"], "region_name": region["name"], "topic": topic["id"],
                     "topic_ko": topic["label"]["ko"], "topic_en": topic["label"]["en"], "score": topic["score"],
                     "published_score": topic["published_score"]}
                    for region in regions for topic in region["topics"]]  # fmt: skip
            return csv_download(rows, "fabcity-resilience-oecd-2016.csv")
        return {"method": RESILIENCE_METHOD, "capital_region": CAPITAL_REGION, "results": regions}

    @app.get("/api/v1/indicators/indices", tags=["measurement"], summary="The index of every gu or dong")
    def indicator_indices(
        level: Literal["gu", "dong"] = "gu",
        format: Literal["json", "csv"] = "json",  # noqa: A002
        period: Period = None,
    ) -> Any:
        table = census(period)
        rows = table.indices(level)
        if format == "csv":
            return csv_download(rows, f"fabcity-index-{level}.csv")
        return {"method": table.method, "results": rows}

    @app.get("/api/v1/indicators/index", tags=["measurement"], summary="The Fab City Index of a gu or dong")
    def indicator_index(
        place: Annotated[str, Query(description="a gu or dong: code or name (은평구)")], period: Period = None
    ) -> Any:
        district = _place(place)
        table = census(period)
        index = table.index(district.code)
        names = {letter: {"ko": ko, "en": en} for letter, (ko, en) in KSIC_SECTIONS.items()}
        return {"place": district.public(), "method": table.method, **index.public(), "section_names": names}

    @app.get("/api/v1/indicators/io", tags=["measurement"], summary="Imported input–output tables")
    def indicator_io_tables() -> dict[str, Any]:
        return {"results": list_tables(platform.engine)}

    @app.get("/api/v1/indicators/io/{table_id}", tags=["measurement"], summary="Output multipliers of an IO table")
    def indicator_io(
        table_id: int,
        place: Annotated[str | None, Query(description="a gu or dong, to regionalise the table for it")] = None,
        quotient: Quotient = "flq",
        delta: Annotated[float, Query(ge=0, lt=1, description="δ of FLQ and AFLQ")] = 0.3,
        period: Period = None,
    ) -> Any:
        """National multipliers; with a place, the regionalised ones and the regional purchase coefficients."""
        stored = load_table(platform.engine, table_id)
        if stored is None:
            raise HTTPException(404, f"no input–output table {table_id}")
        if place is None:
            return stored.answer()
        try:
            return stored.answer(census(period), _place(place), quotient, delta)
        except MeasureError as error:
            return query_error("place", str(error))

    @app.get("/api/v1/about/data", tags=["meta"], summary="Data sources, licences and attribution")
    def about_data() -> dict[str, Any]:
        return {"dataset": dataset.DATASET_VERSION, "sources": dataset.sources(), "notice": dataset.notice()}

    # Starlette tries the routes in order, and the map's viewports outnumber every other request:
    # trying the 30 routes declared before the search took 0.09 ms of its 1.5 ms.
    app.router.routes.sort(key=lambda route: getattr(route, "path", None) != "/api/v1/nodes")
    return app


@lru_cache(maxsize=64)
def _gzipped(body: bytes) -> bytes:
    """A large answer that never changes (district outlines) is compressed once, not per request."""
    return gzip.compress(body, compresslevel=6)


def app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory` workers: each opens the database named by FABCITY_DB."""
    from fabcity.startup import open_platform, settle

    platform = open_platform(os.environ.get("FABCITY_DB"))
    app = create_app(platform)
    settle(platform)
    return app
