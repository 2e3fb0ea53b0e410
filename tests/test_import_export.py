"""Importing and exporting node files (OKW, fablabs.io, CSV, GeoJSON) on SQLite and PostgreSQL.

Every test runs on both backends through the conftest fixtures. Files are small and written into
tmp_path, except the real IoPA list of Korean fab labs (tests/data, see its README). "Nothing written"
is always checked by counting rows with SQL.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from builders import (
    IOPA_FILE,
    IOPA_SEOUL_LABS,
    KOREAN_HEADER,
    KOREAN_ROWS,
    count_rows,
    fablabs_labs,
    point_feature,
    record_named,
    records,
    write_csv,
    write_geojson,
    write_json,
)
from fabcity.cli.main import main
from fabcity.directory import importer
from fabcity.directory.exporter import export
from fabcity.directory.formats.common import ImportRejected
from fabcity.directory.importer import guess_format, import_file
from fabcity.platform import Platform
from fabcity.startup import open_platform
from fabcity.storage.schema import audit_log, node, node_external_id, node_record

# MOIS codes of the gu the tests place nodes in (see the embedded districts.geojson).
JONGNO = "11110"
EUNPYEONG = "11380"
SONGPA = "11710"


# --------------------------------------------------------------------------------------------
# helpers


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A public record without the write timestamps, which a re-import legitimately renews."""
    return {key: value for key, value in record.items() if key not in ("created_at", "updated_at")}


def assert_rejected(
    platform: Platform, path: Path, where: str, field: str, message: str, file_format: str | None = None
) -> ImportRejected:
    """The file is refused whole, the message names file, place, field and fault, and nothing is written."""
    nodes_before = count_rows(platform)
    external_before = count_rows(platform, node_external_id)
    with pytest.raises(ImportRejected) as caught:
        import_file(platform, path, file_format)
    text = str(caught.value)
    located = f"{path}: {where}: {field}: " if field else f"{path}: {where}: "
    assert located in text, text
    assert message in text, text
    assert any(p.where == where and p.field == field and message in p.message for p in caught.value.problems)
    assert count_rows(platform) == nodes_before
    assert count_rows(platform, node_external_id) == external_before
    return caught.value


# --------------------------------------------------------------------------------------------
# sample files


def rich_node_feature() -> dict:
    """A node with every kind of field a round trip has to carry."""
    return point_feature(
        {
            "name": {"ko": "연신내 메이커랩", "en": "Yeonsinnae Maker Lab"},
            "description": {"ko": "레이저 커터와 3D 프린터가 있는 동네 작업장", "en": "A neighbourhood workshop"},
            "node_type": "makerspace",
            "status": "active",
            "access_type": "public",
            "batch_size": "0-50",
            "run_sizes": ["sample", "one_off"],
            "opening_hours": "Mo-Fr 10:00-18:00; Sa 10:00-14:00",
            "floor_area_sqm": 120.5,
            "founded": "2020-03-02",
            "operator": "은평구, 메이커 협동조합",
            "location": {"address": {"ko": "서울특별시 은평구 연서로 1"}},
            "contact": {
                "phone": "02-123-4567",
                "email": "lab@example.org",
                "website": "https://example.org",
                "instagram": "@yeonsinnae.lab",
            },
            "links": [{"rel": "website", "url": "https://example.org/lab"}],
            "external_ids": {"osm": "node/4242", "fablabs_io": "yeonsinnae"},
            "processes": ["레이저커팅", "cnc_routing"],
            "materials": ["아크릴", "plywood"],
            "equipment": [
                {
                    "type": "laser_cutter",
                    "name": {"ko": "레이저 커터", "en": "Laser cutter"},
                    "make": "Trotec",
                    "model": "Speedy 400",
                    "quantity": 2,
                    "specs": {"bed_size_mm": [1000, 610], "laser_power_w": 80, "laser_type": "CO2"},
                    "materials": ["acrylic"],
                    "notes": "예약 필수",
                },
                {"type": "fdm_3d_printer", "specs": {"build_volume_mm": [250, 210, 210], "nozzle_size_mm": 0.4}},
            ],
            "provenance": {
                "source": "fabcity test survey",
                "source_url": "https://example.org/survey",
                "license": "CC-BY-4.0",
                "retrieved_at": "2025-01-02T03:04:05Z",
                "verified_at": "2025-02-03T04:05:06+09:00",
                "verified_by": "tester",
            },
        },
        lon=126.9291,
        lat=37.6027,
    )


def dong_node_feature() -> dict:
    """A closed studio known only to its dong, with a Korean name only."""
    return point_feature(
        {
            "name": {"ko": "불광 목공 작업실"},
            "node_type": "studio",
            "status": "closed",
            "location": {"gu_code": "은평구", "dong_code": "불광1동"},
            "processes": ["woodworking"],
            "provenance": {"source": "fabcity test survey", "license": "CC-BY-4.0"},
        }
    )


# --------------------------------------------------------------------------------------------
# 1. OKW: the IoPA list of Korean fab labs


def test_okw_iopa_file_creates_every_record(empty_platform):
    report = import_file(empty_platform, IOPA_FILE)

    assert (report.file_format, report.created, report.updated) == ("okw", 46, 0)
    assert count_rows(empty_platform) == 46


def test_okw_record_without_coordinates_is_placed_in_the_gu_its_address_names(empty_platform):
    import_file(empty_platform, IOPA_FILE)

    songpa = record_named(empty_platform, "Fablab Songpa")
    location = songpa["location"]
    assert (location["lat"], location["lon"]) == (None, None)
    assert location["precision"] == "gu"
    assert location["gu_code"] == SONGPA
    assert location["gu"]["name"]["ko"] == "송파구"
    assert location["dong_code"] is None
    assert songpa["external_ids"] == {"okw": "c94d1c69-8036-4f9d-bb15-a8a37de7af63", "fablabs_io": "fablabsongpa"}
    assert songpa["node_type"] == "fab_lab"
    assert songpa["provenance"]["license"] == "CC-BY-SA-4.0"


