"""Updating the district statistics: a newer business census (전국사업체조사) or registered-population
(주민등록인구) file, in the layouts Seoul publishes, replaces that period in `district_stat`.

Census: three header rows (기간, 자치구, 동; the totals; then 사업체수/종사자수 for each KSIC section),
one row per gu (동 = 소계) and dong, '-' for 0, thousands separators allowed. Population: 동별,
연령별, 시점, 계, 등록외국인, the gu rows each followed by their dongs. Like the node importer, the
whole file is checked first and every problem named with its line (or sheet and row) and column;
then one transaction replaces the period, so a file lands whole or not at all, and importing the
same period again replaces it rather than adding to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, delete, insert, select, update

from fabcity.directory.formats.common import FileProblem, ImportRejected
from fabcity.geo.districts import District, DistrictIndex
from fabcity.measure.districts import KSIC_SECTIONS
from fabcity.measure.sheets import Row, Table, number, read_table
from fabcity.platform import Platform
from fabcity.storage import stamps
from fabcity.storage.schema import data_source, district_stat

Kind = Literal["census", "population"]
KINDS: tuple[Kind, ...] = ("census", "population")
SEOUL_LICENSE = "KOGL-Type-1"
SEOUL_ATTRIBUTION = "서울특별시 (서울열린데이터광장), 공공누리 제1유형"
# The census's spelling of a dong the boundary layer names differently, and the dongs that have
# no counterpart any more (renamed or split since the census): their figures are left out, not guessed.
CENSUS_NAMES = {"여의도동": "여의동"}
FORMER_DONGS = {("강남구", "일원2동"), ("강동구", "상일동")}
_NOISE = re.compile(r"[\s,·.\-‧ㆍ]")
_SECTION_CODE = re.compile(r"^[A-U](?=[\s.)])[\s.)]*|\([^)]*\)$")


class UnknownDistrict(LookupError):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


def census_district(index: DistrictIndex, gu_name: str, dong_name: str) -> District | None:
    """The district a census row names: the gu itself for 소계, else the dong of that name within the
    gu (a namesake elsewhere never matches); None for a dong that no longer exists."""
    gus = index.resolve(gu_name, level="gu")
    if len(gus) != 1:
        raise UnknownDistrict("자치구", f"{gu_name!r} is not one of Seoul's 25 gu")
    gu = gus[0]
    if dong_name == "소계":
        return gu
    if (gu.name_ko, dong_name) in FORMER_DONGS:
        return None
    name = CENSUS_NAMES.get(dong_name, dong_name)
    matches = [d for d in index.resolve(name, level="dong") if d.parent_code == gu.code]
    if not matches:
        raise UnknownDistrict("동", f"{dong_name!r} is not a dong of {gu.name_ko}")
    return matches[0]


@dataclass(frozen=True)
class StatsReport:
    path: str
    kind: Kind
    period: str
    source_id: str
    districts: int
    values: int
    replaced: int  # values of the same period and indicators that were there before
    left_out: list[str] = field(default_factory=list)  # rows for dongs that no longer exist


@dataclass
class _Parsed:
    kind: Kind
    period: str
    indicators: list[tuple[str, str]]  # (indicator, unit) the file provides
    values: dict[str, dict[str, float]] = field(default_factory=dict)  # district code → indicator → value
    left_out: list[str] = field(default_factory=list)


def normalised(text: object) -> str:
    """A header or name compared the way published tables differ: spaces, commas, dots, case."""
    return _NOISE.sub("", str(text or "")).casefold()


def _filled(headings: list[str]) -> list[str]:
    """A header row with cells merged across (a sheet gives the first one only) spelt out in full."""
    for column in range(1, len(headings)):
        headings[column] = headings[column] or headings[column - 1]
    return headings


def _section(header: str) -> str | None:
    """The KSIC section a column group is headed by: '제조업', 'C 제조업' or '제조업(10~34)'."""
    name = normalised(_SECTION_CODE.sub("", header.strip()))
    return next((letter for letter, (ko, _) in KSIC_SECTIONS.items() if normalised(ko) == name), None)


def _period_text(text: str, kind: Kind) -> str | None:
    """'2018' → 2018; for population also '2025. 1/4', '2025 1분기' or '2025Q1' → 2025Q1."""
    if re.fullmatch(r"\d{4}", text):
        return text
    quarter = re.fullmatch(r"(\d{4})\s*[.년]?\s*(?:Q([1-4])|([1-4])\s*(?:/\s*4|분기))", text.strip(), re.IGNORECASE)
    if quarter and kind == "population":
        return f"{quarter[1]}Q{quarter[2] or quarter[3]}"
    return None


def detect_kind(table: Table) -> Kind | None:
    head = {normalised(cell) for row in table.rows[:3] for cell in row.cells}
    if {"사업체수", "종사자수"} <= head:
        return "census"
    if "동별" in head and ({"계", "인구", "총인구"} & head):
        return "population"
    return None


class _Reader:
    """Shared by both layouts: cells to numbers, districts, the period, every problem kept."""

    def __init__(self, table: Table, index: DistrictIndex, kind: Kind, period: str | None) -> None:
        self.table, self.index, self.kind = table, index, kind
        self.problems: list[FileProblem] = []
        self.periods: list[tuple[Row, int, str]] = []
        self.asked = period
        if period is not None and _period_text(period, kind) != period:
            form = "YYYY" if kind == "census" else "YYYY or YYYYQn (e.g. 2025Q1)"
            self.problems.append(FileProblem("--period", "", f"{period!r} is not a period; write {form}"))

    def value(self, row: Row, column: int, label: str) -> float | None:
        try:
            found = number(row.cell(column))
        except ValueError as error:
            self.problems.append(FileProblem(row.where, self.table.column(column, label), str(error)))
            return None
        if found < 0:
            self.problems.append(FileProblem(row.where, self.table.column(column, label), f"{found:g} is negative"))
            return None
        return found

    def district(self, row: Row, gu_name: str, dong_name: str, columns: dict[str, int]) -> District | None:
        try:
            return census_district(self.index, gu_name, dong_name)
        except UnknownDistrict as unknown:
            self.problems.append(FileProblem(row.where, self.table.column(columns[unknown.column]), unknown.message))
            return None

    def period(self) -> str:
        """The period: --period, or the one every row states (and they must agree with it)."""
        expected = self.asked
        for row, column, text in self.periods:
            found = _period_text(text, self.kind)
            if found is None:
                self.problems.append(FileProblem(row.where, self.table.column(column), f"{text!r} is not a period"))
            elif expected is None:
                expected = found
            elif found != expected:
                source = "--period" if self.asked else "the rows above"
                self.problems.append(
                    FileProblem(
                        row.where, self.table.column(column), f"period {found} differs from {expected} ({source})"
                    )
                )
        if expected is None:
            self.problems.append(FileProblem("file", "", "the file states no period: pass --period"))
            return ""
        return expected


def _census(table: Table, index: DistrictIndex, period: str | None) -> _Parsed:
    reader = _Reader(table, index, "census", period)
    if len(table.rows) < 4:
        table.reject([FileProblem("file", "", "expected three header rows and then one row per gu and dong")])
    width = max(len(row.cells) for row in table.rows[:3])
    top, middle, bottom = ([row.text(i) for i in range(width)] for row in table.rows[:3])
    top, middle = _filled(top), _filled(middle)
    bottom = [below or above for below, above in zip(bottom, middle, strict=True)]  # merged down
    header = table.rows[0].where + "–" + table.rows[2].where.rsplit(" ", 1)[-1]
    names = [normalised(text) for text in top]
    columns = {name: names.index(normalised(name)) for name in ("기간", "자치구", "동") if normalised(name) in names}
    for name in ("자치구", "동"):
        if name not in columns:
            reader.problems.append(FileProblem(header, name, f"no {name} column"))
    wanted: dict[str, tuple[int, str] | None] = {"businesses": None, "workers": None}
    wanted |= {f"{m}_ksic_{s}": None for s in KSIC_SECTIONS for m in ("businesses", "workers")}
    for column, heading in enumerate(top):
        measure, detail = normalised(middle[column]), normalised(bottom[column])
        kind = "businesses" if (measure, detail) == ("사업체수", "사업체수") else None
        if measure == "종사자수" and detail in ("계", "종사자수"):
            kind = "workers"
        section = "total" if normalised(heading) == "합계" else _section(heading)
        if kind and section:
            key = kind if section == "total" else f"{kind}_ksic_{section}"
            wanted[key] = wanted[key] or (column, f"{heading} {middle[column]}")
    for key in (key for key, found in wanted.items() if found is None):
        measure, _, section = key.partition("_ksic_")
        what = "사업체수" if measure == "businesses" else "종사자수"
        label = f"{KSIC_SECTIONS[section][0]} (KSIC {section})" if section else "합계"
        reader.problems.append(FileProblem(header, f"{label} {what}", "no such column"))
    if reader.problems:
        table.reject(reader.problems)
    found = {key: place for key, place in wanted.items() if place is not None}
    indicators = [(key, "businesses" if key.startswith("businesses") else "persons") for key in found]
    parsed = _Parsed("census", "", indicators)
    seen: dict[str, str] = {}
    for row in table.rows[3:]:
        if "기간" in columns:
            reader.periods.append((row, columns["기간"], row.text(columns["기간"])))
        gu_name, dong_name = row.text(columns["자치구"]), row.text(columns["동"])
        if gu_name == "합계":
            continue  # Seoul's total: Seoul is the sum of its gu
        known = len(reader.problems)
        district = reader.district(row, gu_name, dong_name, columns)
        values = {key: reader.value(row, column, label) for key, (column, label) in found.items()}
        _keep(reader, parsed, seen, row, district, values, known, f"{gu_name} {dong_name}")
    return _finish(reader, table, index, parsed)


def _population(table: Table, index: DistrictIndex, period: str | None) -> _Parsed:
    reader = _Reader(table, index, "population", period)
    names = [normalised(cell) for cell in table.rows[0].cells]
    header = table.rows[0].where

    def find(*labels: str) -> int | None:
        return next((names.index(normalised(label)) for label in labels if normalised(label) in names), None)

    columns = {"동별": find("동별", "행정동"), "연령별": find("연령별"), "시점": find("시점", "기간")}
    total, foreign = find("계", "인구", "총인구"), find("등록외국인", "외국인")
    if columns["동별"] is None:
        reader.problems.append(FileProblem(header, "동별", "no 동별 column"))
    if total is None:
        reader.problems.append(FileProblem(header, "계", "no 계 (total population) column"))
    if reader.problems:
        table.reject(reader.problems)
    indicators = [("population", "persons")] + ([("population_foreign", "persons")] if foreign is not None else [])
    parsed = _Parsed("population", "", indicators)
    seen: dict[str, str] = {}
    gu: District | None = None
    for row in table.rows[1:]:
        age = columns["연령별"]
        if age is not None and row.text(age) not in ("합계", "계"):
            continue  # the age bands: only the totals are kept
        if columns["시점"] is not None:
            reader.periods.append((row, columns["시점"], row.text(columns["시점"])))
        name = row.text(columns["동별"])
        if name in ("합계", "서울특별시", "서울시"):
            continue
        known = len(reader.problems)
        gus = index.resolve(name, level="gu") if name.endswith("구") else []
        if gus:
            gu = district = gus[0]
        elif gu is None:
            reader.problems.append(
                FileProblem(row.where, table.column(columns["동별"]), f"{name!r} comes before any gu")
            )
            continue
        else:
            district = reader.district(row, gu.name_ko, name, {"동": columns["동별"], "자치구": columns["동별"]})
        values = {"population": reader.value(row, total, "계")}
        if foreign is not None:
            values["population_foreign"] = reader.value(row, foreign, "등록외국인")
        _keep(reader, parsed, seen, row, district, values, known, f"{gu.name_ko} {name}")
    return _finish(reader, table, index, parsed)


def _keep(
    reader: _Reader,
    parsed: _Parsed,
    seen: dict[str, str],
    row: Row,
    district: District | None,
    values: dict[str, float | None],
    problems_before: int,
    name: str,
) -> None:
    """A row's figures under its district; a district gone since (no new problem) is listed as left out."""
    if district is None:
        if len(reader.problems) == problems_before:
            parsed.left_out.append(name)
        return
    if district.code in seen:
        reader.problems.append(FileProblem(row.where, "", f"{district.name_ko} again (first on {seen[district.code]})"))
        return
    seen[district.code] = row.where
    if all(value is not None for value in values.values()):
        parsed.values[district.code] = values  # type: ignore[assignment]


