"""Writes to nodes, one request at a time: no takeover by external id, versions (ETag, If-Match), the form's version.

The same writes raced by many clients against `fabcity serve --workers 2` are in test_races.py.
"""

from __future__ import annotations

from sqlalchemy import delete

from fabcity.storage import stamps
from fabcity.storage.schema import meta

PASSWORD = "correct horse battery"
NODE = "fab-lab-seoul"
OTHER_NODE = "seoul-innovation-fab-lab"
HIJACK = {"name": {"en": "Hijacked"}, "node_type": "studio", "external_ids": {"fablabs_io": "fablabseoul"}}


def test_the_change_stamp_is_created_when_missing_and_replaced_after(platform):
    with platform.engine.begin() as conn:
        conn.execute(delete(meta).where(meta.c.key == stamps.NODES))
    assert stamps.stamp(platform.engine, stamps.NODES) == ""
    for _ in range(2):
        before = stamps.stamp(platform.engine, stamps.NODES)
        with platform.engine.begin() as conn:
            stamps.touch(conn, stamps.NODES)
        assert stamps.stamp(platform.engine, stamps.NODES) not in ("", before)