def test_okw_records_without_coordinates_are_gu_or_unknown(empty_platform):
    source = json.loads(IOPA_FILE.read_text(encoding="utf-8"))
    without_point = {r["facility"]["name"].strip() for r in source if r["geocoding"] is None}
    import_file(empty_platform, IOPA_FILE)

    stored = [r for r in records(empty_platform) if r["name"]["en"] in without_point]
    assert len(stored) == len(without_point) > 1
    for record in stored:
        location = record["location"]
        assert (location["lat"], location["lon"]) == (None, None)
        if record["name"]["en"] in IOPA_SEOUL_LABS:
            assert location["precision"] == "gu" and location["gu_code"] is not None
        else:
            # a lab elsewhere in Korea must not be pinned to a Seoul gu
            assert (location["precision"], location["gu_code"], location["dong_code"]) == ("unknown", None, None)


def test_okw_points_keep_their_coordinates_and_only_seoul_points_get_a_gu(empty_platform):
    source = json.loads(IOPA_FILE.read_text(encoding="utf-8"))
    points = {
        r["facility"]["name"].strip(): (r["geocoding"]["latitude"], r["geocoding"]["longitude"])
        for r in source
        if r["geocoding"] is not None
    }
    import_file(empty_platform, IOPA_FILE)

    stored = {r["name"]["en"]: r["location"] for r in records(empty_platform) if r["name"]["en"] in points}
    assert stored.keys() == points.keys()
    for name, (lat, lon) in points.items():
        location = stored[name]
        assert (location["lat"], location["lon"], location["precision"]) == (lat, lon, "exact"), name
        if name in IOPA_SEOUL_LABS:
            assert location["gu_code"] is not None and location["dong_code"] is not None, name
        else:
            assert (location["gu_code"], location["dong_code"]) == (None, None), name
    assert stored["Fab Lab Seoul"]["gu_code"] == JONGNO  # Sewoon Plaza
    assert stored["Seoul Innovation Fab Lab"]["gu_code"] == EUNPYEONG  # Tongil-ro 684, Eunpyeong-gu


def test_okw_reimport_finds_every_node_and_duplicates_none(empty_platform):
    import_file(empty_platform, IOPA_FILE)
    first = {r["id"]: r for r in records(empty_platform)}

    report = import_file(empty_platform, IOPA_FILE)

    # every record found its node; none changed, so none was written (test_import_merge.py)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 46)
    assert count_rows(empty_platform) == 46
    assert count_rows(empty_platform, node_external_id) == 92  # an okw id and a fablabs.io slug each
    assert {r["id"]: r for r in records(empty_platform)} == first  # updated_at included


# --------------------------------------------------------------------------------------------
# 2. fablabs.io /api/labs


def test_fablabs_capabilities_status_and_slug_are_mapped(empty_platform, tmp_path):
    path = write_json(tmp_path / "labs.json", fablabs_labs())

    report = import_file(empty_platform, path)

    assert (report.file_format, report.created, report.updated) == ("fablabs", 3, 0)
    seoul = record_named(empty_platform, "Fab Lab Seoul")
    assert seoul["processes"] == ["3d_printing", "laser_cutting"]
    assert seoul["status"] == "active"
    assert seoul["node_type"] == "fab_lab"
    assert seoul["external_ids"] == {"fablabs_io": "fablabseoul"}
    assert seoul["contact"] == {"email": "hello@fablabseoul.org", "phone": "+82 2 2278 0000"}
    assert seoul["links"] == [
        {"rel": "fablabs_io", "url": "https://www.fablabs.io/labs/fablabseoul"},
        {"rel": "website", "url": "http://fablabseoul.org"},
    ]
    assert seoul["description"]["en"] == "Korea's first fab lab, in the Sewoon arcade."
    assert seoul["location"]["address"]["en"] == "Sewoon Plaza #550, Seoul, 03194, KR"
    assert (seoul["location"]["lat"], seoul["location"]["lon"]) == (37.569243, 126.9952266)
    assert seoul["location"]["gu_code"] == JONGNO
    assert seoul["provenance"]["source_url"] == "https://www.fablabs.io/labs/fablabseoul"

    ogeum = record_named(empty_platform, "Fablab Ogeum")
    assert ogeum["status"] == "temporary_closure"  # fablabs.io says "corona"
    assert ogeum["processes"] == ["laser_cutting"]
    assert ogeum["location"]["gu_code"] == SONGPA

    beric = record_named(empty_platform, "BERIC")
    assert beric["processes"] == ["cnc_routing", "pcb_fabrication", "cnc_milling_precision", "vinyl_cutting"]
    assert beric["location"]["gu_code"] is None


def test_fablabs_reimport_updates_by_slug(empty_platform, tmp_path):
    labs = fablabs_labs()
    path = write_json(tmp_path / "labs.json", labs)
    import_file(empty_platform, path)
    ids = {r["name"]["en"]: r["id"] for r in records(empty_platform)}

    labs[0]["name"] = "Fab Lab Seoul (Sewoon)"
    labs[0]["capabilities"] = ["vinyl_cutting"]
    labs[1]["activity_status"] = "active"
    report = import_file(empty_platform, write_json(path, labs))

    assert (report.created, report.updated, report.unchanged) == (0, 2, 1)  # BERIC did not change
    assert count_rows(empty_platform) == 3
    renamed = record_named(empty_platform, "Fab Lab Seoul (Sewoon)")
    assert renamed["id"] == ids["Fab Lab Seoul"]
    assert renamed["processes"] == ["vinyl_cutting"]
    assert record_named(empty_platform, "Fablab Ogeum")["status"] == "active"


