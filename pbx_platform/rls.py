"""PostgreSQL row-level security: the second wall behind the ORM's tenant scope (R20).

The policies trust nothing the application's role can write by itself. The request's
scope reaches the database as one *signed claim* in the setting ``app.scope``::

    <reseller>:<account>:<circle>:<bypass>:<backend pid>.<HMAC-SHA256 hex>

signed with a key that lives in the table ``rls_scope_key``, which only the schema
owner may read. The policies read the claim through SECURITY DEFINER functions
(``app_scope_level``, ``app_scope_bypass``) that believe it only when the signature
is valid and the claim was made for this backend. A claim dies with its backend: pooled
connections are recycled (``pool_recycle``), so no claim outlives an hour. ``pbx_app`` may set
``app.scope`` to anything: without the key a hand-made value widens nothing, and a
claim copied from another connection is refused (it names another backend).

Each policy calls the functions inside ``(SELECT ...)``, so PostgreSQL evaluates them
once per statement (an initplan), not once per row.

Policies exist at every level that the ORM scope applies: a table is narrowed to the
reseller, the account and the circle by the columns its model's ``__tenant_columns__``
name (``circle.id`` is the circle level of ``circle``, ``account.id`` the account level
of ``account``; a ``cart`` has a circle but is an account's, so it is not narrowed by
circle). ``tests/pbx_platform/test_rls.py`` checks that these levels are the ORM's.

Called from migrations (as the schema owner). Idempotent: a later migration that adds
a tenant table calls ``apply`` again. The key is (re)installed on every
``pbx db upgrade`` from the application's secret key (``install_key``).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy import text

# The public host → tenant map is read before any scope exists.
# api_client: a platform row; its reseller_id limits what the client reaches, it is not
# the row's tenant (pbx_platform.api.models).
UNSCOPED_TABLES = {"alembic_version", "reseller_host", "rls_scope_key", "api_client"}
# Tables that carry a level's column without being narrowed by that level.
NOT_NARROWED = {
    "cart": {"circle"},
    # An inventory number is its holder's (a reseller's) row; its circle_id says which
    # circle uses it, and the reseller's staff see the whole pool from any circle page.
    "phone_number": {"circle"},
}
# The audit trail is append-only for the application (retention runs as the owner).
APPEND_ONLY = {"audit_log"}
# Tables whose own id is a level: the reseller, the account and the circle themselves.
OWN_LEVEL = {"reseller": "reseller", "account": "account", "circle": "circle"}
LEVEL_COLUMNS = {"reseller": "reseller_id", "account": "account_id", "circle": "circle_id"}

KEY_CONTEXT = b"pbx-platform row-level security scope"

BYPASS = "(SELECT app_scope_bypass())"


def derive_key(secret_key: str | bytes) -> bytes:
    """The signing key of scope claims, derived from the application's secret key."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(secret, KEY_CONTEXT, hashlib.sha256).digest()


def sign_claim(
    key: bytes,
    *,
    reseller_id: int | None,
    account_id: int | None,
    circle_id: int | None,
    bypass: bool,
    backend_pid: int,
) -> str:
    """The value of ``app.scope`` for one transaction (see the module's docstring)."""

    def part(value: int | None) -> str:
        return "" if value is None else str(int(value))

    payload = ":".join(
        (
            part(reseller_id),
            part(account_id),
            part(circle_id),
            "1" if bypass else "0",
            str(int(backend_pid)),
        )
    )
    signature = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def tenant_tables(connection: Any) -> dict[str, dict[str, str]]:
    """table → {level: column} for every table with a reseller id (and ``reseller``)."""
    rows = connection.execute(
        text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND column_name IN ('reseller_id', 'account_id', 'circle_id')"
        )
    ).all()
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    tables: dict[str, dict[str, str]] = {}
    for table, present in columns.items():
        if table in UNSCOPED_TABLES or "reseller_id" not in present:
            continue
        levels = {
            level: column
            for level, column in LEVEL_COLUMNS.items()
            if column in present and level not in NOT_NARROWED.get(table, set())
        }
        if table in OWN_LEVEL:
            levels[OWN_LEVEL[table]] = "id"
        tables[table] = levels
    tables["reseller"] = {"reseller": "id"}
    return tables


def policy_expression(levels: dict[str, str]) -> str:
    """A row is visible when it is inside every level the claim pins (an unpinned level,
    and every level under the bypass, is NULL and matches every row)."""
    conditions = [
        f"{column} IS NOT DISTINCT FROM coalesce((SELECT app_scope_level({position})), {column})"
        for position, level in enumerate(("reseller", "account", "circle"), start=1)
        if (column := levels.get(level)) is not None
    ]
    return " AND ".join(conditions)


