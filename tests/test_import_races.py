"""Imports racing people and each other, through the real processes, on SQLite and PostgreSQL.

A curator edits nodes through the API of `fabcity serve --workers 2` while `fabcity import` merges a
file into the same nodes: whatever the interleaving, a person's edit is never overwritten by the
import (it either lands before the import reads the node, and the import keeps it, or after).
Two imports of the same new nodes at once create each node once, and neither fails.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from builders import point_feature, write_geojson
from fabcity.accounts import service as accounts
from fabcity.directory.exporter import all_records
from fabcity.directory.importer import import_file
from fabcity.platform import Platform
from fabcity.startup import open_platform
from servers import FABCITY, START_S, serving

NODES = 150


def _race_file(path: Path, count: int, name_ko: str | None = None) -> Path:
    """Nodes known by their fablabs.io slug, spread over Eunpyeong-gu; a Korean name when given."""
    features = []
    for i in range(count):
        properties = {
            "name_en": f"Race lab {i:04d}",
            "node_type": "studio",
            "fablabs_io": f"race-{i}",
            "source": "race test",
            "license": "CC0-1.0",
        }
        if name_ko:
            properties["name_ko"] = f"{name_ko} {i}"
        features.append(point_feature(properties, lon=126.90 + (i % 30) * 0.001, lat=37.60 + (i // 30) * 0.001))
    return write_geojson(path, *features)


def _environment() -> dict[str, str]:
    """The child processes import this tree's fabcity, as the test process does."""
    source = str(Path(__file__).resolve().parents[1] / "src")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (source, os.environ.get("PYTHONPATH"))))}


@pytest.fixture
def served(backends, backend, tmp_path) -> Iterator[tuple[str, int, str, dict[str, str]]]:
    """(database, port, a curator's token, node id by slug): `fabcity serve --workers 2` over the seeded database."""
    database = backends.fresh(backend)
    platform = open_platform(database)
    import_file(platform, _race_file(tmp_path / "seed.geojson", NODES))
    node_ids = {slug: record["id"] for slug, record in _race_nodes(platform).items()}
    curator = accounts.create_user(platform, "curator@example.kr", "long enough pw", "큐레이터", role="curator")
    token = accounts.create_token(platform, curator, "race")
    platform.engine.dispose()
    with serving(database, tmp_path / "serve.log", env=_environment()) as server:
        yield database, server.port, token, node_ids


def _import(database: str, path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [FABCITY, "import", str(path), "--db", database],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(),
    )


def _race_nodes(platform: Platform) -> dict[str, dict[str, Any]]:
    """The race's nodes by their fablabs.io slug."""
    found = {r["external_ids"].get("fablabs_io", ""): r for r in all_records(platform)}
    return {slug: record for slug, record in found.items() if slug.startswith("race-")}


def _names_ko(database: str) -> dict[str, str | None]:
    platform = open_platform(database)
    try:
        return {slug: record["name"]["ko"] for slug, record in _race_nodes(platform).items()}
    finally:
        platform.engine.dispose()


def test_a_curators_edits_survive_an_import_running_at_the_same_time(served, tmp_path):
    database, port, token, node_ids = served
    slugs = {i: f"race-{i}" for i in range(NODES)}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=START_S)
    try:
        importing = _import(database, _race_file(tmp_path / "bulk.geojson", NODES, name_ko="대량"))
        edited: dict[str, str] = {}
        edit = 0
        while importing.poll() is None:  # edit one node after another for as long as the import runs
            slug = slugs[edit % NODES]
            name = f"사람 {edit}"
            body = json.dumps({"name": {"ko": name}})
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            connection.request("PATCH", f"/api/v1/nodes/{node_ids[slug]}", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status in (200, 409), response.status  # 409: a stale edit refused, not lost
            if response.status == 200:
                edited[slug] = name
            edit += 1
    finally:
        connection.close()
    output, errors = importing.communicate()
    assert importing.returncode == 0, errors
    assert edit > 0 and edited

    stored = _names_ko(database)
    assert {slug: stored[slug] for slug in edited} == edited
    untouched = set(slugs.values()) - edited.keys()
    assert {slug: stored[slug] for slug in untouched} == {slug: f"대량 {slug[5:]}" for slug in untouched}


def test_two_imports_of_the_same_new_nodes_at_once_create_each_node_once(backends, backend, tmp_path):
    database = backends.fresh(backend)
    open_platform(database).engine.dispose()
    path = _race_file(tmp_path / "new.geojson", 800)

    first, second = _import(database, path), _import(database, path)
    results = [process.communicate() for process in (first, second)]

    assert (first.returncode, second.returncode) == (0, 0), [errors for _, errors in results]
    created = sorted(int(output.split(" created")[0].rsplit(" ", 1)[1]) for output, _ in results)
    assert created == [0, 800]
    assert sorted(_names_ko(database)) == sorted(f"race-{i}" for i in range(800))  # each slug on one node
