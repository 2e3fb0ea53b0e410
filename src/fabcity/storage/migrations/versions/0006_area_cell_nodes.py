"""How many located nodes each area cell holds, so a distance search can size its first ring.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("area_cell") as batch:
        batch.add_column(
            sa.Column("nodes", sa.Integer(), nullable=False, server_default="0", comment="located nodes, any status")
        )
    # geo.cells.ground_cell in SQL, as in 0004
    op.execute(
        "UPDATE area_cell SET nodes = counted.nodes FROM (SELECT (cell / 36000 / 4) * 36000 + (cell % 36000) / 4"
        " AS ground, count(*) AS nodes FROM node WHERE cell IS NOT NULL GROUP BY 1) AS counted"
        " WHERE counted.ground = area_cell.cell"
    )


def downgrade() -> None:
    with op.batch_alter_table("area_cell") as batch:
        batch.drop_column("nodes")
