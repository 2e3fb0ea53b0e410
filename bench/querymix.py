"""The benchmark's query mix, with seeded random parameters shared by search_bench and http_bench.

Four query types, as the issue asks:

    near_process  near a point, radius 2 km, one common process                       limit 20
    gu_type       one gu and one node type                                              limit 20
    text_near     a Korean (or "3D") term near a point, no radius (engine default 50 km) limit 20
    bbox          a map viewport of ~2×1.5 km to ~6×4 km around a point                 limit 500

Sorts are the engine's defaults for each combination (whatever `search()` picks when none is
given). `bbox_summary` (the same viewports with fields=summary, where the engine has it) and the
other EXTRA_KINDS are diagnostic variants.

Points are half subway stations, half points drawn like the synthetic nodes themselves (so dense
dongs are queried more often), all from fixed seeds: both backends see the same queries.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from fabcity.directory.search import SearchQuery
from fabcity.geo.cells import METRES_PER_DEGREE_LAT, BBox, metres_per_degree_lon
from fabcity.synthetic.nodes import dongs, sample_points

KINDS = ("near_process", "gu_type", "text_near", "bbox")
EXTRA_KINDS = ("bbox_summary", "text_near_3km", "bbox_limit20", "text_only")
COMMON_PROCESSES = (
    "sewing", "printing", "metalworking", "laser_cutting", "cnc_milling", "woodworking", "3d_printing", "welding",
    "cnc_turning", "sheet_metal_fabrication", "leatherworking", "jewellery_making",
)  # fmt: skip
COMMON_TYPES = ("small_manufacturer", "studio", "makerspace", "material_supplier", "micro_factory", "repair")
TEXT_TERMS = ("레이저", "목공", "봉제", "인쇄", "금속", "3D")


@dataclass
class Query:
    """One benchmark query, convertible to a SearchQuery or to /api/v1/nodes parameters."""

    kind: str
    near: tuple[float, float] | None = None
    radius_m: float | None = None
    bbox: BBox | None = None
    gu: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    processes: list[str] = field(default_factory=list)
    q: str | None = None
    limit: int = 20
    fields: str | None = None

    def search_query(self) -> SearchQuery:
        extra = {"fields": self.fields} if self.fields else {}
        return SearchQuery(
            q=self.q,
            near=self.near,
            radius_m=self.radius_m,
            bbox=self.bbox,
            gu=list(self.gu),
            types=list(self.types),
            processes=list(self.processes),
            limit=self.limit,
            **extra,
        )

    def params(self) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        if self.q:
            params.append(("q", self.q))
        if self.near:
            params.append(("near", f"{self.near[0]:.6f},{self.near[1]:.6f}"))
        if self.radius_m:
            params.append(("radius_m", f"{self.radius_m:g}"))
        if self.bbox:
            b = self.bbox
            params.append(("bbox", f"{b.south:.6f},{b.west:.6f},{b.north:.6f},{b.east:.6f}"))
        params += [("gu", g) for g in self.gu] + [("type", t) for t in self.types]
        params += [("process", p) for p in self.processes]
        params.append(("limit", str(self.limit)))
        if self.fields:
            params.append(("fields", self.fields))
        return params


def _stations() -> list[tuple[float, float]]:
    text = resources.files("fabcity.data").joinpath("seoul", "stations.json").read_text(encoding="utf-8")
    return [(s["lat"], s["lon"]) for s in json.loads(text)]


def query_points(count: int, seed: int) -> list[tuple[float, float]]:
    """Half station locations, half points distributed like the synthetic nodes."""
    rng = np.random.default_rng(seed)
    stations = _stations()
    chosen = [stations[i] for i in rng.integers(0, len(stations), count - count // 2)]
    _, lat, lon = sample_points(count // 2, seed + 1)
    points = chosen + [(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]
    order = rng.permutation(len(points))
    return [points[i] for i in order]


def _viewport(center: tuple[float, float], scale: float) -> BBox:
    """A box from 2×1.5 km (scale 0) to 6×4 km (scale 1) centred on a point."""
    width_m, height_m = 2000 + 4000 * scale, 1500 + 2500 * scale
    lat, lon = center
    dlat = height_m / 2 / METRES_PER_DEGREE_LAT
    dlon = width_m / 2 / metres_per_degree_lon(lat)
    return BBox(lat - dlat, lon - dlon, lat + dlat, lon + dlon)


def make_queries(kind: str, count: int, seed: int) -> list[Query]:
    """`count` queries of one kind; the same list for the same (kind, count, seed)."""
    # bbox_summary draws the same viewports as bbox
    stream = (KINDS + EXTRA_KINDS).index("bbox" if kind == "bbox_summary" else kind)
    rng = np.random.default_rng([seed, stream])
    points = query_points(count, seed)
    gus = sorted({d.gu_code for d in dongs()})
    queries = []
    for i in range(count):
        point = points[i]
        if kind == "near_process":
            process = COMMON_PROCESSES[rng.integers(len(COMMON_PROCESSES))]
            queries.append(Query(kind, near=point, radius_m=2000, processes=[process]))
        elif kind == "gu_type":
            gu, node_type = gus[rng.integers(len(gus))], COMMON_TYPES[rng.integers(len(COMMON_TYPES))]
            queries.append(Query(kind, gu=[gu], types=[node_type]))
        elif kind == "text_near":
            queries.append(Query(kind, q=TEXT_TERMS[rng.integers(len(TEXT_TERMS))], near=point))
        elif kind == "text_near_3km":
            queries.append(Query(kind, q=TEXT_TERMS[rng.integers(len(TEXT_TERMS))], near=point, radius_m=3000))
        elif kind == "text_only":
            queries.append(Query(kind, q=TEXT_TERMS[rng.integers(len(TEXT_TERMS))]))
        elif kind in ("bbox", "bbox_limit20", "bbox_summary"):
            box = _viewport(point, float(rng.random()))
            fields = "summary" if kind == "bbox_summary" else None
            queries.append(Query(kind, bbox=box, limit=20 if kind == "bbox_limit20" else 500, fields=fields))
        else:
            raise ValueError(f"unknown query kind {kind!r}")
    return queries


def code_version() -> dict[str, str | None]:
    """Which fabcity code is measured: the snapshot commit run_all.sh exported, and where it lives."""
    import fabcity

    return {"commit": os.environ.get("BENCH_COMMIT"), "fabcity": str(Path(fabcity.__file__).parent)}


def summary(samples_ms: list[float]) -> dict[str, Any]:
    """p50, p99, mean and max of latencies in milliseconds."""
    values = np.asarray(samples_ms, dtype=float)
    if not len(values):
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p99_ms": round(float(np.percentile(values, 99)), 2),
        "mean_ms": round(float(values.mean()), 2),
        "max_ms": round(float(values.max()), 2),
    }
