"""Every search filter, sort order and pagination, on both backends."""

from __future__ import annotations

import pytest

from builders import EULJIRO, YEONSINNAE, add_nodes, node_record
from fabcity.directory.models import validate_node
from fabcity.directory.search import MAX_RADIUS_M, SearchQuery, parse_bbox, search
from fabcity.errors import ParameterError
from fabcity.geo.cells import distance_m


@pytest.fixture
def city(empty_platform):
    """A small, known city: laser cutters and woodshops in Eunpyeong, metal and print in Jung-gu."""
    lat, lon = YEONSINNAE
    add_nodes(
        empty_platform,
        [
            node_record(
                "eunpyeong-laser",
                lat + 0.002,
                lon,
                name={"ko": "은평 레이저공방", "en": "Eunpyeong Laser Studio"},
                description={"ko": "레이저커터와 3D프린터를 갖춘 동네 공방"},
                processes=["레이저커팅"],
                materials=["아크릴"],
                access_type="public",
                equipment=[{"type": "laser_cutter", "specs": {"working_area_mm": [900, 600], "laser_power_w": 80}}],
            ),
            node_record(
                "eunpyeong-wood",
                lat - 0.005,
                lon + 0.004,
                name={"ko": "연신내 목공방", "en": "Yeonsinnae Woodshop"},
                node_type="studio",
                processes=["woodworking", "cnc_routing"],
                materials=["plywood"],
                access_type="membership",
            ),
            node_record(
                "eunpyeong-far-printer",
                lat + 0.03,
                lon + 0.03,
                name={"en": "Far North Printing"},
                node_type="makerspace",
                processes=["fdm_printing"],
                materials=["pla"],
            ),
            node_record(
                "euljiro-metal",
                *EULJIRO,
                name={"ko": "을지로 금속가공", "en": "Euljiro Metalworks"},
                node_type="small_manufacturer",
                processes=["laser_cutting", "tig_welding"],
                materials=["stainless_steel"],
                batch_size="50-500",
            ),
            node_record(
                "euljiro-closed-print",
                EULJIRO[0] + 0.001,
                EULJIRO[1],
                name={"ko": "을지로 인쇄소"},
                node_type="small_manufacturer",
                status="closed",
                processes=["screen_printing"],
            ),
            node_record(
                "dobong-unknown",
                None,
                None,
                name={"ko": "도봉 수리소"},
                node_type="repair",
                location={"address": {"ko": "서울 도봉구 어딘가"}},
            ),
        ],
    )
    return empty_platform


def slugs(page) -> list[str]:
    return [r["slug"] for r in page.results]


def test_default_is_active_nodes_by_name(city):
    page = search(city, SearchQuery())
    assert page.sort == "name"
    assert "euljiro-closed-print" not in slugs(page)
    names = [r["name"]["ko"] or r["name"]["en"] for r in page.results]
    assert names == sorted(names, key=str.casefold)
    assert "euljiro-closed-print" in slugs(search(city, SearchQuery(status=["closed"])))


def test_near_with_radius_sorts_by_distance_and_reports_it(city):
    page = search(city, SearchQuery(near=YEONSINNAE, radius_m=2000))
    assert slugs(page) == ["eunpyeong-laser", "eunpyeong-wood"]
    for result in page.results:
        expected = distance_m(*YEONSINNAE, result["location"]["lat"], result["location"]["lon"])
        assert result["distance_m"] == pytest.approx(expected, abs=0.2)
        assert result["distance_m"] <= 2000
    wider = search(city, SearchQuery(near=YEONSINNAE, radius_m=6000))
    assert "eunpyeong-far-printer" in slugs(wider)


def test_every_result_names_its_nearest_station(city):
    result = search(city, SearchQuery(near=YEONSINNAE, radius_m=500)).results[0]
    assert result["nearest_station"]["name"]["ko"] == "연신내"
    assert 0 < result["nearest_station"]["distance_m"] < 500


def test_bbox(city):
    box = parse_bbox(f"{EULJIRO[0] - 0.01},{EULJIRO[1] - 0.01},{EULJIRO[0] + 0.01},{EULJIRO[1] + 0.01}")
    assert slugs(search(city, SearchQuery(bbox=box))) == ["euljiro-metal"]


@pytest.mark.parametrize("gu", ["은평구", "Eunpyeong-gu", "11380", "11120", "은평"])
def test_gu_by_code_or_name(city, gu):
    assert set(slugs(search(city, SearchQuery(gu=[gu])))) == {
        "eunpyeong-laser",
        "eunpyeong-wood",
        "eunpyeong-far-printer",
    }


