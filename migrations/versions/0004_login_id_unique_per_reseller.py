"""circle login IDs are unique within their reseller (R14), not platform-wide

A platform-wide index told one reseller's customers which login IDs another
reseller's customers use, and let them take those IDs first.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("circle") as batch_op:
        batch_op.drop_constraint("uq_circle_login_id_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_circle_reseller_id_login_id_key", ["reseller_id", "login_id_key"]
        )


def downgrade():
    with op.batch_alter_table("circle") as batch_op:
        batch_op.drop_constraint("uq_circle_reseller_id_login_id_key", type_="unique")
        batch_op.create_unique_constraint("uq_circle_login_id_key", ["login_id_key"])
