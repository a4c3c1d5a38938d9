"""PostgreSQL row-level security: the second wall behind the ORM's tenant scope (R20).

Called from migrations (as the schema owner). Idempotent: a later migration that
adds a tenant table calls ``apply`` again. The application connects as
``app_role``, which owns no table and has no BYPASSRLS; FORCE ROW LEVEL SECURITY
makes the policies hold even for the owner.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::integer"
BYPASS = "current_setting('app.bypass', true) = 'on'"
# The public host → tenant map is read before any scope exists.
UNSCOPED_TABLES = {"alembic_version", "reseller_host"}


def tenant_tables(connection: Any) -> dict[str, str]:
    """table → column holding its reseller id."""
    rows = connection.execute(
        text(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_name = 'reseller_id'"
        )
    ).scalars()
    tables = {name: "reseller_id" for name in rows if name not in UNSCOPED_TABLES}
    tables["reseller"] = "id"
    return tables


def apply(connection: Any, app_role: str) -> None:
    if connection.dialect.name != "postgresql":
        return
    role = connection.dialect.identifier_preparer.quote(app_role)
    connection.execute(
        text(
            "DO $$ BEGIN "
            f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{app_role}') THEN "
            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; "
            "END IF; END $$"
        )
    )
    # A role made earlier (by hand, or by an older script) must not carry a way around
    # the policies; and the app role must not be the one running migrations (the owner).
    connection.execute(
        text(
            "DO $$ BEGIN "
            f"IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{app_role}' "
            "AND (rolsuper OR rolbypassrls)) THEN "
            f"RAISE EXCEPTION 'role {app_role} is a superuser or has BYPASSRLS'; "
            "END IF; "
            f"IF current_user = '{app_role}' THEN "
            f"RAISE EXCEPTION 'run migrations as the schema owner, not as {app_role}'; "
            "END IF; END $$"
        )
    )
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
    connection.execute(
        text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    )
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    connection.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}"))
    for table, column in tenant_tables(connection).items():
        connection.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
        connection.execute(text(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
        connection.execute(text(f"DROP POLICY IF EXISTS tenant_isolation ON {table}"))
        connection.execute(
            text(
                f"CREATE POLICY tenant_isolation ON {table} "
                f"USING ({column} = {TENANT} OR {BYPASS}) "
                f"WITH CHECK ({column} = {TENANT} OR {BYPASS})"
            )
        )
