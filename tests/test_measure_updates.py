"""The city updates its inputs: newer census and population files, Bank of Korea input–output tables."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select

from builders import add_nodes, node_record
from fabcity.cli.main import main
from fabcity.directory.formats.common import ImportRejected
from fabcity.errors import ParameterError
from fabcity.measure import io
from fabcity.measure.activation import activation
from fabcity.measure.census_import import import_stats
from fabcity.measure.districts import KSIC_SECTIONS, METHOD, CensusTable
from fabcity.measure.iotables import import_io_table, list_tables
from fabcity.storage.schema import data_source, district_stat, io_table
from fabcity.web.app import create_app

EUNPYEONG, MULLAE_DONG = "11380", "1156060500"
Z, F = [[150, 500], [200, 100]], [350, 1700]  # Miller & Blair (2009), ch. 2
# Seoul's published census (2018) and population (2025 Q1) files; tests/data/README.md says how each was cut
SEOUL_STATS = Path(__file__).with_name("data") / "seoul-stats"


# --- a census file in the Seoul layout, written from the embedded 2018 figures -----------------


def _figures(platform) -> dict[str, dict[str, float]]:
    with platform.engine.connect() as conn:
        rows = conn.execute(
            select(district_stat.c.district_code, district_stat.c.indicator, district_stat.c.value).where(
                district_stat.c.period == "2018"
            )
        )
        found: dict[str, dict[str, float]] = {}
        for code, indicator, value in rows:
            found.setdefault(code, {})[indicator] = value
    return found


def _cell(value: float) -> str:
    return "-" if value == 0 else f"{int(value):,}"


def census_rows(platform, period: str = "2021", more_manufacturing: int = 20_000) -> list[list]:
    """Header rows and one row per gu (소계) plus 문래동, with 은평구's manufacturing workers raised."""
    names = [KSIC_SECTIONS[s][0].replace(",", "") for s in KSIC_SECTIONS]  # the 2018 file drops the commas
    rows: list[list] = [
        ["기간", "자치구", "동", *["합계"] * 5, *[name for name in names for _ in (0, 1)]],
        ["기간", "자치구", "동", "사업체수", "사업체수", *["종사자수"] * 3, *["사업체수", "종사자수"] * 19],
        ["기간", "자치구", "동", "사업체수", "여성대표자", "계", "남", "여", *["사업체수", "종사자수"] * 19],
    ]  # fmt: skip
    figures = _figures(platform)
    places = [(gu, "소계") for gu in platform.districts.gus()]
    places.append((platform.districts.by_code["11560"], "문래동"))
    for gu, dong in places:
        code = gu.code if dong == "소계" else MULLAE_DONG
        own = dict(figures[code])
        if code == EUNPYEONG:
            own["workers_ksic_C"] += more_manufacturing
            own["workers"] += more_manufacturing
        sections = [own[f"{m}_ksic_{s}"] for s in KSIC_SECTIONS for m in ("businesses", "workers")]
        rows.append([period, gu.name_ko, dong, own["businesses"], 0, own["workers"], 0, 0, *sections])
    return rows


def write_census(rows: list[list], path: Path) -> Path:
    """TSV or CSV (with a BOM) as text with thousands separators, or XLSX with merged header cells."""
    if path.suffix == ".xlsx":
        book = Workbook()
        sheet = book.active
        for row in rows:
            sheet.append([cell if isinstance(cell, str) else int(cell) for cell in row])
        for first in range(9, 9 + 2 * 19, 2):  # each section heads two columns, as Seoul's sheets merge it
            sheet.merge_cells(start_row=1, start_column=first, end_row=1, end_column=first + 1)
        sheet.merge_cells(start_row=1, start_column=4, end_row=1, end_column=8)
        book.save(path)
        return path
    cells = [[cell if isinstance(cell, str) else _cell(cell) for cell in row] for row in rows]
    with path.open("w", encoding="utf-8-sig" if path.suffix == ".csv" else "utf-8", newline="") as handle:
        csv.writer(handle, delimiter="\t" if path.suffix == ".tsv" else ",", lineterminator="\n").writerows(cells)
    return path


def _slq(table: CensusTable, code: str, section: str = "C") -> float:
    return next(f.slq for f in table.figures(code) if f.section == section)


