"""login_session: server-side records of login sessions; session_version goes

Each browser's login is a row (the cookie holds a token, the row its SHA-256), so
logout ends that browser's session only. The per-login session version that
ended every session at once is no longer used.

The columns are dropped with ALTER TABLE ... DROP COLUMN, not a batch copy: on
SQLite a batch operation drops and recreates the table, and with foreign keys on,
dropping ``circle`` would cascade into every table below it.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import context, op

import pbx_platform.db
from pbx_platform import rls

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("principal_kind", sa.String(length=20), nullable=False),
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("circle_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ip_address", sa.String(length=45), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_login_session_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circle.id"],
            name=op.f("fk_login_session_circle_id_circle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["reseller.id"],
            name=op.f("fk_login_session_reseller_id_reseller"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_session_token_hash")),
    )
    op.create_index(op.f("ix_login_session_account_id"), "login_session", ["account_id"])
    op.create_index(op.f("ix_login_session_circle_id"), "login_session", ["circle_id"])
    op.create_index(
        "ix_login_session_principal", "login_session", ["principal_kind", "principal_id"]
    )
    op.create_index(op.f("ix_login_session_reseller_id"), "login_session", ["reseller_id"])

    op.drop_column("circle", "session_version")
    op.drop_column("staff", "session_version")

    # The new tenant table gets its row-level security policy (PostgreSQL only).
    rls.apply(op.get_bind(), context.get_context().opts.get("app_role", "pbx_app"))


def downgrade():
    # Every session made under the records ends: the versions start again at 1.
    for table in ("staff", "circle"):
        op.add_column(
            table,
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="1"),
        )
    op.drop_index(op.f("ix_login_session_reseller_id"), table_name="login_session")
    op.drop_index("ix_login_session_principal", table_name="login_session")
    op.drop_index(op.f("ix_login_session_circle_id"), table_name="login_session")
    op.drop_index(op.f("ix_login_session_account_id"), table_name="login_session")
    op.drop_table("login_session")
