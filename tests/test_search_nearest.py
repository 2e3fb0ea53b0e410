"""Distance searches give exactly the true nearest nodes, checked against a brute-force oracle.

The rings of a distance search skip empty ground (geo.cells.Ground, storage table area_cell), are
sized by its node counts and read only the grid cells and text-index tokens that can hold a node
within their radius. These tests draw centres, mostly next to a node the search should find and
some anywhere, radii, viewports, filters and page sizes, on both backends, and compare every page
with all matching nodes sorted by distance in Python.
"""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from alembic import command
from alembic.config import Config
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from builders import EULJIRO, YEONSINNAE, add_nodes, node_record
from fabcity.directory.search import DEFAULT_RADIUS_M, SearchQuery, search
from fabcity.geo.cells import BBox, Ground, area_tokens, cell_of, circle_bbox, distance_m, ground_cell
from fabcity.storage.db import MIGRATIONS
from fabcity.storage.schema import area_cell, node

FILTERS = (
    {},
    {"processes": ["laser_cutting"]},
    {"q": "레이저"},  # three letters: index candidates confirmed on the text
    {"q": "목공"},  # two letters: the index match alone
    {"q": "node"},
    {"types": ["studio"]},
)
PAGES = 4  # pages compared per example; enough to cross several rings with small limits


def _spread(rng: random.Random, centre: tuple[float, float], radius_m: float) -> tuple[float, float]:
    distance, angle = radius_m * math.sqrt(rng.random()), rng.random() * 2 * math.pi
    lat = centre[0] + distance * math.sin(angle) / 111_320
    return lat, centre[1] + distance * math.cos(angle) / (111_320 * math.cos(math.radians(centre[0])))


@pytest.fixture
def town(empty_platform):
    """A dense cluster in Jung-gu, a looser one in Eunpyeong, and nodes scattered over Seoul."""
    rng = random.Random(20180)
    points = [_spread(rng, EULJIRO, 1_500) for _ in range(90)] + [_spread(rng, YEONSINNAE, 3_000) for _ in range(50)]
    points += [(rng.uniform(37.45, 37.68), rng.uniform(126.80, 127.15)) for _ in range(60)]
    records = []
    for i, (lat, lon) in enumerate(points):
        words = ["레이저공방"] * (i % 4 == 0) + ["목공소"] * (i % 5 == 0) + [f"node {i}"]
        records.append(
            node_record(
                f"n{i:03d}",
                lat,
                lon,
                name={"ko": " ".join(words), "en": f"Node {i}"},
                node_type="studio" if i % 6 == 0 else "makerspace",
                status="closed" if i % 11 == 0 else "active",
                processes=["laser_cutting"] if i % 3 == 0 else ["woodworking"],
            )
        )
    add_nodes(empty_platform, records)
    return empty_platform


def _pages(platform, **fields) -> tuple[list[dict], bool]:
    """Up to PAGES pages of a search, and whether they were all of it."""
    results, cursor = [], None
    for _ in range(PAGES):
        page = search(platform, SearchQuery(cursor=cursor, **fields))
        results += page.results
        cursor = page.next_cursor
        if cursor is None:
            return results, True
    return results, False


@pytest.fixture
def located(town):
    """For each of FILTERS, every located node matching it, found without any area: (slug, lat, lon)."""
    found = []
    for filters in FILTERS:
        page = search(town, SearchQuery(limit=1000, **filters))
        assert page.next_cursor is None
        found.append([(r["slug"], r["location"]["lat"], r["location"]["lon"]) for r in page.results])
    return [[node for node in nodes if node[1] is not None] for nodes in found]


def _check(found: list[dict], complete: bool, expected: list[str]) -> None:
    slugs = [r["slug"] for r in found]
    if complete:
        assert slugs == expected
    else:
        assert slugs == expected[: len(slugs)]


anywhere = st.tuples(st.floats(36.8, 38.2), st.floats(126.3, 127.7))  # from Cheonan to Cheorwon
# Most centres are drawn next to a node the search must find (where rings, pages and the order have
# work to do), fewer anywhere, which is mostly empty ground. Each kind is its own test case, so how
# many examples reach a node never depends on how hypothesis happens to draw.
EXAMPLES = {"near a node": 30, "anywhere": 10}


def _centre(data, where: str, nodes: list[tuple[str, float, float]], within_m: float) -> tuple[float, float]:
    """Anywhere, or up to `within_m` north-south and east-west of one of `nodes`."""
    if where == "anywhere":
        return data.draw(anywhere)
    _, lat, lon = data.draw(st.sampled_from(nodes))
    north, east = data.draw(st.floats(-within_m, within_m)), data.draw(st.floats(-within_m, within_m))
    return lat + north / 111_320, lon + east / (111_320 * math.cos(math.radians(lat)))


