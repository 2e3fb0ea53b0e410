"""Calendars: secret iCalendar feed addresses, and blocks imported from a host's external calendar.

`calendar_feed` keeps only the hash of each feed's secret; `availability_exception.source` tells a
host's own exceptions from imported blocks (an import replaces only its own source's), `uid` names
the imported occurrence; `booking_resource.import_url` is where its calendar is fetched from.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False, comment="whose feed: they read it, they revoke it"),
        sa.Column("resource_id", sa.Integer(), nullable=True, comment="a resource's bookings; none: the user's own"),
        sa.Column("token_hash", sa.String(length=64), nullable=False, comment="sha256 of the secret in its address"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["booking_resource.id"], name=op.f("fk_calendar_feed_resource_id_booking_resource")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_calendar_feed_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_token_hash")),
    )
    op.create_index(op.f("ix_calendar_feed_user_id"), "calendar_feed", ["user_id"], unique=False)
    op.add_column(
        "availability_exception",
        sa.Column(
            "source",
            sa.String(length=10),
            server_default="host",
            nullable=False,
            comment="host | upload | url: an import replaces the blocks of its own source only",
        ),
    )
    op.add_column(
        "availability_exception",
        sa.Column("uid", sa.Text(), nullable=True, comment="an imported block's event UID and occurrence start"),
    )
    op.create_index(
        "ix_availability_exception_resource_source", "availability_exception", ["resource_id", "source"], unique=False
    )
    op.add_column(
        "booking_resource",
        sa.Column("import_url", sa.Text(), nullable=True, comment="the external calendar its blocks are fetched from"),
    )


def downgrade() -> None:
    op.drop_column("booking_resource", "import_url")
    op.drop_index("ix_availability_exception_resource_source", table_name="availability_exception")
    with op.batch_alter_table("availability_exception") as batch:
        batch.drop_column("uid")
        batch.drop_column("source")
    op.drop_table("calendar_feed")
