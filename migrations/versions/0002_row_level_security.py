"""Row-level security on every tenant table (PostgreSQL only)

Revision ID: 0002
Revises: 0001
"""
from alembic import context, op

from pbx_platform import rls

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    app_role = context.get_context().opts.get("app_role", "pbx_app")
    rls.apply(op.get_bind(), app_role)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in rls.tenant_tables(bind):
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
