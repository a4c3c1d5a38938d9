"""The version of the reseller's recording retention form (optimistic locking)

Revision ID: 0015
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reseller", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retention_edit_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("reseller", schema=None) as batch_op:
        batch_op.drop_column("retention_edit_version")
