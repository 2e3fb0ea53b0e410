"""The embedded Seoul dataset: real geography, statistics and places, with honest precision."""

from __future__ import annotations

from sqlalchemy import func, select

from fabcity import dataset
from fabcity.directory.search import SearchQuery, search
from fabcity.storage.schema import cluster_zone, district, node, station


def _count(platform, table, *where) -> int:
    with platform.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_districts_carry_both_code_systems(platform):
    assert _count(platform, district, district.c.level == "gu") == 25
    assert _count(platform, district, district.c.level == "dong") == 426
    eunpyeong = platform.districts.resolve("은평구")[0]
    assert (eunpyeong.code, eunpyeong.kostat_code, eunpyeong.name_en) == ("11380", "11120", "Eunpyeong-gu")
    assert platform.districts.resolve("11120") == [eunpyeong]
    assert platform.districts.resolve("Eunpyeong") == [eunpyeong]
    assert sum(1 for d in platform.districts.dongs() if d.parent_code == "11380") == 16
    assert sum(1 for d in platform.districts.dongs() if d.parent_code == "11320") == 14


def test_point_in_polygon_assigns_gu_and_dong(platform):
    gu, dong = platform.districts.locate(37.569243, 126.9952266)  # Fab Lab Seoul, Sewoon arcade
    assert gu.name_ko == "종로구"
    assert dong.parent_code == gu.code and dong.level == "dong"
    assert platform.districts.locate(35.1796, 129.0756) is None  # Busan


def test_statistics_match_the_published_tables(platform):
    from fabcity.geo.service import district_detail

    eunpyeong = district_detail(platform, "11380")
    assert eunpyeong["statistics"]["population"] == {
        "value": 464466,
        "period": "2025Q1",
        "unit": "persons",
        "source": "seoul-population-2025q1",
    }
    assert eunpyeong["statistics"]["businesses_ksic_C"]["value"] == 899
    dobong = district_detail(platform, "11320")
    assert dobong["statistics"]["businesses_ksic_C"]["value"] == 1020
    total = sum(
        district_detail(platform, gu.code)["statistics"]["businesses_ksic_C"]["value"]
        for gu in platform.districts.gus()
    )
    assert total == 58970  # Seoul's manufacturing businesses, 2018 census


def test_stations_and_cluster_zones(platform):
    assert _count(platform, station) > 300
    nearest, distance = platform.stations.nearest(37.6190, 126.9212)[0]
    assert nearest.name_ko == "연신내" and distance < 200
    assert {"3호선", "6호선"} <= set(nearest.lines)
    assert _count(platform, cluster_zone) == 7


def test_nodes_are_real_places_with_honest_precision(platform):
    page = search(platform, SearchQuery(status=["active", "planned"], limit=100))
    by_slug = {n["slug"]: n for n in page.results}
    fab_lab_seoul = by_slug["fab-lab-seoul"]
    assert fab_lab_seoul["location"]["gu"]["name"]["ko"] == "종로구"
    assert fab_lab_seoul["location"]["precision"] == "exact"
    assert fab_lab_seoul["external_ids"]["fablabs_io"] == "fablabseoul"
    assert fab_lab_seoul["equipment"], "the documents list Fab Lab Seoul's machines"
    songpa = by_slug["fablab-songpa"]  # no coordinates in the source, address names Songpa
    assert songpa["location"]["lat"] is None
    assert (songpa["location"]["precision"], songpa["location"]["gu_code"]) == ("gu", "11710")
    daejanggan = by_slug["seoul-digital-daejanggan"]
    assert daejanggan["location"]["lat"] is None and daejanggan["location"]["precision"] == "gu"
    for result in page.results:
        has_point = result["location"]["lat"] is not None
        assert has_point == (result["location"]["precision"] in ("exact", "building")), result["slug"]
        assert result["provenance"]["source"] and result["provenance"]["license"]
    assert _count(platform, node, node.c.source == "synthetic") == 0


def test_attribution_names_every_licence():
    licences = {s["license"].split(" ")[0] for s in dataset.sources()}
    assert {"KOGL-Type-1", "CC-BY-SA-4.0"} <= licences
    notice = dataset.notice()
    assert "vuski/admdongkor" in notice and "공공누리 제1유형" in notice and "CC BY-SA 4.0" in notice
