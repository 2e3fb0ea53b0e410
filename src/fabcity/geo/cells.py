"""Planar distances and a fixed lat/lon grid that lets plain B-tree indexes answer area queries.

Distances use the equirectangular projection at the query's latitude: within 50 km its error is
below 0.1 %, it needs only arithmetic (so SQLite and PostgreSQL compute it alike in SQL), and the
same formula filters, sorts and reports, so a result is never inside the radius by one measure and
outside it by another.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

CELL_DEGREES = 0.01
_CELLS_PER_ROW = round(360 / CELL_DEGREES)
_ROWS = round(180 / CELL_DEGREES)
METRES_PER_DEGREE_LAT = 111_320.0
MAX_CELLS = 900
# Coarser grids for the text index's area tokens: 0.04° and 0.16° (about 4.4 and 18 km north-south).
AREA_TOKEN_LEVELS = ((1, "c"), (4, "d"), (16, "e"))
# The database lists the 0.04° cells that hold (or held) a located node: storage.schema.area_cell.
GROUND_STEP = 4


def cell_of(lat: float, lon: float) -> int:
    """The grid cell of a point. The north pole and the east edge (lon 180) are in the last row and
    column, not past them: column 36,000 was column 0 of the next row, so a box reaching east to
    180 covered only its first column. A box reaching past the poles or 180 (a circle near them)
    is clipped to the grid the same way."""
    row = min(max(math.floor((lat + 90.0) / CELL_DEGREES), 0), _ROWS - 1)
    col = min(max(math.floor((lon + 180.0) / CELL_DEGREES), 0), _CELLS_PER_ROW - 1)
    return row * _CELLS_PER_ROW + col


@dataclass(frozen=True)
class BBox:
    south: float
    west: float
    north: float
    east: float

    def centre(self) -> tuple[float, float]:
        return (self.south + self.north) / 2, (self.west + self.east) / 2

    def area(self) -> float:
        """In square degrees: enough to compare boxes at one latitude."""
        return (self.north - self.south) * (self.east - self.west)

    def intersection(self, other: BBox) -> BBox | None:
        south, west = max(self.south, other.south), max(self.west, other.west)
        north, east = min(self.north, other.north), min(self.east, other.east)
        return BBox(south, west, north, east) if south <= north and west <= east else None


def area_tokens(cell: int) -> list[str]:
    """The text-index tokens naming a node's cell on each grid level (see Ground.ring)."""
    row, col = divmod(cell, _CELLS_PER_ROW)
    return [f"{prefix}{(row // step) * _CELLS_PER_ROW + col // step}" for step, prefix in AREA_TOKEN_LEVELS]