def test_fablabs_import_updates_a_node_another_source_already_holds(platform, tmp_path):
    """The embedded dataset knows Fab Lab Seoul and Fablab Ogeum by their fablabs.io slugs."""
    before = count_rows(platform)
    known = {r["external_ids"].get("fablabs_io"): r["id"] for r in records(platform)}

    report = import_file(platform, write_json(tmp_path / "labs.json", fablabs_labs()))

    assert (report.created, report.updated) == (1, 2)
    assert count_rows(platform) == before + 1
    slugs = {r["external_ids"].get("fablabs_io"): r["id"] for r in records(platform)}
    assert slugs["fablabseoul"] == known["fablabseoul"]
    assert slugs["fablabogeum"] == known["fablabogeum"]


# --------------------------------------------------------------------------------------------
# 3. CSV


def test_csv_with_english_headers(empty_platform, tmp_path):
    header = [
        "id", "slug", "name_ko", "name_en", "description_en", "node_type", "status", "access_type",
        "batch_size", "run_sizes", "opening_hours", "floor_area_sqm", "founded", "operator", "lat", "lon",
        "address_en", "phone", "email", "website", "processes", "materials", "equipment", "links",
        "fablabs_io", "osm", "source", "source_url", "license", "retrieved_at",
    ]  # fmt: skip
    equipment = [{"type": "CNC router", "make": "ShopBot", "specs": {"working_area_mm": [2440, 1220]}}]
    row = [
        "3f8e2c1a-0000-4000-8000-000000000001", "g-valley-works", "지밸리 공작소", "G-Valley Works",
        "Sheet metal and CNC", "micro_factory", "planned", "membership", "50-500", "short;medium",
        "Mo-Fr 09:00-18:00", "1,002", "2021-05-04", "Geumcheon-gu", "37.4812", "126.8826",
        "Digital-ro 9-gil 90", "02-000-1111", "works@example.kr", "https://works.example.kr",
        "CNC routing, laser cutting", "plywood; MDF", json.dumps(equipment),
        json.dumps([{"rel": "instagram", "url": "https://instagram.com/gvworks"}]),
        "gvalleyworks", "way/99", "G-Valley survey", "https://example.kr/survey", "CC-BY-4.0",
        "2025-03-01T00:00:00Z",
    ]  # fmt: skip
    path = write_csv(tmp_path / "nodes.csv", header, [row])

    report = import_file(empty_platform, path)

    assert (report.file_format, report.created) == ("csv", 1)
    [record] = records(empty_platform)
    assert record["id"] == "3f8e2c1a-0000-4000-8000-000000000001"
    assert record["slug"] == "g-valley-works"
    assert record["name"] == {"ko": "지밸리 공작소", "en": "G-Valley Works"}
    assert record["description"] == {"ko": None, "en": "Sheet metal and CNC"}
    assert (record["node_type"], record["status"], record["access_type"]) == ("micro_factory", "planned", "membership")
    assert (record["batch_size"], record["run_sizes"]) == ("50-500", ["short", "medium"])
    assert record["opening_hours"] == "Mo-Fr 09:00-18:00"
    assert record["floor_area_sqm"] == 1002.0
    assert (record["founded"], record["operator"]) == ("2021-05-04", "Geumcheon-gu")
    assert (record["location"]["lat"], record["location"]["lon"]) == (37.4812, 126.8826)
    assert record["location"]["precision"] == "exact"
    assert record["location"]["address"] == {"ko": None, "en": "Digital-ro 9-gil 90"}
    assert record["contact"] == {
        "phone": "02-000-1111",
        "email": "works@example.kr",
        "website": "https://works.example.kr",
    }
    assert record["processes"] == ["cnc_routing", "laser_cutting"]
    assert record["materials"] == ["plywood", "mdf"]
    assert [(m["type"], m["make"], m["specs"]) for m in record["equipment"]] == [
        ("cnc_router", "ShopBot", {"working_area_mm": [2440.0, 1220.0]})
    ]
    assert record["links"] == [{"rel": "instagram", "url": "https://instagram.com/gvworks"}]
    assert record["external_ids"] == {"fablabs_io": "gvalleyworks", "osm": "way/99"}
    assert record["provenance"]["source"] == "G-Valley survey"
    assert record["provenance"]["source_url"] == "https://example.kr/survey"
    assert record["provenance"]["license"] == "CC-BY-4.0"
    assert record["provenance"]["retrieved_at"].startswith("2025-03-01T00:00:00")


