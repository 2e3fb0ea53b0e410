"""The edges of the map are the map's: a box reaching the east edge (180°) or the whole world finds
what is inside it, and a place far from every subway station has no nearest station.
"""

from __future__ import annotations

import json

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text, update

from builders import auth_headers
from fabcity.geo.cells import cell_of
from fabcity.geo.stations import STATION_REACH_M
from fabcity.startup import open_platform
from fabcity.storage.db import MIGRATIONS
from fabcity.storage.schema import meta, node

BARCELONA = (41.3874, 2.1686)


def _node(**location) -> dict:
    return {
        "name": {"ko": "시험 공방"},
        "node_type": "makerspace",
        "location": location or {"lat": 37.6189, "lon": 126.921},
    }


def test_the_grids_last_row_and_column_hold_the_pole_and_the_east_edge():
    assert cell_of(90, 180) == cell_of(89.995, 179.995)
    assert cell_of(37.5, 180) == cell_of(37.5, 179.995)  # not the first column of the row above
    assert cell_of(-91, -181) == cell_of(-90, -180) == 0


@pytest.mark.parametrize("bbox", ["-90,-180,90,180", "30,120,45,180", "-90,0,90,180"])
def test_a_box_reaching_the_east_edge_finds_what_is_inside_it(client, bbox):
    seoul = client.get("/api/v1/nodes", params={"bbox": "37.4,126.7,37.7,127.2", "limit": 1000}).json()
    found = client.get("/api/v1/nodes", params={"bbox": bbox, "limit": 1000}).json()
    assert seoul["count"] > 0 and found["count"] >= seoul["count"]


def test_a_place_far_from_every_station_has_no_nearest_station(client, platform):
    headers = auth_headers(platform)
    far = client.post("/api/v1/nodes", json=_node(lat=BARCELONA[0], lon=BARCELONA[1]), headers=headers)
    assert far.status_code == 201 and far.json()["nearest_station"] is None
    near = client.post("/api/v1/nodes", json=_node(), headers=headers).json()
    assert near["nearest_station"]["distance_m"] < STATION_REACH_M
    assert client.get("/api/v1/stations", params={"near": f"{BARCELONA[0]},{BARCELONA[1]}"}).json()["results"] == []


def test_stored_stations_beyond_reach_are_cleared_by_the_migration(db_url):
    platform = open_platform(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with platform.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0007")  # before 0008, which clears them
        conn.execute(update(node).where(node.c.slug == "fab-lab-seoul").values(station_distance_m=10_384_000))
    platform.engine.dispose()
    platform = open_platform(db_url)  # migrates, and renders the records again
    with platform.engine.connect() as conn:
        row = conn.execute(select(node.c.station_id, node.c.pk).where(node.c.slug == "fab-lab-seoul")).one()
        assert row.station_id is None
        assert conn.execute(select(meta.c.value).where(meta.c.key == "derived")).scalar()
        record = conn.execute(text("SELECT record FROM node_record WHERE node_pk = :pk"), {"pk": row.pk}).scalar()
    assert json.loads(record)["nearest_station"] is None
    platform.engine.dispose()