def ground_cell(cell: int) -> int:
    """The 0.04° cell (numbered like the d area tokens) holding a grid cell."""
    row, col = divmod(cell, _CELLS_PER_ROW)
    return (row // GROUND_STEP) * _CELLS_PER_ROW + col // GROUND_STEP


def ground_cell_range(box: BBox) -> tuple[int, int]:
    """The lowest and highest 0.04° cell numbers a box can touch (rows in between are whole)."""
    return ground_cell(cell_of(box.south, box.west)), ground_cell(cell_of(box.north, box.east))


def _cell_box(cell: int, step: int) -> BBox:
    row, col = divmod(cell, _CELLS_PER_ROW)
    south, west = row * step * CELL_DEGREES - 90.0, col * step * CELL_DEGREES - 180.0
    return BBox(south, west, south + step * CELL_DEGREES, west + step * CELL_DEGREES)


def nearest_m(lat0: float, lon0: float, box: BBox) -> float:
    """The distance (as distance_m measures it) from a point to the nearest point of a box.

    A metre less, so that a node on a cell's edge, placed in it by floating-point rounding, is
    never nearer than the bound that said the cell could be skipped.
    """
    lat = min(max(lat0, box.south), box.north)
    lon = min(max(lon0, box.west), box.east)
    return max(distance_m(lat0, lon0, lat, lon) - 1.0, 0.0)


class Ground:
    """The occupied 0.04° cells around a search centre, nearest first, for distance searches.

    A ring around the centre is read only where nodes can be: the grid cells and area tokens of
    a ring leave out empty ground, and rings start at the nearest occupied cell, sized by the
    cells' node counts. A search that starts outside the city (a station in Suwon) then reads a
    sliver of its edge, not half of it, and one in a dense block a few hundred metres around it.
    """

    def __init__(self, lat0: float, lon0: float, occupied: Iterable[tuple[int, int]], clip: BBox | None) -> None:
        """`occupied`: (0.04° cell, how many nodes it holds), as storage.schema.area_cell lists them."""
        self.lat0, self.lon0 = lat0, lon0
        kx = metres_per_degree_lon(lat0)
        reach, spans = [], []
        for cell, nodes in occupied:
            whole = _cell_box(cell, GROUND_STEP)
            box = whole if clip is None else whole.intersection(clip)
            if box is not None:
                nearest = nearest_m(lat0, lon0, box)
                reach.append((nearest, cell, nodes))
                # the farthest corner: the farther edge on each axis (distance_m is separable)
                farthest = math.hypot(
                    max(abs(box.west - lon0), abs(box.east - lon0)) * kx,
                    max(abs(box.south - lat0), abs(box.north - lat0)) * METRES_PER_DEGREE_LAT,
                )
                # half its nodes nearer than halfway between its nearest and farthest points, roughly;
                # a clipped cell holds its share of them
                spans.append(((nearest + farthest) / 2, nodes * box.area() / whole.area()))
        reach.sort()
        self.distances = [d for d, _, _ in reach]
        self.cells = [cell for _, cell, _ in reach]
        self.spans = sorted(spans)
        side = GROUND_STEP * CELL_DEGREES * METRES_PER_DEGREE_LAT
        self.density = max(reach[0][2] if reach else 0, 1) / (side * side * math.cos(math.radians(lat0)))  # per m²

    def nearest(self) -> float | None:
        """How far the nearest node can be, or None when no cell is occupied."""
        return self.distances[0] if self.distances else None

    def reach(self, nodes: float) -> float:
        """A radius that should hold about this many nodes, of any kind: at the density of the
        nearest cell, or less when the cells around hold them that near (a search from outside
        the city, whose nearest cell is its thin edge). An estimate: it only sizes rings."""
        local = self.distances[0] + math.sqrt(nodes / (math.pi * self.density))
        total = 0.0
        for halfway, count in self.spans:
            total += count
            if total >= nodes:
                return min(local, halfway)
        return local

    def ring(self, radius_m: float, box: BBox, max_tokens: int) -> RingArea | None:
        """Where a node within radius_m of the centre and inside the ring's box can be; None: nowhere.

        The text index is narrowed on the finest grid that needs at most max_tokens tokens: it
        reads every posting of the tokens' cells, so cells beyond the radius would only cost time,
        but each token costs too (storage.textindex.AREA_TOKEN_BUDGET).
        """
        ground = self.cells[: bisect_right(self.distances, radius_m)]
        cells = self._grid_cells(ground, radius_m, box)
        if not ground or cells == []:
            return None
        if cells is not None and len(cells) <= max_tokens:
            return RingArea(cells, [f"c{cell}" for cell in cells])
        if len(ground) <= max_tokens:
            return RingArea(cells, [f"d{cell}" for cell in ground])
        coarse = sorted({ground_cell(cell) for cell in ground})  # the same step again: the e grid
        return RingArea(cells, [f"e{cell}" for cell in coarse] if len(coarse) <= max_tokens else None)

    def _grid_cells(self, ground: list[int], radius_m: float, box: BBox) -> list[int] | None:
        """The grid cells of the occupied ground inside the box and within radius_m, or None when
        the ground is too wide to list them for an IN list."""
        if len(ground) * GROUND_STEP * GROUND_STEP > MAX_CELLS:
            return None
        row0, col0 = divmod(cell_of(box.south, box.west), _CELLS_PER_ROW)
        row1, col1 = divmod(cell_of(box.north, box.east), _CELLS_PER_ROW)
        kx = metres_per_degree_lon(self.lat0)
        reach = (radius_m + 1.0) ** 2  # the metre nearest_m leaves out
        cells = []
        for coarse in ground:
            coarse_row, coarse_col = divmod(coarse, _CELLS_PER_ROW)
            rows = range(max(coarse_row * GROUND_STEP, row0), min((coarse_row + 1) * GROUND_STEP, row1 + 1))
            cols = range(max(coarse_col * GROUND_STEP, col0), min((coarse_col + 1) * GROUND_STEP, col1 + 1))
            for row in rows:
                gap_y = (_gap(self.lat0, row * CELL_DEGREES - 90.0) * METRES_PER_DEGREE_LAT) ** 2
                for col in cols:
                    if gap_y + (_gap(self.lon0, col * CELL_DEGREES - 180.0) * kx) ** 2 <= reach:
                        cells.append(row * _CELLS_PER_ROW + col)
        return sorted(cells)


def _gap(value: float, low: float) -> float:
    """How far value lies outside [low, low + CELL_DEGREES], in degrees."""
    return low - value if value < low else max(value - low - CELL_DEGREES, 0.0)


@dataclass(frozen=True)
class RingArea:
    """The grid cells (None: too many for an IN list) and the text-index area tokens (None: too
    many) that together cover every place a node of a ring can be."""

    cells: list[int] | None
    tokens: list[str] | None


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
