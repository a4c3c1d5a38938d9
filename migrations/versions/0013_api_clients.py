"""API clients and their access tokens (the machine API for the PBX nodes)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import context, op

from pbx_platform import rls
import pbx_platform.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["staff.id"],
            name=op.f("fk_api_client_created_by_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["reseller.id"],
            name=op.f("fk_api_client_reseller_id_reseller"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_client_client_id")),
    )
    op.create_index(op.f("ix_api_client_reseller_id"), "api_client", ["reseller_id"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("issued_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["api_client.id"],
            name=op.f("fk_api_token_client_pk_api_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index(op.f("ix_api_token_client_pk"), "api_token", ["client_pk"])
    rls.apply(op.get_bind(), context.get_context().opts.get("app_role", "pbx_app"))


def downgrade():
    op.drop_index(op.f("ix_api_token_client_pk"), table_name="api_token")
    op.drop_table("api_token")
    op.drop_index(op.f("ix_api_client_reseller_id"), table_name="api_client")
    op.drop_table("api_client")
