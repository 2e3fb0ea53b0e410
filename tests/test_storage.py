"""The migrations build exactly the schema the code declares, and derived data follows the code."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, update

from fabcity.directory.search import SearchQuery, search
from fabcity.directory.writer import DERIVED_VERSION, refresh_derived
from fabcity.startup import open_platform
from fabcity.storage import textindex
from fabcity.storage.schema import meta, metadata, node, node_record


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


def test_records_and_text_index_written_in_an_older_format_are_rebuilt_on_open(db_url):
    """A new release that changes the rendered record or the index tokens re-derives them at start-up."""
    platform = open_platform(db_url)
    with platform.engine.begin() as conn:
        pk = conn.execute(select(node.c.pk).where(node.c.slug == "fab-lab-seoul")).scalar_one()
        expected = conn.execute(select(node_record.c.record).where(node_record.c.node_pk == pk)).scalar_one()
        conn.execute(update(node_record).values(record='{"stale":true}', summary='{"stale":true}'))
        textindex.drop(conn)
        textindex.create(conn)
        conn.execute(update(meta).where(meta.c.key == "derived").values(value="0"))
    assert search(platform, SearchQuery(q="세운전자상가")).results == []  # the emptied index finds nothing
    platform.engine.dispose()

    reopened = open_platform(db_url)
    with reopened.engine.connect() as conn:
        assert conn.execute(select(node_record.c.record).where(node_record.c.node_pk == pk)).scalar_one() == expected
        assert conn.execute(select(meta.c.value).where(meta.c.key == "derived")).scalar_one() == DERIVED_VERSION
    assert [r["slug"] for r in search(reopened, SearchQuery(q="세운전자상가")).results] == ["fab-lab-seoul"]
    assert refresh_derived(reopened) == 0  # already current: nothing to do
    reopened.engine.dispose()
