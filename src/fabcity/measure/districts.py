"""Seoul by district: what each gu and dong makes relative to the city, from the business census.

For a district d and KSIC section s, with Seoul as the reference economy:
- location quotient  SLQ = (workers_d,s / workers_d) / (workers_Seoul,s / workers_Seoul);
- capacity ratio     r = (workers_d,s / workers_Seoul,s) / (population_d / population_Seoul),
  Boeing's P/D when local production is modelled from the district's share of Seoul's workers in s
  and local demand from its share of residents (docs/research/index.md §2, the capacity identity).
The district's Fab City Index (capacity, census proxy) weighs the sections by their share of
Seoul's workers. Workers come from the latest business census loaded (전국사업체조사; 2018 in the
embedded dataset) and residents from the latest registered population (주민등록인구; 2025 Q1), or
from the census year asked for; the years may differ, and the method says which were used.
Seoul itself needs a national table for the same figures (measure.iotables): against itself its
capacity is 100 by construction, so Seoul's figure is the mean of its 25 gu, and says so.

A capacity index is not self-sufficiency. It says how far a district's workers could cover what its
residents need, were they to make it for them; the Fab City pledge (half of what the city consumes
made in the city by 2054) is about self-supply, which needs an input–output table (the self-supply
index of `GET /api/v1/indicators/io/{id}?place=…`). So a capacity of 70 is no "goal met".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from fabcity.errors import ParameterError
from fabcity.geo.districts import name_key
from fabcity.measure.fci import FabCityIndex, fab_city_index
from fabcity.platform import Platform
from fabcity.storage import stamps
from fabcity.storage.schema import cluster_zone, district_stat

KSIC_SECTIONS: dict[str, tuple[str, str]] = {
    "A": ("농업, 임업 및 어업", "Agriculture, forestry and fishing"),
    "B": ("광업", "Mining and quarrying"),
    "C": ("제조업", "Manufacturing"),
    "D": ("전기, 가스, 증기 및 공기조절 공급업", "Electricity, gas, steam and air conditioning supply"),
    "E": ("수도, 하수 및 폐기물 처리, 원료 재생업", "Water supply, sewage, waste management, remediation"),
    "F": ("건설업", "Construction"),
    "G": ("도매 및 소매업", "Wholesale and retail trade"),
    "H": ("운수 및 창고업", "Transportation and storage"),
    "I": ("숙박 및 음식점업", "Accommodation and food service"),
    "J": ("정보통신업", "Information and communication"),
    "K": ("금융 및 보험업", "Financial and insurance"),
    "L": ("부동산업", "Real estate"),
    "M": ("전문, 과학 및 기술 서비스업", "Professional, scientific and technical"),
    "N": ("사업시설 관리, 사업 지원 및 임대 서비스업", "Business facilities management and support"),
    "O": ("공공행정, 국방 및 사회보장 행정", "Public administration and defence"),
    "P": ("교육 서비스업", "Education"),
    "Q": ("보건업 및 사회복지 서비스업", "Human health and social work"),
    "R": ("예술, 스포츠 및 여가관련 서비스업", "Arts, sports and recreation"),
    "S": ("협회 및 단체, 수리 및 기타 개인 서비스업", "Membership organisations, repair, other personal services"),
}
CENSUS_INDICATORS = ["workers", *(f"workers_ksic_{s}" for s in KSIC_SECTIONS)]
SEOUL = {"code": "11", "level": "city", "name": {"ko": "서울특별시", "en": "Seoul"}}
_SEOUL_NAMES = {name_key(name) for name in ("11", "서울", "서울시", "서울특별시", "Seoul", "Seoul City")}
CAPACITY_NOT_SELF_SUPPLY = (
    "a capacity index (census proxy), not self-sufficiency: how far the district's workers could cover what "
    "its residents need, not how much of it they do make there; the Fab City pledge (50 % of what the city "
    "consumes made in the city by 2054) is measured by the self-supply index of an input–output table "
    "(GET /api/v1/indicators/io/{id}?place=…), so no capacity value means the pledge is met"
)


def period_label(period: str | None) -> str:
    """'2025Q1' → '2025 Q1', as the method text writes it."""
    return "none loaded" if period is None else period.replace("Q", " Q")


def describe(workers: str | None, residents: str | None, sources: list[str]) -> dict[str, Any]:
    """The method text for the periods actually used."""
    same = workers is not None and residents is not None and workers[:4] == residents[:4]
    return {
        "kind": "capacity",
        "meaning": CAPACITY_NOT_SELF_SUPPLY,
        "workers": f"{period_label(workers)} business census (전국사업체조사), workers by KSIC section",
        "residents": f"resident registration population, {period_label(residents)}",
        "reference": "Seoul (sum of its 25 gu)",
        "weights": "each section's share of Seoul's workers",
        "sources": sources,
        "note": f"workers and residents are from {'the same year' if same else 'different years'}; "
        f"a dong renamed or split since {period_label(workers)} has no figure",
    }


# The method of the embedded dataset; CensusTable.method states what a database actually holds.
METHOD = describe("2018", "2025Q1", ["seoul-business-census-2018", "seoul-population-2025q1"])


def _period_order(period: str) -> tuple[int, int, str]:
    year, _, quarter = period.partition("Q")
    return (int(year) if year.isdigit() else 0, int(quarter) if quarter.isdigit() else 4, period)


def periods(conn: Connection, indicator: str) -> list[str]:
    """The periods an indicator has figures for, oldest first."""
    found = conn.execute(select(district_stat.c.period).where(district_stat.c.indicator == indicator).distinct())
    return sorted(found.scalars(), key=_period_order)


@dataclass(frozen=True)
class SectionFigure:
    code: str
    section: str
    workers: float | None
    slq: float | None
    capacity_ratio: float | None


class CensusTable:
    """Workers by section (of the latest census, or of `period`) and the latest residents for every
    district, loaded once."""

    def __init__(self, platform: Platform, period: str | None = None) -> None:
        self.platform = platform
        wanted = ["population", *CENSUS_INDICATORS]
        self.values: dict[str, dict[str, float]] = {}
        found: dict[str, set[str]] = {"workers": set(), "population": set()}
        with platform.engine.connect() as conn:
            years = periods(conn, "workers")
            if period is not None and period not in years:
                loaded = ", ".join(years) or "none"
                raise ParameterError("period", f"no business census for {period!r}; loaded: {loaded}")
            self.workers_period = period or (years[-1] if years else None)
            self.residents_period = next(reversed(periods(conn, "population")), None)
            stat = district_stat.c
            query = select(stat.district_code, stat.indicator, stat.value, stat.source_id).where(
                or_(
                    and_(stat.indicator.in_(CENSUS_INDICATORS), stat.period == self.workers_period),
                    and_(stat.indicator == "population", stat.period == self.residents_period),
                )
            )
            for code, indicator, value, source_id in conn.execute(query):
                self.values.setdefault(code, {})[indicator] = value
                found["population" if indicator == "population" else "workers"].add(source_id)
            zones = conn.execute(select(cluster_zone.c.name_ko, cluster_zone.c.dong_codes)).all()
        self.clusters = {code: name for name, codes in zones for code in codes}
        gus = [d.code for d in platform.districts.gus()]
        self.seoul = {key: sum(self.values.get(g, {}).get(key, 0.0) for g in gus) for key in wanted}
        self.sources = {kind: sorted(ids) for kind, ids in found.items()}
        self._indices: dict[str, FabCityIndex] = {}
        self.method = describe(
            self.workers_period, self.residents_period, self.sources["workers"] + self.sources["population"]
        )

    def figures(self, code: str) -> list[SectionFigure]:
        own = self.values.get(code, {})
        total, residents = own.get("workers"), own.get("population")
        found = []
        for section in KSIC_SECTIONS:
            workers = own.get(f"workers_ksic_{section}")
            seoul_section = self.seoul[f"workers_ksic_{section}"]
            slq = ratio = None
            if workers is not None and total and seoul_section:
                slq = (workers / total) / (seoul_section / self.seoul["workers"])
                if residents:
                    ratio = (workers / seoul_section) / (residents / self.seoul["population"])
            found.append(SectionFigure(code, section, workers, slq, ratio))
        return found

    def index(self, code: str) -> FabCityIndex:
        """Kept once computed: the table never changes, and the dashboard asks for every dong's index."""
        if code not in self._indices:
            self._indices[code] = self._index(code)
        return self._indices[code]

    def _index(self, code: str) -> FabCityIndex:
        figures = self.figures(code)
        ratios = [figure.capacity_ratio for figure in figures]
        weights = [self.seoul[f"workers_ksic_{f.section}"] / self.seoul["workers"] for f in figures]
        demand = [None if ratio is None else 1.0 for ratio in ratios]
        return fab_city_index([f.section for f in figures], ratios, demand, weights, kind="capacity")

    def seoul_index(self) -> float | None:
        """Seoul's figure: the mean of its 25 gu (against itself, Seoul's capacity is 100 by construction)."""
        known = [value for gu in self.platform.districts.gus() if (value := self.index(gu.code).value) is not None]
        return sum(known) / len(known) if known else None

    def place_index(self, place: str | None) -> dict[str, Any]:
        """The index of a gu or dong named by code or name, or of Seoul (no place, 서울, Seoul, 11): the
        one answer of the API and the CLI."""
        names = {letter: {"ko": ko, "en": en} for letter, (ko, en) in KSIC_SECTIONS.items()}
        if place is None or name_key(place.strip()) in _SEOUL_NAMES:
            value = self.seoul_index()
            gus = [{"code": row["code"], "name": {"ko": row["name_ko"], "en": row["name_en"]}, "value": row["value"]}
                   for row in self.indices("gu")]  # fmt: skip
            return {
                "place": SEOUL, "method": {**self.method, "seoul": "the mean of the 25 gu's indices"},
                "kind": "capacity", "value": None if value is None else round(value, 4), "coverage": 1.0,
                "gap_to_50": None, "sectors": [], "gus": gus, "section_names": names,
            }  # fmt: skip
        found = self.platform.districts.resolve(place)
        if len(found) != 1:
            what = "no gu or dong of Seoul" if not found else "more than one gu or dong (give its gu too, or a code)"
            raise ParameterError("place", f"{place.strip()!r} names {what}; e.g. 은평구, 문래동 or 서울")
        district = found[0]
        return {"place": district.public(), "method": self.method, **self.index(district.code).public(),
                "section_names": names}  # fmt: skip

    def indices(self, level: str) -> list[dict[str, Any]]:
        """Every gu's (or dong's) index, for a choropleth."""
        found = []
        for district in self.platform.districts.at_level(level):
            index = self.index(district.code)
            value = None if index.value is None else round(index.value, 2)
            found.append({"code": district.code, "name_ko": district.name_ko, "name_en": district.name_en,
                          "value": value, "coverage": round(index.coverage, 4)})  # fmt: skip
        return found

    def rows(self, level: str, parent: str | None = None, section: str | None = None) -> list[dict[str, Any]]:
        """One row per district and section: the table behind the choropleth and the CSV."""
        rows = []
        for district in self.platform.districts.at_level(level, parent):
            for figure in self.figures(district.code):
                if section and figure.section != section:
                    continue
                rows.append(
                    {
                        "code": district.code, "name_ko": district.name_ko, "name_en": district.name_en,
                        "section": figure.section, "section_ko": KSIC_SECTIONS[figure.section][0],
                        "section_en": KSIC_SECTIONS[figure.section][1], "period": self.workers_period,
                        "workers": figure.workers,
                        "slq": None if figure.slq is None else round(figure.slq, 4),
                        "capacity_ratio": None if figure.capacity_ratio is None else round(figure.capacity_ratio, 4),
                        "cluster": self.clusters.get(district.code),
                    }
                )  # fmt: skip
        return rows


@lru_cache(maxsize=16)
def _census_table(platform: Platform, period: str | None, _version: str) -> CensusTable:
    return CensusTable(platform, period)


def census_table(platform: Platform, period: str | None = None) -> CensusTable:
    """The shared CensusTable, kept until the next statistics import (`fabcity stats import` changes the version)."""
    return _census_table(platform, period, stamps.stamp(platform.engine, stamps.STATISTICS))
