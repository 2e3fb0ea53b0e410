"""Allocating many needs to nodes with capacities: optimal against brute force, reasons, the API."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from fabcity.geo.cells import distance_m
from fabcity.matching.allocate import Capacity, Demand, allocate, allocate_greedy, candidates, node_capacities
from fabcity.matching.need import Need

CENTRE = (37.56, 126.98)


def _demand(name: str, lat: float, lon: float, units: int, processes=("sewing",), within: float = 5000) -> Demand:
    need = Need(processes=list(processes), quantity=units, place={"lat": lat, "lon": lon}, max_distance_m=within)
    return Demand(name, need)


def _random_case(seed: int) -> tuple[list[Demand], list[Capacity]]:
    rng = random.Random(seed)

    def point() -> tuple[float, float]:
        return CENTRE[0] + rng.uniform(-0.03, 0.03), CENTRE[1] + rng.uniform(-0.03, 0.03)

    kinds = [("sewing",), ("laser_cutting",), ("sewing", "laser_cutting")]
    capacities = [
        Capacity(f"n{j}", *point(), frozenset(rng.choice(kinds)) | {"sewing"} if rng.random() < 0.5 else
                 frozenset(rng.choice(kinds)), rng.choice([1, 2, 3, 5]))
        for j in range(4)
    ]  # fmt: skip
    demands = [_demand(f"d{i}", *point(), rng.choice([1, 2, 3]), rng.choice(kinds[:2]), 4000) for i in range(6)]
    return demands, capacities


def _brute_force(demands: list[Demand], capacities: list[Capacity]) -> tuple[int, float]:
    """The best (needs covered, −total distance) over every assignment, by enumeration."""
    options = candidates(demands, capacities, per_need=len(capacities))
    choices = [[None, *[j for j, _ in found]] for found in options]
    distances = [{j: d for j, d in found} for found in options]
    best = (0, 0.0)  # nothing assigned
    for assignment in itertools.product(*choices):
        load = [0] * len(capacities)
        for demand, j in zip(demands, assignment, strict=True):
            if j is not None:
                load[j] += demand.units
        if any(used > c.units for used, c in zip(load, capacities, strict=True)):
            continue
        covered = sum(j is not None for j in assignment)
        total = sum(distances[i][j] for i, j in enumerate(assignment) if j is not None)
        best = max(best, (covered, total), key=lambda b: (b[0], -b[1]))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_the_allocation_is_optimal_on_small_cases(seed):
    demands, capacities = _random_case(seed)
    allocation = allocate(demands, capacities, per_need=len(capacities))
    covered, total = _brute_force(demands, capacities)
    assert allocation.optimal
    assert len(allocation.assigned) == covered
    assert allocation.total_distance_m == pytest.approx(total, abs=1e-6)
    used: dict[str, int] = {}
    by_id = {c.id: c for c in capacities}
    for demand in demands:
        if demand.id in allocation.assigned:
            node_id, distance = allocation.assigned[demand.id]
            used[node_id] = used.get(node_id, 0) + demand.units
            node = by_id[node_id]
            assert set(demand.need.processes) <= node.processes
            assert distance == pytest.approx(
                distance_m(demand.need.place.lat, demand.need.place.lon, node.lat, node.lon), rel=2e-3
            )
    assert all(used[n] <= by_id[n].units for n in used)


def test_covering_more_needs_beats_a_shorter_total():
    near, far = (
        Capacity("near", 37.560, 126.980, frozenset({"sewing"}), 2),
        Capacity("far", 37.590, 126.980, frozenset({"sewing"}), 2),
    )
    demands = [_demand("a", 37.561, 126.980, 2, within=5000), _demand("b", 37.562, 126.980, 2, within=1000)]
    # greedy gives 'near' to a and leaves b (only 'near' is within 1 km of b) unmade
    greedy = allocate_greedy(demands, [near, far])
    assert set(greedy.assigned) == {"a"} and "no capacity left" in greedy.unassigned["b"]
    best = allocate(demands, [near, far])
    assert best.assigned["a"][0] == "far" and best.assigned["b"][0] == "near"


def test_unassigned_needs_say_why():
    capacities = [Capacity("sewing", 37.56, 126.98, frozenset({"sewing"}), 1)]
    demands = [
        _demand("laser", 37.56, 126.98, 1, ("laser_cutting",)),
        _demand("first", 37.56, 126.98, 1),
        _demand("second", 37.5601, 126.98, 1),
    ]
    allocation = allocate(demands, capacities)
    assert allocation.unassigned["laser"].startswith("no node doing laser_cutting within 5,000 m")
    assert len(allocation.assigned) == 1 and "no capacity left" in next(
        reason for need, reason in allocation.unassigned.items() if need != "laser"
    )


def test_a_need_without_a_place_is_named():
    with pytest.raises(ValueError, match="need 'x': place"):
        allocate([Demand("x", Need(processes=["sewing"]))], [])


def test_capacities_come_from_the_directory_with_stated_overrides(platform):
    capacities = {c.slug: c for c in node_capacities(platform, {"fab-lab-seoul": 40})}
    assert capacities["fab-lab-seoul"].units == 40
    assert "laser_cutting" in capacities["fab-lab-seoul"].processes
    assert all(not math.isnan(c.lat) for c in capacities.values())


def test_allocate_api(client):
    body = {
        "needs": [
            {"id": "signs", "text": "아크릴 레이저 커팅 20개 을지로 근처"},
            {"id": "scans", "need": {"processes": ["3d_scanning"], "quantity": 5,
                                     "place": {"lat": 37.5665, "lon": 126.9953}, "max_distance_m": 3000}},
            {"id": "far", "need": {"processes": ["sewing"], "place": {"lat": 35.1, "lon": 129.0},
                                   "max_distance_m": 1000}},
        ],
        "capacities": {"fab-lab-seoul": 30},
    }  # fmt: skip
    answer = client.post("/api/v1/match/allocate", json=body).json()
    assert answer["optimal"] and answer["covered"] == 2
    assert {a["need"]: a["node"]["slug"] for a in answer["assignments"]} == {
        "signs": "fab-lab-seoul",
        "scans": "fab-lab-seoul",
    }
    assert [u["need"] for u in answer["unassigned"]] == ["far"]
    bad = client.post("/api/v1/match/allocate", json={"needs": [{"id": "x", "text": "봉제"}]})
    assert bad.status_code == 422 and "place" in bad.json()["detail"][0]["msg"]
