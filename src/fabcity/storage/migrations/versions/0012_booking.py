"""Booking: bookable resources of nodes, their units, availability rules and exceptions, bookings.

On PostgreSQL an exclusion constraint (btree_gist) makes sure no two blocking bookings of one unit
overlap in their blocked periods, whatever the code above it does; SQLite has no such constraint
and the booking service serialises its writes instead (fabcity.booking.store).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The states in which a booking holds its unit's time (fabcity.booking.vocabulary.BLOCKING as of this revision).
_BLOCKING = ("requested", "approved", "payment_due", "confirmed", "completed", "no_show")


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "booking_resource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_pk", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.String(length=20),
            nullable=False,
            comment="machine | room | desk | focus_booth | production_line",
        ),
        sa.Column("name_ko", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("granularity_min", sa.Integer(), nullable=False, comment="slot length: 15, 30 or 60 minutes"),
        sa.Column("min_duration_min", sa.Integer(), nullable=False),
        sa.Column("max_duration_min", sa.Integer(), nullable=False),
        sa.Column(
            "lead_time_min",
            sa.Integer(),
            nullable=False,
            comment="a booking starts at least this long after it is made",
        ),
        sa.Column(
            "horizon_days", sa.Integer(), nullable=False, comment="a booking starts at most this many days ahead"
        ),
        sa.Column("buffer_before_min", sa.Integer(), nullable=False),
        sa.Column("buffer_after_min", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False, comment="instant | approval"),
        sa.Column(
            "hold_hours",
            sa.Integer(),
            nullable=False,
            comment="how long a request or an unpaid booking holds its slot",
        ),
        sa.Column("price_per_slot_krw", sa.Integer(), nullable=False, comment="0: free"),
        sa.Column("cancellation_policy", sa.JSON(), nullable=False, comment="[[days_before, refund_percent], …]"),
        sa.Column("parent_id", sa.Integer(), nullable=True, comment="e.g. the room a machine is in"),
        sa.Column("time_zone", sa.String(length=64), nullable=False, comment="IANA zone its rules are written in"),
        sa.Column(
            "retired_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="no new bookings after; never deleted once booked",
        ),
        *_stamps(),
        sa.Column(
            "version",
            sa.Integer(),
            server_default="1",
            nullable=False,
            comment="bumped by every write of the resource: its ETag",
        ),
        sa.ForeignKeyConstraint(
            ["node_pk"], ["node.pk"], name=op.f("fk_booking_resource_node_pk_node"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["booking_resource.id"], name=op.f("fk_booking_resource_parent_id_booking_resource")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_resource")),
    )
    op.create_index(op.f("ix_booking_resource_node_pk"), "booking_resource", ["node_pk"], unique=False)
    op.create_index(op.f("ix_booking_resource_parent_id"), "booking_resource", ["parent_id"], unique=False)
    op.create_table(
        "booking_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False, comment="e.g. desk 3; one booking takes one unit"),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["booking_resource.id"], name=op.f("fk_booking_unit_resource_id_booking_resource")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_unit")),
        sa.UniqueConstraint("resource_id", "label", name=op.f("uq_booking_unit_resource_id_label")),
    )
    op.create_index(op.f("ix_booking_unit_resource_id"), "booking_unit", ["resource_id"], unique=False)
    op.create_table(
        "availability_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False, comment="0 = Monday … 6 = Sunday"),
        sa.Column("start_minute", sa.Integer(), nullable=False, comment="local wall-clock minutes after midnight"),
        sa.Column("end_minute", sa.Integer(), nullable=False, comment="local, exclusive; 1440 = midnight"),
        sa.Column("valid_from", sa.Date(), nullable=True, comment="first local date it applies, inclusive"),
        sa.Column("valid_until", sa.Date(), nullable=True, comment="last local date it applies, inclusive"),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["booking_resource.id"], name=op.f("fk_availability_rule_resource_id_booking_resource")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_rule")),
    )
    op.create_index(op.f("ix_availability_rule_resource_id"), "availability_rule", ["resource_id"], unique=False)
    op.create_table(
        "availability_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.String(length=20),
            nullable=False,
            comment="closure | maintenance | extra_opening | external_block",
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False, comment="exclusive"),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["booking_resource.id"],
            name=op.f("fk_availability_exception_resource_id_booking_resource"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_exception")),
    )
    op.create_index(
        op.f("ix_availability_exception_resource_id"), "availability_exception", ["resource_id"], unique=False
    )
    op.create_table(
        "booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False, comment="exclusive"),
        sa.Column(
            "blocked_start", sa.DateTime(timezone=True), nullable=False, comment="starts_at less the buffer before"
        ),
        sa.Column("blocked_end", sa.DateTime(timezone=True), nullable=False, comment="ends_at plus the buffer after"),
        sa.Column("state", sa.String(length=20), nullable=False, comment="booking.vocabulary.STATES"),
        sa.Column(
            "hold_expires_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="a request or unpaid booking is expired from then",
        ),
        sa.Column(
            "idempotency_key",
            sa.String(length=100),
            nullable=False,
            comment="the client's; one booking per member and key",
        ),
        sa.Column(
            "price_krw", sa.Integer(), nullable=False, comment="the price when booked: slots × the price per slot"
        ),
        sa.Column("policy", sa.JSON(), nullable=True, comment="the cancellation policy copied at confirmation"),
        sa.Column("refund_krw", sa.Integer(), nullable=True, comment="what a cancellation pays back"),
        *_stamps(),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False, comment="bumped by every transition"),
        sa.ForeignKeyConstraint(["member_id"], ["user_account.id"], name=op.f("fk_booking_member_id_user_account")),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["booking_resource.id"], name=op.f("fk_booking_resource_id_booking_resource")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["booking_unit.id"], name=op.f("fk_booking_unit_id_booking_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking")),
        sa.UniqueConstraint("member_id", "idempotency_key", name=op.f("uq_booking_member_id_idempotency_key")),
    )
    op.create_index(op.f("ix_booking_member_id"), "booking", ["member_id"], unique=False)
    op.create_index("ix_booking_unit_blocked", "booking", ["unit_id", "blocked_start", "blocked_end"], unique=False)
    op.create_index("ix_booking_resource_starts", "booking", ["resource_id", "starts_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        states = ", ".join(f"'{state}'" for state in _BLOCKING)
        op.execute(
            "ALTER TABLE booking ADD CONSTRAINT ex_booking_unit_blocked EXCLUDE USING gist"
            " (unit_id WITH =, tstzrange(blocked_start, blocked_end, '[)') WITH &&)"
            f" WHERE (state IN ({states}))"
        )


def downgrade() -> None:
    for table in ("booking", "availability_exception", "availability_rule", "booking_unit", "booking_resource"):
        op.drop_table(table)
