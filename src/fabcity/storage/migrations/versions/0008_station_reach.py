"""A station farther than 20 km is no node's nearest station (geo.stations.STATION_REACH_M).

Nodes stored before had one however far: a node in Barcelona had Incheon Airport, 10,384 km
away. Those are cleared, and the stored records are rendered again at start-up
(directory.writer.refresh_derived renders every record when the `derived` mark is missing).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_REACH_M = 20_000  # STATION_REACH_M when this was written


def upgrade() -> None:
    cleared = op.get_bind().execute(
        sa.text(
            "UPDATE node SET station_id = NULL, station_distance_m = NULL WHERE station_distance_m > :reach"
        ).bindparams(reach=_REACH_M)
    )
    if cleared.rowcount:
        op.execute("DELETE FROM meta WHERE key = 'derived'")


def downgrade() -> None:
    """Nothing to undo: the stations cleared were wrong, and a write finds the right one again."""