@pytest.mark.parametrize("bom", [True, False], ids=["with-bom", "without-bom"])
def test_csv_with_korean_headers_and_values(empty_platform, tmp_path, bom):
    path = write_csv(tmp_path / "은평_메이커스페이스.csv", KOREAN_HEADER, KOREAN_ROWS, "utf-8-sig" if bom else "utf-8")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") is bom

    report = import_file(empty_platform, path)

    assert (report.file_format, report.created) == ("csv", 3)
    lab = record_named(empty_platform, "서울이노베이션팹랩")
    assert lab["name"] == {"ko": "서울이노베이션팹랩", "en": "Seoul Innovation Fab Lab"}
    assert lab["node_type"] == "fab_lab"
    assert lab["processes"] == ["laser_cutting", "3d_printing"]
    assert lab["materials"] == ["acrylic", "plywood"]
    assert [(m["type"], m["make"], m["specs"]) for m in lab["equipment"]] == [
        ("laser_cutter", "Trotec", {"laser_power_w": 80.0})
    ]
    assert "laser_engraving" in lab["capabilities"]["processes"]  # what a laser cutter also does
    assert lab["contact"] == {"phone": "02-000-0000"}
    assert lab["opening_hours"] == "Tu-Sa 10:00-18:00"  # Korean hours are stored in OSM syntax
    assert (lab["location"]["lat"], lab["location"]["lon"]) == (37.6084167, 126.9337532)
    assert (lab["location"]["precision"], lab["location"]["gu_code"]) == ("exact", EUNPYEONG)
    assert lab["location"]["address"]["ko"] == "서울특별시 은평구 통일로 684"
    assert lab["provenance"] == {
        "source": "은평구 메이커 조사",
        "source_url": None,
        "license": "CC-BY-4.0",
        "retrieved_at": None,
        "verified_at": None,
        "verified_by": None,
    }

    repair = record_named(empty_platform, "은평 수리공방")
    assert repair["name"] == {"ko": "은평 수리공방", "en": None}
    assert repair["processes"] == ["3d_printing"]
    assert (repair["location"]["lat"], repair["location"]["lon"]) == (None, None)
    assert (repair["location"]["precision"], repair["location"]["gu_code"]) == ("gu", EUNPYEONG)

    unknown = record_named(empty_platform, "주소 미상 작업실")
    assert (unknown["location"]["precision"], unknown["location"]["gu_code"]) == ("unknown", None)


def test_csv_with_and_without_bom_store_the_same_nodes(backends, backend, tmp_path):
    stored = []
    for bom in (True, False):
        target = open_platform(backends.fresh(backend, nodes=False), nodes=False)
        path = write_csv(tmp_path / f"bom-{bom}.csv", KOREAN_HEADER, KOREAN_ROWS, "utf-8-sig" if bom else "utf-8")
        import_file(target, path)
        stored.append(sorted((comparable(r) | {"id": None} for r in records(target)), key=lambda r: r["slug"]))
        target.engine.dispose()
    assert stored[0] == stored[1]
    assert len(stored[0]) == 3


def test_csv_without_provenance_columns_takes_source_and_license_from_the_caller(empty_platform, tmp_path):
    path = write_csv(tmp_path / "작업실.csv", ["이름", "유형", "자치구"], [["도봉 작업실", "studio", "도봉구"]])

    import_file(empty_platform, path, license_="CC0-1.0")

    record = record_named(empty_platform, "도봉 작업실")
    assert record["provenance"]["source"] == "import of 작업실.csv"
    assert record["provenance"]["license"] == "CC0-1.0"
    assert (record["location"]["precision"], record["location"]["gu_code"]) == ("gu", "11320")


# --------------------------------------------------------------------------------------------
# 4. GeoJSON


def test_geojson_point_is_read_as_lon_lat(empty_platform, tmp_path):
    path = write_geojson(
        tmp_path / "nodes.geojson",
        point_feature(
            {"name": "Sewoon Maker", "node_type": "makerspace", "source": "survey", "license": "CC0-1.0"},
            lon=126.9952266,
            lat=37.569243,
        ),
    )

    report = import_file(empty_platform, path)

    assert (report.file_format, report.created) == ("geojson", 1)
    location = record_named(empty_platform, "Sewoon Maker")["location"]
    assert (location["lat"], location["lon"]) == (37.569243, 126.9952266)
    assert (location["precision"], location["gu_code"]) == ("exact", JONGNO)
    assert location["dong_code"] is not None and location["dong_code"].startswith(JONGNO)


def test_geojson_flat_properties_use_the_csv_columns(empty_platform, tmp_path):
    path = write_geojson(
        tmp_path / "nodes.geojson",
        point_feature(
            {
                "이름": "세운 공방",
                "유형": "studio",
                "공정": "레이저 가공, 3D printing",
                "재료": "아크릴",
                "전화": "02-111-2222",
                "fablabs_io": "sewoon-gongbang",
                "출처": "세운 조사",
                "라이선스": "CC-BY-4.0",
            },
            lon=126.9952266,
            lat=37.569243,
        ),
    )

    import_file(empty_platform, path)

    record = record_named(empty_platform, "세운 공방")
    assert record["node_type"] == "studio"
    assert record["processes"] == ["laser_cutting", "3d_printing"]
    assert record["materials"] == ["acrylic"]
    assert record["contact"] == {"phone": "02-111-2222"}
    assert record["external_ids"] == {"fablabs_io": "sewoon-gongbang"}
    assert (record["provenance"]["source"], record["provenance"]["license"]) == ("세운 조사", "CC-BY-4.0")


def test_geojson_full_record_properties(empty_platform, tmp_path):
    path = write_geojson(tmp_path / "nodes.geojson", rich_node_feature())

    import_file(empty_platform, path)

    record = record_named(empty_platform, "Yeonsinnae Maker Lab")
    assert record["name"] == {"ko": "연신내 메이커랩", "en": "Yeonsinnae Maker Lab"}
    assert (record["location"]["lat"], record["location"]["lon"]) == (37.6027, 126.9291)
    assert record["location"]["gu_code"] == EUNPYEONG
    assert record["processes"] == ["laser_cutting", "cnc_routing"]
    assert record["materials"] == ["acrylic", "plywood"]
    assert record["contact"]["instagram"] == "@yeonsinnae.lab"
    assert record["external_ids"] == {"osm": "node/4242", "fablabs_io": "yeonsinnae"}
    laser, printer = record["equipment"]
    assert (laser["type"], laser["make"], laser["model"], laser["quantity"]) == (
        "laser_cutter",
        "Trotec",
        "Speedy 400",
        2,
    )
    assert laser["specs"] == {"bed_size_mm": [1000.0, 610.0], "laser_power_w": 80.0, "laser_type": "CO2"}
    assert (printer["type"], printer["specs"]["nozzle_size_mm"]) == ("fdm_3d_printer", 0.4)
    assert record["provenance"]["verified_by"] == "tester"
    assert record["provenance"]["verified_at"].startswith("2025-02-02T19:05:06")  # +09:00 stored as UTC


