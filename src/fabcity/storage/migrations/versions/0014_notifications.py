"""Notifications: the outbox gains a lease for delivery, a stable Message-ID and a key queued once.

A worker takes a message by a compare-and-swap on `claimed_until` (fabcity.notify.outbox); the
unique `dedupe_key` lets the time-driven notices (reminders, expiries) be queued at most once,
whoever queues them. Messages queued before this revision get a Message-ID made from their id.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column(
                "message_id",
                sa.String(length=200),
                nullable=True,
                comment="the e-mail's Message-ID, the same on every try",
            )
        )
        batch.add_column(
            sa.Column(
                "dedupe_key",
                sa.String(length=120),
                nullable=True,
                comment="e.g. booking:12:reminder:member; queued at most once",
            )
        )
        batch.add_column(
            sa.Column(
                "claimed_by", sa.String(length=120), nullable=True, comment="the delivering worker that took it last"
            )
        )
        batch.add_column(
            sa.Column(
                "claimed_until",
                sa.DateTime(timezone=True),
                nullable=True,
                comment="no other worker takes it before (the lease)",
            )
        )
        batch.create_unique_constraint(batch.f("uq_outbox_dedupe_key"), ["dedupe_key"])
        batch.create_index("ix_outbox_recipient", ["recipient", "id"], unique=False)
    op.execute("UPDATE outbox SET message_id = '<outbox-' || CAST(id AS VARCHAR(20)) || '@fabcity>'")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("message_id", existing_type=sa.String(length=200), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_recipient")
        batch.drop_constraint(batch.f("uq_outbox_dedupe_key"), type_="unique")
        for column in ("claimed_until", "claimed_by", "dedupe_key", "message_id"):
            batch.drop_column(column)