def _finish(reader: _Reader, table: Table, index: DistrictIndex, parsed: _Parsed) -> _Parsed:
    """The file's period, and every problem at once; Seoul's figures are the sum of its gu, so a file
    without one of them would skew every quotient."""
    parsed.period = reader.period()
    missing = [gu.name_ko for gu in index.gus() if gu.code not in parsed.values]
    if missing and not reader.problems:
        reader.problems.append(FileProblem("file", "", f"no row for {', '.join(missing)}: every gu must be there"))
    if reader.problems:
        table.reject(reader.problems)
    return parsed


PARSERS: dict[Kind, Callable[[Table, DistrictIndex, str | None], _Parsed]] = {
    "census": _census,
    "population": _population,
}


def _default_source(kind: Kind, period: str) -> tuple[str, str]:
    """Ids and titles in the embedded dataset's style, so re-importing its own files changes nothing."""
    if kind == "census":
        return f"seoul-business-census-{period}", f"서울시 사업체현황 (산업대분류별/동별), {period} 전국사업체조사"
    year, _, quarter = period.partition("Q")
    when = f"{year}년 {quarter}분기" if quarter else f"{year}년"
    return f"seoul-population-{period.casefold()}", f"서울시 주민등록인구 (동별), {when}"


def _save_source(conn: Connection, source_id: str, title: str | None, license_: str | None, default: str) -> None:
    """Register the source (or update what the user gave for one already known)."""
    known = conn.execute(select(data_source.c.id).where(data_source.c.id == source_id)).scalar()
    given = {key: value for key, value in (("title", title), ("license", license_)) if value}
    if known:
        if given:
            conn.execute(update(data_source).where(data_source.c.id == source_id).values(**given))
        return
    row = {"id": source_id, "title": default, "url": None, "license": SEOUL_LICENSE, "attribution": SEOUL_ATTRIBUTION}
    conn.execute(insert(data_source), [{**row, "notes": None, **given}])


