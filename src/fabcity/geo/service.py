"""District and station read models: statistics, node counts, nearby stations."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select

from fabcity.geo.districts import District
from fabcity.platform import Platform
from fabcity.storage.schema import cluster_zone, data_source, district, district_stat, node


def _stats(conn, codes: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {code: {} for code in codes}
    query = select(district_stat).where(district_stat.c.district_code.in_(codes))
    for row in conn.execute(query).mappings():
        value = row["value"]
        found[row["district_code"]][row["indicator"]] = {
            "value": int(value) if value.is_integer() else value,
            "period": row["period"],
            "unit": row["unit"],
            "source": row["source_id"],
        }
    return found


def _node_counts(conn, level: str, codes: list[str]) -> dict[str, dict[str, int]]:
    column = node.c.gu_code if level == "gu" else node.c.dong_code
    counts: dict[str, dict[str, int]] = {code: {} for code in codes}
    query = (
        select(column, node.c.node_type, func.count())
        .where(node.c.status == "active", column.in_(codes))
        .group_by(column, node.c.node_type)
    )
    for code, node_type, count in conn.execute(query):
        counts[code][node_type] = count
    return counts


def districts(platform: Platform, level: str, parent: str | None = None) -> list[dict[str, Any]]:
    items = platform.districts.at_level(level, parent)
    codes = [d.code for d in items]
    with platform.engine.connect() as conn:
        stats = _stats(conn, codes)
        counts = _node_counts(conn, level, codes)
    return [
        {
            **d.public(),
            "statistics": stats[d.code],
            "nodes": {"total": sum(counts[d.code].values()), "by_type": counts[d.code]},
        }
        for d in items
    ]


def boundaries(platform: Platform, level: str, parent: str | None = None) -> dict[str, Any]:
    """The districts as a GeoJSON FeatureCollection (RFC 7946), with their statistics and node counts."""
    listed = districts(platform, level, parent)
    with platform.engine.connect() as conn:
        query = select(district.c.code, district.c.geometry).where(district.c.code.in_([d["code"] for d in listed]))
        shapes = dict(conn.execute(query).all())
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": d["code"], "geometry": json.loads(shapes[d["code"]]), "properties": d}
            for d in listed
        ],
    }


@lru_cache(maxsize=64)
def outlines(platform: Platform, level: str, parent: str | None = None) -> bytes:
    """The districts' shapes with their codes and names, as GeoJSON bytes: what a map draws.

    Districts are loaded once with the dataset and never written while the platform runs, so each
    level is rendered once, from the stored geometry text without decoding it.
    """
    items = platform.districts.at_level(level, parent)
    with platform.engine.connect() as conn:
        query = select(district.c.code, district.c.geometry).where(district.c.code.in_([d.code for d in items]))
        shapes = dict(conn.execute(query).all())
    features = [
        f'{{"type":"Feature","id":{json.dumps(d.code)},"geometry":{shapes[d.code]},'
        f'"properties":{json.dumps(_outline_properties(d), ensure_ascii=False)}}}'
        for d in items
    ]
    return ('{"type":"FeatureCollection","features":[' + ",".join(features) + "]}").encode()


def _outline_properties(found: District) -> dict[str, Any]:
    """Codes and names, and the centre where the map puts the places known only by this district."""
    return {"code": found.code, "level": found.level, "parent_code": found.parent_code,
            "name": {"ko": found.name_ko, "en": found.name_en},
            "center": {"lat": found.center_lat, "lon": found.center_lon}}  # fmt: skip


def district_detail(platform: Platform, code: str) -> dict[str, Any] | None:
    found = platform.districts.by_code.get(code)
    if found is None:
        return None
    with platform.engine.connect() as conn:
        stats = _stats(conn, [found.code])[found.code]
        counts = _node_counts(conn, found.level, [found.code])[found.code]
        geometry = conn.execute(select(district.c.geometry).where(district.c.code == found.code)).scalar_one()
    detail = {
        **found.public(),
        "statistics": stats,
        "nodes": {"total": sum(counts.values()), "by_type": counts},
        "geometry": json.loads(geometry),
    }
    if found.level == "gu":
        detail["dongs"] = [
            {"code": d.code, "name": {"ko": d.name_ko, "en": d.name_en}}
            for d in sorted(platform.districts.dongs(), key=lambda d: d.code)
            if d.parent_code == found.code
        ]
    return detail


def sources_of(platform: Platform, statistics: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The data sources these statistics name (title, link, licence, attribution), by id."""
    ids = sorted({stat["source"] for stat in statistics.values()})
    with platform.engine.connect() as conn:
        rows = conn.execute(select(data_source).where(data_source.c.id.in_(ids))).mappings().all()
    return {row["id"]: dict(row) for row in rows}


def cluster_zones(platform: Platform) -> dict[str, Any]:
    with platform.engine.connect() as conn:
        rows = conn.execute(select(cluster_zone).order_by(cluster_zone.c.id)).mappings().all()
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": row["id"],
                "geometry": json.loads(row["geometry"]),
                "properties": {k: row[k] for k in row if k != "geometry"},
            }
            for row in rows
        ],
    }
