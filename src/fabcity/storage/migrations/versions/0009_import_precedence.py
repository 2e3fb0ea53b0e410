"""Imports merge by precedence and recognise records without ids: node.field_ranks, an index on name_sort.

`field_ranks` says which kind of source set each field of a node (fabcity.directory.precedence):
{"*": the source that created the node, "<field>": the source that set that field since}. Nodes
stored before this revision get what their history shows: the embedded Seoul dataset's nodes are
curated, the nodes people created and every field people edited (the node.* audit entries) are
theirs, and the rest came from bulk imports, the weakest, which needs no entry.

Revision ID: 0009
Revises: 0008
"""

import json
from importlib import resources

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_COMMENT = "which kind of source set each field: person | curated | bulk (directory.precedence)"
_PEOPLES_ACTIONS = ("node.create", "node.update", "node.close", "node.verify")


def _field_of(path: str) -> str:
    """fabcity.directory.precedence.field_of as of this revision: the field an audited leaf belongs to."""
    top, _, rest = path.partition(".")
    if top == "location" and not rest.startswith("address."):
        return "location"
    if top == "provenance":
        return "provenance.verified" if rest in ("verified_at", "verified_by") else "provenance"
    return path


def _embedded_ids() -> set[str]:
    text = resources.files("fabcity.data").joinpath("seoul", "nodes.geojson").read_text(encoding="utf-8")
    return {feature["properties"]["id"] for feature in json.loads(text)["features"]}


def _ranks_from_history(conn: sa.Connection) -> dict[str, dict[str, str]]:
    node = sa.table("node", sa.column("id", sa.String), sa.column("source", sa.Text))
    audit_log = sa.table(
        "audit_log",
        sa.column("id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("entity", sa.String),
        sa.column("entity_id", sa.String),
        sa.column("changes", sa.JSON),
    )
    ranks: dict[str, dict[str, str]] = {}
    stored = conn.execute(sa.select(node.c.id, node.c.source)).all()
    embedded = _embedded_ids() if stored else set()
    for node_id, source in stored:
        if node_id in embedded:
            ranks[node_id] = {"*": "curated"}
        elif source.startswith("fabcity user "):
            ranks[node_id] = {"*": "person"}
    query = (
        sa.select(audit_log.c.entity_id, audit_log.c.action, audit_log.c.changes)
        .where(audit_log.c.entity == "node", audit_log.c.action.in_(_PEOPLES_ACTIONS))
        .order_by(audit_log.c.id)
    )
    for node_id, action, changes in conn.execute(query):
        found = ranks.setdefault(node_id, {})
        if action == "node.create":
            found["*"] = "person"
        else:
            found.update(dict.fromkeys((_field_of(path) for path in changes), "person"))
    return ranks


def upgrade() -> None:
    op.add_column("node", sa.Column("field_ranks", sa.JSON(), nullable=False, server_default="{}", comment=_COMMENT))
    op.create_index("ix_node_name_sort", "node", ["name_sort"])
    conn = op.get_bind()
    node = sa.table("node", sa.column("id", sa.String), sa.column("field_ranks", sa.JSON))
    for node_id, ranks in _ranks_from_history(conn).items():
        conn.execute(sa.update(node).where(node.c.id == node_id).values(field_ranks=ranks))


def downgrade() -> None:
    op.drop_index("ix_node_name_sort", table_name="node")
    op.execute("ALTER TABLE node DROP COLUMN field_ranks")  # SQLite 3.35+ drops it in place, no table copy