@pytest.mark.parametrize("where", EXAMPLES)
def test_near_gives_exactly_the_nearest_matching_nodes(town, located, where):
    @settings(max_examples=EXAMPLES[where], deadline=None)
    @given(
        radius=st.one_of(st.none(), st.floats(100, 80_000)),
        which=st.integers(0, len(FILTERS) - 1),
        limit=st.integers(1, 30),
        data=st.data(),
    )
    def check(radius, which, limit, data):
        reach = radius or DEFAULT_RADIUS_M
        centre = _centre(data, where, located[which], 0.7 * min(reach, 3_000))
        nearest = sorted((distance_m(*centre, lat, lon), slug) for slug, lat, lon in located[which])
        expected = [slug for d, slug in nearest if d <= reach]
        event("some nodes to find" if expected else "no node to find")
        assert expected or where == "anywhere", "a centre drawn near a node has it within reach"
        found, complete = _pages(town, near=centre, radius_m=radius, limit=limit, **FILTERS[which])
        _check(found, complete, expected)
        distances = [r["distance_m"] for r in found]
        assert distances == sorted(distances)

    check()


@pytest.mark.parametrize("where", EXAMPLES)
def test_a_viewport_lists_its_nodes_nearest_its_centre_first(town, located, where):
    @settings(max_examples=EXAMPLES[where], deadline=None)
    @given(
        half=st.tuples(st.floats(200, 40_000), st.floats(200, 40_000)),
        which=st.integers(0, len(FILTERS) - 1),
        limit=st.integers(1, 30),
        data=st.data(),
    )
    def check(half, which, limit, data):
        centre = _centre(data, where, located[which], 0.9 * min(*half, 3_000))
        tall, wide = circle_bbox(*centre, half[0]), circle_bbox(*centre, half[1])
        box = BBox(tall.south, wide.west, tall.north, wide.east)
        inside = [
            (distance_m(*box.centre(), lat, lon), slug)
            for slug, lat, lon in located[which]
            if box.south <= lat <= box.north and box.west <= lon <= box.east
        ]
        event("some nodes to find" if inside else "no node to find")
        assert inside or where == "anywhere", "a centre drawn near a node has it inside the box"
        found, complete = _pages(town, bbox=box, limit=limit, **FILTERS[which])
        _check(found, complete, [slug for _, slug in sorted(inside)])

    check()


def test_a_node_moved_to_empty_ground_is_found_there(town):
    """The occupied ground follows a node when an update moves it (Suwon had no node before)."""
    suwon = (37.2664, 127.0001)
    assert search(town, SearchQuery(near=suwon, radius_m=5_000)).results == []
    moved = search(town, SearchQuery(q="node 7", limit=1)).results[0]
    add_nodes(town, [{**node_record(moved["slug"], *suwon, name=moved["name"]), "id": moved["id"]}])
    assert [r["slug"] for r in search(town, SearchQuery(near=suwon, radius_m=5_000)).results] == [moved["slug"]]


def _counted(platform) -> dict[int, int]:
    with platform.engine.connect() as conn:
        cells = conn.execute(select(node.c.cell).where(node.c.cell.is_not(None))).scalars()
        truth = Counter(ground_cell(cell) for cell in cells)
        listed = {cell: n for cell, n in conn.execute(select(area_cell.c.cell, area_cell.c.nodes))}
    assert {cell: n for cell, n in listed.items() if n} == truth
    return listed


def test_area_cells_count_their_nodes_through_writes_and_the_migration(town):
    """The counts size first rings: kept by every write, and filled by migration 0006 from the nodes."""
    before = _counted(town)
    moved = search(town, SearchQuery(q="node 7", limit=1)).results[0]
    add_nodes(town, [{**node_record(moved["slug"], 37.2664, 127.0001, name=moved["name"]), "id": moved["id"]}])
    assert sum(_counted(town).values()) == sum(before.values())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with town.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
        command.upgrade(config, "head")
    _counted(town)


@given(
    points=st.lists(st.tuples(st.floats(37.40, 37.72), st.floats(126.75, 127.20)), min_size=1, max_size=40),
    centre=anywhere,
    radius=st.floats(1, 60_000),
    max_tokens=st.sampled_from([4, 16, 256]),
)
def test_a_ring_covers_every_point_within_its_radius(points, centre, radius, max_tokens):
    """Ground.ring's cells and area tokens hold every occupied point within the radius, whatever
    grid level they come on, and a ring that reaches no occupied cell is reported empty."""
    ground = Ground(*centre, Counter(ground_cell(cell_of(lat, lon)) for lat, lon in points).items(), None)
    area = ground.ring(radius, circle_bbox(*centre, radius), max_tokens)
    within = [(lat, lon) for lat, lon in points if distance_m(*centre, lat, lon) <= radius]
    if area is None:
        assert within == []
        return
    assert ground.nearest() <= min(distance_m(*centre, *p) for p in points)
    for lat, lon in within:
        cell = cell_of(lat, lon)
        assert area.cells is None or cell in area.cells
        assert area.tokens is None or set(area_tokens(cell)) & set(area.tokens)
