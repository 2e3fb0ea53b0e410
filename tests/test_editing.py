"""Writes to nodes, one request at a time: no takeover by external id, versions (ETag, If-Match), the form's version.

The same writes raced by many clients against `fabcity serve --workers 2` are in test_races.py.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import delete

from builders import PASSWORD, new_user
from fabcity import audit
from fabcity.accounts import service as accounts
from fabcity.directory import editing
from fabcity.storage import stamps
from fabcity.storage.schema import meta

NODE = "fab-lab-seoul"
OTHER_NODE = "seoul-innovation-fab-lab"
HIJACK = {"name": {"en": "Hijacked"}, "node_type": "studio", "external_ids": {"fablabs_io": "fablabseoul"}}


@pytest.fixture
def tokens(platform) -> dict[str, dict[str, str]]:
    """Authorization headers of a host (of no node yet) and a curator."""
    headers = {}
    for role in ("host", "curator"):
        user = new_user(platform, role, role)
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
    assert created.status_code == 201 and created.headers["etag"] == '"1"'
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


def test_every_write_changes_the_etag_and_a_stale_if_match_is_refused(client, tokens):
    curator, path = tokens["curator"], f"/api/v1/nodes/{NODE}"
    read = client.get(path)
    etag = read.headers["etag"]
    assert re.fullmatch(r'"\d+"', etag)
    changed = client.patch(path, json={"operator": "A"}, headers={**curator, "If-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert client.get(path).headers["etag"] == changed.headers["etag"]
    for method, target, body in (("PATCH", path, {"operator": "B"}), ("DELETE", path, None),
                                 ("POST", f"{path}/verify", None)):  # fmt: skip
        stale = client.request(method, target, json=body, headers={**curator, "If-Match": etag})
        assert stale.status_code == 412, (method, target, stale.text)
        detail = stale.json()["detail"]
        assert f"it is now at ETag {changed.headers['etag']}" in detail and "read it again" in detail
    after = client.get(path).json()
    assert after["operator"] == "A" and after["status"] == "active" and after["provenance"].get("verified_by") is None


@pytest.mark.parametrize(
    ("if_match", "status"),
    [("*", 200), ('"999999", {current}', 200), ("W/{current}", 412), ("{current}x", 412), ("3", 412), ("", 412)],
)
def test_if_match_compares_strong_etags_in_a_list(client, tokens, if_match, status):
    path = f"/api/v1/nodes/{NODE}"
    current = client.get(path).headers["etag"]
    response = client.patch(
        path, json={"operator": "B"}, headers={**tokens["curator"], "If-Match": if_match.format(current=current)}
    )
    assert response.status_code == status, response.text


def test_a_huge_if_match_is_refused_without_being_echoed(client, tokens):
    junk = '"0",' * 2000 + "x" * 100
    response = client.patch(
        f"/api/v1/nodes/{NODE}", json={"operator": "B"}, headers={**tokens["curator"], "If-Match": junk}
    )
    assert response.status_code == 412 and len(response.text) < 500


def test_patches_without_if_match_merge_into_the_node_as_stored(client, tokens):
    path = f"/api/v1/nodes/{NODE}"
    client.patch(path, json={"operator": "운영자"}, headers=tokens["curator"])
    client.patch(path, json={"description": {"en": "Seoul's first fab lab"}}, headers=tokens["curator"])
    node = client.get(path).json()
    assert node["operator"] == "운영자" and node["description"]["en"] == "Seoul's first fab lab"
    assert node["description"]["ko"]  # the other language stays


def _edit_form(client, platform) -> dict[str, str]:
    """Sign in as a curator in the browser client; the edit form's fields as the page filled them."""
    accounts.create_user(platform, "editor@example.kr", PASSWORD, "editor", role="curator")
    client.post("/login", data={"email": "editor@example.kr", "password": PASSWORD, "csrf": _login_csrf(client)})
    page = client.get(f"/nodes/{NODE}/edit").text
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'<input id="(\w+)" name="\w+" type="[^"]*" value="([^"]*)"', page)
    }
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return {**fields, "csrf": csrf, "node_type": "fab_lab", "status": "active", "equipment": "[]"}


def _login_csrf(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)


def test_the_edit_form_carries_the_version_and_a_stale_form_is_shown_again(client, platform, tokens):
    fields = _edit_form(client, platform)
    assert fields["version"] == client.get(f"/api/v1/nodes/{NODE}").headers["etag"].strip('"')
    client.patch(f"/api/v1/nodes/{NODE}", json={"operator": "다른 사람"}, headers=tokens["curator"])  # meanwhile

    stale = client.post(f"/nodes/{NODE}/edit", data={**fields, "opening_hours": "Mo-Fr 09:00-18:00"})
    assert stale.status_code == 409
    assert "그사이 변경됨" in stale.text and "다른 사람이 이 노드를 저장했습니다" in stale.text
    assert 'value="Mo-Fr 09:00-18:00"' in stale.text  # the input is kept
    assert client.get(f"/api/v1/nodes/{NODE}").json()["operator"] == "다른 사람"
    english = client.post(f"/nodes/{NODE}/edit?lang=en", data={**fields, "opening_hours": "Mo-Fr 09:00-18:00"})
    assert english.status_code == 409 and "Someone saved this node after you opened this form" in english.text

    current = re.search(r'name="version" type="hidden" value="(\d+)"', stale.text).group(1)
    saved = client.post(f"/nodes/{NODE}/edit", data={**fields, "version": current}, follow_redirects=False)
    assert saved.status_code == 303  # saved again on the version it was shown with: replaces
    bad = client.post(f"/nodes/{NODE}/edit", data={**fields, "version": "new"})
    assert bad.status_code == 422 and "version" in bad.text


def test_the_change_stamp_is_created_when_missing_and_replaced_after(platform):
    with platform.engine.begin() as conn:
        conn.execute(delete(meta).where(meta.c.key == stamps.NODES))
    assert stamps.stamp(platform.engine, stamps.NODES) == ""
    for _ in range(2):
        before = stamps.stamp(platform.engine, stamps.NODES)
        with platform.engine.begin() as conn:
            stamps.touch(conn, stamps.NODES)
        assert stamps.stamp(platform.engine, stamps.NODES) not in ("", before)
