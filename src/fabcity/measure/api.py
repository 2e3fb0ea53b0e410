"""Measurement as JSON or CSV: quotients and capacity by district, the Fab City Index, activation,
resilience and input–output multipliers. Every answer names its source, period and method."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from fabcity.errors import NotFound, ParameterError
from fabcity.measure.activation import activation, activation_trend
from fabcity.measure.districts import KSIC_SECTIONS, census_table
from fabcity.measure.io import MeasureError
from fabcity.measure.iotables import Quotient, list_tables, load_table
from fabcity.measure.resilience import CAPITAL_REGION, korea_regions
from fabcity.measure.resilience import METHOD as RESILIENCE_METHOD
from fabcity.web.deps import PlatformDep, RowId
from fabcity.web.downloads import CSV, also_as, csv_download
from fabcity.web.errors import documented

router = APIRouter(prefix="/api/v1/indicators", tags=["measurement"])
Period = Annotated[str | None, Query(description="census year, e.g. 2018 (default: the latest)", max_length=10)]
# A month as the document can say it; one that is no month (2026-13) is a 422 all the same.
_MONTH = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"
# The sections the census counts, listed in the document (a Literal made from the table).
Section = Literal[tuple(KSIC_SECTIONS)]  # type: ignore[valid-type]


@router.get("/sections", summary="Location quotients and capacity by district", responses=also_as(CSV))
def indicator_sections(
    platform: PlatformDep,
    level: Literal["gu", "dong"] = "gu",
    parent: Annotated[str | None, Query(description="a gu code, to list its dongs")] = None,
    section: Annotated[Section | None, Query(description="a KSIC section letter, e.g. C (manufacturing)")] = None,
    format: Literal["json", "csv"] = "json",  # noqa: A002
    period: Period = None,
) -> Any:
    table = census_table(platform, period)
    rows = table.rows(level, parent, section)
    if format == "csv":
        return csv_download(rows, f"fabcity-sections-{level}.csv")
    return {"method": table.method, "results": rows}


@router.get("/activation", summary="Activation per gu for a month", responses=also_as(CSV))
def indicator_activation(
    platform: PlatformDep,
    month: Annotated[str | None, Query(description="YYYY-MM (default: this month, KST)", pattern=_MONTH)] = None,
    format: Literal["json", "csv"] = "json",  # noqa: A002
) -> Any:
    answer = activation(platform, month)
    if format == "csv":
        rows = [{**row, "suppressed": ";".join(row["suppressed"])} for row in [answer["seoul"], *answer["results"]]]
        return csv_download(rows, f"fabcity-activation-{answer['month']}.csv")
    return answer


@router.get("/activation/trend", summary="Active nodes month by month", responses=also_as(CSV))
def indicator_activation_trend(
    platform: PlatformDep,
    until: Annotated[
        str | None, Query(description="the last month, YYYY-MM (default: this month, KST)", pattern=_MONTH)
    ] = None,
    months: Annotated[int, Query(ge=1, le=120, description="how many months up to `until`")] = 12,
    format: Literal["json", "csv"] = "json",  # noqa: A002
) -> Any:
    answer = activation_trend(platform, until, months)
    if format == "csv":
        rows = [
            {key: series[key] for key in ("code", "name_ko", "name_en")}
            | dict(zip(answer["months"], series["active_nodes"], strict=True))
            for series in answer["series"]
        ]
        return csv_download(rows, f"fabcity-activation-trend-{answer['months'][-1]}.csv")
    return answer


@router.get("/resilience", summary="The 11 OECD well-being topics, 0–10", responses=also_as(CSV))
def indicator_resilience(format: Literal["json", "csv"] = "json") -> Any:  # noqa: A002
    regions = korea_regions()
    if format == "csv":
        rows = [{"region": region["code"], "region_name": region["name"], "topic": topic["id"],
                 "topic_ko": topic["label"]["ko"], "topic_en": topic["label"]["en"], "score": topic["score"],
                 "published_score": topic["published_score"]}
                for region in regions for topic in region["topics"]]  # fmt: skip
        return csv_download(rows, "fabcity-resilience-oecd-2016.csv")
    return {"method": RESILIENCE_METHOD, "capital_region": CAPITAL_REGION, "results": regions}


@router.get("/indices", summary="The Fab City capacity index of every gu or dong", responses=also_as(CSV))
def indicator_indices(
    platform: PlatformDep,
    level: Literal["gu", "dong"] = "gu",
    format: Literal["json", "csv"] = "json",  # noqa: A002
    period: Period = None,
) -> Any:
    """A capacity index (census proxy), not self-sufficiency: see `method.meaning`."""
    table = census_table(platform, period)
    rows = table.indices(level)
    if format == "csv":
        return csv_download(rows, f"fabcity-index-{level}.csv")
    return {"method": table.method, "results": rows}


@router.get("/index", summary="The Fab City capacity index (census proxy) of a gu, a dong or Seoul")
def indicator_index(
    platform: PlatformDep,
    place: Annotated[
        str | None,
        Query(description="a gu or dong: code or name (은평구); 서울, Seoul or none: Seoul as a whole", max_length=100),
    ] = None,
    period: Period = None,
) -> Any:
    """A capacity index, not self-sufficiency: how far a place's workers could cover what its residents need.
    The Fab City pledge (50 % of what the city consumes made in the city by 2054) is measured by the
    self-supply index of an input–output table (`/io/{table_id}?place=…`); `gap_to_50` is given for that
    index only. Seoul's figure is the mean of its 25 gu, listed in `gus`."""
    return census_table(platform, period).place_index(place)


@router.get("/io", summary="Imported input–output tables")
def indicator_io_tables(platform: PlatformDep) -> dict[str, Any]:
    return {"results": list_tables(platform.engine)}


@router.get("/io/{table_id}", summary="Output multipliers of an IO table", responses=documented(404))
def indicator_io(
    platform: PlatformDep,
    table_id: RowId,
    place: Annotated[
        str | None, Query(description="a gu or dong, to regionalise the table for it", min_length=1, max_length=100)
    ] = None,
    quotient: Quotient = "flq",
    delta: Annotated[float, Query(ge=0, lt=1, description="δ of FLQ and AFLQ")] = 0.3,
    period: Period = None,
) -> Any:
    """National multipliers; with a place, the regionalised ones and the regional purchase coefficients."""
    stored = load_table(platform.engine, table_id)
    if stored is None:
        raise NotFound(f"no input–output table {table_id}")
    if place is None:
        return stored.answer()
    try:
        return stored.answer(census_table(platform, period), platform.districts.one(place), quotient, delta)
    except MeasureError as error:
        raise ParameterError("place", str(error)) from None
