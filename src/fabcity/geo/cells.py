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
# Coarser grids for the text index's area tokens: 0.04° and 0.16° (about 4.4 and 18 km north-south).
AREA_TOKEN_LEVELS = ((1, "c"), (4, "d"), (16, "e"))
MAX_AREA_TOKENS = 64


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

    def area_tokens(self) -> list[str] | None:
        """Text-index tokens covering the box on the finest grid that needs at most MAX_AREA_TOKENS.

        A text query ANDs its grams with these, so "목공 near here" reads only the postings of
        nodes in the area instead of every node in the city that mentions 목공. None when even
        the coarsest grid needs too many (a box the size of a country).
        """
        row0, col0 = divmod(cell_of(self.south, self.west), _CELLS_PER_ROW)
        row1, col1 = divmod(cell_of(self.north, self.east), _CELLS_PER_ROW)
        for step, prefix in AREA_TOKEN_LEVELS:
            rows = range(row0 // step, row1 // step + 1)
            cols = range(col0 // step, col1 // step + 1)
            if len(rows) * len(cols) <= MAX_AREA_TOKENS:
                return [f"{prefix}{row * _CELLS_PER_ROW + col}" for row in rows for col in cols]
        return None


def area_tokens(cell: int) -> list[str]:
    """The text-index tokens naming a node's cell on each grid level (see BBox.area_tokens)."""
    row, col = divmod(cell, _CELLS_PER_ROW)
    return [f"{prefix}{(row // step) * _CELLS_PER_ROW + col // step}" for step, prefix in AREA_TOKEN_LEVELS]


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
