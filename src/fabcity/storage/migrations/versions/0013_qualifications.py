"""Qualifications: a node's trainings, the passes recorded for members, and the trainings a resource requires.

A pass is never deleted (revoking it stamps it); the index on (member, training) serves the check
made inside every booking's transaction (fabcity.booking.qualifications.missing_for).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "booking_training",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_pk", sa.Integer(), nullable=False),
        sa.Column("name_ko", sa.Text(), nullable=False, comment="e.g. 레이저 커터 안전교육"),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column(
            "valid_months",
            sa.Integer(),
            nullable=True,
            comment="a pass expires this many months after it was passed; null: never",
        ),
        sa.Column(
            "lapse_months",
            sa.Integer(),
            nullable=True,
            comment="a pass lapses after this many months without a booking that used it",
        ),
        sa.Column(
            "retired_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="no longer required nor recorded; its passes stay",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "version",
            sa.Integer(),
            server_default="1",
            nullable=False,
            comment="bumped by every write of the training",
        ),
        sa.ForeignKeyConstraint(
            ["node_pk"], ["node.pk"], name=op.f("fk_booking_training_node_pk_node"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_training")),
    )
    op.create_index(op.f("ix_booking_training_node_pk"), "booking_training", ["node_pk"], unique=False)
    op.create_table(
        "booking_qualification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("passed_on", sa.Date(), nullable=False, comment="the day (KST) the member passed the training"),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "revoked_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="set once, by a compare-and-swap; the record stays",
        ),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["user_account.id"], name=op.f("fk_booking_qualification_member_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["user_account.id"], name=op.f("fk_booking_qualification_recorded_by_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["user_account.id"], name=op.f("fk_booking_qualification_revoked_by_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["booking_training.id"],
            name=op.f("fk_booking_qualification_training_id_booking_training"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_qualification")),
    )
    op.create_index(
        "ix_booking_qualification_member_training",
        "booking_qualification",
        ["member_id", "training_id"],
        unique=False,
    )
    op.create_index("ix_booking_qualification_training_id", "booking_qualification", ["training_id"], unique=False)
    op.create_table(
        "booking_resource_training",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["booking_resource.id"],
            name=op.f("fk_booking_resource_training_resource_id_booking_resource"),
        ),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["booking_training.id"],
            name=op.f("fk_booking_resource_training_training_id_booking_training"),
        ),
        sa.PrimaryKeyConstraint("resource_id", "training_id", name=op.f("pk_booking_resource_training")),
    )
    op.create_index(
        op.f("ix_booking_resource_training_training_id"), "booking_resource_training", ["training_id"], unique=False
    )


def downgrade() -> None:
    for table in ("booking_resource_training", "booking_qualification", "booking_training"):
        op.drop_table(table)