def test_geojson_null_geometry_is_accepted(empty_platform, tmp_path):
    path = write_geojson(
        tmp_path / "nodes.geojson",
        point_feature(
            {"name": "송파 작업실", "node_type": "studio", "gu": "송파구", "source": "s", "license": "CC0-1.0"}
        ),
        point_feature(
            {"name": {"en": "Nowhere Lab"}, "node_type": "other", "provenance": {"source": "s", "license": "CC0-1.0"}}
        ),
        dong_node_feature(),
    )

    report = import_file(empty_platform, path)

    assert report.created == 3
    songpa = record_named(empty_platform, "송파 작업실")["location"]
    assert (songpa["lat"], songpa["precision"], songpa["gu_code"]) == (None, "gu", SONGPA)
    nowhere = record_named(empty_platform, "Nowhere Lab")["location"]
    assert (nowhere["lat"], nowhere["precision"], nowhere["gu_code"]) == (None, "unknown", None)
    bulgwang = record_named(empty_platform, "불광 목공 작업실")["location"]
    assert (bulgwang["precision"], bulgwang["gu_code"]) == ("dong", EUNPYEONG)
    assert bulgwang["dong"]["name"]["ko"] == "불광1동"


# --------------------------------------------------------------------------------------------
# 5. export → import round trip


@pytest.mark.parametrize(
    ("file_format", "file_name"), [("geojson", "nodes.geojson"), ("csv", "nodes.csv"), ("okw", "nodes.json")]
)
def test_export_then_import_gives_back_the_same_nodes(platform, empty_platform, tmp_path, file_format, file_name):
    import_file(platform, write_geojson(tmp_path / "extra.geojson", rich_node_feature(), dong_node_feature()))
    original = {r["id"]: comparable(r) for r in records(platform)}
    assert len(original) == count_rows(platform) > 2
    path = tmp_path / file_name
    with path.open("w", encoding="utf-8", newline="") as handle:
        exported = export(platform, file_format, handle)

    report = import_file(empty_platform, path)  # format guessed from the exported file

    assert exported == len(original)
    assert (report.file_format, report.created, report.updated) == (file_format, len(original), 0)
    copied = {r["id"]: comparable(r) for r in records(empty_platform)}
    assert copied.keys() == original.keys()
    if file_format == "csv":
        # CSV has columns for phone, email and website only (csvfile.COLUMNS): any other contact key,
        # such as the rich node's "instagram", is not written (checked: it is absent from the file).
        assert "instagram" not in path.read_text(encoding="utf-8-sig")
        for record in original.values():
            record["contact"] = {k: v for k, v in record["contact"].items() if k in ("phone", "email", "website")}
    for node_id, record in original.items():
        assert copied[node_id] == record, record["slug"]


# --------------------------------------------------------------------------------------------
# 6. bad input: rejected whole, with the place of the fault, and nothing written


def test_malformed_json_names_line_and_column(platform, tmp_path):
    path = tmp_path / "facilities.json"
    path.write_text('[\n {"facility": {"name": "A"}},\n {"facility" {"name": "B"}}\n]\n', encoding="utf-8")

    assert_rejected(platform, path, "line 3, column 14", "", "malformed JSON: Expecting ':' delimiter", "okw")


def test_csv_in_cp949_is_named_as_not_utf8(platform, tmp_path):
    path = write_csv(
        tmp_path / "노드.csv",
        ["name", "node_type", "license"],
        [["Lab", "fab_lab", "CC0-1.0"], ["팹랩", "fab_lab", "CC0-1.0"]],
        "cp949",
    )

    error = assert_rejected(platform, path, "line 3", "", "not valid UTF-8")
    assert "CP949" in str(error)


def test_latitude_out_of_range(platform, tmp_path):
    path = write_csv(
        tmp_path / "nodes.csv",
        ["name", "node_type", "lat", "lon", "license"],
        [["North", "fab_lab", "95", "127", "CC0-1.0"]],
    )

    assert_rejected(platform, path, "line 2", "location.lat", "latitude 95.0 is outside -90..90")


def test_a_district_code_that_does_not_exist_is_named(platform, tmp_path):
    path = write_csv(
        tmp_path / "nodes.csv",
        ["name", "node_type", "gu", "license"],
        [["Somewhere", "fab_lab", "11999", "CC0-1.0"]],
    )

    assert_rejected(platform, path, "line 2", "location.gu_code", "unknown gu '11999'")


def test_a_csv_cell_that_should_hold_a_json_list_and_does_not_is_named(platform, tmp_path):
    path = write_csv(
        tmp_path / "nodes.csv",
        ["name", "node_type", "equipment", "license"],
        [["Lab", "fab_lab", "[laser", "CC0-1.0"]],
    )

    assert_rejected(platform, path, "line 2", "equipment", "expected a JSON list")


def test_swapped_latitude_and_longitude_in_csv(platform, tmp_path):
    path = write_csv(
        tmp_path / "nodes.csv",
        ["name", "node_type", "lat", "lon", "license"],
        [["Swapped", "fab_lab", "126.97", "37.56", "CC0-1.0"]],
    )

    assert_rejected(platform, path, "line 2", "location.lat", "latitude 126.97 and longitude 37.56 look swapped")


def test_geojson_point_written_lat_lon_is_named_as_swapped(platform, tmp_path):
    path = write_geojson(
        tmp_path / "nodes.geojson",
        point_feature(
            {"name": "Swapped", "node_type": "fab_lab", "source": "s", "license": "CC0-1.0"}, lon=37.56, lat=126.97
        ),
    )

    assert_rejected(platform, path, "feature 1", "location.lat", "look swapped")