def test_dong(city):
    dong = city.districts.locate(*EULJIRO)[1]
    for value in (dong.code, dong.kostat_code, dong.name_ko):
        assert slugs(search(city, SearchQuery(dong=[value], gu=["중구"]))) == ["euljiro-metal"]


def test_node_without_a_point_is_found_by_its_gu_but_not_near(city):
    assert slugs(search(city, SearchQuery(gu=["도봉구"]))) == ["dobong-unknown"]
    assert "dobong-unknown" not in slugs(search(city, SearchQuery(near=(37.6688, 127.0471), radius_m=10000)))


def test_type_and_access(city):
    assert slugs(search(city, SearchQuery(types=["studio"]))) == ["eunpyeong-wood"]
    assert slugs(search(city, SearchQuery(access=["public"]))) == ["eunpyeong-laser"]


@pytest.mark.parametrize("process", ["laser_cutting", "레이저커팅", "레이저 가공", "tsdc:LAS", "fablabs:laser"])
def test_process_by_id_or_alias(city, process):
    assert set(slugs(search(city, SearchQuery(processes=[process])))) == {"eunpyeong-laser", "euljiro-metal"}


def test_process_includes_narrower_processes(city):
    assert slugs(search(city, SearchQuery(processes=["3d_printing"]))) == ["eunpyeong-far-printer"]


def test_process_within_radius(city):
    page = search(city, SearchQuery(near=YEONSINNAE, radius_m=2000, processes=["laser_cutting"]))
    assert slugs(page) == ["eunpyeong-laser"]


def test_material_by_id_or_korean_alias(city):
    assert slugs(search(city, SearchQuery(materials=["아크릴"]))) == ["eunpyeong-laser"]
    assert slugs(search(city, SearchQuery(materials=["stainless_steel"]))) == ["euljiro-metal"]


def test_korean_query_matches_inside_compound_words(city):
    # "레이저" sits inside "레이저공방" and "레이저커터"; "커터" inside "레이저커터".
    assert "eunpyeong-laser" in slugs(search(city, SearchQuery(q="레이저")))
    assert slugs(search(city, SearchQuery(q="커터"))) == ["eunpyeong-laser"]
    assert slugs(search(city, SearchQuery(q="목공"))) == ["eunpyeong-wood"]


def test_a_one_letter_word_is_found_where_it_is_written_near_or_not(city):
    # One letter has no bigram in the text index: only the text itself can answer.
    assert slugs(search(city, SearchQuery(q="목"))) == ["eunpyeong-wood"]
    assert slugs(search(city, SearchQuery(q="목", near=YEONSINNAE, radius_m=2000))) == ["eunpyeong-wood"]
    assert slugs(search(city, SearchQuery(q="목 연신내"))) == ["eunpyeong-wood"]


def test_a_query_word_is_found_only_where_it_is_written_whole_not_where_its_bigrams_are_apart(city):
    lat, lon = YEONSINNAE
    add_nodes(
        city,
        [
            node_record("apart", lat + 0.001, lon, name={"ko": "메이 이커 공방"}),
            node_record("whole", lat - 0.001, lon, name={"ko": "메이커 공방"}),
        ],
    )
    # Both names hold the bigrams of "메이커" (메이, 이커); only the second holds the word.
    assert slugs(search(city, SearchQuery(q="메이커"))) == ["whole"]
    assert slugs(search(city, SearchQuery(q="메이커", near=YEONSINNAE, radius_m=1000))) == ["whole"]
    assert sorted(slugs(search(city, SearchQuery(q="메이")))) == ["apart", "whole"]


def test_english_query_and_taxonomy_labels(city):
    assert slugs(search(city, SearchQuery(q="woodshop"))) == ["eunpyeong-wood"]
    # "welding" is in no node's own words, but Euljiro Metalworks does TIG welding.
    assert slugs(search(city, SearchQuery(q="welding"))) == ["euljiro-metal"]


def test_a_process_alias_typed_as_text_finds_the_nodes_doing_it(city):
    # "레이저가공" is in no node's text: it is an alias of laser_cutting, which both nodes do.
    assert sorted(slugs(search(city, SearchQuery(q="레이저가공")))) == ["euljiro-metal", "eunpyeong-laser"]
    assert slugs(search(city, SearchQuery(q="레이저가공", near=EULJIRO, radius_m=3000))) == ["euljiro-metal"]
    assert slugs(search(city, SearchQuery(q="레이저가공 을지로"))) == ["euljiro-metal"]


