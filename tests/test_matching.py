"""Ranking nodes for a need: hard requirements, unknowns, explanations, pairs; through the API and CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner
from fastapi.testclient import TestClient

from builders import YEONSINNAE, add_nodes, node_record
from fabcity.cli.main import main
from fabcity.matching.need import Need
from fabcity.matching.rank import DETAILS, WHY, rank
from fabcity.web.app import create_app

GANGNAM = (37.4979, 127.0276)
CHANGSIN = (37.5759, 127.0125)
YONGSAN_STATION = (37.529849, 126.964561)
GASAN = (37.480959, 126.882619)
DOBONG = (37.666514, 127.032724)


def _laser(slug: str, point, batch: str | None, area: list[float], materials=("acrylic",)) -> dict:
    return node_record(
        slug, *point, node_type="makerspace", batch_size=batch, processes=["laser_cutting"],
        equipment=[{"type": "laser_cutter", "specs": {"working_area_mm": area}, "materials": list(materials)}],
    )  # fmt: skip


@pytest.fixture
def makers(empty_platform):
    add_nodes(
        empty_platform,
        [
            _laser("big-laser", (YEONSINNAE[0] + 0.004, YEONSINNAE[1]), "50-500", [1300, 900]),
            _laser("small-laser", (YEONSINNAE[0] + 0.001, YEONSINNAE[1]), "0-50", [600, 400]),
            _laser("wood-only-laser", (YEONSINNAE[0] + 0.002, YEONSINNAE[1]), "50-500", [1300, 900], ["plywood"]),
            _laser("far-laser", GANGNAM, "50-500", [1300, 900]),
            node_record("plain-laser", YEONSINNAE[0] + 0.003, YEONSINNAE[1], processes=["laser_cutting"]),
            node_record("sewing-shop", *CHANGSIN, processes=["sewing"], materials=["fabric"], batch_size="50-500"),
            node_record("pcb-lab", CHANGSIN[0] + 0.002, CHANGSIN[1], processes=["pcb_fabrication"]),
        ],
    )
    return empty_platform


def _slugs(ranking) -> list[str]:
    return [m.node["slug"] for m in ranking.matches]


def _need(**fields) -> Need:
    place = fields.pop("place", YEONSINNAE)
    return Need.model_validate({"place": {"lat": place[0], "lon": place[1]}, "max_distance_m": 5000, **fields})


def test_hard_requirements_decide_and_unknowns_rank_lower(makers):
    ranking = rank(makers, _need(processes=["레이저커팅"], materials=["아크릴"], quantity=200))
    # small-laser's band is 0-50; wood-only-laser's machine lists other materials; far-laser is 14 km away
    assert _slugs(ranking) == ["big-laser", "plain-laser"]
    best, unknown = ranking.matches
    assert {c.requirement: c.status for c in best.checks} == {
        "process:laser_cutting": "met", "material:acrylic": "met", "batch": "met", "distance": "met",
    }  # fmt: skip
    assert {c.requirement: c.status for c in unknown.checks}["material:acrylic"] == "unknown"
    assert best.score > unknown.score and 400 < best.distance_m < 500


def test_the_part_must_fit_a_machine_that_does_the_work(makers):
    small_part = _slugs(rank(makers, _need(processes=["laser_cutting"], part_size_mm=[500, 300], quantity=20)))
    assert "small-laser" in small_part
    big_part = rank(makers, _need(processes=["laser_cutting"], part_size_mm=[1000, 800], quantity=20))
    assert "small-laser" not in _slugs(big_part) and "big-laser" in _slugs(big_part)
    check = next(c for c in big_part.matches[0].checks if c.requirement == "part_size")
    assert check.status == "met" and check.detail == "1000×800 mm"


def test_when_no_single_node_can_two_nearby_nodes_together_are_offered(makers):
    ranking = rank(makers, _need(processes=["pcb_fabrication", "sewing"], place=CHANGSIN))
    assert ranking.matches == []
    assert [{m.node["slug"] for m in pair} for pair in ranking.combinations] == [{"sewing-shop", "pcb-lab"}]
    assert ranking.public()["combinations"][0]["covers"] == ["pcb_fabrication", "sewing"]  # a list: JSON


@pytest.fixture
def spread(empty_platform):
    """A welder known only by its gu (Yongsan-gu), one at a point far south, a biolab listing a material."""
    add_nodes(
        empty_platform,
        [
            node_record(
                "yongsan-welder", None, None, processes=["welding"], location={"precision": "gu", "gu_code": "용산구"}
            ),
            node_record("gasan-welder", *GASAN, processes=["welding"]),
            node_record("biolab", *CHANGSIN, processes=["bio_fabrication"], materials=["bio_leather"]),
        ],
    )
    return empty_platform


def test_a_node_known_only_by_its_gu_is_ranked_with_a_distance_range(spread):
    near = rank(spread, _need(processes=["welding"], place=YONGSAN_STATION, max_distance_m=7000))
    assert _slugs(near) == ["yongsan-welder"]
    check = next(c for c in near.matches[0].checks if c.requirement == "distance")
    assert check.status == "met" and check.detail.startswith("0–") and "Yongsan-gu" in check.detail
    assert check.detail_in(DETAILS[check.kind], "ko").endswith("somewhere in 용산구")  # names follow the language
    assert near.matches[0].distance_m is None  # no point to measure from
    # Yongsan-gu reaches about 5 km from the station: within 3 km it may or may not be
    straddling = rank(spread, _need(processes=["welding"], place=YONGSAN_STATION, max_distance_m=3000))
    assert [c.status for c in straddling.matches[0].checks if c.requirement == "distance"] == ["unknown"]
    assert _slugs(rank(spread, _need(processes=["welding"], place=GANGNAM, max_distance_m=2000))) == []


def test_a_place_without_a_distance_orders_the_makers_and_excludes_none_in_the_city(spread):
    need = Need.model_validate({"processes": ["welding"], "place": {"lat": DOBONG[0], "lon": DOBONG[1]}})
    assert _slugs(rank(spread, need)) == ["yongsan-welder", "gasan-welder"]  # Gasan is 25 km from Dobong


def test_a_need_is_matched_on_its_materials_when_it_names_no_process(spread):
    assert _slugs(rank(spread, Need(materials=["bio_leather"]))) == ["biolab"]
    assert rank(spread, Need(quantity=20)).matches == []  # nothing to make was understood: nobody fits


@pytest.fixture
def makers_client(makers):
    with TestClient(create_app(makers), raise_server_exceptions=False) as client:
        yield client


def test_match_api_reads_text_and_ranks(makers_client):
    client = makers_client
    answer = client.post("/api/v1/match", json={"text": "아크릴 레이저커팅 200개 연신내역 근처"}).json()
    assert answer["need"]["processes"] == ["laser_cutting"] and answer["need"]["quantity"] == 200
    assert [u["field"] for u in answer["understood"]].count("place") == 1
    assert [r["node"]["slug"] for r in answer["results"]] == ["big-laser", "plain-laser"]
    assert answer["results"][0]["checks"][0] == {"requirement": "process:laser_cutting", "status": "met", "detail": ""}


def test_match_api_takes_a_structured_need_and_names_bad_fields(makers_client):
    client = makers_client
    need = {"processes": ["sewing"], "place": {"lat": CHANGSIN[0], "lon": CHANGSIN[1]}, "max_distance_m": 2000}
    answer = client.post("/api/v1/match", json={"need": need}).json()
    assert [r["node"]["slug"] for r in answer["results"]] == ["sewing-shop"]
    bad = client.post("/api/v1/match", json={"need": {"processes": ["teleportation"]}})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-2:] == ["need", "processes"]
    assert client.post("/api/v1/match", json={}).json()["detail"][0]["loc"] == ["query", "text"]


def test_match_command(makers):
    db = makers.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    result = CliRunner().invoke(main, ["match", "창신동 봉제 100벌", "--json", "--db", db])
    assert result.exit_code == 0
    answer = json.loads(result.output)
    assert answer["need"]["place"]["label"] == "창신동" and [r["node"]["slug"] for r in answer["results"]] == [
        "sewing-shop"
    ]


def _way_forward_need() -> Need:
    """Acrylic laser cutting, 200 pieces, within 2 km of Changsin-dong: every laser is farther."""
    return _need(processes=["laser_cutting"], materials=["acrylic"], quantity=200, place=CHANGSIN, max_distance_m=2000)


def test_when_nothing_fits_the_nearest_makers_beyond_the_distance_are_offered_with_why(makers):
    ranking = rank(makers, _way_forward_need())
    assert ranking.matches == [] and ranking.way_forward is not None
    way = ranking.way_forward
    beyond = [m.node["slug"] for m in way.beyond]
    assert set(beyond) == {"far-laser", "plain-laser", "big-laser"}  # each fits, but for the distance
    distances = [m.distance_m for m in way.beyond]
    assert distances == sorted(distances) and distances[0] > 2000
    partial = {m.node["slug"]: m for m in way.partial}
    assert set(partial) == {"small-laser", "wood-only-laser"}
    assert "batch" in [c.requirement for c in partial["small-laser"].checks if c.status == "missed"]
    assert way.excluded == {"distance": 5, "batch": 1, "material:acrylic": 1}
    assert f"the nearest is {distances[0]:,.0f} m away" in way.explanation()[0]


def test_a_maker_doing_part_of_the_need_says_which_part(makers):
    ranking = rank(makers, _need(processes=["pcb_fabrication", "welding"], place=CHANGSIN))
    assert ranking.matches == [] and ranking.combinations == []
    answer = ranking.public()["way_forward"]
    assert answer["doers"] == {"pcb_fabrication": 1, "welding": 0}
    assert answer["explanation"][0] == "No listed maker does welding."
    pcb = answer["partial"][0]
    assert pcb["node"]["slug"] == "pcb-lab"
    assert pcb["can"] == ["process:pcb_fabrication", "distance"] and pcb["cannot"] == ["process:welding"]
    assert rank(makers, _need(processes=["sewing"], place=CHANGSIN)).way_forward is None  # something fits


def test_match_api_offers_a_way_forward(makers_client):
    need = _way_forward_need().model_dump(mode="json")
    answer = makers_client.post("/api/v1/match", json={"need": need}).json()
    assert answer["results"] == []
    way = answer["way_forward"]
    assert way["beyond"][0]["distance_m"] > 2000 and way["beyond"][0]["checks"][-1]["status"] == "missed"
    assert {"requirement": "distance", "nodes": 5} in way["excluded"]
    assert {item["node"]["slug"]: item["cannot"] for item in way["partial"]}["wood-only-laser"] == [
        "material:acrylic", "distance",
    ]  # fmt: skip


def test_the_match_page_offers_a_way_forward_in_its_language(makers_client):
    need = {"corrected": "true", "process": "laser_cutting", "material": "acrylic", "quantity": "200",
            "place": "창신동", "within_km": "2"}  # fmt: skip
    catalog = read_po((Path(__file__).parents[1] / "src/fabcity/web/locale/ko/LC_MESSAGES/messages.po").open("rb"))
    assert all(catalog.get(template) and catalog[template].string for template in WHY.values())
    korean = makers_client.get("/match", params=need).text.split('id="way-forward"')[1].split("</section>")[0]
    assert "맞는 곳이 없는 이유" in korean and "2,000 m보다 먼 제작처: 3곳. 가장 가까운 곳은" in korean
    assert "아크릴 조건 때문에 빠진 제작처: 1곳." in korean
    assert re.findall(r'<a href="/nodes/([^"]+)"', korean.split('id="beyond"')[1].split("</ol>")[0])[0] == "far-laser"
    assert "불가: 아크릴, 거리" in korean
    english = makers_client.get("/match", params={**need, "lang": "en"}).text.split('id="way-forward"')[1]
    assert "Why nothing matched" in english and "Farther away" in english
    assert "Makers left out by Acrylic (PMMA): 1." in english and "Cannot: Acrylic (PMMA), distance" in english


def test_match_command_explains_why_nothing_fits(makers):
    db = makers.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    result = CliRunner().invoke(main, ["match", "창신동 PCB 용접", "--db", db])
    assert result.exit_code == 0
    told = " ".join(result.output.split())  # as the console wrapped it
    # the command also loads the embedded places, among them welders near Changsin-dong
    assert (
        "No maker fits every requirement" in told and "No single maker does all of: pcb_fabrication, welding." in told
    )
    partial = (
        "일부 / part: pcb-lab (pcb-lab) — 가능 / can: process:pcb_fabrication, distance; 불가 / cannot: process:welding"
    )
    assert partial in told
    answer = json.loads(CliRunner().invoke(main, ["match", "창신동 PCB 용접", "--json", "--db", db]).output)
    assert answer["results"] == [] and answer["way_forward"]["doers"]["welding"] > 0
