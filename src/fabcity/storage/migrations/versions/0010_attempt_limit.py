"""Counters of sign-in and sign-up tries, one row per thing limited (accounts.limits).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempt_limit",
        sa.Column(
            "kind", sa.String(length=10), nullable=False, comment="pair | e-mail | address | sign-up (accounts.limits)"
        ),
        sa.Column("subject", sa.String(length=320), nullable=False, comment="the e-mail, the address, or both"),
        sa.Column("tries", sa.Integer(), nullable=False, comment="tries counted since `since`"),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False, comment="when this count started"),
        sa.Column("wait_until", sa.DateTime(timezone=True), nullable=True, comment="no try before this time"),
        sa.PrimaryKeyConstraint("kind", "subject", name=op.f("pk_attempt_limit")),
    )
    op.create_index("ix_attempt_limit_since", "attempt_limit", ["since"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_attempt_limit_since", table_name="attempt_limit")
    op.drop_table("attempt_limit")
