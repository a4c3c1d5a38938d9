"""One open cart per owner and target, one line per option; edit versions of the
settings forms

Parallel requests used to open several carts for one login and target and to split
one option over several lines; the newest open cart is kept (the one the portal
showed), duplicate lines are merged into the first, then the constraints hold it.
``edit_version`` columns are the optimistic locks of the settings forms
(``pbx_platform.versioning``).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPEN_CIRCLE = "status = 'open' AND circle_id IS NOT NULL"
OPEN_ACCOUNT = "status = 'open' AND circle_id IS NULL"

VERSIONED = (
    ("theme", "edit_version"),
    ("circle", "edit_version"),
    ("circle", "recording_edit_version"),
    ("circle", "licences_edit_version"),
    ("pickup_group", "edit_version"),
    # A unique's settings (its own page, and those of the IVR, conference room or
    # outbound selector it is) lock on the unique.
    ("unique_entry", "edit_version"),
)


def _merge_duplicates():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # The owner runs migrations; FORCE ROW LEVEL SECURITY applies to it too. Lifted
        # for these two tables while the duplicates are merged, inside this transaction.
        for table in ("cart", "cart_line"):
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    older_open_cart = (
        "cart.status = 'open' AND EXISTS (SELECT 1 FROM cart newer "
        "WHERE newer.status = 'open' AND newer.owner = cart.owner "
        "AND newer.account_id = cart.account_id "
        "AND (newer.circle_id = cart.circle_id "
        "OR (newer.circle_id IS NULL AND cart.circle_id IS NULL)) "
        "AND newer.id > cart.id)"
    )
    op.execute(f"DELETE FROM cart_line WHERE cart_id IN (SELECT id FROM cart WHERE {older_open_cart})")
    op.execute(f"DELETE FROM cart WHERE {older_open_cart}")
    op.execute(
        "UPDATE cart_line SET quantity = (SELECT sum(dup.quantity) FROM cart_line dup "
        "WHERE dup.cart_id = cart_line.cart_id AND dup.kind = cart_line.kind) "
        "WHERE id = (SELECT min(head.id) FROM cart_line head "
        "WHERE head.cart_id = cart_line.cart_id AND head.kind = cart_line.kind)"
    )
    op.execute(
        "DELETE FROM cart_line WHERE id > (SELECT min(head.id) FROM cart_line head "
        "WHERE head.cart_id = cart_line.cart_id AND head.kind = cart_line.kind)"
    )
    if postgres:
        for table in ("cart", "cart_line"):
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def upgrade():
    _merge_duplicates()
    with op.batch_alter_table("cart", schema=None) as batch_op:
        batch_op.create_index(
            "uq_cart_open_circle_cart",
            ["owner", "circle_id"],
            unique=True,
            postgresql_where=sa.text(OPEN_CIRCLE),
            sqlite_where=sa.text(OPEN_CIRCLE),
        )
        batch_op.create_index(
            "uq_cart_open_account_cart",
            ["owner", "account_id"],
            unique=True,
            postgresql_where=sa.text(OPEN_ACCOUNT),
            sqlite_where=sa.text(OPEN_ACCOUNT),
        )
    with op.batch_alter_table("cart_line", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_cart_line_cart_id_kind"), ["cart_id", "kind"]
        )
    for table, column in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(column, sa.Integer(), server_default="0", nullable=False)
            )


def downgrade():
    for table, column in reversed(VERSIONED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
    with op.batch_alter_table("cart_line", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_cart_line_cart_id_kind"), type_="unique")
    with op.batch_alter_table("cart", schema=None) as batch_op:
        batch_op.drop_index("uq_cart_open_account_cart")
        batch_op.drop_index("uq_cart_open_circle_cart")
