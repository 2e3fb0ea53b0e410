"""The HTTP API: every endpoint, its errors, and no input that makes it fail."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabcity.directory.api import NodeSearchParams


def test_health_and_openapi(client):
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/v1/nodes",
        "/api/v1/nodes/{node_id}",
        "/api/v1/districts",
        "/api/v1/districts/{code}",
        "/api/v1/taxonomy",
        "/api/v1/stations",
        "/api/v1/about/data",
    ):
        assert path in spec["paths"]
    # the search reads its parameters through one model (web.query); the spec still lists each one
    search = {p["name"]: p for p in spec["paths"]["/api/v1/nodes"]["get"]["parameters"]}
    assert set(search) == set(NodeSearchParams.model_fields)
    assert all(p["in"] == "query" and not p["required"] for p in search.values())
    assert search["limit"]["schema"]["maximum"] == 1000 and search["gu"]["schema"]["type"] == "array"
    assert "레이저" in search["q"]["description"]
    assert client.get("/docs").status_code == 200


def test_nodes_search_json_and_geojson(client):
    body = client.get("/api/v1/nodes", params={"q": "레이저"}).json()
    assert "fab-lab-seoul" in [r["slug"] for r in body["results"]]
    geo = client.get("/api/v1/nodes", params={"gu": "종로구", "format": "geojson"})
    assert geo.headers["content-type"].startswith("application/geo+json")
    features = geo.json()["features"]
    seoul = next(f for f in features if f["properties"]["slug"] == "fab-lab-seoul")
    lon, lat = seoul["geometry"]["coordinates"]
    assert (lat, lon) == (seoul["properties"]["location"]["lat"], seoul["properties"]["location"]["lon"])
    assert 126 < lon < 128 and 37 < lat < 38  # RFC 7946 order: [lon, lat]


def test_near_filter_and_comma_lists(client):
    body = client.get(
        "/api/v1/nodes", params={"near": "37.569243,126.9952266", "radius_m": 1000, "type": "fab_lab,makerspace"}
    ).json()
    assert body["sort"] == "distance"
    assert body["results"][0]["slug"] == "fab-lab-seoul" and body["results"][0]["distance_m"] < 1


def test_node_by_id_or_slug(client):
    by_slug = client.get("/api/v1/nodes/fab-lab-seoul").json()
    assert client.get(f"/api/v1/nodes/{by_slug['id']}").json() == by_slug
    assert by_slug["nearest_station"]["name"]["ko"]
    assert client.get("/api/v1/nodes/no-such-node").status_code == 404


def test_districts(client):
    gus = client.get("/api/v1/districts").json()["results"]
    assert len(gus) == 25
    jongno = next(g for g in gus if g["code"] == "11110")
    assert jongno["nodes"]["by_type"].get("fab_lab", 0) >= 1
    dongs = client.get("/api/v1/districts", params={"level": "dong", "parent": "11380"}).json()["results"]
    assert len(dongs) == 16
    detail = client.get("/api/v1/districts/11120").json()  # KOSTAT code works too
    assert detail["code"] == "11380" and detail["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert detail["statistics"]["population"]["value"] == 464466
    assert len(detail["dongs"]) == 16
    assert client.get("/api/v1/districts/99999").status_code == 404


def test_taxonomy_stations_clusters_about(client):
    taxonomy = client.get("/api/v1/taxonomy").json()
    laser = next(p for p in taxonomy["processes"] if p["id"] == "laser_cutting")
    assert laser["label"]["ko"] and "fablabs:laser" in laser["aliases"]
    assert {t["id"] for t in taxonomy["node_types"]} >= {"fab_lab", "micro_factory", "small_manufacturer"}
    stations = client.get("/api/v1/stations", params={"near": "37.6190,126.9212", "limit": 3}).json()["results"]
    assert stations[0]["name"]["ko"] == "연신내" and len(stations) == 3
    assert stations[0]["distance_m"] <= stations[1]["distance_m"]
    assert len(client.get("/api/v1/clusters").json()["features"]) == 7
    about = client.get("/api/v1/about/data").json()
    assert any("admdongkor" in s["attribution"] for s in about["sources"])


def _cursor(key: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"near": "north"}, "near"),
        ({"near": "91,0"}, "near"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"radius_m": 10}, "radius_m"),
        ({"limit": 0}, "limit"),
        ({"limit": 5000}, "limit"),
        ({"gu": "Atlantis"}, "gu"),
        ({"process": "teleport"}, "process"),
        ({"sort": "random"}, "sort"),
        ({"format": "xml"}, "format"),
        ({"cursor": "%%%"}, "cursor"),
        # cursors that decode but that this server never issued: wrong types, a NUL, too few keys
        ({"sort": "name", "cursor": _cursor(["name", {"a": 1}, 3])}, "cursor"),
        ({"sort": "name", "cursor": _cursor(["name", "a\x00b", 3])}, "cursor"),
        ({"near": "37.56,126.97", "cursor": _cursor(["distance", "far", 3])}, "cursor"),
        ({"near": "37.56,126.97", "cursor": _cursor(["distance", True, 3])}, "cursor"),
        ({"sort": "name", "cursor": _cursor(["name", "a"])}, "cursor"),
    ],
)
def test_invalid_parameters_get_422_naming_the_parameter(client, params, param):
    response = client.get("/api/v1/nodes", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == param


_text = st.text(max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "q": _text,
            "fields": _text,
            "near": _text,
            "radius_m": _text,
            "bbox": _text,
            "gu": _text,
            "dong": _text,
            "type": _text,
            "process": _text,
            "material": _text,
            "access": _text,
            "status": _text,
            "sort": _text,
            "limit": _text,
            "cursor": _text,
            "format": _text,
        },
    )
)
def test_no_input_produces_a_server_error(client, params):
    response = client.get("/api/v1/nodes", params=params)
    assert response.status_code in (200, 422), (params, response.text[:300])


def test_control_characters_in_free_text_are_spaces(client):
    """PostgreSQL refuses a NUL in text: the query reads it as a space, as it does a tab."""
    response = client.get("/api/v1/nodes", params={"q": "레이저\x00커터"})
    assert response.status_code == 200
    assert response.json() == client.get("/api/v1/nodes", params={"q": "레이저 커터"}).json()


def test_district_outlines_are_the_boundaries_without_their_statistics(client):
    full = client.get("/api/v1/districts", params={"level": "dong", "format": "geojson"}).json()
    answer = client.get("/api/v1/districts", params={"level": "dong", "format": "geojson", "fields": "outline"})
    assert answer.headers["content-type"] == "application/geo+json" and answer.headers["content-encoding"] == "gzip"
    outline = answer.json()  # the client undoes the gzip the server stored once
    assert len(full["features"]) == 426
    assert [f["id"] for f in outline["features"]] == [f["id"] for f in full["features"]]
    for mine, theirs in zip(outline["features"], full["features"], strict=True):
        assert mine["geometry"] == theirs["geometry"] and mine["properties"]["name"] == theirs["properties"]["name"]
        assert "statistics" not in mine["properties"]
    plain = client.get(
        "/api/v1/districts", params={"level": "gu", "format": "geojson", "fields": "outline"},
        headers={"Accept-Encoding": "identity"},
    )  # fmt: skip
    assert "content-encoding" not in plain.headers and len(plain.json()["features"]) == 25
    mapo = client.get("/api/v1/districts", params={"level": "dong", "format": "geojson", "fields": "outline",
                                                   "parent": "11440"}).json()  # fmt: skip
    assert mapo["features"] and all(f["properties"]["parent_code"] == "11440" for f in mapo["features"])
    assert client.get("/api/v1/districts", params={"fields": "shapes"}).status_code == 422


def test_list_parameters_repeat_or_take_commas(client):
    """gu=a&gu=b and gu=a,b ask for the same nodes: those of either gu (은평구 11380, 용산구 11170)."""
    repeated = client.get("/api/v1/nodes", params=[("gu", "은평구"), ("gu", "11170"), ("sort", "name")]).json()
    commas = client.get("/api/v1/nodes", params={"gu": "은평구,11170", "sort": "name"}).json()
    assert repeated == commas
    assert sorted({r["location"]["gu_code"] for r in repeated["results"]}) == ["11170", "11380"]
    assert repeated["count"] == 6
