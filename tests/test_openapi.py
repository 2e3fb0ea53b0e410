"""The API's contract: /openapi.json is the committed snapshot, so a reorganisation cannot change it unseen.

When an endpoint changes on purpose, write the new snapshot with
`FABCITY_WRITE_OPENAPI=1 pytest tests/test_openapi.py` and commit it with the change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "data" / "openapi.json"


def test_the_openapi_document_is_the_committed_snapshot(client):
    served = client.get("/openapi.json").json()
    if os.environ.get("FABCITY_WRITE_OPENAPI"):
        SNAPSHOT.write_text(json.dumps(served, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert served == json.loads(SNAPSHOT.read_text(encoding="utf-8"))
