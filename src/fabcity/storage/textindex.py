"""Full-text index of character bigrams, so that a query matches inside Korean compound words.

The grams are computed in Python (fabcity.text) and stored as ASCII tokens, so each backend only
has to index opaque words: SQLite keeps them in a contentless FTS5 table whose rowid is node.pk,
PostgreSQL in a tsvector column with a GIN index. Both answer "nodes holding all these grams";
the search engine then confirms the exact substring on the node's text. A node also carries a
token for each taxonomy term it has (term_token) and, when located, area tokens
(geo.cells.area_tokens), so one index query answers "mentions 봉제, or does sewing, near here".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Integer, column, text
from sqlalchemy.sql.selectable import TextualSelect

# How many area tokens one query may name (geo.cells.Ground.ring picks the grid to fit). Each
# token is an index lookup: in a merged FTS5 index a cheap one, so a ring is best named by its
# small cells; in GIN about 0.1 ms, and with many PostgreSQL's planner scans node_gram whole
# instead (measured at 100k nodes: text near a point p99 20 ms with 16, 240 ms with 64).
AREA_TOKEN_BUDGET = {"sqlite": 256, "postgresql": 16}


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


def term_token(kind: str, term_id: str) -> str:
    """The token for a taxonomy term a node has (kind p, m or e), so a typed alias finds it too."""
    return f"t{kind}{term_id.encode().hex()}"


def gram_query(dialect: str, any_of: Sequence[Sequence[str]], within: Sequence[str] = ()) -> str:
    """The index query for nodes holding all the tokens of at least one list in `any_of` and, if
    `within` is given, at least one of those (area) tokens: the value of a matching_pks parameter."""
    if dialect == "sqlite":
        query = " OR ".join("(" + " AND ".join(f'"{token}"' for token in tokens) + ")" for tokens in any_of)
        return f"({query}) AND (" + " OR ".join(f'"{token}"' for token in within) + ")" if within else query
    query = " | ".join("(" + " & ".join(tokens) + ")" for tokens in any_of)
    return f"({query}) & (" + " | ".join(within) + ")" if within else query


def matching_pks(dialect: str, parameter: str) -> TextualSelect:
    """A subquery of node pks (one column, `node_pk`) matching the gram_query given as `parameter`.

    The query is a parameter, so a statement holding this subquery is built once and reused.
    """
    if dialect == "sqlite":
        statement = text(f"SELECT rowid AS node_pk FROM node_gram WHERE node_gram MATCH :{parameter}")
    else:
        statement = text(f"SELECT node_pk FROM node_gram WHERE grams @@ to_tsquery('simple', :{parameter})")
    return statement.columns(column("node_pk", Integer))
