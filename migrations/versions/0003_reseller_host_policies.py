"""reseller_host: readable by every request, writable only by platform code paths

The host map is read before any tenant scope exists (it is what finds the tenant),
so reading stays open; writing it would let code acting for one reseller take over
another's host name, so only the audited platform bypass may.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BYPASS = "current_setting('app.bypass', true) = 'on'"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE reseller_host ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE reseller_host FORCE ROW LEVEL SECURITY")
    op.execute("DROP POLICY IF EXISTS host_read ON reseller_host")
    op.execute("DROP POLICY IF EXISTS host_write ON reseller_host")
    op.execute("CREATE POLICY host_read ON reseller_host FOR SELECT USING (true)")
    op.execute(
        f"CREATE POLICY host_write ON reseller_host FOR ALL USING ({BYPASS}) WITH CHECK ({BYPASS})"
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP POLICY IF EXISTS host_read ON reseller_host")
    op.execute("DROP POLICY IF EXISTS host_write ON reseller_host")
    op.execute("ALTER TABLE reseller_host NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE reseller_host DISABLE ROW LEVEL SECURITY")
