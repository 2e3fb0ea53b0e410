"""Rendered records beside each node, covering indexes for area rings and text candidates.

The records and the text index are derived data: storage.derived refills them after this
migration (and whenever their format changes), so this revision only shapes the tables.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "node_record",
        sa.Column("node_pk", sa.Integer(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False, comment="the public record as JSON, rendered on write"),
        sa.Column("summary", sa.Text(), nullable=False, comment="the map-marker subset of the record, as JSON"),
        sa.ForeignKeyConstraint(["node_pk"], ["node.pk"], name=op.f("fk_node_record_node_pk_node"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("node_pk", name=op.f("pk_node_record")),
    )
    op.drop_index("ix_node_status_cell", table_name="node")
    op.create_index("ix_node_status_cell_lat_lon", "node", ["status", "cell", "lat", "lon", "pk"], unique=False)
    op.create_index("ix_node_pk_status_lat_lon", "node", ["pk", "status", "lat", "lon"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_node_pk_status_lat_lon", table_name="node")
    op.drop_index("ix_node_status_cell_lat_lon", table_name="node")
    op.create_index("ix_node_status_cell", "node", ["status", "cell"], unique=False)
    op.drop_table("node_record")