def _snapshot(platform) -> tuple:
    """Every statistic, source and IO table: what a rejected file must leave as it was."""
    with platform.engine.connect() as conn:
        stats = sorted(tuple(row) for row in conn.execute(select(district_stat)))
        sources = sorted(tuple(row) for row in conn.execute(select(data_source)))
        tables = conn.execute(select(func.count()).select_from(io_table)).scalar()
    return stats, sources, tables


@pytest.mark.parametrize("suffix", [".tsv", ".csv", ".xlsx"])
def test_a_newer_census_changes_a_gus_quotient_and_the_method(empty_platform, tmp_path, suffix):
    before = CensusTable(empty_platform)
    assert before.method == METHOD  # the embedded wording while only the embedded data is loaded
    path = write_census(census_rows(empty_platform), tmp_path / f"사업체현황_2021{suffix}")
    result = CliRunner().invoke(
        main, ["stats", "import", str(path), "--db", empty_platform.engine.url.render_as_string(False)]
    )
    assert result.exit_code == 0, result.output
    assert "census 2021, 26 districts" in result.output

    after = CensusTable(empty_platform)
    assert after.workers_period == "2021" and after.residents_period == "2025Q1"
    assert _slq(after, EUNPYEONG) > _slq(before, EUNPYEONG) * 1.5
    assert after.method["workers"] == "2021 business census (전국사업체조사), workers by KSIC section"
    assert after.method["sources"] == ["seoul-business-census-2021", "seoul-population-2025q1"]
    assert "since 2021" in after.method["note"]
    assert _slq(CensusTable(empty_platform, "2018"), EUNPYEONG) == pytest.approx(_slq(before, EUNPYEONG))
    assert next(f for f in after.figures(MULLAE_DONG) if f.section == "C").workers is not None
    with pytest.raises(ParameterError, match="2018, 2021"):
        CensusTable(empty_platform, "2019")

    with empty_platform.engine.connect() as conn:
        title = conn.execute(select(data_source.c.title).where(data_source.c.id == "seoul-business-census-2021"))
        assert title.scalar() == "서울시 사업체현황 (산업대분류별/동별), 2021 전국사업체조사"
    first = _snapshot(empty_platform)
    again = import_stats(empty_platform, path)  # the same period again: replaced, never added
    assert again.replaced == again.values == 26 * 40 and _snapshot(empty_platform) == first


def test_the_dashboard_shows_the_index_of_every_census_it_holds(empty_platform, tmp_path):
    import_stats(empty_platform, write_census(census_rows(empty_platform), tmp_path / "사업체현황_2021.tsv"))
    with TestClient(create_app(empty_platform)) as client:
        page = client.get("/dashboard").text
    table = page.split('id="index-over-time"')[1].split("</table>")[0]
    rows = re.findall(r'<tr><th scope="row">(\d{4})</th><td>([\d.]+)</td>', table)
    expected = [(year, f"{CensusTable(empty_platform, year).index(EUNPYEONG).value:.1f}") for year in ("2018", "2021")]
    assert rows == expected and expected[0][1] != expected[1][1]  # Eunpyeong's 2021 census moves its index


def test_population_update_and_the_published_files_reimport_unchanged(empty_platform, tmp_path):
    original = _snapshot(empty_platform)
    census = import_stats(empty_platform, SEOUL_STATS / "seoul_businesses_by_industry_dong_2018.tsv")
    assert census.left_out == ["강남구 일원2동", "강동구 상일동"]  # renamed or split since 2018
    population = import_stats(empty_platform, SEOUL_STATS / "seoul_registered_population_2025q1_by_dong_age.csv")
    assert (population.kind, population.period, population.districts) == ("population", "2025Q1", 451)
    assert _snapshot(empty_platform) == original  # the build's matching, so the same figures

    lines = (SEOUL_STATS / "seoul_registered_population_2025q1_by_dong_age.csv").read_text(encoding="utf-8-sig")
    newer = tmp_path / "등록인구_2025_2분기.csv"
    newer.write_text("\ufeff" + lines.replace("2025. 1/4", "2025. 2/4").replace('"464466"', '"500000"'), "utf-8")
    report = import_stats(empty_platform, newer)
    assert (report.period, report.source_id) == ("2025Q2", "seoul-population-2025q2")
    table = CensusTable(empty_platform)
    assert table.residents_period == "2025Q2" and table.values[EUNPYEONG]["population"] == 500_000
    assert table.method["residents"] == "resident registration population, 2025 Q2"
    opened = "2020-01-01"  # activation counts a place from its opening
    add_nodes(empty_platform, [node_record(f"m{i}", 37.6189 + i * 1e-4, 126.9210, founded=opened) for i in range(5)])
    answer = activation(empty_platform)  # per residents of the newest period, whatever the database returns first
    assert answer["method"]["residents"] == "resident registration population, 2025 Q2"
    eunpyeong = next(row for row in answer["results"] if row["code"] == EUNPYEONG)
    assert eunpyeong["active_nodes"] == 5 and eunpyeong["active_per_10k_residents"] == 0.1  # 5 per 500,000


