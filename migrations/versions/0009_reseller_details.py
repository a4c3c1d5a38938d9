"""Resellers made from the console: bank account, suspension, edit version; the
number inventory

The operator enters a reseller's bank account (the one its invoices name), may suspend
and reactivate it (``suspended_at``; nothing is deleted), and edits its details through
a versioned form (``pbx_platform.versioning``). Existing resellers get empty bank
details, are active, and start at version 0.

``phone_number`` is the platform's number inventory (``tenants.services.numbers``).
Every existing circle number becomes an inventory number held by the circle's reseller
and assigned to that circle, and its ``circle_phone_number`` row points at it; no row
is lost. Should two circles list the same number (nothing prevented it before), the
first one's row gets the inventory number and the other keeps its row unlinked.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import context, op

from pbx_platform import rls
from pbx_platform.db import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TEXT_COLUMNS = (
    ("bank_name", 40),
    ("bank_branch", 40),
    ("bank_account_type", 10),
    ("bank_account_number", 7),
    ("bank_account_holder", 60),
)


KIND = (
    "CASE WHEN e164 LIKE '+81120%' OR e164 LIKE '+81800%' THEN 'free_dial' "
    "WHEN e164 LIKE '+8150%' THEN 'ip' ELSE 'landline' END"
)


def upgrade():
    with op.batch_alter_table("reseller", schema=None) as batch_op:
        for name, length in TEXT_COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), server_default="", nullable=False)
            )
        batch_op.add_column(sa.Column("suspended_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("edit_version", sa.Integer(), server_default="0", nullable=False)
        )

    op.create_table(
        "phone_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "landline",
                "ip",
                "free_dial",
                name="number_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("circle_id", sa.Integer(), nullable=True),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circle.id"],
            name=op.f("fk_phone_number_circle_id_circle"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["reseller.id"],
            name=op.f("fk_phone_number_reseller_id_reseller"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_number")),
        sa.UniqueConstraint("e164", name=op.f("uq_phone_number_e164")),
    )
    op.create_index(op.f("ix_phone_number_circle_id"), "phone_number", ["circle_id"])
    op.create_index(op.f("ix_phone_number_reseller_id"), "phone_number", ["reseller_id"])

    with op.batch_alter_table("circle_phone_number", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_number_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_circle_phone_number_phone_number_id"), ["phone_number_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_circle_phone_number_phone_number_id_phone_number"),
            "phone_number",
            ["phone_number_id"],
            ["id"],
            ondelete="RESTRICT",
        )

    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # The owner runs migrations; FORCE ROW LEVEL SECURITY applies to it too. Lifted
        # while the circles' numbers move into the inventory; rls.apply forces it again.
        op.execute("ALTER TABLE circle_phone_number NO FORCE ROW LEVEL SECURITY")
    op.execute(
        "INSERT INTO phone_number (reseller_id, e164, kind, circle_id, created_at, updated_at) "
        f"SELECT reseller_id, e164, {KIND}, circle_id, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
        "FROM circle_phone_number c WHERE c.id = "
        "(SELECT min(d.id) FROM circle_phone_number d WHERE d.e164 = c.e164)"
    )
    op.execute(
        "UPDATE circle_phone_number SET phone_number_id = (SELECT p.id FROM phone_number p "
        "WHERE p.e164 = circle_phone_number.e164 "
        "AND p.circle_id = circle_phone_number.circle_id)"
    )
    # The new tenant table gets its row-level security policy (PostgreSQL only).
    rls.apply(op.get_bind(), context.get_context().opts.get("app_role", "pbx_app"))


def downgrade():
    with op.batch_alter_table("circle_phone_number", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_circle_phone_number_phone_number_id_phone_number"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("uq_circle_phone_number_phone_number_id"), type_="unique"
        )
        batch_op.drop_column("phone_number_id")
    op.drop_index(op.f("ix_phone_number_reseller_id"), table_name="phone_number")
    op.drop_index(op.f("ix_phone_number_circle_id"), table_name="phone_number")
    op.drop_table("phone_number")
    with op.batch_alter_table("reseller", schema=None) as batch_op:
        batch_op.drop_column("edit_version")
        batch_op.drop_column("suspended_at")
        for name, _length in reversed(TEXT_COLUMNS):
            batch_op.drop_column(name)
