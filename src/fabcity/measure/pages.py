"""The dashboard: how far Fab City Seoul has come, by gu and dong, beside the prototype zones."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fabcity.clock import seoul_month
from fabcity.geo.districts import PROTOTYPE_ZONES
from fabcity.measure.activation import activation
from fabcity.measure.districts import KSIC_SECTIONS, census_table, period_label
from fabcity.measure.districts import periods as census_periods
from fabcity.measure.iotables import list_tables
from fabcity.measure.resilience import CAPITAL_REGION, korea_regions
from fabcity.web import i18n
from fabcity.web.deps import PlatformDep, render, say
from fabcity.web.i18n import mark

router = APIRouter(include_in_schema=False)
CAPACITY_INDEX = mark("Fab City capacity index (census proxy)")
NOT_SELF_SUPPLY = mark("A capacity index, not self-sufficiency: it does not say whether the pledge for 2054 is met.")


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, platform: PlatformDep) -> HTMLResponse:
    month = seoul_month()
    census = census_table(platform)
    gus = sorted(platform.districts.gus(), key=lambda d: d.name_ko)
    zones = [platform.districts.by_code[code] for code in PROTOTYPE_ZONES]
    active = activation(platform, month)
    per_10k = {row["code"]: row["active_per_10k_residents"] for row in active["results"]}

    def manufacturing(code: str, field: str) -> float | None:
        return getattr(next(f for f in census.figures(code) if f.section == "C"), field)

    def gu_average(measure: Callable[[str], float | None]) -> float | None:
        known = [value for gu in gus if (value := measure(gu.code)) is not None]
        return sum(known) / len(known) if known else None

    mean_of_gus, whole_city = say(request, mark("mean of the 25 gu")), say(request, mark("Seoul as a whole"))
    comparison = [
        {"label": say(request, CAPACITY_INDEX), "values": [census.index(z.code).value for z in zones],
         "seoul": census.seoul_index(), "seoul_how": mean_of_gus},
    ]  # fmt: skip
    comparison += [
        {"label": say(request, text), "values": [measure(z.code) for z in zones], "seoul": gu_average(measure),
         "seoul_how": mean_of_gus}
        for text, measure in (
            (mark("Manufacturing location quotient"), lambda code: manufacturing(code, "slq")),
            (mark("Manufacturing capacity ratio"), lambda code: manufacturing(code, "capacity_ratio")),
        )
    ]  # fmt: skip
    comparison.append({
        "label": say(request, mark("Active production nodes per 10,000 residents")),
        "values": [per_10k.get(z.code) for z in zones],
        "seoul": active["seoul"]["active_per_10k_residents"], "seoul_how": whole_city,
    })  # fmt: skip
    with platform.engine.connect() as conn:
        years = census_periods(conn, "workers")
    over_time = []
    for year in years:
        table = census_table(platform, year)
        over_time.append({
            "period": period_label(year),
            "values": [table.index(z.code).value for z in zones],
            "seoul": table.seoul_index(),
        })  # fmt: skip
    regions = {region["code"]: region for region in korea_regions()}
    periods = {"census": period_label(census.workers_period), "residents": period_label(census.residents_period)}
    census_source = say(request, mark("Source: %(census)s business census (workers by KSIC section) and "
                                      "%(residents)s residents, KOGL Type 1.")) % periods  # fmt: skip
    activation_source = say(request, mark("Source: this platform's records for %(month)s and %(residents)s "
                                          "residents.")) % {**periods, "month": month}  # fmt: skip
    return render(
        request, "measure/dashboard.html", month=month, gus=gus, comparison=comparison, periods=periods,
        over_time=over_time,
        indicators=_choropleth_indicators(
            lambda text: say(request, text), i18n.language_of(request), census_source, activation_source
        ),
        zones=[{"name": {"ko": z.name_ko, "en": z.name_en}} for z in zones],
        seoul_index=census.seoul_index(), io_tables=len(list_tables(platform.engine)),
        no_known_start=active["seoul"]["no_known_start"],
        bookings=[active["seoul"], *sorted(active["results"], key=lambda row: row["name_ko"])],
        capital=regions[CAPITAL_REGION], korea=regions["KOR"],
    )  # fmt: skip


def _choropleth_indicators(
    translate: Callable[[str], str], lang: str, census_source: str, activation_source: str
) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Every figure the dashboard map can show, grouped: (value, label, source and method in the page's language)."""
    index_method = translate(mark("Method: capacity = 100 × Σ weight × min(1, share of Seoul's workers in the section "
                                  "÷ share of its residents) ÷ Σ weight; sections weighted by their share of Seoul's "
                                  "workers."))  # fmt: skip
    slq_method = translate(mark("Method: location quotient = the district's share of workers in the section ÷ "
                                "Seoul's share; above 1, the district is more specialised than Seoul."))  # fmt: skip
    capacity_method = translate(mark("Method: capacity ratio = the district's share of Seoul's workers in the "
                                     "section ÷ its share of Seoul's residents."))  # fmt: skip
    per_gu = translate(mark("Method: counted by gu only; counts from 1 to 4 are suppressed."))
    sections = [(letter, f"{letter} {i18n.label(names, lang)}") for letter, names in KSIC_SECTIONS.items()]
    activations = [
        ("active_per_10k_residents", mark("Active production nodes per 10,000 residents")),
        ("active_nodes", mark("Active production nodes")),
        ("active_last_90_days", mark("Nodes updated in the last 90 days")),
        ("share_of_seoul_active", mark("Share of Seoul's active nodes")),
        ("bookings", mark("Bookings kept this month")),
        ("booked_machine_hours", mark("Booked machine-hours this month")),
        ("unique_bookers", mark("Members who booked this month")),
    ]
    return [
        (translate(CAPACITY_INDEX),
         [("index", translate(CAPACITY_INDEX), f"{census_source} {index_method} {translate(NOT_SELF_SUPPLY)}")]),
        (translate(mark("Location quotient by KSIC section")),
         [(f"slq:{letter}", name, f"{census_source} {slq_method}") for letter, name in sections]),
        (translate(mark("Capacity ratio by KSIC section")),
         [(f"capacity:{letter}", name, f"{census_source} {capacity_method}") for letter, name in sections]),
        (translate(mark("Activation (this platform)")),
         [(f"activation:{name}", translate(text), f"{activation_source} {per_gu}") for name, text in activations]),
    ]  # fmt: skip
