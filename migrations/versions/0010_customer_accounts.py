"""Customer accounts: reading, status (suspension, termination), invoice delivery,
the customer form's edit version, and the indexes of the customer list's searches

Columns are added with ALTER TABLE ... ADD COLUMN, not a batch copy: on SQLite a
batch operation drops and recreates ``account``, and with foreign keys on that
would cascade into every table below it. The CHECK constraints of the two new
enumerations are added on PostgreSQL (SQLite cannot add a constraint to a table in
place; the application writes only the enumerations' values).

The name and reading are searched by substring: on PostgreSQL trigram GIN indexes
(``pg_trgm``, a trusted extension the database owner may create) serve
``ILIKE '%…%'``; elsewhere they are plain indexes.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import pbx_platform.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CHECKS = {
    "status": ("account_status", ("active", "suspended")),
    "invoice_delivery": ("invoice_delivery", ("portal", "email", "post")),
}


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "account",
        sa.Column("edit_version", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "account",
        sa.Column("company_name_kana", sa.String(length=120), server_default="", nullable=False),
    )
    op.add_column(
        "account",
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
    )
    op.add_column(
        "account",
        sa.Column("suspended_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "account",
        sa.Column("terminated_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column("account", sa.Column("closes_on", sa.Date(), nullable=True))
    op.add_column(
        "account",
        sa.Column(
            "invoice_delivery", sa.String(length=20), server_default="portal", nullable=False
        ),
    )
    if postgres:
        for column, (name, values) in CHECKS.items():
            listed = ", ".join(f"'{v}'" for v in values)
            op.create_check_constraint(name, "account", f"{column} IN ({listed})")
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_account_company_name_trgm",
        "account",
        ["company_name"],
        postgresql_using="gin",
        postgresql_ops={"company_name": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_account_company_name_kana_trgm",
        "account",
        ["company_name_kana"],
        postgresql_using="gin",
        postgresql_ops={"company_name_kana": "gin_trgm_ops"},
    )
    op.create_index("ix_account_reseller_kana", "account", ["reseller_id", "company_name_kana"])
    op.create_index(
        "ix_account_reseller_phone", "account", ["reseller_id", "billing_contact_phone"]
    )


def downgrade():
    for name in (
        "ix_account_reseller_phone",
        "ix_account_reseller_kana",
        "ix_account_company_name_kana_trgm",
        "ix_account_company_name_trgm",
    ):
        op.drop_index(name, table_name="account")
    if op.get_bind().dialect.name == "postgresql":
        for name, _ in CHECKS.values():
            op.drop_constraint(name, "account", type_="check")
    for column in (
        "invoice_delivery",
        "closes_on",
        "terminated_at",
        "suspended_at",
        "status",
        "company_name_kana",
        "edit_version",
    ):
        op.drop_column("account", column)
