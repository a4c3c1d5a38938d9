"""Row-level security (pbx_platform.rls): the second wall behind the ORM's tenant scope
(R20). PostgreSQL only: run with TEST_DATABASE_URL=postgresql://owner@host/any.

The statements here go straight to the driver, past SQLAlchemy and its tenant hooks,
as injected SQL would: what they cannot see is what the database itself refuses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import make_url, text

from pbx_platform import rls
from pbx_platform.db import TenantScoped, db
from pbx_platform.tenancy import Scope, platform_bypass, use_scope
from tests.factories import Tenant, World
from tests.isolation_routes import Targets, build_targets

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def postgres(app: Flask) -> Iterator[None]:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row-level security needs PostgreSQL (TEST_DATABASE_URL)")
        yield


@pytest.fixture
def targets(app: Flask, world: World) -> Targets:
    return build_targets(world)


def _driver_sql(sql: str) -> str:
    return re.sub(r"(?<![:\w]):([a-zA-Z_]\w*)", r"%(\1)s", sql)


def execute(sql: str, **params: object) -> Any:
    """Raw SQL on the session's own connection, as the app role, past every ORM hook."""
    cursor = db.session.connection().connection.driver_connection.cursor()
    cursor.execute(_driver_sql(sql), params)
    return cursor


def scalar(sql: str, **params: object) -> object:
    row = execute(sql, **params).fetchone()
    return row[0] if row else None


def tenant_levels() -> dict[str, dict[str, str]]:
    """Every table with a reseller id in the database (and ``reseller``) → its levels."""
    with db.engine.connect() as connection:
        return rls.tenant_tables(connection)


def tenant_tables() -> dict[str, str]:
    """Every tenant table → the column holding its reseller id."""
    return {table: levels["reseller"] for table, levels in tenant_levels().items()}


def count(table: str, where: str = "true", **params: object) -> int:
    # Table names come from the catalogue above, never from input.
    return int(scalar(f"SELECT count(*) FROM {table} WHERE {where}", **params) or 0)  # noqa: S608


def sees_none_of(tenant: Tenant) -> None:
    for table, column in tenant_tables().items():
        assert count(table, f"{column} = :b", b=tenant.reseller_id) == 0, table


# -- the role the app connects as ----------------------------------------------------------------


def test_the_app_role_is_no_superuser_has_no_bypassrls_and_owns_no_table() -> None:
    role = db.session.execute(
        text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    assert role == ("pbx_app", False, False)
    owned = scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
        "AND pg_get_userbyid(c.relowner) = current_user"
    )
    assert owned == 0


def test_every_tenant_table_forces_row_level_security() -> None:
    tables = tenant_tables()
    mapped = {
        mapper.class_.__table__.name
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, TenantScoped) and mapper.class_.__tenant_columns__
    }
    assert mapped <= set(tables), "a tenant model whose table row-level security misses"
    rows = db.session.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "EXISTS (SELECT FROM pg_policies p WHERE p.tablename = c.relname "
            "AND p.schemaname = current_schema() AND p.policyname = 'tenant_isolation') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = ANY(:names)"
        ),
        {"names": list(tables)},
    ).all()
    assert {row[0]: tuple(row[1:]) for row in rows} == {t: (True, True, True) for t in tables}


def test_the_policies_read_the_scope_once_per_statement_through_the_functions() -> None:
    expressions = execute(
        "SELECT qual, with_check FROM pg_policies "
        "WHERE schemaname = current_schema() AND policyname = 'tenant_isolation'"
    ).fetchall()
    assert expressions
    for using, check in expressions:
        for expression in (using, check):
            assert "app_scope_level(1)" in expression
            assert "current_setting" not in expression
    plan = "\n".join(row[0] for row in execute("EXPLAIN SELECT count(*) FROM unique_entry"))
    assert "InitPlan" in plan


def test_the_rls_levels_are_the_orms(app: Flask) -> None:
    """Every level the ORM scope applies to a table, the policies apply too."""
    tables = tenant_levels()
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, TenantScoped) and cls.__tenant_columns__:
            assert tables[cls.__table__.name] == cls.__tenant_columns__, cls.__name__


# -- raw SQL, past the ORM filter ------------------------------------------------------------------


def test_with_a_scope_raw_sql_sees_none_of_bs_rows(targets: Targets) -> None:
    world = targets.world
    with use_scope(world.a.scope):
        for table, column in tenant_tables().items():
            assert count(table, f"{column} = :b", b=world.b.reseller_id) == 0, table
            assert count(table, f"{column} <> :a", a=world.a.reseller_id) == 0, table
        # The filter is the database's: A's own rows are all there.
        for table in ("circle", "unique_entry", "staff", "theme", "audit_log", "recording", "ivr"):
            assert count(table) > 0, table


def test_without_a_scope_raw_sql_sees_nothing(targets: Targets) -> None:
    for table in tenant_tables():
        assert count(table) == 0, table


def test_the_app_role_cannot_read_the_signing_key() -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        execute("SELECT signing_key FROM rls_scope_key")


@pytest.mark.parametrize(
    "forge",
    [
        "SELECT set_config('app.bypass', 'on', false)",
        "SELECT set_config('app.tenant_id', :b, false)",
        "SELECT set_config('app.scope', :b || ':::1:' || pg_backend_pid() || '.' "
        "|| repeat('0', 64), false)",
    ],
    ids=["bypass-setting", "tenant-setting", "unsigned-claim"],
)
def test_settings_made_by_hand_widen_nothing(targets: Targets, forge: str) -> None:
    """The app role sets what it likes; the policies believe a signed claim only."""
    world = targets.world
    with use_scope(world.a.scope):
        execute(forge, b=str(world.b.reseller_id))
        sees_none_of(world.b)
    execute(forge, b=str(world.b.reseller_id))
    sees_none_of(world.b)


