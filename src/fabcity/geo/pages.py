"""A district's page: its nodes by type, statistics and dong map; the prototype zones are marked."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fabcity.directory import vocabulary
from fabcity.errors import NotFound
from fabcity.geo import service as geo_service
from fabcity.geo.districts import PROTOTYPE_ZONES
from fabcity.web.deps import PlatformDep, render

router = APIRouter(include_in_schema=False)


@router.get("/districts/{code}", response_class=HTMLResponse)
def district_page(request: Request, code: str, platform: PlatformDep) -> HTMLResponse:
    detail = geo_service.district_detail(platform, code)
    if detail is None:
        raise NotFound(f"no district with code {code!r}")
    dong_indicators: list[str] = []
    if detail["level"] == "gu":
        dongs = geo_service.districts(platform, "dong", detail["code"])
        dong_indicators = sorted({name for d in dongs for name in d["statistics"]})
    return render(
        request,
        "geo/district.html",
        district=detail,
        node_types=vocabulary.NODE_TYPES,
        prototype=detail["code"] in PROTOTYPE_ZONES,
        dong_indicators=dong_indicators,
    )
