"""Input–output tables imported by the city (Bank of Korea 산업연관표), with their provenance.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "io_table",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False, comment="e.g. 백만원 (million KRW)"),
        sa.Column("sectors", sa.JSON(), nullable=False, comment="sector labels, in the order of the matrices"),
        sa.Column("ksic", sa.JSON(), nullable=True, comment="KSIC sections of each sector, or null without a mapping"),
        sa.Column("flows", sa.JSON(), nullable=False, comment="Z: intermediate transactions, row i sells to column j"),
        sa.Column("final_demand", sa.JSON(), nullable=False),
        sa.Column("output", sa.JSON(), nullable=False, comment="total output x"),
        sa.Column("imports", sa.JSON(), nullable=True, comment="imports by sector, when the table lists them"),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("license", sa.String(length=120), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_io_table")),
        sa.UniqueConstraint("title", "year", name=op.f("uq_io_table_title_year")),
    )


def downgrade() -> None:
    op.drop_table("io_table")
