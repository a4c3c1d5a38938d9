"""row-level security the app role cannot switch off; the audit trail append-only

The policies trusted ``app.tenant_id`` and ``app.bypass``, which the app role can set
itself: injected SQL could turn the bypass on. They now read a scope claim signed with
a key that only the schema owner can read, through SECURITY DEFINER functions, at every
level the ORM scope applies (reseller, account, circle). The app role may no longer
UPDATE or DELETE the audit log. See docs/architecture.md.

Revision ID: 0007
Revises: 0006
"""

from alembic import context, op

from pbx_platform import rls

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    app_role = context.get_context().opts.get("app_role", "pbx_app")
    rls.apply(op.get_bind(), app_role)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    app_role = context.get_context().opts.get("app_role", "pbx_app")
    tenant = "NULLIF(current_setting('app.tenant_id', true), '')::integer"
    bypass = "current_setting('app.bypass', true) = 'on'"
    for table, levels in rls.tenant_tables(bind).items():
        column = levels["reseller"]
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING ({column} = {tenant} OR {bypass}) WITH CHECK ({column} = {tenant} OR {bypass})"
        )
    op.execute("DROP POLICY IF EXISTS host_write ON reseller_host")
    op.execute(
        f"CREATE POLICY host_write ON reseller_host FOR ALL USING ({bypass}) WITH CHECK ({bypass})"
    )
    op.execute(f"GRANT UPDATE, DELETE ON audit_log TO {app_role}")
    op.execute("DROP FUNCTION IF EXISTS app_scope_bypass()")
    op.execute("DROP FUNCTION IF EXISTS app_scope_level(integer)")
    op.execute("DROP FUNCTION IF EXISTS app_scope_verified()")
    op.execute("DROP TABLE IF EXISTS rls_scope_key")