def test_a_longer_term_needs_its_letters_together_not_just_its_bigrams(empty_platform):
    # "레이 이저" holds both bigrams of "레이저" (레이, 이저) but not the word: no match, near or not.
    add_nodes(
        empty_platform,
        [
            node_record("apart", *EULJIRO, name={"ko": "레이 이저"}),
            node_record("whole", *EULJIRO, name={"ko": "레이저 공방"}),
        ],
    )
    assert slugs(search(empty_platform, SearchQuery(q="레이저"))) == ["whole"]
    assert slugs(search(empty_platform, SearchQuery(q="레이저", near=EULJIRO))) == ["whole"]
    assert sorted(slugs(search(empty_platform, SearchQuery(q="이저", near=EULJIRO)))) == ["apart", "whole"]


def test_a_machines_make_and_model_are_found_by_a_search_word(empty_platform):
    machine = {"type": "laser_cutter", "make": "Trotec", "model": "Speedy 400"}
    add_nodes(
        empty_platform,
        [
            node_record("with-trotec", *EULJIRO, equipment=[machine]),
            node_record("without", *EULJIRO, name={"ko": "공방"}),
        ],
    )
    assert slugs(search(empty_platform, SearchQuery(q="trotec"))) == ["with-trotec"]
    assert slugs(search(empty_platform, SearchQuery(q="speedy", near=EULJIRO))) == ["with-trotec"]


def test_query_terms_combine_with_and(city):
    assert slugs(search(city, SearchQuery(q="레이저 을지로"))) == ["euljiro-metal"]


def test_relevance_ranks_name_matches_first(city):
    page = search(city, SearchQuery(q="레이저"))
    assert page.sort == "relevance"
    assert slugs(page)[0] == "eunpyeong-laser"  # in its name; Euljiro Metalworks only does laser cutting


def test_text_near_a_point(city):
    page = search(city, SearchQuery(q="레이저", near=YEONSINNAE, radius_m=3000))
    assert slugs(page) == ["eunpyeong-laser"]
    assert page.results[0]["distance_m"] > 0


def test_cursor_pagination_visits_every_node_once(city):
    for sort, extra in (("name", {}), ("distance", {"near": YEONSINNAE}), ("relevance", {"q": "공"})):
        everything = slugs(search(city, SearchQuery(sort=sort, limit=100, **extra)))
        seen, cursor = [], None
        while True:
            page = search(city, SearchQuery(sort=sort, limit=2, cursor=cursor, **extra))
            seen += slugs(page)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == everything, sort
        assert len(everything) >= 2


@pytest.mark.parametrize("value", ["37.6,126.9,37.5,127.0", "37.5,127.0,37.6,126.9", "37.5,126.9,91,127.0"])
def test_a_bbox_that_is_not_a_box_is_refused_saying_so(value):
    with pytest.raises(ParameterError) as raised:
        parse_bbox(value)
    assert raised.value.field == "bbox"
    assert raised.value.message == f"{value!r} is not a box: need south ≤ north and west ≤ east, in range"


def test_the_largest_radius_is_allowed(city):
    assert "euljiro-metal" in slugs(search(city, SearchQuery(near=YEONSINNAE, radius_m=MAX_RADIUS_M)))


def test_limit(city):
    assert len(search(city, SearchQuery(limit=1)).results) == 1


@pytest.mark.parametrize(
    ("query", "param"),
    [
        (SearchQuery(limit=0), "limit"),
        (SearchQuery(limit=1001), "limit"),
        (SearchQuery(radius_m=100), "radius_m"),
        (SearchQuery(near=YEONSINNAE, radius_m=-5), "radius_m"),
        (SearchQuery(gu=["Atlantis-gu"]), "gu"),
        (SearchQuery(dong=["없는동"]), "dong"),
        (SearchQuery(types=["castle"]), "type"),
        (SearchQuery(processes=["teleportation"]), "process"),
        (SearchQuery(materials=["unobtainium"]), "material"),
        (SearchQuery(access=["secret"]), "access"),
        (SearchQuery(status=["zombie"]), "status"),
        (SearchQuery(sort="distance"), "sort"),
        (SearchQuery(sort="relevance"), "sort"),
        (SearchQuery(cursor="garbage!"), "cursor"),
    ],
)
def test_bad_parameters_are_named(city, query, param):
    with pytest.raises(ParameterError) as raised:
        search(city, query)
    assert raised.value.field == param


def test_cursor_from_another_sort_is_refused(city):
    cursor = search(city, SearchQuery(limit=1)).next_cursor
    with pytest.raises(ParameterError, match="another sort"):
        search(city, SearchQuery(near=YEONSINNAE, limit=1, cursor=cursor))


