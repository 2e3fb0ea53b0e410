"""The embedded Seoul dataset (fabcity/data/seoul), loaded into an empty database on first run.

Built by scripts/build_dataset.py from the public sources listed in sources.json; see NOTICE. Its
nodes are curated: a later bulk import (fablabs.io, OKW) fills their gaps but does not overwrite
them (directory.precedence).
"""

from __future__ import annotations

import csv
import json
from importlib import resources
from typing import Any

from sqlalchemy import Engine, insert, select

from fabcity.directory.importer import import_file
from fabcity.directory.precedence import Precedence
from fabcity.geo.cells import cell_of
from fabcity.platform import Platform
from fabcity.storage.schema import cluster_zone, data_source, district, district_stat, meta, station

DATASET_VERSION = "seoul-2026.11"


def _file(name: str):
    return resources.files("fabcity.data").joinpath("seoul", name)


def _json(name: str) -> Any:
    return json.loads(_file(name).read_text(encoding="utf-8"))


def sources() -> list[dict[str, Any]]:
    return _json("sources.json")


def wellbeing_korea() -> list[dict[str, str]]:
    """OECD Regional Well-Being 2016 rows for Korea: region, region_name, kind, key, value."""
    with _file("oecd_wellbeing_2016_korea.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def notice() -> str:
    return resources.files("fabcity.data").joinpath("NOTICE").read_text(encoding="utf-8")


def _loaded(engine: Engine, part: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(meta.c.value).where(meta.c.key == part)).scalar() is not None


def load_embedded(platform: Platform, nodes: bool = True) -> None:
    """Geography, statistics and sources first (nodes are placed against them), then the nodes.

    Each part lands whole in its own transaction and is recorded in `meta`, so an interrupted
    first run resumes where it stopped.
    """
    if not _loaded(platform.engine, "geography"):
        _load_geography(platform.engine)
    if not nodes or _loaded(platform.engine, "nodes"):
        return
    with resources.as_file(_file("nodes.geojson")) as path:
        import_file(platform, path, file_format="geojson", precedence=Precedence.CURATED)
    with platform.engine.begin() as conn:
        conn.execute(insert(meta), [{"key": "nodes", "value": DATASET_VERSION}])


def _load_geography(engine: Engine) -> None:
    with engine.begin() as conn:
        features = _json("districts.geojson")["features"]
        conn.execute(insert(district), [{**f["properties"], "geometry": json.dumps(f["geometry"])} for f in features])
        with _file("district_stats.csv").open(encoding="utf-8", newline="") as handle:
            rows = [{**row, "value": float(row["value"])} for row in csv.DictReader(handle)]
        conn.execute(insert(district_stat), rows)
        conn.execute(insert(station), [{**s, "cell": cell_of(s["lat"], s["lon"])} for s in _json("stations.json")])
        zones = _json("cluster_zones.geojson")["features"]
        conn.execute(insert(cluster_zone), [{**z["properties"], "geometry": json.dumps(z["geometry"])} for z in zones])
        conn.execute(insert(data_source), sources())
        conn.execute(insert(meta), [{"key": "geography", "value": DATASET_VERSION}])
