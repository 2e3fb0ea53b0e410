"""The migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from fabcity.platform import open_platform
from fabcity.storage.schema import metadata


def test_migrated_schema_matches_the_declared_schema(platform):
    with platform.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        differences = [d for d in compare_metadata(context, metadata) if "node_gram" not in repr(d)]
    assert differences == []


def test_embedded_sqlite_runs_in_wal_mode(tmp_path):
    platform = open_platform(str(tmp_path / "fabcity.sqlite3"), nodes=False)
    with platform.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    platform.engine.dispose()