def test_unknown_node_type(platform, tmp_path):
    good = {"name": "Fine", "node_type": "fab_lab", "source": "s", "license": "CC0-1.0"}
    path = write_geojson(
        tmp_path / "nodes.geojson",
        point_feature(good),
        point_feature({**good, "name": "Odd", "node_type": "spaceship"}),
    )

    assert_rejected(platform, path, "feature 2", "node_type", "unknown node type 'spaceship'")


def test_unknown_process(platform, tmp_path):
    labs = fablabs_labs()[:1]
    labs[0]["capabilities"] = ["laser", "teleportation"]
    path = write_json(tmp_path / "labs.json", labs)

    assert_rejected(platform, path, "lab 1 (line 2)", "processes", "unknown process 'fablabs:teleportation'")


def test_missing_name(platform, tmp_path):
    path = tmp_path / "facilities.json"
    named = '{"facility": {"name": "Named Lab", "description": "fablab"}}'
    blank = '{"facility": {"name": "  ", "description": "fablab"}}'
    path.write_text(f"[\n{named},\n{blank}\n]", encoding="utf-8")

    assert_rejected(platform, path, "record 2 (line 3)", "name", "a node needs a name")


def test_duplicate_ids_within_one_file(platform, tmp_path):
    path = write_csv(
        tmp_path / "nodes.csv",
        ["id", "name", "node_type", "license"],
        [["lab-1", "First", "fab_lab", "CC0-1.0"], ["lab-1", "Second", "fab_lab", "CC0-1.0"]],
    )

    assert_rejected(platform, path, "line 3", "id", "duplicate 'lab-1', also in line 2")


def test_duplicate_external_ids_within_one_file(platform, tmp_path):
    first, second = fablabs_labs()[:2]
    second["slug"] = first["slug"]
    path = tmp_path / "labs.json"
    path.write_text(f"[\n{json.dumps(first)},\n{json.dumps(second)}\n]", encoding="utf-8")

    assert_rejected(
        platform, path, "lab 2 (line 3)", "external_ids.fablabs_io", "duplicate 'fablabseoul', also in lab 1 (line 2)"
    )


@pytest.mark.parametrize("name", ["nodes.csv", "nodes.json", "nodes.geojson"])
def test_empty_file(platform, tmp_path, name):
    path = tmp_path / name
    path.write_text("\n  \n", encoding="utf-8")

    assert_rejected(platform, path, "file", "", "the file is empty")


def test_csv_with_a_header_and_no_rows(platform, tmp_path):
    path = write_csv(tmp_path / "nodes.csv", ["name", "node_type", "license"], [])

    assert_rejected(platform, path, "file", "", "the file holds no records")


def test_one_bad_record_keeps_the_good_one_out(platform, tmp_path):
    path = write_csv(
        tmp_path / "nodes.csv",
        ["name", "node_type", "lat", "lon", "license"],
        [["Good Lab", "fab_lab", "37.56", "126.97", "CC0-1.0"], ["Bad Lab", "fab_lab", "37.56", "", "CC0-1.0"]],
    )

    assert_rejected(platform, path, "line 3", "location.lon", "latitude and longitude come together")
    assert count_rows(platform, node, node.c.name_en == "Good Lab") == 0


def test_unknown_csv_column(platform, tmp_path):
    path = write_csv(
        tmp_path / "nodes.csv", ["이름", "유형", "전화번호", "라이선스"], [["팹랩", "fab_lab", "02-1", "CC0-1.0"]]
    )

    assert_rejected(platform, path, "line 1", "전화번호", "unknown column")


def test_csv_problem_in_a_multiline_row_names_the_line_the_row_starts_on(platform, tmp_path):
    """A quoted cell may hold a newline; the row still starts on line 2, where an editor shows it."""
    path = write_csv(
        tmp_path / "nodes.csv",
        ["name", "description", "node_type", "license"],
        [["Lab", "first line\nsecond line", "spaceship", "CC0-1.0"]],
    )

    assert_rejected(platform, path, "line 2", "node_type", "unknown node type 'spaceship'")


def test_geojson_flat_properties_with_an_unknown_column_are_rejected_by_feature(platform, tmp_path):
    good = {"name": "Fine", "node_type": "fab_lab", "source": "s", "license": "CC0-1.0"}
    path = write_geojson(
        tmp_path / "nodes.geojson", point_feature(good), point_feature({**good, "amenity": "workshop"})
    )

    assert_rejected(platform, path, "feature 2", "amenity", "unknown column")


def test_geojson_geometry_that_is_not_an_object_is_rejected_by_feature(platform, tmp_path):
    feature = point_feature({"name": "Fine", "node_type": "fab_lab", "source": "s", "license": "CC0-1.0"})
    feature["geometry"] = [126.97, 37.56]
    path = write_geojson(tmp_path / "nodes.geojson", feature)

    assert_rejected(platform, path, "feature 1", "geometry", "expected a Point [lon, lat] or null")


def test_geojson_points_written_lat_lon_against_their_properties_are_named(platform, tmp_path):
    """A real export wrote [lat, lon] geometries with latitude/longitude properties: Barcelona at lat 2.177."""
    barcelona = {"name": "Ateneu de Fabricació", "node_type": "fab_lab", "latitude": 41.3902, "longitude": 2.1772}
    path = write_geojson(
        tmp_path / "makerspaces.geojson",
        point_feature({**barcelona, "source": "s", "license": "CC0-1.0"}, lon=41.3902, lat=2.1772),
        point_feature({**barcelona, "name": "Elsewhere", "source": "s", "license": "CC0-1.0"}, lon=2.5, lat=41.0),
    )

    error = assert_rejected(platform, path, "feature 1", "geometry", "is written [latitude, longitude]")
    assert any(
        p.where == "feature 2" and p.field == "geometry" and "disagrees with the properties" in p.message
        for p in error.problems
    )


