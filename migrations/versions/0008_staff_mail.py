"""login_token: single-use invitation and password-reset links; staff.last_login_at;
staff.edit_version; circle.recovery_email

A token row keeps only the SHA-256 of the link's token, like ``login_session``. The
columns are added with ALTER TABLE ... ADD COLUMN, not a batch copy (see 0005: on
SQLite a batch copy of ``circle`` would cascade into every table below it).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import context, op

import pbx_platform.db
from pbx_platform import rls

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("principal_kind", sa.String(length=20), nullable=False),
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("circle_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_login_token_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circle.id"],
            name=op.f("fk_login_token_circle_id_circle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["reseller.id"],
            name=op.f("fk_login_token_reseller_id_reseller"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_token_token_hash")),
    )
    op.create_index(op.f("ix_login_token_account_id"), "login_token", ["account_id"])
    op.create_index(op.f("ix_login_token_circle_id"), "login_token", ["circle_id"])
    op.create_index("ix_login_token_principal", "login_token", ["principal_kind", "principal_id"])
    op.create_index(op.f("ix_login_token_reseller_id"), "login_token", ["reseller_id"])
    op.add_column(
        "staff",
        sa.Column("last_login_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=True),
    )
    # The optimistic lock of the staff user's role form (pbx_platform.versioning).
    op.add_column(
        "staff", sa.Column("edit_version", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("circle", sa.Column("recovery_email", sa.String(length=254), nullable=True))

    # The new tenant table gets its row-level security policy (PostgreSQL only).
    rls.apply(op.get_bind(), context.get_context().opts.get("app_role", "pbx_app"))


def downgrade():
    op.drop_column("circle", "recovery_email")
    op.drop_column("staff", "edit_version")
    op.drop_column("staff", "last_login_at")
    op.drop_index(op.f("ix_login_token_reseller_id"), table_name="login_token")
    op.drop_index("ix_login_token_principal", table_name="login_token")
    op.drop_index(op.f("ix_login_token_circle_id"), table_name="login_token")
    op.drop_index(op.f("ix_login_token_account_id"), table_name="login_token")
    op.drop_table("login_token")
