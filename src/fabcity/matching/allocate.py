"""Allocating an open call's many needs to nodes with limited capacity, preferring local production.

Objective, in order: cover as many needs as possible, then make the total distance smallest. It is
solved exactly as a mixed-integer program (HiGHS, through scipy.optimize.milp) over each need's
K nearest capable nodes within its distance:

    x[i, j] ∈ {0, 1}      need i made at node j (a need is not split)
    Σ_j x[i, j] ≤ 1        each need at most once
    Σ_i units_i x[i, j] ≤ capacity_j
    minimise Σ (d_ij − BIG) x[i, j],  BIG > the largest total distance possible,

so covering one more need always outweighs any saving in distance. A greedy nearest-first
allocation is kept as the baseline the benchmark compares with. A node is capable when it does
every process of the need (narrower processes count for the broader one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array
from scipy.spatial import cKDTree
from sqlalchemy import select

from fabcity.directory import vocabulary
from fabcity.geo.cells import METRES_PER_DEGREE_LAT, metres_per_degree_lon
from fabcity.matching.need import Need
from fabcity.platform import Platform
from fabcity.storage.schema import node, node_term

DEFAULT_DISTANCE_M = 20_000.0
CANDIDATES_PER_NEED = 20
_SEOUL_LAT = 37.55  # planar projection for the nearest-node search (error < 0.1 % within the region)


@dataclass(frozen=True)
class Capacity:
    """A node's production capacity for the call, in units (per month, or whatever the call counts)."""

    id: str
    lat: float
    lon: float
    processes: frozenset[str]
    units: int
    slug: str = ""


@dataclass(frozen=True)
class Demand:
    id: str
    need: Need

    @property
    def units(self) -> int:
        return self.need.quantity or 1


@dataclass
class Allocation:
    assigned: dict[str, tuple[str, float]] = field(default_factory=dict)  # need id → (node id, metres)
    unassigned: dict[str, str] = field(default_factory=dict)  # need id → why
    optimal: bool = True
    method: str = "milp"

    @property
    def total_distance_m(self) -> float:
        return sum(distance for _, distance in self.assigned.values())

    def public(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "optimal": self.optimal,
            "covered": len(self.assigned),
            "total_distance_m": round(self.total_distance_m, 1),
            "assignments": [
                {"need": need_id, "node": node_id, "distance_m": round(distance, 1)}
                for need_id, (node_id, distance) in self.assigned.items()
            ],
            "unassigned": [{"need": need_id, "reason": reason} for need_id, reason in self.unassigned.items()],
        }


