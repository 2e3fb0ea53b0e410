"""Build the embedded Seoul dataset (src/fabcity/data/seoul) from the shared source data.

Usage: python scripts/build_dataset.py [--shared ../shared]

The shared source data is not part of the repository: it is the project's folder of original
downloads, `shared/data/<source>/` beside the checkout by default (--shared names another place),
each source with a README giving its origin and licence. This script reads seoul-derived,
seoul-maps, seoul-stats, okw-fablabs-io-2024 and oecd-regional-wellbeing-2016. Only this build
reads it; the tests use the embedded dataset and the copies under tests/data.

Reproducible: the same inputs give byte-identical outputs. Every output row names its source
(see sources.json); nothing is invented: a node known only by its district keeps that precision.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import uuid
from collections import defaultdict
from pathlib import Path

from shapely.geometry import mapping, shape

from fabcity.directory.formats import geojson as geojson_format
from fabcity.directory.formats import okw as okw_format
from fabcity.directory.models import validate_node
from fabcity.directory.writer import slugify
from fabcity.geo.districts import DistrictIndex, name_key
from fabcity.measure.census_import import census_district
from fabcity.measure.sheets import number

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "fabcity" / "data" / "seoul"
CURATED = ROOT / "dataset" / "curated_nodes.json"

KSIC_SECTIONS = "ABCDEFGHIJKLMNOPQRS"
IOPA_RETRIEVED = "2024-10-01T00:00:00+00:00"
CURATION_SOURCE = "fabcity curation of the Fab City Seoul source documents"
CURATION_LICENSE = "CC-BY-4.0"
DATASET_NAMESPACE = uuid.UUID("0b7f5b8e-2f4c-4a51-9d3e-5f0c6a1e2d77")
CLUSTERS = [
    # (id, dong, gu, industry, name_ko, name_en)
    (
        "euljiro",
        "을지로동",
        "중구",
        "printing_metal",
        "을지로·세운 제조 집적지",
        "Euljiro–Sewoon manufacturing cluster",
    ),
    (
        "gasan",
        "가산동",
        "금천구",
        "machinery_electronics",
        "G밸리(가산) 기계·전자 집적지",
        "G-Valley (Gasan) machinery and electronics",
    ),
    ("gwanghui", "광희동", "중구", "garment", "동대문 의류봉제 집적지", "Dongdaemun garment cluster"),
    ("jongno1234", "종로1·2·3·4가동", "종로구", "jewellery", "종로 귀금속 집적지", "Jongno jewellery cluster"),
    ("mullae", "문래동", "영등포구", "metal", "문래 금속가공 집적지", "Mullae metalworking cluster"),
    ("seongsu", "성수2가3동", "성동구", "shoes", "성수 수제화 집적지", "Seongsu handmade shoes cluster"),
    ("pildong", "필동", "중구", "printing", "충무로 인쇄 집적지", "Chungmuro printing cluster"),
]


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8-sig"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def build_districts(shared: Path) -> list[dict]:
    gus = read_json(shared / "seoul-derived" / "seoul_gu_25_from_admdong.geojson")["features"]
    dongs = read_json(shared / "seoul-derived" / "seoul_admdong_426_simplified.geojson")["features"]
    english_2013 = {}
    for feature in read_json(shared / "seoul-maps" / "kostat2013_seoul_submunicipalities_geo_simple.json")["features"]:
        props = feature["properties"]
        english_2013[(props["code"][:5], name_key(props["name"]))] = props["name_eng"]
    areas = {row["adm_cd2"]: row for row in read_csv(shared / "seoul-derived" / "seoul_admdong_indicators_seed.csv")}
    gu_rows = {row["sgg_cd"]: row for row in read_csv(shared / "seoul-derived" / "seoul_gu_indicators_seed.csv")}
    features = []
    for feature in sorted(gus, key=lambda f: f["properties"]["sgg_cd"]):
        props = feature["properties"]
        geometry = shape(feature["geometry"])
        point = geometry.representative_point()
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": props["sgg_cd"],
                    "level": "gu",
                    "kostat_code": props["kostat_cd"],
                    "kostat_code8": None,
                    "parent_code": None,
                    "name_ko": props["name_ko"],
                    "name_en": props["name_en"],
                    "area_km2": float(gu_rows[props["sgg_cd"]]["area_km2_2023"]),
                    "center_lat": round(point.y, 6),
                    "center_lon": round(point.x, 6),
                },
                "geometry": mapping(geometry),
            }
        )
    for feature in sorted(dongs, key=lambda f: f["properties"]["adm_cd2"]):
        props = feature["properties"]
        geometry = shape(feature["geometry"])
        point = geometry.representative_point()
        name_ko = props["adm_nm"].split(" ")[-1]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": props["adm_cd2"],
                    "level": "dong",
                    "kostat_code": props["adm_cd"],
                    "kostat_code8": props["adm_cd8"],
                    "parent_code": props["sgg"],
                    "name_ko": name_ko,
                    "name_en": english_2013.get((props["adm_cd"][:5], name_key(name_ko))),
                    "area_km2": float(areas[props["adm_cd2"]]["area_km2_2023"]),
                    "center_lat": round(point.y, 6),
                    "center_lon": round(point.x, 6),
                },
                "geometry": mapping(geometry),
            }
        )
    return features


def build_stats(shared: Path, index: DistrictIndex) -> list[list]:
    """Long table: district_code, indicator, period, value, unit, source_id."""
    rows: list[list] = []
    for row in read_csv(shared / "seoul-derived" / "seoul_gu_indicators_seed.csv"):
        code = row["sgg_cd"]
        rows.append([code, "population", "2025Q1", int(row["population_2025q1"]), "persons", "seoul-population-2025q1"])
        rows.append(
            [code, "population_foreign", "2025Q1", int(row["pop_foreign_2025q1"]), "persons", "seoul-population-2025q1"]
        )
        rows.append([code, "area", "2023", float(row["area_km2_2023"]), "km2", "seoul-area-2023"])
    for row in read_csv(shared / "seoul-derived" / "seoul_admdong_indicators_seed.csv"):
        code = row["adm_cd2"]
        rows.append([code, "population", "2025Q1", int(row["population_2025q1"]), "persons", "seoul-population-2025q1"])
        rows.append(
            [code, "population_foreign", "2025Q1", int(row["pop_foreign_2025q1"]), "persons", "seoul-population-2025q1"]
        )
        rows.append([code, "area", "2023", float(row["area_km2_2023"]), "km2", "seoul-area-2023"])
    # 2018 business census by KSIC section, keyed by names: gu rows say 소계, dong rows name the dong.
    lines = (shared / "seoul-stats" / "seoul_businesses_by_industry_dong_2018.tsv").read_text(encoding="utf-8-sig")
    records = list(csv.reader(io.StringIO(lines), delimiter="\t"))[3:]
    for record in records:
        gu_name, dong_name = record[1], record[2]
        if gu_name == "합계":
            continue
        found = census_district(index, gu_name, dong_name)  # the same matching as `fabcity stats import`
        if found is None:
            continue  # dongs renamed or split since 2018; left empty rather than guessed
        code = found.code
        values = [number(cell, blank=0.0) for cell in record[3:]]
        rows.append([code, "businesses", "2018", int(values[0]), "businesses", "seoul-business-census-2018"])
        rows.append([code, "workers", "2018", int(values[2]), "persons", "seoul-business-census-2018"])
        for position, section in enumerate(KSIC_SECTIONS):
            businesses, workers = values[5 + 2 * position], values[6 + 2 * position]
            rows.append(
                [
                    code,
                    f"businesses_ksic_{section}",
                    "2018",
                    int(businesses),
                    "businesses",
                    "seoul-business-census-2018",
                ]
            )
            rows.append(
                [code, f"workers_ksic_{section}", "2018", int(workers), "persons", "seoul-business-census-2018"]
            )
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return rows


def build_stations(shared: Path, index: DistrictIndex) -> list[dict]:
    """One station per name and place, with every line that stops there."""
    groups: dict[str, list[list[dict]]] = defaultdict(list)
    for row in sorted(
        read_csv(shared / "seoul-derived" / "seoul_subway_stations_enriched.csv"), key=lambda r: r["station_id"]
    ):
        lat, lon = float(row["lat"]), float(row["lon"])
        for group in groups[row["name_ko"]]:
            first = group[0]
            if math.hypot((float(first["lat"]) - lat) * 111_320, (float(first["lon"]) - lon) * 88_000) < 1000:
                group.append(row)
                break
        else:
            groups[row["name_ko"]].append([row])
    stations = []
    for name, places in groups.items():
        for group in places:
            lat = sum(float(r["lat"]) for r in group) / len(group)
            lon = sum(float(r["lon"]) for r in group) / len(group)
            located = index.locate(lat, lon)
            stations.append(
                {
                    "id": group[0]["station_id"],
                    "name_ko": name,
                    "name_en": next((r["name_en"] for r in group if r["name_en"]), None),
                    "lines": sorted({r["line"] for r in group}),
                    "lat": round(lat, 6),
                    "lon": round(lon, 6),
                    "gu_code": located[0].code if located else None,
                    "dong_code": located[1].code if located else None,
                }
            )
    stations.sort(key=lambda s: s["id"])
    return stations


def build_clusters(index: DistrictIndex, districts: list[dict], stats: list[list]) -> dict:
    geometry_by_code = {f["properties"]["code"]: f["geometry"] for f in districts}
    stat = {(r[0], r[1]): r[3] for r in stats}
    features = []
    for cluster_id, dong_name, gu_name, industry, name_ko, name_en in CLUSTERS:
        gu = index.resolve(gu_name, level="gu")[0]
        dong = next(d for d in index.resolve(dong_name, level="dong") if d.parent_code == gu.code)
        features.append(
            {
                "type": "Feature",
                "id": cluster_id,
                "properties": {
                    "id": cluster_id,
                    "name_ko": name_ko,
                    "name_en": name_en,
                    "industry": industry,
                    "dong_codes": [dong.code],
                    "counts": {
                        "manufacturing_businesses_2018": stat[(dong.code, "businesses_ksic_C")],
                        "manufacturing_workers_2018": stat[(dong.code, "workers_ksic_C")],
                    },
                    "description_ko": f"{gu_name} {dong_name}: 2018년 제조업 사업체 수 기준 서울 상위 집적지",
                    "description_en": (
                        f"{dong.name_en or dong_name}, {gu.name_en}: "
                        "among Seoul's densest manufacturing dongs (2018 census)"
                    ),
                    "source_id": "seoul-business-census-2018",
                },
                "geometry": geometry_by_code[dong.code],
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _iopa_in_seoul(record: dict, index: DistrictIndex) -> bool:
    geocoding = record.get("geocoding") or {}
    if geocoding.get("latitude") is not None:
        return index.locate(float(geocoding["latitude"]), float(geocoding["longitude"])) is not None
    city = (record.get("region") or {}).get("city_town") or ""
    return "seoul" in city.casefold() or "서울" in city


def _curated_record(entry: dict) -> dict:
    """A curated entry (facts from the source documents) in the NodeIn shape."""
    location = entry["location"]
    cited = "; ".join(f"{s['title']} {s.get('section', '')}".strip() for s in entry["sources"])
    record = {key: value for key, value in entry.items() if key not in ("location", "sources")}
    record["location"] = {
        "precision": location["precision"],
        "gu_code": location.get("gu"),
        "dong_code": location.get("dong"),
        "address": location.get("address") or {},
    }
    record["provenance"] = {"source": f"{CURATION_SOURCE}: {cited}", "license": CURATION_LICENSE}
    return record


def _merge(iopa: dict, curated: dict) -> dict:
    """The IoPA record keeps identity and coordinates; the documents add what the lab has and does."""
    merged = {**curated, "external_ids": {**curated.get("external_ids", {}), **iopa["external_ids"]}}
    merged["location"] = {
        **iopa["location"],
        "address": {**curated["location"]["address"], **{k: v for k, v in iopa["location"]["address"].items() if v}},
    }
    merged["links"] = iopa["links"]
    merged["provenance"] = {
        "source": f"{iopa['provenance']['source']}; {curated['provenance']['source']}",
        "source_url": iopa["provenance"]["source_url"],
        "license": okw_format.IOPA_LICENSE,
        "retrieved_at": IOPA_RETRIEVED,
    }
    return merged


def build_nodes(shared: Path, index: DistrictIndex) -> dict:
    records = {}
    for raw in read_json(shared / "okw-fablabs-io-2024" / "kr_entries.json"):
        if _iopa_in_seoul(raw, index):
            record = okw_format.record_from_okw(raw)
            record["provenance"]["retrieved_at"] = IOPA_RETRIEVED
            records[record["external_ids"]["fablabs_io"]] = record
    curated_only = []
    for entry in read_json(CURATED)["nodes"]:
        record = _curated_record(entry)
        slug = record.get("external_ids", {}).get("fablabs_io")
        if slug in records:
            records[slug] = _merge(records[slug], record)
        else:
            curated_only.append(record)
    nodes = []
    for record in [*records.values(), *curated_only]:
        node = validate_node(record)
        node.slug = node.slug or slugify(node.name.en or node.name.ko or "")
        node.id = str(uuid.uuid5(DATASET_NAMESPACE, node.slug))
        nodes.append(node.model_dump(mode="json", exclude_none=True))
    nodes.sort(key=lambda n: n["slug"])
    return geojson_format.feature_collection(nodes)


WELLBEING_INDICATORS = {  # the OECD file's column → fabcity.measure.resilience indicator name
    "income_capita": "income_capita", "Employment": "employment", "Unemployment": "unemployment", "Rooms": "rooms",
    "Life_expectancy": "life_expectancy", "Mortality": "mortality", "Labour": "labour_secondary", "PM25)": "pm25",
    "Homicide": "homicide", "Voter": "voter_turnout", "Broadband": "broadband", "Support": "social_support",
    "Satisfaction": "life_satisfaction",
}  # fmt: skip
WELLBEING_SCORES = {  # the OECD file's published topic score column → topic id
    "Income": "income", "Jobs": "jobs", "Housing": "housing", "Health": "health", "Education": "education",
    "Environment": "environment", "Safety": "safety", "Civic_engagement": "civic_engagement",
    "Accessiblity_to_services": "access_to_services", "Community": "community",
    "Life_satisfaction": "life_satisfaction",
}  # fmt: skip


def build_wellbeing(shared: Path) -> list[list]:
    """Korea's regions (KR01 Capital Region holds Seoul) and Korea as a whole: raw values and published scores."""
    path = shared / "oecd-regional-wellbeing-2016" / "rwb_2016_scores_and_indicators.csv"
    rows = []
    for row in read_csv(path):
        if row["Country"] != "Korea":
            continue
        for column, name in (*WELLBEING_INDICATORS.items(), *WELLBEING_SCORES.items()):
            kind = "indicator" if column in WELLBEING_INDICATORS else "published_score"
            if row[column].strip() not in ("", ".."):
                rows.append([row["Code"], row["Region"], kind, name, row[column].strip()])
    return rows


