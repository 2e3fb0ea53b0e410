"""Writes to nodes, one request at a time: no takeover by external id, versions (ETag, If-Match), the form's version.

The same writes raced by many clients against `fabcity serve --workers 2` are in test_races.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from fabcity import audit
from fabcity.accounts import service as accounts
from fabcity.directory import editing
from fabcity.storage import stamps
from fabcity.storage.schema import meta

PASSWORD = "correct horse battery"
NODE = "fab-lab-seoul"
OTHER_NODE = "seoul-innovation-fab-lab"
HIJACK = {"name": {"en": "Hijacked"}, "node_type": "studio", "external_ids": {"fablabs_io": "fablabseoul"}}


@pytest.fixture
def tokens(platform) -> dict[str, dict[str, str]]:
    """Authorization headers of a host (of no node yet) and a curator."""
    headers = {}
    for role in ("host", "curator"):
        user = accounts.create_user(platform, f"{role}@example.kr", PASSWORD, role, role=role)
        headers[role] = {"Authorization": f"Bearer {accounts.create_token(platform, user, 't')}"}
    return headers


def test_a_create_naming_another_nodes_external_id_is_a_conflict_not_a_takeover(client, platform, tokens):
    before = client.get(f"/api/v1/nodes/{NODE}").json()
    assert before["external_ids"]["fablabs_io"] == "fablabseoul" and len(before["equipment"]) == 6
    for role in ("host", "curator"):
        response = client.post("/api/v1/nodes", json=HIJACK, headers=tokens[role])
        assert response.status_code == 409, response.text
        assert response.json()["detail"].startswith("external_ids.fablabs_io: this id already names the node 'fab-lab-")
    assert client.get(f"/api/v1/nodes/{NODE}").json() == before
    assert client.get("/api/v1/nodes/hijacked").status_code == 404
    with platform.engine.connect() as conn:
        assert editing.hosts_of(conn, editing.node_pk_of(conn, NODE)) == []
        assert audit.history(conn, "node", before["id"]) == []


def test_a_new_external_id_is_taken_by_the_created_node(client, tokens):
    created = client.post(
        "/api/v1/nodes", json={**HIJACK, "external_ids": {"fablabs_io": "new-lab"}}, headers=tokens["host"]
    )
    assert created.status_code == 201
    assert created.json()["slug"] == "hijacked" and created.json()["external_ids"] == {"fablabs_io": "new-lab"}
    again = client.post(
        "/api/v1/nodes", json={**HIJACK, "external_ids": {"fablabs_io": "new-lab"}}, headers=tokens["host"]
    )
    assert again.status_code == 409 and "'hijacked'" in again.json()["detail"]


def test_a_patch_naming_another_nodes_external_id_is_a_conflict(client, tokens):
    curator = tokens["curator"]
    other_before = client.get(f"/api/v1/nodes/{OTHER_NODE}").json()
    taken = {"external_ids": {"fablabs_io": "fablabseoul"}}
    response = client.patch(f"/api/v1/nodes/{OTHER_NODE}", json=taken, headers=curator)
    assert response.status_code == 409
    assert response.json()["detail"].startswith("external_ids.fablabs_io: ")
    assert client.get(f"/api/v1/nodes/{OTHER_NODE}").json() == other_before
    # a node keeps its own external ids when a patch sends them back
    own = client.get(f"/api/v1/nodes/{NODE}").json()["external_ids"]
    kept = client.patch(f"/api/v1/nodes/{NODE}", json={"external_ids": own, "operator": "팹랩 서울"}, headers=curator)
    assert kept.status_code == 200 and kept.json()["external_ids"] == own


def test_the_change_stamp_is_created_when_missing_and_replaced_after(platform):
    with platform.engine.begin() as conn:
        conn.execute(delete(meta).where(meta.c.key == stamps.NODES))
    assert stamps.stamp(platform.engine, stamps.NODES) == ""
    for _ in range(2):
        before = stamps.stamp(platform.engine, stamps.NODES)
        with platform.engine.begin() as conn:
            stamps.touch(conn, stamps.NODES)
        assert stamps.stamp(platform.engine, stamps.NODES) not in ("", before)
