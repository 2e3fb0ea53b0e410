"""Seoul by district from the 2018 business census: quotients, capacity, the index; API, CSV and CLI."""

from __future__ import annotations

import csv
import io
import json
from importlib import resources

import pytest
from click.testing import CliRunner

from fabcity.cli.main import main
from fabcity.measure.districts import KSIC_SECTIONS, CensusTable

JUNG_GU, SEONGDONG_GU, MULLAE_DONG = "11140", "11200", "1156060500"


def _census_csv() -> dict[tuple[str, str], float]:
    text = resources.files("fabcity.data").joinpath("seoul", "district_stats.csv").read_text(encoding="utf-8")
    return {(row["district_code"], row["indicator"]): float(row["value"]) for row in csv.DictReader(io.StringIO(text))}


@pytest.fixture
def census(platform) -> CensusTable:
    return CensusTable(platform)


def test_quotients_and_capacity_from_the_census_by_hand(census, platform):
    stats = _census_csv()
    gus = [d.code for d in platform.districts.gus()]

    def seoul(indicator: str) -> float:
        return sum(stats[(gu, indicator)] for gu in gus)

    manufacturing = next(f for f in census.figures(JUNG_GU) if f.section == "C")
    share_here = stats[(JUNG_GU, "workers_ksic_C")] / stats[(JUNG_GU, "workers")]
    assert manufacturing.slq == pytest.approx(share_here / (seoul("workers_ksic_C") / seoul("workers")))
    residents = stats[(JUNG_GU, "population")] / seoul("population")
    assert manufacturing.capacity_ratio == pytest.approx(
        stats[(JUNG_GU, "workers_ksic_C")] / seoul("workers_ksic_C") / residents
    )


def test_the_index_of_a_gu_is_a_weighted_capped_capacity(census, platform):
    stats = _census_csv()
    gus = [d.code for d in platform.districts.gus()]
    seoul_workers = sum(stats[(gu, "workers")] for gu in gus)
    weights = {s: sum(stats[(gu, f"workers_ksic_{s}")] for gu in gus) / seoul_workers for s in KSIC_SECTIONS}
    figures = census.figures(SEONGDONG_GU)
    ratios = {f.section: f.capacity_ratio for f in figures if f.capacity_ratio is not None}

    index = census.index(SEONGDONG_GU)

    manufacturing = next(s for s in index.sectors if s.sector == "C")
    assert manufacturing.raw_ratio > 1.5 and manufacturing.score == 1.0  # Seongsu's workshops, capped
    assert index.kind == "capacity" and index.coverage == pytest.approx(1.0)
    assert sum(s.weight for s in index.sectors) == pytest.approx(1.0)
    assert all(s.score == min(1.0, s.raw_ratio) for s in index.sectors if s.raw_ratio is not None)
    capped = sum(weights[s] * min(1.0, ratio) for s, ratio in ratios.items()) / sum(weights[s] for s in ratios)
    uncapped = sum(weights[s] * ratio for s, ratio in ratios.items()) / sum(weights[s] for s in ratios)
    assert uncapped > 1.1 * capped  # the cap matters here
    assert index.value == pytest.approx(100 * capped) and index.value < 100
    eunpyeong = census.index("11380")  # 은평구, mostly homes
    assert 0 < eunpyeong.value < 50
    assert census.index(JUNG_GU).value > eunpyeong.value  # the city centre has far more jobs than residents


def test_cluster_dongs_are_marked(census):
    rows = census.rows("dong", parent="11560", section="C")  # 영등포구
    mullae = next(r for r in rows if r["code"] == MULLAE_DONG)
    assert mullae["cluster"] and mullae["slq"] > 1  # the Mullae metalworking cluster


def test_a_dong_without_2018_figures_stays_missing(census, platform):
    missing = [d.code for d in platform.districts.dongs() if census.figures(d.code)[0].workers is None]
    assert missing  # 항동 and the dongs split since 2018
    assert census.index(missing[0]).value is None


def test_indicator_api_json_csv_and_errors(client):
    answer = client.get("/api/v1/indicators/sections", params={"level": "gu", "section": "C"}).json()
    assert len(answer["results"]) == 25 and answer["method"]["kind"] == "capacity"
    download = client.get("/api/v1/indicators/sections", params={"level": "gu", "section": "C", "format": "csv"})
    assert download.content.startswith("\ufeff".encode()) and "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert len(rows) == 25 and rows[0]["section_ko"] == "제조업"
    index = client.get("/api/v1/indicators/index", params={"place": "은평구"}).json()
    assert index["place"]["code"] == "11380" and len(index["sectors"]) == len(KSIC_SECTIONS)
    bad = client.get("/api/v1/indicators/sections", params={"section": "Z"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "section"]
    assert client.get("/api/v1/indicators/index", params={"place": "아틀란티스"}).json()["detail"][0]["loc"] == [
        "query", "place",
    ]  # fmt: skip


def test_index_command(db_url):
    result = CliRunner().invoke(main, ["index", "은평구", "--json", "--db", db_url])
    assert result.exit_code == 0
    answer = json.loads(result.output)
    assert answer["kind"] == "capacity" and answer["gap_to_50"] is None  # the pledge is about self-supply
    assert "not self-sufficiency" in answer["method"]["meaning"]
    table = " ".join(CliRunner().invoke(main, ["index", "Eunpyeong-gu", "--db", db_url]).output.split())
    assert "팹시티 역량 지수" in table and "제조업" in table and "자급률이 아닙니다" in table


@pytest.mark.parametrize("words", [["서울"], ["Seoul"], ["서울특별시"], []])
def test_the_index_of_seoul_is_the_mean_of_its_gu_as_the_dashboard_shows(db_url, words):
    result = CliRunner().invoke(main, ["index", *words, "--json", "--db", db_url])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    gus = [gu["value"] for gu in answer["gus"]]
    assert answer["place"]["code"] == "11" and len(gus) == 25
    assert answer["value"] == pytest.approx(sum(gus) / 25, abs=1e-3) and answer["kind"] == "capacity"
    table = " ".join(CliRunner().invoke(main, ["index", *words, "--db", db_url]).output.split())  # as wrapped
    assert f"{answer['value']:.1f} — 25개 구의 평균" in table and "not self-sufficiency" in table


def test_an_unknown_place_is_named_in_the_error(db_url, client):
    result = CliRunner().invoke(main, ["index", "아틀란티스", "--db", db_url])
    assert result.exit_code == 2 and "'아틀란티스' names no gu or dong of Seoul" in result.output
    answer = client.get("/api/v1/indicators/index", params={"place": "아틀란티스"}).json()
    assert "'아틀란티스'" in answer["detail"][0]["msg"]
    seoul = client.get("/api/v1/indicators/index", params={"place": "서울"}).json()
    assert seoul["place"]["code"] == "11" and seoul["value"] == client.get("/api/v1/indicators/index").json()["value"]