def test_geojson_point_and_properties_that_agree_are_imported(empty_platform, tmp_path):
    properties = {
        "name": "세운 공방",
        "node_type": "studio",
        "위도": "37.569243",
        "경도": "126.9952266",
        "license": "CC0-1.0",
    }
    path = write_geojson(tmp_path / "n.geojson", point_feature({**properties, "source": "s"}, 126.9952266, 37.569243))

    assert import_file(empty_platform, path).created == 1


def test_a_point_outside_the_country_its_record_names_is_named(platform, tmp_path):
    labs = fablabs_labs()[:2]
    labs[1]["latitude"], labs[1]["longitude"] = 41.3902, 2.1772  # country_code KR
    path = write_json(tmp_path / "labs.json", labs)

    assert_rejected(
        platform, path, "lab 2 (line 28)", "country_code", "lies outside Korea, the country the record names"
    )


def test_an_okw_point_outside_the_country_its_region_names_is_named(platform, tmp_path):
    source = json.loads(IOPA_FILE.read_text(encoding="utf-8"))
    seoul = next(r for r in source if r["facility"]["name"] == "Fab Lab Seoul")
    seoul["geocoding"]["latitude"], seoul["geocoding"]["longitude"] = 48.85, 2.35
    path = tmp_path / "facilities.json"
    path.write_text("[\n" + json.dumps(seoul) + "\n]", encoding="utf-8")

    assert_rejected(platform, path, "record 1 (line 2)", "region.country", "lies outside Korea")


def test_a_point_far_outside_seoul_for_a_lab_in_seoul_is_named(platform, tmp_path):
    labs = fablabs_labs()[:1]
    labs[0]["latitude"], labs[0]["longitude"] = 35.1796, 129.0756  # Busan, still in Korea
    path = write_json(tmp_path / "labs.json", labs)

    assert_rejected(platform, path, "lab 1 (line 2)", "city", "km outside Seoul, the city the record names")


def test_a_point_far_from_the_gu_its_record_names_is_named(platform, tmp_path):
    path = write_csv(
        tmp_path / "nodes.csv",
        ["name", "node_type", "lat", "lon", "자치구", "license"],
        [["강남 공방", "studio", "37.4979", "127.0276", "은평구", "CC0-1.0"]],  # a point at Gangnam station
    )

    assert_rejected(platform, path, "line 2", "location.gu_code", "km outside 은평구, the gu the record names")


def test_a_latin1_csv_is_named_with_its_line_and_the_encoding_option(platform, tmp_path):
    rows = [[f"Lab {i}", "fab_lab", "CC0-1.0"] for i in range(3)] + [["Café Makers", "makerspace", "CC0-1.0"]]
    path = write_csv(tmp_path / "nodes.csv", ["name", "node_type", "license"], rows, "latin-1")

    error = assert_rejected(platform, path, "line 5", "", "not valid UTF-8 at byte")
    assert "pass it with --encoding, e.g. --encoding latin-1" in str(error)


def test_a_latin1_csv_imports_with_its_encoding(db_url, platform, tmp_path):
    path = write_csv(
        tmp_path / "nodes.csv", ["name", "node_type", "license"], [["Café Makers", "makerspace", "CC0-1.0"]], "latin-1"
    )

    result = CliRunner().invoke(main, ["import", str(path), "--encoding", "latin-1", "--db", db_url])

    assert result.exit_code == 0, result.output
    assert record_named(platform, "Café Makers")["node_type"] == "makerspace"


def test_a_cp949_csv_imports_with_its_encoding(empty_platform, tmp_path):
    path = write_csv(
        tmp_path / "노드.csv", ["이름", "유형", "라이선스"], [["팹랩 은평", "fab_lab", "CC0-1.0"]], "cp949"
    )

    assert import_file(empty_platform, path, encoding="cp949").created == 1


def test_an_unknown_encoding_is_named(platform, tmp_path):
    path = write_csv(tmp_path / "nodes.csv", ["name", "node_type", "license"], [["Lab", "fab_lab", "CC0-1.0"]])

    with pytest.raises(ImportRejected, match="unknown encoding 'klingon'"):
        import_file(platform, path, encoding="klingon")


@pytest.mark.parametrize(("header", "meant"), [("adress", "'address'"), ("전화번호", "'전화', that is phone")])
def test_an_unknown_csv_column_gets_the_nearest_known_one_suggested(platform, tmp_path, header, meant):
    path = write_csv(
        tmp_path / "nodes.csv", ["name", "node_type", header, "license"], [["Lab", "fab_lab", "x", "CC0-1.0"]]
    )

    assert_rejected(platform, path, "line 1", header, f"unknown column (did you mean {meant}?)")


def test_cli_import_of_a_bad_file_exits_non_zero_and_names_the_line(db_url, platform, tmp_path):
    before = count_rows(platform)
    path = write_csv(
        tmp_path / "nodes.csv",
        ["name", "node_type", "lat", "lon", "license"],
        [["Good Lab", "fab_lab", "37.56", "126.97", "CC0-1.0"], ["Far North", "fab_lab", "95", "127", "CC0-1.0"]],
    )

    result = CliRunner().invoke(main, ["import", str(path), "--db", db_url])

    assert result.exit_code == 1, result.output
    assert f"{path}: line 3: location.lat: latitude 95.0 is outside -90..90" in result.output
    assert "nothing imported" in result.output
    assert count_rows(platform) == before


