"""Initial schema: districts, stations, cluster zones, sources, nodes, equipment, search index.

Revision ID: 0001
Revises:
"""

from alembic import op

from fabcity.storage import textindex
from fabcity.storage.schema import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind)
    textindex.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    textindex.drop(bind)
    metadata.drop_all(bind)
