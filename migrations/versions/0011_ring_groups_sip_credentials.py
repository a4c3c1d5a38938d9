"""Ring groups (同時呼出) get a ring time and the edit version of their settings form;
SIP phones get digest credentials

``ring_time_seconds``: how long the members ring (5–120 s, 20 by default);
``edit_version``: the optimistic lock of the ring group's page
(``pbx_platform.versioning``). Existing rows take the defaults.
``unique_entry.sip_*``: a SIP phone's user name, the realm and the HA1 digests of its
secret (MD5 and SHA-256), never the secret itself.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ring_group") as batch:
        batch.add_column(
            sa.Column("ring_time_seconds", sa.Integer(), nullable=False, server_default="20")
        )
        batch.add_column(
            sa.Column("edit_version", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("unique_entry") as batch:
        batch.add_column(sa.Column("sip_user", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("sip_realm", sa.String(length=253), nullable=True))
        batch.add_column(sa.Column("sip_ha1", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("sip_ha1_sha256", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(batch.f("uq_unique_entry_sip_user"), ["sip_user"])


def downgrade():
    with op.batch_alter_table("unique_entry") as batch:
        batch.drop_constraint(batch.f("uq_unique_entry_sip_user"), type_="unique")
        for column in ("sip_ha1_sha256", "sip_ha1", "sip_realm", "sip_user"):
            batch.drop_column(column)
    with op.batch_alter_table("ring_group") as batch:
        batch.drop_column("edit_version")
        batch.drop_column("ring_time_seconds")