@pytest.fixture
def scattered(empty_platform):
    """Nodes at distances from 40 m to 20 km around Euljiro, every third one doing laser cutting."""
    import math

    records = []
    for i in range(240):
        distance = 40 * 1.027**i
        angle = i * 2.399963  # golden angle: spread evenly around the centre
        lat = EULJIRO[0] + distance * math.sin(angle) / 111_320
        lon = EULJIRO[1] + distance * math.cos(angle) / (111_320 * math.cos(math.radians(EULJIRO[0])))
        processes = ["laser_cutting"] if i % 3 == 0 else ["woodworking"]
        records.append(node_record(f"n{i:03d}", lat, lon, name={"en": f"Node {i}"}, processes=processes))
    add_nodes(empty_platform, records)
    return empty_platform


def _all_pages(platform, **fields) -> list[dict]:
    results, cursor = [], None
    while True:
        page = search(platform, SearchQuery(cursor=cursor, **fields))
        results += page.results
        cursor = page.next_cursor
        if cursor is None:
            return results


@pytest.mark.parametrize(
    ("processes", "q"), [([], None), (["laser_cutting"], None), ([], "node"), ([], "레이저"), ([], "ode 1")]
)
def test_distance_order_is_exact_across_rings_and_pages(scattered, processes, q):
    """Rings from 250 m to 15 km: text narrowed to each ring by the index's area tokens on every grid level."""
    found = _all_pages(scattered, near=EULJIRO, radius_m=15_000, processes=processes, q=q, limit=7)
    expected = sorted(
        (distance_m(*EULJIRO, r["location"]["lat"], r["location"]["lon"]), r["slug"])
        for r in _all_pages(scattered, processes=processes, q=q, limit=1000)
    )
    expected = [slug for d, slug in expected if d <= 15_000]
    assert [r["slug"] for r in found] == expected
    distances = [r["distance_m"] for r in found]
    assert distances == sorted(distances)


def test_bbox_lists_nodes_nearest_its_centre_first(scattered):
    box = parse_bbox(f"{EULJIRO[0] - 0.02},{EULJIRO[1] - 0.02},{EULJIRO[0] + 0.02},{EULJIRO[1] + 0.02}")
    page = search(scattered, SearchQuery(bbox=box, limit=5))
    assert page.sort == "distance"
    centre = box.centre()
    distances = [distance_m(*centre, r["location"]["lat"], r["location"]["lon"]) for r in page.results]
    assert distances == sorted(distances)
    assert "distance_m" not in page.results[0]  # no point was given: the centre is only an order
    inside = _all_pages(scattered, bbox=box, limit=50)
    assert all(box.south <= r["location"]["lat"] <= box.north for r in inside)
    assert len(inside) == len({r["slug"] for r in inside})


def test_summary_fields_are_enough_for_a_map_marker(city):
    summary = search(city, SearchQuery(near=YEONSINNAE, radius_m=2000, fields="summary")).results[0]
    full = search(city, SearchQuery(near=YEONSINNAE, radius_m=2000)).results[0]
    assert summary["slug"] == full["slug"] and summary["distance_m"] == full["distance_m"]
    assert summary["location"]["lat"] == full["location"]["lat"]
    assert summary["nearest_station"]["name"] == full["nearest_station"]["name"]
    assert "equipment" not in summary and "equipment" in full


def test_open_now_keeps_only_nodes_whose_hours_say_open_and_pages_stay_exact(empty_platform):
    records = [
        node_record(f"n{i:02d}", EULJIRO[0] + i * 1e-4, EULJIRO[1], opening_hours="24/7" if i % 2 else "off")
        for i in range(30)
    ]
    add_nodes(empty_platform, [*records, node_record("no-hours", *EULJIRO)])
    assert len(search(empty_platform, SearchQuery(limit=100)).results) == 31
    found = [r["slug"] for r in _all_pages(empty_platform, open_now=True, near=EULJIRO, limit=4)]
    assert found == [f"n{i:02d}" for i in range(30) if i % 2]


def test_opening_hours_must_be_openstreetmap_syntax():
    from fabcity.errors import RecordInvalid

    with pytest.raises(RecordInvalid) as caught:
        validate_node({**node_record("x", None, None), "opening_hours": "whenever we feel like it"})
    assert caught.value.problems[0].field == "opening_hours"
    assert validate_node({**node_record("x", None, None), "opening_hours": "Mo-Fr 10:00-18:00"}).opening_hours


@pytest.mark.parametrize(
    ("written", "stored"),
    [("화-토 10:00-18:00", "Tu-Sa 10:00-18:00"), ("평일 09:00~18:00", "Mo-Fr 09:00-18:00"), ("연중무휴", "24/7"),
     ("월,수,금 10:00-17:00; 일 휴무", "Mo,We,Fr 10:00-17:00; Su off")],
)  # fmt: skip
def test_korean_opening_hours_are_stored_in_openstreetmap_syntax(written, stored):
    assert validate_node({**node_record("x", None, None), "opening_hours": written}).opening_hours == stored