def test_api_period_and_a_fresh_table_after_an_import(empty_platform, tmp_path):
    with TestClient(create_app(empty_platform)) as client:
        params = {"level": "gu", "section": "C"}
        old = {r["code"]: r["slq"] for r in client.get("/api/v1/indicators/sections", params=params).json()["results"]}
        import_stats(empty_platform, write_census(census_rows(empty_platform), tmp_path / "census.tsv"))
        answer = client.get("/api/v1/indicators/sections", params=params).json()
        assert answer["method"]["workers"].startswith("2021 ") and answer["results"][0]["period"] == "2021"
        new = {r["code"]: r["slq"] for r in answer["results"]}
        assert new[EUNPYEONG] > old[EUNPYEONG]
        asked = client.get("/api/v1/indicators/sections", params={**params, "period": "2018"}).json()
        assert {r["code"]: r["slq"] for r in asked["results"]} == old and asked["method"] == METHOD
        index = client.get("/api/v1/indicators/index", params={"place": "은평구", "period": "2018"}).json()
        assert index["method"]["workers"].startswith("2018 ")
        bad = client.get("/api/v1/indicators/index", params={"place": "은평구", "period": "1999"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "period"]


def _edit(row: int, column: int, value: str):
    def change(rows: list[list]) -> list[list]:
        rows[row][column] = value
        return rows

    return change


def _without_manufacturing(rows: list[list]) -> list[list]:
    return [row[:12] + row[14:] for row in rows]


BAD_CENSUS = [
    # (name, change to the rows, suffix, what the message must name)
    ("unknown dong", _edit(28, 2, "아틀란티스동"), ".tsv", ["line 29", "column 3", "not a dong of 영등포구"]),
    ("unknown gu", _edit(3, 1, "광화문구"), ".csv", ["line 4", "column 2", "not one of Seoul's 25 gu"]),
    ("not a number", _edit(5, 13, "많음"), ".tsv", ["line 6", "column 14 (제조업 종사자수)", "'많음' is not a number"]),
    ("negative", _edit(5, 13, "-12"), ".csv", ["line 6", "column 14 (제조업 종사자수)", "-12 is negative"]),
    ("xlsx cell", _edit(5, 13, "n/a"), ".xlsx", ["row 6", "column N (제조업 종사자수)", "'n/a' is not a number"]),
    ("missing section", _without_manufacturing, ".tsv", ["line 1–3", "제조업 (KSIC C) 종사자수", "no such column"]),
    ("two periods", _edit(7, 0, "2020"), ".tsv", ["line 8", "column 1", "period 2020 differs from 2021"]),
    ("a gu missing", lambda rows: rows[:3] + rows[4:], ".tsv", ["no row for 종로구"]),
    ("a dong twice", lambda rows: [*rows, rows[-1]], ".tsv", ["line 30", "문래동 again (first on line 29)"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "suffix", "named"), [case[1:] for case in BAD_CENSUS], ids=[c[0] for c in BAD_CENSUS]
)
def test_a_bad_census_file_is_rejected_whole_with_its_cell_named(empty_platform, tmp_path, change, suffix, named):
    before = _snapshot(empty_platform)
    path = write_census(change(census_rows(empty_platform)), tmp_path / f"census{suffix}")
    with pytest.raises(ImportRejected) as rejected:
        import_stats(empty_platform, path)
    message = str(rejected.value)
    assert message.startswith(f"{path}: rejected, nothing imported")
    for part in named:
        assert part in message
    assert _snapshot(empty_platform) == before


def test_empty_and_wrongly_encoded_files_are_named(empty_platform, tmp_path):
    before = _snapshot(empty_platform)
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n\n", encoding="utf-8")
    cp949 = tmp_path / "cp949.tsv"
    text = "\n".join("\t".join(str(c) for c in row) for row in census_rows(empty_platform))
    cp949.write_bytes(text.encode("cp949"))
    runner = CliRunner()
    db = empty_platform.engine.url.render_as_string(False)
    result = runner.invoke(main, ["stats", "import", str(empty), "--db", db])
    assert result.exit_code == 1 and f"{empty}: file: the file is empty" in result.output
    result = runner.invoke(main, ["stats", "import", str(cp949), "--db", db])
    assert result.exit_code == 1 and f"{cp949}: line 1, column 1: not valid UTF-8" in result.output
    assert "CP949" in result.output
    assert _snapshot(empty_platform) == before


# --- input–output tables --------------------------------------------------------------------


def io_rows(flows=Z, final=F, output=None, ksic=("A", "C")) -> list[list]:
    """A two-sector table in the ECOS layout: the block, 중간수요계, 최종수요계, 총산출액, a KSIC column."""
    output = output or [sum(row) + f for row, f in zip(flows, final, strict=True)]
    names = ["01 농림수산품", "02 공산품"]
    rows = [["부문", *names, "중간수요계", "최종수요계", "총산출액", "KSIC"]]
    for name, row, f, x, section in zip(names, flows, final, output, ksic, strict=True):
        rows.append([name, *row, sum(row), f, x, section])
    rows.append(["부가가치계", 650, 1400, "", "", "", ""])
    rows.append(["총투입계", 1000, 2000, "", "", "", ""])
    return rows


def write_io(rows: list[list], path: Path) -> Path:
    if path.suffix == ".xlsx":
        book = Workbook()
        for row in rows:
            book.active.append([None if cell == "" else cell for cell in row])
        book.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def _expected_multipliers(a: np.ndarray) -> np.ndarray:
    return io.output_multipliers(io.leontief_inverse(a))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_io_table_gives_the_cores_multipliers_national_and_regionalised(empty_platform, tmp_path, suffix):
    path = write_io(io_rows(), tmp_path / f"산업연관표{suffix}")
    db = empty_platform.engine.url.render_as_string(False)
    result = CliRunner().invoke(main, ["io", "import", str(path), "--year", "2009", "--title", "M&B", "--db", db])
    assert result.exit_code == 0, result.output
    [listed] = list_tables(empty_platform.engine)
    assert (listed["year"], listed["sectors"], listed["license"]) == (
        2009,
        2,
        "Bank of Korea terms (한국은행 저작권 및 이용 약관)",
    )
    assert "M&B" in CliRunner().invoke(main, ["io", "list", "--db", db]).output

    national_a = io.technical_coefficients(Z, io.total_output(Z, F))
    with TestClient(create_app(empty_platform)) as client:
        assert client.get("/api/v1/indicators/io").json()["results"][0]["id"] == listed["id"]
        answer = client.get(f"/api/v1/indicators/io/{listed['id']}").json()
        national = [row["national_multiplier"] for row in answer["results"]]
        assert national == pytest.approx(_expected_multipliers(national_a).tolist(), abs=1e-6)
        assert national == pytest.approx([1.5182, 1.4521], abs=1e-4)

        census = CensusTable(empty_platform)
        regional = [census.values[EUNPYEONG][f"workers_ksic_{s}"] for s in "AC"]
        seoul = [census.seoul[f"workers_ksic_{s}"] for s in "AC"]
        for quotient, lq in (("flq", io.flq(regional, seoul, 0.25)), ("slq", io.slq(regional, seoul))):
            params = {"place": "은평구", "quotient": quotient, "delta": 0.25}
            answer = client.get(f"/api/v1/indicators/io/{listed['id']}", params=params).json()
            local = io.regionalise(national_a, lq)
            found = [row["regional_multiplier"] for row in answer["results"]]
            assert found == pytest.approx(_expected_multipliers(local).tolist(), abs=1e-6)
            assert all(r < n for r, n in zip(found, national, strict=True))
            rpc = [row["rpc"] for row in answer["results"]]
            assert rpc == pytest.approx((local.sum(axis=1) / national_a.sum(axis=1)).tolist(), abs=1e-6)
        assert rpc == pytest.approx(np.minimum(1, io.slq(regional, seoul)).tolist(), abs=1e-6)  # SLQ: min(1, LQ)
        index = answer["self_supply_index"]  # the share of demand met locally, weighted by final demand
        assert index["kind"] == "self_supply" and index["coverage"] == 1.0
        assert index["value"] == pytest.approx(100 * np.dot(F, rpc) / sum(F), abs=1e-3)
        assert index["gap_to_50"] == pytest.approx(50 - index["value"], abs=1e-3)
        assert answer["place"]["code"] == EUNPYEONG and answer["method"]["sources"] == ["seoul-business-census-2018"]
        missing = client.get(f"/api/v1/indicators/io/{listed['id']}", params={"place": "항동"})
        assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["query", "place"]
        assert client.get("/api/v1/indicators/io/999").status_code == 404

    again = import_io_table(empty_platform.engine, path, 2009, "M&B", license_="BOK 이용약관")
    assert not again.created and again.id == listed["id"] and len(list_tables(empty_platform.engine)) == 1


def test_a_separate_mapping_file_and_a_table_without_one(empty_platform, tmp_path):
    rows = [row[:-1] for row in io_rows()]
    plain = import_io_table(empty_platform.engine, write_io(rows, tmp_path / "plain.csv"), 2009, "no mapping")
    mapping = write_io([["부문", "KSIC"], ["01 농림수산품", "A"], ["02 공산품", "C;F"]], tmp_path / "map.csv")
    mapped = import_io_table(empty_platform.engine, tmp_path / "plain.csv", 2009, "mapped", mapping=mapping)
    with TestClient(create_app(empty_platform)) as client:
        refused = client.get(f"/api/v1/indicators/io/{plain.id}", params={"place": "은평구"})
        assert refused.status_code == 422 and "no KSIC mapping" in refused.json()["detail"][0]["msg"]
        answer = client.get(f"/api/v1/indicators/io/{mapped.id}", params={"place": "은평구"}).json()
        assert answer["results"][1]["ksic"] == ["C", "F"]
        census = CensusTable(empty_platform)
        assert answer["results"][1]["workers"] == pytest.approx(
            sum(census.values[EUNPYEONG][f"workers_ksic_{s}"] for s in "CF"), abs=0.01
        )


BAD_IO = [
    ("not square", lambda rows: [r[:2] + r[3:] for r in rows],
     ["line 3", "column 1", "'02 공산품' is a row without a column: not square"]),
    ("rows swapped", lambda rows: [rows[0], rows[2], rows[1], *rows[3:]],
     ["line 2", "column 1", "is not '01 농림수산품'"]),
    ("an extra sector row", lambda rows: [*rows[:3], ["03 서비스", 1, 2, 3, 4, 10, "G"], *rows[3:]],
     ["line 4", "'03 서비스' is a row without a column"]),
    ("not a number", _edit(1, 2, "약 500"), ["line 2", "column 3 (02 공산품)", "'약 500' is not a number"]),
    ("negative flow", _edit(2, 1, "-200"), ["line 3", "column 2 (01 농림수산품)", "-200 is negative"]),
    ("unbalanced", _edit(1, 5, "1200"),
     ["line 2", "column 6 (total output)", "1200 is not the row sum plus final demand (1000)"]),
    ("no final demand", lambda rows: [r[:4] + r[5:] for r in rows], ["line 1", "no final demand column"]),
    ("unknown section", _edit(2, 6, "Z"), ["line 3", "column 7 (KSIC)", "'Z' is not a KSIC section"]),
]  # fmt: skip


@pytest.mark.parametrize(("change", "named"), [case[1:] for case in BAD_IO], ids=[c[0] for c in BAD_IO])
def test_a_bad_io_table_is_rejected_with_its_cell_named(empty_platform, tmp_path, change, named):
    path = write_io(change(io_rows()), tmp_path / "bad.csv")
    with pytest.raises(ImportRejected) as rejected:
        import_io_table(empty_platform.engine, path, 2020, "bad")
    message = str(rejected.value)
    assert message.startswith(f"{path}: rejected, nothing imported")
    for part in named:
        assert part in message
    assert list_tables(empty_platform.engine) == []


def test_a_sector_buying_more_than_it_makes_is_refused_by_the_core(empty_platform, tmp_path):
    flows, final = [[10, 50], [10, 60]], [40, 10]  # sector 2 makes 80 and buys 110
    path = write_io(io_rows(flows, final), tmp_path / "loss.xlsx")
    with pytest.raises(ImportRejected, match=r"column C \(02 공산품\): A column 1 sums to 1\.375"):
        import_io_table(empty_platform.engine, path, 2020, "loss")
    assert list_tables(empty_platform.engine) == []
