"""A version on every node, bumped by each write, so edits can compare and swap (the API's ETag).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("node") as batch:
        batch.add_column(
            sa.Column(
                "version",
                sa.Integer(),
                nullable=False,
                server_default="1",
                comment="bumped by every write of the node: its ETag",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("node") as batch:
        batch.drop_column("version")
