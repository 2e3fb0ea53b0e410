"""Bookings by the instant they start: activation reads one month of bookings across all resources.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_booking_starts_at", "booking", ["starts_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_booking_starts_at", table_name="booking")
