"""A machine resource knows the listed machine it was made from, and its equipment type.

`equipment_pk` names the node's listed machine a resource was made from; its unique index makes a
machine bookable once, whatever two hosts do at the same moment. It is no foreign key: the
directory rewrites a node's equipment rows on every write of the node, which a reference would
either block or silently clear. `equipment_type` keeps the machine's taxonomy id (`laser_cutter`,
…), so "free laser cutters near …" is one indexed lookup whatever the listing does later.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMNs: a batch copy of booking_resource on SQLite would drop a table its units refer to
    op.add_column(
        "booking_resource",
        sa.Column("equipment_pk", sa.Integer(), nullable=True, comment="the listed machine it was made from"),
    )
    op.add_column(
        "booking_resource",
        sa.Column("equipment_type", sa.String(length=40), nullable=True, comment="taxonomy id, e.g. laser_cutter"),
    )
    op.create_index(op.f("ix_booking_resource_equipment_pk"), "booking_resource", ["equipment_pk"], unique=True)
    op.create_index("ix_booking_resource_equipment_type", "booking_resource", ["equipment_type", "node_pk"])


def downgrade() -> None:
    op.drop_index("ix_booking_resource_equipment_type", table_name="booking_resource")
    op.drop_index(op.f("ix_booking_resource_equipment_pk"), table_name="booking_resource")
    op.drop_column("booking_resource", "equipment_type")
    op.drop_column("booking_resource", "equipment_pk")