def test_cli_import_of_a_good_file_reports_what_it_wrote(db_url, platform, tmp_path):
    before = count_rows(platform)
    path = write_json(tmp_path / "labs.json", fablabs_labs())

    result = CliRunner().invoke(main, ["import", str(path), "--db", db_url])

    assert result.exit_code == 0, result.output
    assert "1 created, 2 updated (fablabs)" in result.output
    assert count_rows(platform) == before + 1


# --------------------------------------------------------------------------------------------
# 7. an import killed midway

KILL_AFTER_FIRST_BATCH = """
import os, signal, sys
from pathlib import Path
from sqlalchemy import func, select
from fabcity.directory import importer
from fabcity.startup import open_platform
from fabcity.storage.schema import node

real_save_nodes = importer.save_nodes

def save_then_die(conn, prepared, *args, **kwargs):
    summary = real_save_nodes(conn, prepared, *args, **kwargs)
    inside = conn.execute(select(func.count()).select_from(node)).scalar_one()
    print(f"batch of {summary.created} saved; {inside} nodes inside the transaction", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    return summary

importer.save_nodes = save_then_die
importer.import_file(open_platform(sys.argv[1]), Path(sys.argv[2]))
print("import finished", flush=True)
"""


def test_import_killed_midway_leaves_the_database_as_it_was(db_url, platform, tmp_path):
    total = importer.BATCH + 1000
    features = [
        point_feature(
            {
                "name": f"Batch node {i:04d}",
                "node_type": "studio",
                "fablabs_io": f"batch-{i}",
                "source": "s",
                "license": "CC0-1.0",
            },
            lon=126.90 + (i % 60) * 0.0025,
            lat=37.50 + (i // 60) * 0.002,
        )
        for i in range(total)
    ]
    path = write_geojson(tmp_path / "many.geojson", *features)
    nodes_before = count_rows(platform)
    external_before = count_rows(platform, node_external_id)

    result = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_FIRST_BATCH, db_url, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == -signal.SIGKILL, result.stderr
    assert f"batch of {importer.BATCH} saved; {nodes_before + importer.BATCH} nodes inside" in result.stdout
    assert "import finished" not in result.stdout
    assert count_rows(platform) == nodes_before
    assert count_rows(platform, node_external_id) == external_before
    assert count_rows(platform, node, node.c.name_en.like("Batch node%")) == 0


def test_an_import_failing_in_its_second_batch_stores_nothing_of_its_first(platform, tmp_path, monkeypatch):
    total = importer.BATCH + 5
    features = [
        point_feature(
            {"name": f"Batch node {i:04d}", "node_type": "studio", "source": "s", "license": "CC0-1.0"},
            lon=126.90 + (i % 60) * 0.0025,
            lat=37.50 + (i // 60) * 0.002,
        )
        for i in range(total)
    ]
    path = write_geojson(tmp_path / "many.geojson", *features)
    tables = (node, node_external_id, node_record, audit_log)
    before = [count_rows(platform, table) for table in tables]
    real_save_nodes = importer.save_nodes
    saved_batches = []

    def save_then_fail_on_the_second_batch(conn, prepared, *args, **kwargs):
        if saved_batches:
            raise RuntimeError("the second batch fails")
        saved_batches.append(len(prepared))
        return real_save_nodes(conn, prepared, *args, **kwargs)

    monkeypatch.setattr(importer, "save_nodes", save_then_fail_on_the_second_batch)

    with pytest.raises(RuntimeError, match="the second batch fails"):
        import_file(platform, path)

    assert saved_batches == [importer.BATCH]
    assert count_rows(platform, node, node.c.name_en.like("Batch node%")) == 0
    assert [count_rows(platform, table) for table in tables] == before


# --------------------------------------------------------------------------------------------
# 8. guessing the format


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("nodes.csv", "name,node_type\n", "csv"),
        ("nodes.CSV", "name,node_type\n", "csv"),
        ("nodes.tsv", "name\tnode_type\n", "csv"),
        ("nodes.geojson", '{"type": "FeatureCollection", "features": []}', "geojson"),
        ("nodes.json", '{"type": "FeatureCollection", "features": []}', "geojson"),
        ("facilities.json", '[{"facility": {"name": "A"}}]', "okw"),
        ("labs.json", '[{"id": 1, "name": "A", "slug": "a"}]', "fablabs"),
        ("labs.json", '[{"name": "A", "capabilities": ["laser"]}]', "fablabs"),
        ("labs.json", '[{"name": "A", "kind_name": "fab_lab"}]', "fablabs"),
    ],
)
def test_guess_format_by_extension_and_shape(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    assert guess_format(path) == expected


def test_guess_format_of_the_real_files(tmp_path):
    assert guess_format(IOPA_FILE) == "okw"
    assert guess_format(write_json(tmp_path / "labs.json", fablabs_labs())) == "fablabs"


@pytest.mark.parametrize(
    ("name", "content"),
    [("nodes.json", "{}"), ("nodes.json", "[]"), ("nodes.json", '[{"name": "A"}]'), ("nodes.txt", "[]")],
)
def test_guess_format_refuses_what_it_cannot_tell(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ImportRejected, match="cannot tell the format"):
        guess_format(path)


def test_tsv_file_guessed_as_csv_imports(empty_platform, tmp_path):
    """guess_format takes .tsv for CSV, so the CSV reader must read its tab-separated cells."""
    path = tmp_path / "nodes.tsv"
    path.write_text("name\tnode_type\tlicense\nTab Lab\tfab_lab\tCC0-1.0\n", encoding="utf-8")
    assert guess_format(path) == "csv"

    report = import_file(empty_platform, path)

    assert report.created == 1
    assert record_named(empty_platform, "Tab Lab")["node_type"] == "fab_lab"
