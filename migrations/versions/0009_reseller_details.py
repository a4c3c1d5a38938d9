"""Resellers made from the console: bank account, suspension, edit version

The operator enters a reseller's bank account (the one its invoices name), may suspend
and reactivate it (``suspended_at``; nothing is deleted), and edits its details through
a versioned form (``pbx_platform.versioning``). Existing resellers get empty bank
details, are active, and start at version 0.

Revision ID: 0009
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from pbx_platform.db import UTCDateTime

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

TEXT_COLUMNS = (
    ("bank_name", 40),
    ("bank_branch", 40),
    ("bank_account_type", 10),
    ("bank_account_number", 7),
    ("bank_account_holder", 60),
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


def downgrade():
    with op.batch_alter_table("reseller", schema=None) as batch_op:
        batch_op.drop_column("edit_version")
        batch_op.drop_column("suspended_at")
        for name, _length in reversed(TEXT_COLUMNS):
            batch_op.drop_column(name)
