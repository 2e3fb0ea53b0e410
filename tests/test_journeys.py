"""People's paths across capabilities: what one capability writes, the next one reads.

Each capability's own tests pass alone; these follow a person from one to the next.
"""

from __future__ import annotations

from builders import auth_headers

NEED = "아크릴 간판 100개 레이저 커팅, 중구"


def test_a_node_a_curator_verified_is_matched_and_its_times_carry_their_zone(client, platform):
    """Verifying stored an instant that SQLite gave back without its zone; ranking then subtracted it from an
    aware one, and every need reaching the node answered 500, on the API and on the page."""
    verified = client.post("/api/v1/nodes/fab-lab-seoul/verify", headers=auth_headers(platform, "curator"))
    assert verified.status_code == 200

    node = client.get("/api/v1/nodes/fab-lab-seoul").json()
    for instant in (node["provenance"]["verified_at"], node["created_at"], node["updated_at"]):
        assert instant.endswith("Z"), instant
    answer = client.post("/api/v1/match", json={"text": NEED})
    assert answer.status_code == 200
    assert "fab-lab-seoul" in [match["node"]["slug"] for match in answer.json()["results"]]
    assert client.get("/match", params={"text": NEED}).status_code == 200
