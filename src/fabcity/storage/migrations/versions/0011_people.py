"""Claims with a proof link and one pending claim per person and place; the e-mail outbox; password
resets; consent and deletion times of accounts.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    # plain ADD COLUMNs: a batch copy of user_account on SQLite would drop the table its rows are referred from
    op.add_column(
        "user_account",
        sa.Column(
            "consented_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="when the privacy notice was accepted at sign-up",
        ),
    )
    op.add_column(
        "user_account",
        sa.Column(
            "deleted_at", sa.DateTime(timezone=True), nullable=True, comment="set when the person deleted the account"
        ),
    )
    op.add_column(
        "node_claim",
        sa.Column("proof_url", sa.Text(), nullable=True, comment="a link that shows the claimant runs the place"),
    )
    if op.get_bind().dialect.name == "postgresql":  # SQLite keeps no comments
        op.alter_column(
            "node_claim",
            "status",
            existing_type=sa.String(length=10),
            existing_nullable=False,
            comment="pending | approved | rejected | withdrawn",
            existing_comment="pending | approved | rejected",
        )
    # a person's repeated pending claims on one place: the first one stays, the others are withdrawn
    op.execute(
        "UPDATE node_claim SET status = 'withdrawn' WHERE status = 'pending' AND id > ("
        "SELECT MIN(earlier.id) FROM node_claim AS earlier WHERE earlier.status = 'pending'"
        " AND earlier.node_pk = node_claim.node_pk AND earlier.user_id = node_claim.user_id)"
    )
    op.create_index(
        "uq_node_claim_pending",
        "node_claim",
        ["node_pk", "user_id"],
        unique=True,
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )
    op.create_table(
        "password_reset",
        sa.Column("token_hash", sa.String(length=64), nullable=False, comment="sha256 of the token sent by e-mail"),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "used_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="set once, when the token changed the password",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_password_reset_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_password_reset")),
    )
    op.create_index(op.f("ix_password_reset_user_id"), "password_reset", ["user_id"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="delivery tries so far"),
        sa.Column("last_error", sa.Text(), nullable=True, comment="why the last try failed"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_sent_at", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_password_reset_user_id"), table_name="password_reset")
    op.drop_table("password_reset")
    op.drop_index("uq_node_claim_pending", table_name="node_claim")
    op.drop_column("node_claim", "proof_url")
    op.drop_column("user_account", "deleted_at")
    op.drop_column("user_account", "consented_at")