def import_stats(
    platform: Platform,
    path: Path,
    kind: Kind | None = None,
    period: str | None = None,
    source_id: str | None = None,
    license_: str | None = None,
    title: str | None = None,
    sheet: str | None = None,
) -> StatsReport:
    """Read and check the whole file, then replace its period's figures in one transaction."""
    path = Path(path)
    table = read_table(path, sheet)
    kind = kind or detect_kind(table)
    if kind not in KINDS:
        problem = FileProblem(table.rows[0].where, "", "cannot tell a census from a population file: pass --kind")
        raise ImportRejected(path, [problem])
    parsed = PARSERS[kind](table, platform.districts, period)
    default_id, default_title = _default_source(kind, parsed.period)
    source_id = source_id or default_id
    if len(source_id) > data_source.c.id.type.length:
        raise ImportRejected(
            path, [FileProblem("--source-id", "", f"at most {data_source.c.id.type.length} characters")]
        )
    units = dict(parsed.indicators)
    rows = [
        {"district_code": code, "indicator": indicator, "period": parsed.period, "value": value,
         "unit": units[indicator], "source_id": source_id}
        for code, values in sorted(parsed.values.items()) for indicator, value in values.items()
    ]  # fmt: skip
    with platform.engine.begin() as conn:
        _save_source(conn, source_id, title, license_, default_title)
        same = (district_stat.c.period == parsed.period) & district_stat.c.indicator.in_(list(units))
        replaced = conn.execute(delete(district_stat).where(same)).rowcount
        conn.execute(insert(district_stat), rows)
        stamps.touch(conn, stamps.STATISTICS)
    return StatsReport(
        str(path), kind, parsed.period, source_id, len(parsed.values), len(rows), replaced, parsed.left_out
    )
