"""Initial schema: districts, stations, cluster zones, sources, nodes, equipment, search index.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from fabcity.storage import textindex

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_zone",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name_ko", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("industry", sa.String(length=40), nullable=False),
        sa.Column("dong_codes", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False, comment="e.g. manufacturing businesses 2018"),
        sa.Column("description_ko", sa.Text(), nullable=True),
        sa.Column("description_en", sa.Text(), nullable=True),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_zone")),
    )
    op.create_table(
        "data_source",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("license", sa.String(length=80), nullable=False),
        sa.Column("attribution", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_source")),
    )
    op.create_table(
        "district",
        sa.Column("code", sa.String(length=10), nullable=False, comment="MOIS code: 5 digits for a gu, 10 for a dong"),
        sa.Column("level", sa.String(length=4), nullable=False, comment="gu | dong"),
        sa.Column("kostat_code", sa.String(length=8), nullable=False, comment="KOSTAT code: 5 (gu) or 7 (dong) digits"),
        sa.Column("kostat_code8", sa.String(length=8), nullable=True),
        sa.Column("parent_code", sa.String(length=10), nullable=True),
        sa.Column("name_ko", sa.String(length=40), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=True),
        sa.Column("area_km2", sa.Float(), nullable=True),
        sa.Column("center_lat", sa.Float(), nullable=False),
        sa.Column("center_lon", sa.Float(), nullable=False),
        sa.Column("geometry", sa.Text(), nullable=False, comment="GeoJSON geometry, WGS84"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_district")),
    )
    op.create_index(op.f("ix_district_parent_code"), "district", ["parent_code"], unique=False)
    op.create_table(
        "meta",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_meta")),
    )
    op.create_table(
        "node",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name_ko", sa.Text(), nullable=True),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("description_ko", sa.Text(), nullable=True),
        sa.Column("description_en", sa.Text(), nullable=True),
        sa.Column("node_type", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("access_type", sa.String(length=32), nullable=True),
        sa.Column("batch_size", sa.String(length=12), nullable=True),
        sa.Column("run_sizes", sa.JSON(), nullable=False),
        sa.Column("opening_hours", sa.Text(), nullable=True),
        sa.Column("floor_area_sqm", sa.Float(), nullable=True),
        sa.Column("founded", sa.String(length=10), nullable=True),
        sa.Column("operator", sa.Text(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("precision", sa.String(length=10), nullable=False),
        sa.Column("address_ko", sa.Text(), nullable=True),
        sa.Column("address_en", sa.Text(), nullable=True),
        sa.Column("gu_code", sa.String(length=10), nullable=True),
        sa.Column("dong_code", sa.String(length=10), nullable=True),
        sa.Column("contact", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("processes", sa.JSON(), nullable=False, comment="declared process ids"),
        sa.Column("materials", sa.JSON(), nullable=False, comment="declared material ids"),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("license", sa.String(length=80), nullable=False),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=True, comment="geo grid cell, see geo.cells"),
        sa.Column("name_sort", sa.Text(), nullable=False),
        sa.Column("name_text", sa.Text(), nullable=False),
        sa.Column("tags_text", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("station_id", sa.String(length=20), nullable=True),
        sa.Column("station_distance_m", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_node")),
        sa.UniqueConstraint("id", name=op.f("uq_node_id")),
        sa.UniqueConstraint("slug", name=op.f("uq_node_slug")),
    )
    op.create_index("ix_node_status_cell", "node", ["status", "cell"], unique=False)
    op.create_index("ix_node_status_dong", "node", ["status", "dong_code"], unique=False)
    op.create_index(
        "ix_node_status_gu_type_name", "node", ["status", "gu_code", "node_type", "name_sort"], unique=False
    )
    op.create_index("ix_node_status_name", "node", ["status", "name_sort", "pk"], unique=False)
    op.create_table(
        "station",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("name_ko", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("gu_code", sa.String(length=10), nullable=True),
        sa.Column("dong_code", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station")),
    )
    op.create_index(op.f("ix_station_cell"), "station", ["cell"], unique=False)
    op.create_table(
        "district_stat",
        sa.Column("district_code", sa.String(length=10), nullable=False),
        sa.Column("indicator", sa.String(length=60), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False, comment="e.g. 2018 or 2025Q1"),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_code"], ["district.code"], name=op.f("fk_district_stat_district_code_district")
        ),
        sa.PrimaryKeyConstraint("district_code", "indicator", "period", name=op.f("pk_district_stat")),
    )
    op.create_table(
        "equipment",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("node_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("name_ko", sa.Text(), nullable=True),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("make", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("specs", sa.JSON(), nullable=False),
        sa.Column("processes", sa.JSON(), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["node_pk"], ["node.pk"], name=op.f("fk_equipment_node_pk_node"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_equipment")),
        sa.UniqueConstraint("node_pk", "position", name=op.f("uq_equipment_node_pk_position")),
    )
    op.create_index(op.f("ix_equipment_node_pk"), "equipment", ["node_pk"], unique=False)
    op.create_table(
        "node_external_id",
        sa.Column("scheme", sa.String(length=20), nullable=False, comment="fablabs_io | okw | osm | source-defined"),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("node_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_pk"], ["node.pk"], name=op.f("fk_node_external_id_node_pk_node"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("scheme", "value", name=op.f("pk_node_external_id")),
    )
    op.create_index(op.f("ix_node_external_id_node_pk"), "node_external_id", ["node_pk"], unique=False)
    op.create_table(
        "node_term",
        sa.Column("kind", sa.String(length=1), nullable=False, comment="p = process, m = material, e = equipment type"),
        sa.Column("term", sa.String(length=40), nullable=False),
        sa.Column("node_pk", sa.Integer(), nullable=False),
        sa.Column(
            "cell", sa.BigInteger(), nullable=True, comment="copy of node.cell so term + area is one index range"
        ),
        sa.ForeignKeyConstraint(["node_pk"], ["node.pk"], name=op.f("fk_node_term_node_pk_node"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("kind", "term", "node_pk", name=op.f("pk_node_term")),
    )
    op.create_index("ix_node_term_kind_term_cell", "node_term", ["kind", "term", "cell"], unique=False)
    op.create_index("ix_node_term_node", "node_term", ["node_pk"], unique=False)
    textindex.create(op.get_bind())


def downgrade() -> None:
    textindex.drop(op.get_bind())
    for table in (
        "node_term",
        "node_external_id",
        "equipment",
        "node",
        "meta",
        "station",
        "district_stat",
        "district",
        "data_source",
        "cluster_zone",
    ):
        op.drop_table(table)