# PL/pgSQL (its plans are cached; an SQL function is planned on every call). The
# signature is checked before anything of the claim is parsed, so a value that the app
# did not make is refused by the HMAC alone; no regular expression (the dearest step).
_FUNCTIONS = (
    """
CREATE OR REPLACE FUNCTION app_scope_verified() RETURNS text[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
DECLARE
    raw text := current_setting('app.scope', true);
    payload text;
    signing_key bytea;
    parts text[];
BEGIN
    IF raw IS NULL OR length(raw) < 66 THEN
        RETURN NULL;
    END IF;
    payload := split_part(raw, '.', 1);
    SELECT k.signing_key INTO signing_key FROM rls_scope_key k WHERE k.id = 1;
    IF signing_key IS NULL
       OR encode(hmac(convert_to(payload, 'UTF8'), signing_key, 'sha256'), 'hex')
          IS DISTINCT FROM split_part(raw, '.', 2) THEN
        RETURN NULL;
    END IF;
    parts := string_to_array(payload, ':');
    IF parts[5]::bigint <> pg_backend_pid() THEN
        RETURN NULL;
    END IF;
    RETURN parts;
END
$fn$;
""",
    # A level's id when pinned; NULL when not pinned or under the bypass (every row
    # matches); -1 when the claim is missing or invalid (no row matches).
    """
CREATE OR REPLACE FUNCTION app_scope_level(level_index integer) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
DECLARE
    claim text[] := app_scope_verified();
BEGIN
    IF claim IS NULL THEN
        RETURN -1;
    END IF;
    IF claim[4] = '1' THEN
        RETURN NULL;
    END IF;
    RETURN NULLIF(claim[level_index], '')::integer;
END
$fn$;
""",
    """
CREATE OR REPLACE FUNCTION app_scope_bypass() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
BEGIN
    RETURN coalesce((app_scope_verified())[4] = '1', false);
END
$fn$;
""",
)


def install_functions(connection: Any, app_role: str) -> None:
    """The key table (owner only) and the functions the policies read the scope through."""
    role = connection.dialect.identifier_preparer.quote(app_role)
    connection.execute(text("CREATE EXTENSION IF NOT EXISTS pgcrypto"))
    connection.execute(
        text(
            "CREATE TABLE IF NOT EXISTS rls_scope_key ("
            "id integer PRIMARY KEY CHECK (id = 1), signing_key bytea NOT NULL)"
        )
    )
    connection.execute(text("REVOKE ALL ON rls_scope_key FROM PUBLIC"))
    connection.execute(text(f"REVOKE ALL ON rls_scope_key FROM {role}"))
    for statement in _FUNCTIONS:
        connection.exec_driver_sql(statement)
    for function in ("app_scope_verified()", "app_scope_level(integer)", "app_scope_bypass()"):
        connection.execute(text(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC"))
        connection.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {role}"))


def install_key(connection: Any, secret_key: str | bytes) -> None:
    """Store the signing key derived from the app's secret (run by every upgrade, so a
    rotated secret key takes effect with the next ``pbx db upgrade``)."""
    if connection.dialect.name != "postgresql":
        return
    exists = connection.execute(text("SELECT to_regclass('rls_scope_key') IS NOT NULL")).scalar()
    if not exists:
        return
    connection.execute(
        text(
            "INSERT INTO rls_scope_key (id, signing_key) VALUES (1, :key) "
            "ON CONFLICT (id) DO UPDATE SET signing_key = EXCLUDED.signing_key"
        ),
        {"key": derive_key(secret_key)},
    )


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
    install_functions(connection, app_role)
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
    connection.execute(
        text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    )
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    connection.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}"))
    connection.execute(text(f"REVOKE ALL ON rls_scope_key FROM {role}"))
    for table in APPEND_ONLY:
        connection.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}"))
    for table, levels in tenant_tables(connection).items():
        expression = policy_expression(levels)
        connection.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
        connection.execute(text(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
        connection.execute(text(f"DROP POLICY IF EXISTS tenant_isolation ON {table}"))
        connection.execute(
            text(
                f"CREATE POLICY tenant_isolation ON {table} "
                f"USING ({expression}) WITH CHECK ({expression})"
            )
        )
    # The host map: read by every request (it finds the tenant), written only under the
    # bypass, so code acting for one reseller cannot take over another's host name.
    connection.execute(text("DROP POLICY IF EXISTS host_write ON reseller_host"))
    connection.execute(
        text(
            f"CREATE POLICY host_write ON reseller_host FOR ALL "
            f"USING ({BYPASS}) WITH CHECK ({BYPASS})"
        )
    )
