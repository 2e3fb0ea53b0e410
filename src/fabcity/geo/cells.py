"""Planar distances and a fixed lat/lon grid that lets plain B-tree indexes answer area queries.

Distances use the equirectangular projection at the query's latitude: within 50 km its error is
below 0.1 %, it needs only arithmetic (so SQLite and PostgreSQL compute it alike in SQL), and the
same formula filters, sorts and reports, so a result is never inside the radius by one measure and
outside it by another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CELL_DEGREES = 0.01
_CELLS_PER_ROW = round(360 / CELL_DEGREES)
METRES_PER_DEGREE_LAT = 111_320.0
MAX_CELLS = 900


def cell_of(lat: float, lon: float) -> int:
    row = math.floor((lat + 90.0) / CELL_DEGREES)
    col = math.floor((lon + 180.0) / CELL_DEGREES)
    return row * _CELLS_PER_ROW + col


@dataclass(frozen=True)
class BBox:
    south: float
    west: float
    north: float
    east: float

    def centre(self) -> tuple[float, float]:
        return (self.south + self.north) / 2, (self.west + self.east) / 2

    def intersection(self, other: BBox) -> BBox | None:
        south, west = max(self.south, other.south), max(self.west, other.west)
        north, east = min(self.north, other.north), min(self.east, other.east)
        return BBox(south, west, north, east) if south <= north and west <= east else None

    def cells(self) -> list[int] | None:
        """Every grid cell the box touches, or None when there are too many for an IN list."""
        row0 = math.floor((self.south + 90.0) / CELL_DEGREES)
        row1 = math.floor((self.north + 90.0) / CELL_DEGREES)
        col0 = math.floor((self.west + 180.0) / CELL_DEGREES)
        col1 = math.floor((self.east + 180.0) / CELL_DEGREES)
        if (row1 - row0 + 1) * (col1 - col0 + 1) > MAX_CELLS:
            return None
        return [row * _CELLS_PER_ROW + col for row in range(row0, row1 + 1) for col in range(col0, col1 + 1)]


def metres_per_degree_lon(lat: float) -> float:
    return METRES_PER_DEGREE_LAT * math.cos(math.radians(lat))


def circle_bbox(lat: float, lon: float, radius_m: float) -> BBox:
    dlat = radius_m / METRES_PER_DEGREE_LAT
    dlon = radius_m / max(metres_per_degree_lon(lat), 1.0)
    return BBox(lat - dlat, lon - dlon, lat + dlat, lon + dlon)


def distance_m(lat0: float, lon0: float, lat: float, lon: float) -> float:
    dx = (lon - lon0) * metres_per_degree_lon(lat0)
    dy = (lat - lat0) * METRES_PER_DEGREE_LAT
    return math.hypot(dx, dy)