def test_a_claim_signed_with_another_key_is_refused(targets: Targets) -> None:
    world = targets.world
    claim = rls.sign_claim(
        rls.derive_key("not-the-secret"),
        reseller_id=None,
        account_id=None,
        circle_id=None,
        bypass=True,
        backend_pid=int(scalar("SELECT pg_backend_pid()")),
    )
    execute("SELECT set_config('app.scope', :c, false)", c=claim)
    sees_none_of(world.b)
    sees_none_of(world.a)


def test_a_claim_is_refused_on_another_connection(app: Flask, targets: Targets) -> None:
    world = targets.world
    with platform_bypass("tests.rls"):
        claim = str(scalar("SELECT current_setting('app.scope')"))
        assert count("circle", "reseller_id = :b", b=world.b.reseller_id) == 2
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as other:
        other.execute("SELECT set_config('app.scope', %(c)s, false)", {"c": claim})
        assert other.execute("SELECT count(*) FROM circle").fetchone() == (0,)


def test_account_and_circle_scopes_narrow_raw_sql_too(targets: Targets) -> None:
    a = targets.world.a
    with use_scope(Scope(a.reseller_id, a.account_id, a.circle_id)):
        assert count("unique_entry") > 0
        assert count("unique_entry", "circle_id <> :c", c=a.circle_id) == 0
        assert count("circle") == 1
        assert count("account") == 1
    with use_scope(Scope(a.reseller_id, a.account_id)):
        assert count("circle", "account_id <> :acc", acc=a.account_id) == 0
        assert count("account") == 1
        assert count("circle") >= 1


def test_the_app_role_may_not_rewrite_the_audit_trail(targets: Targets) -> None:
    with use_scope(targets.world.a.scope):
        assert count("audit_log") > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.session.begin_nested():
            execute("UPDATE audit_log SET action = 'forged'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.session.begin_nested():
            execute("DELETE FROM audit_log")


def test_the_tenant_scope_sets_the_database_claim(world: World) -> None:
    with use_scope(world.a.scope):
        claim = str(scalar("SELECT current_setting('app.scope', true)"))
        assert claim.startswith(f"{world.a.reseller_id}::")
        assert count("circle", "reseller_id = :b", b=world.b.reseller_id) == 0
        assert count("circle") == 2
    with platform_bypass("tests.rls"):
        assert count("circle", "reseller_id = :b", b=world.b.reseller_id) == 2
    assert scalar("SELECT current_setting('app.scope', true)") == ""


def test_rows_of_b_cannot_be_written_while_the_tenant_is_a(world: World) -> None:
    a, b = world.a, world.b
    with use_scope(a.scope):
        _write_as_a(a, b)
    with platform_bypass("tests.rls"):
        names = {
            row[0]
            for row in execute("SELECT name FROM circle WHERE reseller_id = :b", b=b.reseller_id)
        }
        assert "hijacked" not in names


def _number(tenant: Tenant, e164: str) -> dict[str, object]:
    return {
        "reseller_id": tenant.reseller_id,
        "account_id": tenant.account_id,
        "circle_id": tenant.circle_id,
        "e164": e164,
    }


def _write_as_a(a: Tenant, b: Tenant) -> None:
    insert = (
        "INSERT INTO circle_phone_number (reseller_id, account_id, circle_id, e164, label) "
        "VALUES (:reseller_id, :account_id, :circle_id, :e164, '')"
    )
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.session.begin_nested():
        execute(insert, **_number(b, "+81311110000"))
    # The same statement for A's own circle goes through.
    with db.session.begin_nested():
        execute(insert, **_number(a, "+81311110001"))
    # Updates and deletes of B's rows find nothing to change.
    changed = execute(
        "UPDATE circle SET name = 'hijacked' WHERE reseller_id = :b", b=b.reseller_id
    ).rowcount
    removed = execute("DELETE FROM unique_entry WHERE reseller_id = :b", b=b.reseller_id).rowcount
    assert (changed, removed) == (0, 0)
    # Nor can one of A's rows be handed over to B.
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.session.begin_nested():
        execute(
            "UPDATE account SET reseller_id = :b WHERE id = :id",
            b=b.reseller_id,
            id=a.other_account_id,
        )


def test_the_host_map_is_readable_but_only_the_bypass_writes_it(app: Flask, world: World) -> None:
    """reseller_host finds the tenant, so every request reads it; code acting for one
    reseller must not take over another's host name."""
    with use_scope(world.a.scope):
        assert scalar("SELECT count(*) FROM reseller_host WHERE host = :h", h=world.b.host) == 1
        moved = execute(
            "UPDATE reseller_host SET reseller_id = :a WHERE host = :h",
            a=world.a.reseller_id,
            h=world.b.host,
        )
        assert moved.rowcount == 0  # no row is visible for writing
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.session.begin_nested():
            execute(
                "INSERT INTO reseller_host (reseller_id, host, kind, is_custom) "
                "VALUES (:a, 'stolen.example', 'portal', true)",
                a=world.a.reseller_id,
            )
    with use_scope(world.b.scope):
        assert scalar("SELECT reseller_id FROM reseller_host WHERE host = :h", h=world.b.host) == (
            world.b.reseller_id
        )
