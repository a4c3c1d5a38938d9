"""Row-level security (pbx_platform.rls): the second wall behind the ORM's tenant scope
(R20). PostgreSQL only: run with TEST_DATABASE_URL=postgresql://owner@host/any.

The statements here skip the ORM filter on purpose (raw SQL through ``text()``): what
they cannot see is what the database itself refuses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pbx_platform import rls
from pbx_platform.db import TenantScoped, db
from pbx_platform.tenancy import platform_bypass, use_scope
from tenants.models import CirclePhoneNumber
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


def scalar(sql: str, **params: object) -> object:
    return db.session.execute(text(sql), params).scalar()


def set_tenant(value: str) -> None:
    """What ``pbx_platform.tenancy`` does at the start of each transaction."""
    db.session.execute(text("SELECT set_config('app.tenant_id', :v, true)"), {"v": value})


def tenant_tables() -> dict[str, str]:
    """Every table with a reseller id in the database (and ``reseller`` itself) → that column."""
    names = db.session.execute(
        text(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_name = 'reseller_id'"
        )
    ).scalars()
    tables = {name: "reseller_id" for name in names if name not in rls.UNSCOPED_TABLES}
    return {**tables, "reseller": "id"}


def count(table: str, where: str = "true", **params: object) -> int:
    # Table names come from the catalogue above, never from input.
    return int(scalar(f"SELECT count(*) FROM {table} WHERE {where}", **params) or 0)  # noqa: S608


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


def test_the_policies_read_the_setting_through_nullif() -> None:
    """A pooled connection answers '' for a setting whose transaction ended; '' must
    mean "no tenant", not a cast error."""
    expressions = db.session.execute(
        text(
            "SELECT qual, with_check FROM pg_policies "
            "WHERE schemaname = current_schema() AND policyname = 'tenant_isolation'"
        )
    ).all()
    assert expressions
    for using, check in expressions:
        for expression in (using, check):
            assert "NULLIF(current_setting('app.tenant_id'::text, true), ''::text)" in expression
    with db.engine.connect() as fresh:
        fresh.execute(text("SELECT set_config('app.tenant_id', '5', true)"))
        fresh.commit()
        assert fresh.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar() == ""
        fresh.execute(text("SELECT count(*) FROM circle")).scalar()  # no cast error
        fresh.rollback()


# -- raw SQL, past the ORM filter ------------------------------------------------------------------


def test_with_the_tenant_set_to_a_raw_sql_sees_none_of_bs_rows(targets: Targets) -> None:
    world = targets.world
    set_tenant(str(world.a.reseller_id))
    for table, column in tenant_tables().items():
        assert count(table, f"{column} = :b", b=world.b.reseller_id) == 0, table
        assert count(table, f"{column} <> :a", a=world.a.reseller_id) == 0, table
    # The filter is the database's: A's own rows are all there.
    for table in ("circle", "unique_entry", "staff", "theme", "audit_log", "recording", "ivr"):
        assert count(table) > 0, table


def test_without_a_tenant_raw_sql_sees_nothing(targets: Targets) -> None:
    set_tenant("")
    for table in tenant_tables():
        assert count(table) == 0, table


def test_the_tenant_scope_sets_the_database_setting(world: World) -> None:
    with use_scope(world.a.scope):
        assert scalar("SELECT current_setting('app.tenant_id', true)") == str(world.a.reseller_id)
        assert count("circle", "reseller_id = :b", b=world.b.reseller_id) == 0
        assert count("circle") == 2
    with platform_bypass("tests.rls"):
        assert count("circle", "reseller_id = :b", b=world.b.reseller_id) == 2
    assert scalar("SELECT current_setting('app.tenant_id', true)") == ""


def test_rows_of_b_cannot_be_written_while_the_tenant_is_a(world: World) -> None:
    """The scope sets the tenant for every (nested) transaction; the SQL is raw."""
    a, b = world.a, world.b
    with use_scope(a.scope):
        _write_as_a(a, b)
    with platform_bypass("tests.rls"):
        names = db.session.execute(
            text("SELECT name FROM circle WHERE reseller_id = :b"), {"b": b.reseller_id}
        ).scalars()
        assert "hijacked" not in set(names)


def _number(tenant: Tenant, e164: str) -> dict[str, object]:
    return {
        "reseller_id": tenant.reseller_id,
        "account_id": tenant.account_id,
        "circle_id": tenant.circle_id,
        "e164": e164,
    }


def _write_as_a(a: Tenant, b: Tenant) -> None:
    assert scalar("SELECT current_setting('app.tenant_id', true)") == str(a.reseller_id)
    # Core through the connection: no ORM hook sees it (column defaults still apply).
    insert = CirclePhoneNumber.__table__.insert()
    with pytest.raises(DBAPIError, match="row-level security"), db.session.begin_nested():
        db.session.connection().execute(insert, _number(b, "+81311110000"))
    # The same statement for A's own circle goes through.
    with db.session.begin_nested():
        db.session.connection().execute(insert, _number(a, "+81311110001"))
    # Updates and deletes of B's rows find nothing to change.
    changed = db.session.execute(
        text("UPDATE circle SET name = 'hijacked' WHERE reseller_id = :b"), {"b": b.reseller_id}
    ).rowcount
    removed = db.session.execute(
        text("DELETE FROM unique_entry WHERE reseller_id = :b"), {"b": b.reseller_id}
    ).rowcount
    assert (changed, removed) == (0, 0)
    # Nor can one of A's rows be handed over to B.
    with pytest.raises(DBAPIError, match="row-level security"), db.session.begin_nested():
        db.session.execute(
            text("UPDATE account SET reseller_id = :b WHERE id = :id"),
            {"b": b.reseller_id, "id": a.other_account_id},
        )


def test_the_host_map_is_readable_but_only_the_bypass_writes_it(app: Flask, world: World) -> None:
    """reseller_host finds the tenant, so every request reads it; code acting for one
    reseller must not take over another's host name (migration 0003)."""
    set_tenant(str(world.a.reseller_id))
    assert scalar("SELECT count(*) FROM reseller_host WHERE host = :h", h=world.b.host) == 1
    moved = db.session.execute(
        text("UPDATE reseller_host SET reseller_id = :a WHERE host = :h"),
        {"a": world.a.reseller_id, "h": world.b.host},
    )
    assert moved.rowcount == 0  # no row is visible for writing
    with pytest.raises(DBAPIError), db.session.begin_nested():
        db.session.execute(
            text(
                "INSERT INTO reseller_host (reseller_id, host, kind, is_custom) "
                "VALUES (:a, 'stolen.example', 'portal', true)"
            ),
            {"a": world.a.reseller_id},
        )
    set_tenant(str(world.b.reseller_id))
    assert scalar("SELECT reseller_id FROM reseller_host WHERE host = :h", h=world.b.host) == (
        world.b.reseller_id
    )
