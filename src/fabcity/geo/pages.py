"""A district's page: its nodes by type, statistics and dong map; the prototype zones are marked."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fabcity.directory import vocabulary
from fabcity.errors import NotFound
from fabcity.geo import service as geo_service
from fabcity.geo.districts import PROTOTYPE_ZONES
from fabcity.geo.statistics import indicator_name, unit_name
from fabcity.measure.districts import period_label
from fabcity.platform import Platform
from fabcity.web.deps import PlatformDep, render

router = APIRouter(include_in_schema=False)


@router.get("/districts/{code}", response_class=HTMLResponse)
def district_page(request: Request, code: str, platform: PlatformDep) -> HTMLResponse:
    detail = geo_service.district_detail(platform, code)
    if detail is None:
        raise NotFound(f"no district with code {code!r}")
    dong_indicators: list[tuple[str, tuple[str, str]]] = []
    if detail["level"] == "gu":
        dongs = geo_service.districts(platform, "dong", detail["code"])
        names = sorted({name for d in dongs for name in d["statistics"]}, key=_reading_order)
        dong_indicators = [(name, indicator_name(name)) for name in names]
    return render(
        request,
        "geo/district.html",
        district=detail,
        node_types=vocabulary.NODE_TYPES,
        prototype=detail["code"] in PROTOTYPE_ZONES,
        statistic_groups=_by_source(platform, detail["statistics"]),
        dong_indicators=dong_indicators,
    )


def _reading_order(indicator: str) -> tuple[int, str]:
    """Residents and area first, then the totals, then the KSIC sections in their order."""
    first = ("population", "population_foreign", "area", "businesses", "workers")
    return (first.index(indicator), "") if indicator in first else (len(first), indicator)


def _by_source(platform: Platform, statistics: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The statistics in one table per source, each under the source's title, licence and attribution."""
    sources = geo_service.sources_of(platform, statistics)
    groups: dict[str, dict[str, Any]] = {}
    for name in sorted(statistics, key=_reading_order):
        stat = statistics[name]
        source = sources.get(stat["source"], {"id": stat["source"], "title": stat["source"]})
        group = groups.setdefault(stat["source"], {"source": source, "rows": []})
        shown = {"name": indicator_name(name), "unit": unit_name(stat["unit"]), "period": period_label(stat["period"])}
        group["rows"].append({**stat, **shown})
    return list(groups.values())