def _planar(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    return np.column_stack([lon * metres_per_degree_lon(_SEOUL_LAT), lat * METRES_PER_DEGREE_LAT])


def candidates(
    demands: list[Demand], capacities: list[Capacity], per_need: int = CANDIDATES_PER_NEED
) -> list[list[tuple[int, float]]]:
    """For each need, up to `per_need` capable nodes within its distance: (node index, metres), nearest first."""
    for demand in demands:
        if demand.need.place is None:
            raise ValueError(f"need {demand.id!r}: place: an allocation needs a place for every need")
    found: list[list[tuple[int, float]]] = [[] for _ in demands]
    groups: dict[frozenset[str], list[int]] = {}
    for index, demand in enumerate(demands):
        groups.setdefault(frozenset(demand.need.processes), []).append(index)
    lat = np.array([c.lat for c in capacities], dtype=float)
    lon = np.array([c.lon for c in capacities], dtype=float)
    for processes, members in groups.items():
        capable = np.array([i for i, c in enumerate(capacities) if processes <= c.processes], dtype=int)
        if not len(capable):
            continue
        tree = cKDTree(_planar(lat[capable], lon[capable]))
        points = _planar(
            np.array([demands[i].need.place.lat for i in members]),
            np.array([demands[i].need.place.lon for i in members]),
        )
        limits = [demands[i].need.max_distance_m or DEFAULT_DISTANCE_M for i in members]
        k = min(per_need, len(capable))
        distances, indexes = tree.query(points, k=k, distance_upper_bound=max(limits))
        distances, indexes = distances.reshape(len(members), k), indexes.reshape(len(members), k)
        for row, need_index in enumerate(members):
            found[need_index] = [
                (int(capable[j]), float(d))
                for d, j in zip(distances[row], indexes[row], strict=True)
                if math.isfinite(d) and d <= limits[row]
            ]
    return found


def _why(demand: Demand, options: list[tuple[int, float]]) -> str:
    limit = demand.need.max_distance_m or DEFAULT_DISTANCE_M
    if not options:
        return f"no node doing {', '.join(demand.need.processes) or 'this'} within {limit:,.0f} m"
    return f"the {len(options)} capable nodes within {limit:,.0f} m have no capacity left for {demand.units} units"


def allocate(
    demands: list[Demand], capacities: list[Capacity], per_need: int = CANDIDATES_PER_NEED, time_limit_s: float = 60
) -> Allocation:
    """The allocation covering the most needs with the least total distance (exact, or best found in time)."""
    options = candidates(demands, capacities, per_need)
    pairs = [(i, j, d) for i, found in enumerate(options) for j, d in found if demands[i].units <= capacities[j].units]
    allocation = Allocation()
    if pairs:
        need_index = np.array([i for i, _, _ in pairs])
        node_index = np.array([j for _, j, _ in pairs])
        distance = np.array([d for _, _, d in pairs])
        # more than any total distance can differ by: one more need covered always wins
        big = float(sum(max(d for _, d in found) for found in options if found)) + 1.0
        variables = np.arange(len(pairs))
        once = coo_array((np.ones(len(pairs)), (need_index, variables)), shape=(len(demands), len(pairs)))
        units = np.array([demands[i].units for i in need_index], dtype=float)
        load = coo_array((units, (node_index, variables)), shape=(len(capacities), len(pairs)))
        solution = milp(
            c=distance - big,
            integrality=np.ones(len(pairs)),
            bounds=Bounds(0, 1),
            constraints=[
                LinearConstraint(once.tocsr(), -np.inf, 1),
                LinearConstraint(load.tocsr(), -np.inf, np.array([c.units for c in capacities], dtype=float)),
            ],
            options={"time_limit": time_limit_s, "mip_rel_gap": 0},
        )
        if solution.x is None:
            raise RuntimeError(f"the allocation solver found no solution: {solution.message}")
        allocation.optimal = solution.status == 0
        for variable in np.flatnonzero(solution.x > 0.5):
            allocation.assigned[demands[need_index[variable]].id] = (
                capacities[node_index[variable]].id, float(distance[variable])
            )  # fmt: skip
    for index, demand in enumerate(demands):
        if demand.id not in allocation.assigned:
            allocation.unassigned[demand.id] = _why(demand, options[index])
    return allocation


def allocate_greedy(
    demands: list[Demand], capacities: list[Capacity], per_need: int = CANDIDATES_PER_NEED
) -> Allocation:
    """The baseline: needs in the given order, each to its nearest capable node with room left."""
    options = candidates(demands, capacities, per_need)
    left = [c.units for c in capacities]
    allocation = Allocation(method="greedy nearest-first", optimal=False)
    for index, demand in enumerate(demands):
        for j, distance in options[index]:
            if left[j] >= demand.units:
                left[j] -= demand.units
                allocation.assigned[demand.id] = (capacities[j].id, distance)
                break
        else:
            allocation.unassigned[demand.id] = _why(demand, options[index])
    return allocation


def default_units(batch_size: str | None) -> int:
    """Without a stated capacity, a node can take one call's worth of its typical batch (its band's top)."""
    if batch_size is None:
        return vocabulary.BATCH_SIZES["0-50"][1]
    low, high = vocabulary.BATCH_SIZES[batch_size]
    return high if high is not None else low * 10


def node_capacities(platform: Platform, stated: dict[str, int] | None = None) -> list[Capacity]:
    """Every active located node, with its processes and the capacity the call states (by id or slug) or the default."""
    stated = stated or {}
    processes: dict[int, set[str]] = {}
    with platform.engine.connect() as conn:
        for pk, term in conn.execute(select(node_term.c.node_pk, node_term.c.term).where(node_term.c.kind == "p")):
            processes.setdefault(pk, set()).add(term)
        rows = conn.execute(
            select(node.c.pk, node.c.id, node.c.slug, node.c.lat, node.c.lon, node.c.batch_size).where(
                node.c.status == "active", node.c.lat.is_not(None)
            )
        ).all()
    return [
        Capacity(
            row.id,
            row.lat,
            row.lon,
            frozenset(processes.get(row.pk, ())),
            stated.get(row.id, stated.get(row.slug, default_units(row.batch_size))),
            row.slug,
        )  # fmt: skip
        for row in rows
    ]
