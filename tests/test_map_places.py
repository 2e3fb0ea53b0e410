"""Places without a point on the map's side of the search: known by their district, or not placed at all.

Most of the embedded dataset's places are known only by their gu; the map asks for them apart
(`located=false`) because no area search (near, bbox) can find a place that has no point.
"""

from __future__ import annotations

from builders import auth_headers
from fabcity.directory.search import SearchQuery, search

YONGSAN = "11170"


def _slugs(answer: dict) -> list[str]:
    return [result["slug"] for result in answer["results"]]


def test_places_without_a_point_are_listed_with_their_precision(client):
    answer = client.get("/api/v1/nodes", params={"located": "false", "fields": "summary", "limit": 1000}).json()
    locations = {result["slug"]: result["location"] for result in answer["results"]}
    assert len(locations) == 9
    assert all(location["lat"] is None for location in locations.values())
    assert locations["n15"]["precision"] == "gu" and locations["n15"]["gu_code"] == YONGSAN
    assert locations["local-stitch"]["precision"] == "unknown" and locations["local-stitch"]["gu_code"] is None


def test_a_gu_is_its_placed_and_its_district_only_places(client):
    def yongsan(**params: str) -> list[str]:
        return _slugs(client.get("/api/v1/nodes", params={"gu": "용산구", "fields": "summary", **params}).json())

    district_only = yongsan(located="false")
    assert set(district_only) == {"n15", "seoul-digital-daejanggan", "seoul-global-startup-center"}
    assert yongsan(located="true") == ["american-center-korea"]
    assert sorted(yongsan()) == sorted(district_only + ["american-center-korea"])


def test_the_search_finds_a_district_only_place_by_name(platform):
    page = search(platform, SearchQuery(q="N15", located=False, fields="summary"))
    found = page.results[0]  # the best match; others mention it in their descriptions
    assert (found["slug"], found["location"]["precision"]) == ("n15", "gu")
    assert search(platform, SearchQuery(q="N15", located=True)).results == []


def test_an_area_search_for_places_without_a_point_is_refused_naming_the_parameter(client):
    for area in ({"bbox": "37.4,126.7,37.7,127.2"}, {"near": "37.5665,126.978"}):
        answer = client.get("/api/v1/nodes", params={"located": "false", **area})
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"] == ["query", "located"]


def test_a_places_card_says_what_it_is_what_it_can_make_and_where(client):
    card = client.get("/nodes/n15/card", params={"lang": "en"})
    assert card.status_code == 200
    for text in ("Makerspace", "District (gu) only · Yongsan-gu", "Laser cutting", "and 5 more", 'href="/nodes/n15"'):
        assert text in card.text
    assert "Opening hours: not listed" in card.text
    assert "위치: 자치구 단위" not in card.text and "자치구 단위" in client.get("/nodes/n15/card?lang=ko").text


def test_a_card_says_open_now_from_the_opening_hours_and_escapes_the_name(client, platform):
    record = {
        "name": {"ko": "<b>늘 여는 곳</b>"},
        "node_type": "studio",
        "opening_hours": "24/7",
        "location": {"lat": 37.5665, "lon": 126.978},
        "slug": "always-open",
    }
    assert client.post("/api/v1/nodes", json=record, headers=auth_headers(platform)).status_code == 201
    card = client.get("/nodes/always-open/card", params={"lang": "en"}).text
    assert "open now" in card and "&lt;b&gt;늘 여는 곳&lt;/b&gt;" in card and "<b>" not in card


def test_a_card_of_no_place_is_not_found(client):
    assert client.get("/nodes/no-such-place/card").status_code == 404
