"""Seoul's geography as JSON: districts with their statistics and outlines, cluster zones, stations."""

from __future__ import annotations

import gzip
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from fabcity.directory.search import parse_point
from fabcity.errors import NotFound, ParameterError
from fabcity.geo import service as geo_service
from fabcity.web.deps import PlatformDep
from fabcity.web.downloads import GEOJSON, also_as
from fabcity.web.errors import documented

router = APIRouter(prefix="/api/v1", tags=["geography"])


@router.get("/districts", summary="Gu or dongs with statistics and node counts", responses=also_as(GEOJSON))
def list_districts(
    request: Request,
    platform: PlatformDep,
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
            return Response(_gzipped(body), media_type=GEOJSON, headers=headers)
        return Response(body, media_type=GEOJSON)
    if format == "geojson":
        return JSONResponse(geo_service.boundaries(platform, level, parent), media_type=GEOJSON)
    return {"results": geo_service.districts(platform, level, parent)}


@router.get("/districts/{code}", responses=documented(404))
def get_district(code: str, platform: PlatformDep) -> dict[str, Any]:
    detail = geo_service.district_detail(platform, code)
    if detail is None:
        raise NotFound(f"no district with code {code!r} (MOIS or KOSTAT)")
    return detail


@router.get("/clusters", summary="Production cluster zones (집적지)")
def clusters(platform: PlatformDep) -> dict[str, Any]:
    return geo_service.cluster_zones(platform)


@router.get("/stations", summary="Subway stations near a point or by name")
def stations(
    platform: PlatformDep,
    near: Annotated[str | None, Query(description="lat,lon: the nearest stations")] = None,
    q: Annotated[str | None, Query(description="part of a name, Korean or English (연신내)", max_length=50)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> Any:
    if near:
        lat, lon = parse_point(near, "near")
        return {"results": [s.public(d) for s, d in platform.stations.nearest(lat, lon, limit)]}
    if q:
        return {"results": [s.public() for s in platform.stations.named(q, limit)]}
    raise ParameterError("near", "give near=lat,lon or q=name")


@lru_cache(maxsize=64)
def _gzipped(body: bytes) -> bytes:
    """A large answer that never changes (district outlines) is compressed once, not per request."""
    return gzip.compress(body, compresslevel=6)