def write_json(path: Path, value) -> None:
    compact = path.suffix == ".geojson" and path.name != "nodes.geojson"
    text = (
        json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if compact
        else json.dumps(value, ensure_ascii=False, indent=1)
    )
    path.write_text(text + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared", type=Path, default=ROOT.parent / "shared", help="the shared source data's folder (holds data/)"
    )
    shared = parser.parse_args().shared / "data"
    OUT.mkdir(parents=True, exist_ok=True)
    districts = build_districts(shared)
    index = DistrictIndex([{**f["properties"], "geometry": f["geometry"]} for f in districts])
    write_json(OUT / "districts.geojson", {"type": "FeatureCollection", "features": districts})
    stats = build_stats(shared, index)
    with (OUT / "district_stats.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["district_code", "indicator", "period", "value", "unit", "source_id"])
        writer.writerows(stats)
    write_json(OUT / "stations.json", build_stations(shared, index))
    write_json(OUT / "cluster_zones.geojson", build_clusters(index, districts, stats))
    write_json(OUT / "nodes.geojson", build_nodes(shared, index))
    with (OUT / "oecd_wellbeing_2016_korea.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["region", "region_name", "kind", "key", "value"])
        writer.writerows(build_wellbeing(shared))
    print(f"wrote {OUT.relative_to(ROOT)}: {len(districts)} districts, {len(stats)} statistics")


if __name__ == "__main__":
    main()
