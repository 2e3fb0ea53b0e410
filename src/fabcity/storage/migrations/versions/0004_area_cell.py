"""The 0.04° cells that hold located nodes, so distance searches skip empty ground.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "area_cell",
        sa.Column(
            "cell", sa.BigInteger(), autoincrement=False, nullable=False, comment="0.04° cell (geo.cells.ground_cell)"
        ),
        sa.PrimaryKeyConstraint("cell", name=op.f("pk_area_cell")),
        comment="cells that hold or held a located node (never emptied): distance searches skip the rest",
    )
    # geo.cells.ground_cell in SQL: cells are row * 36000 + column, both counted from 0
    op.execute(
        "INSERT INTO area_cell (cell) SELECT DISTINCT (cell / 36000 / 4) * 36000 + (cell % 36000) / 4"
        " FROM node WHERE cell IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("area_cell")
