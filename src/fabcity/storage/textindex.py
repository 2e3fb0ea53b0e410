"""Full-text index of character bigrams, so that a query matches inside Korean compound words.

The grams are computed in Python (fabcity.text) and stored as ASCII tokens, so each backend only
has to index opaque words: SQLite keeps them in a contentless FTS5 table whose rowid is node.pk,
PostgreSQL in a tsvector column with a GIN index. Both answer "nodes holding all these grams";
the search engine then confirms the exact substring on the node's text. A located node also
carries area tokens (geo.cells.area_tokens), so a text query can be narrowed to an area inside
the index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Integer, column, text
from sqlalchemy.sql.selectable import TextualSelect


def _is_sqlite(bind: Connection) -> bool:
    return bind.dialect.name == "sqlite"


def create(bind: Connection) -> None:
    if _is_sqlite(bind):
        bind.execute(text("CREATE VIRTUAL TABLE node_gram USING fts5(grams, content='', detail=none)"))
    else:
        bind.execute(
            text(
                "CREATE TABLE node_gram (node_pk INTEGER PRIMARY KEY REFERENCES node(pk) ON DELETE CASCADE,"
                " grams tsvector NOT NULL)"
            )
        )
        bind.execute(text("CREATE INDEX ix_node_gram_grams ON node_gram USING gin (grams)"))


def drop(bind: Connection) -> None:
    bind.execute(text("DROP TABLE IF EXISTS node_gram"))


def remove(bind: Connection, entries: Iterable[tuple[int, Sequence[str]]]) -> None:
    """Forget nodes; SQLite's contentless table needs the tokens it indexed for each one."""
    rows = [{"pk": pk, "grams": " ".join(tokens)} for pk, tokens in entries]
    if not rows:
        return
    if _is_sqlite(bind):
        bind.execute(text("INSERT INTO node_gram(node_gram, rowid, grams) VALUES ('delete', :pk, :grams)"), rows)
    else:
        bind.execute(text("DELETE FROM node_gram WHERE node_pk = :pk"), rows)


def add(bind: Connection, entries: Iterable[tuple[int, Sequence[str]]]) -> None:
    rows = [{"pk": pk, "grams": " ".join(tokens)} for pk, tokens in entries]
    if not rows:
        return
    if _is_sqlite(bind):
        bind.execute(text("INSERT INTO node_gram(rowid, grams) VALUES (:pk, :grams)"), rows)
    else:
        bind.execute(text("INSERT INTO node_gram(node_pk, grams) VALUES (:pk, to_tsvector('simple', :grams))"), rows)


def matching_pks(bind: Connection, tokens: Sequence[str], any_of: Sequence[str] = ()) -> TextualSelect:
    """A subquery of node pks (one column, `node_pk`) holding every token and, if given, one of `any_of`."""
    if _is_sqlite(bind):
        statement = text("SELECT rowid AS node_pk FROM node_gram WHERE node_gram MATCH :gram_query")
        query = " AND ".join(f'"{token}"' for token in tokens)
        if any_of:
            query += " AND (" + " OR ".join(f'"{token}"' for token in any_of) + ")"
    else:
        statement = text("SELECT node_pk FROM node_gram WHERE grams @@ to_tsquery('simple', :gram_query)")
        query = " & ".join(tokens)
        if any_of:
            query += " & (" + " | ".join(any_of) + ")"
    return statement.bindparams(gram_query=query).columns(column("node_pk", Integer))
