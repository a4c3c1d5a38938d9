"""The tenant scope (pbx_platform.tenancy, R20): one mechanism for every ORM statement,
used directly on the models."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, template_rendered
from sqlalchemy import delete, func, insert, select, text, union_all, update
from sqlalchemy.orm.exc import ObjectDeletedError

from pbx_platform.audit import Actor, acting_as
from pbx_platform.db import TenantScoped, db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import (
    Scope,
    TenantScopeError,
    current_scope,
    enter_request_scope,
    narrow_request_scope,
    platform_bypass,
    reset_request_scope,
    use_scope,
)
from tenants.models import (
    Account,
    Circle,
    CirclePhoneNumber,
    PasswordPolicy,
    PickupGroup,
    Reseller,
    Staff,
    Unique,
)
from tests.factories import PASSWORD, World
from tests.isolation_routes import Targets, build_targets

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def targets(app: Flask, world: World) -> Targets:
    with app.app_context():
        return build_targets(world)


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def tenant_classes() -> list[type[Any]]:
    return sorted(
        (
            mapper.class_
            for mapper in db.Model.registry.mappers
            if issubclass(mapper.class_, TenantScoped) and mapper.class_.__tenant_columns__
        ),
        key=lambda cls: cls.__name__,
    )


def column_of(cls: type[Any], level: str) -> Any:
    return getattr(cls, cls.__tenant_columns__[level])


def everything(cls: type[Any]) -> list[Any]:
    with platform_bypass("tests.tenancy"):
        return list(db.session.scalars(select(cls)))


# -- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [cls.__name__ for cls in tenant_classes()])
def test_select_returns_only_the_scopes_rows(targets: Targets, ctx: None, name: str) -> None:
    cls = next(cls for cls in tenant_classes() if cls.__name__ == name)
    world = targets.world
    reseller = cls.__tenant_columns__["reseller"]
    owners = [getattr(row, reseller) for row in everything(cls)]
    assert world.a.reseller_id in owners and world.b.reseller_id in owners, (
        f"give {name} a row in both tenants (tests/isolation_routes.build_ids)"
    )
    with use_scope(world.a.scope):
        seen = db.session.scalars(select(cls)).all()
        counted = db.session.scalar(select(func.count()).select_from(cls))
    assert seen and {getattr(row, reseller) for row in seen} == {world.a.reseller_id}
    assert len(seen) == owners.count(world.a.reseller_id) == counted


NARROWED = [
    cls.__name__
    for cls in tenant_classes()
    if "account" in cls.__tenant_columns__ or "circle" in cls.__tenant_columns__
]


@pytest.mark.parametrize("name", NARROWED)
def test_account_and_circle_scopes_narrow_further(targets: Targets, ctx: None, name: str) -> None:
    cls = next(cls for cls in tenant_classes() if cls.__name__ == name)
    a = targets.a
    levels = cls.__tenant_columns__
    with use_scope(targets.world.a.scope):
        whole = db.session.scalars(select(cls)).all()
    with use_scope(Scope(a.reseller_id, a.account_id)):
        in_account = db.session.scalars(select(cls)).all()
    with use_scope(Scope(a.reseller_id, a.account_id, a.circle_id)):
        in_circle = db.session.scalars(select(cls)).all()
    assert in_account and len(in_account) < len(whole)
    assert {getattr(row, levels["account"]) for row in in_account} == {a.account_id}
    if "circle" in levels:
        assert in_circle and {getattr(row, levels["circle"]) for row in in_circle} == {a.circle_id}
        assert len(in_circle) < len(in_account)
    else:
        assert in_circle == in_account


def test_subqueries_and_counts_are_scoped(world: World, ctx: None) -> None:
    with use_scope(world.a.scope):
        mine = db.session.scalars(select(Circle.id)).all()
        counted = db.session.scalar(select(func.count()).select_from(select(Circle).subquery()))
        exists = db.session.scalars(
            select(Account.id).where(
                select(Circle.id).where(Circle.account_id == Account.id).exists()
            )
        ).all()
    assert counted == len(mine) == 2
    assert set(exists) == {world.a.account_id, world.a.other_account_id}


def test_relationship_loads_follow_the_current_scope(world: World, ctx: None) -> None:
    a = world.a
    with platform_bypass("tests.tenancy"):
        # A reference across tenants, planted on purpose (no service makes one).
        b_group = db.session.scalars(
            select(PickupGroup.id).where(PickupGroup.reseller_id == world.b.reseller_id)
        ).first()
        db.session.execute(
            update(Unique).where(Unique.id == a.unique_id).values(pickup_group_id=b_group)
        )
    db.session.expire_all()
    with use_scope(Scope(a.reseller_id, a.account_id, a.circle_id)):
        account = db.session.get(Account, a.account_id)
        assert account is not None
        circles = [circle.id for circle in account.circles]
        unique = db.session.get(Unique, a.unique_id)
        assert unique is not None and unique.pickup_group_id == b_group
        assert unique.pickup_group is None
    assert circles == [a.circle_id]


def test_a_row_loaded_under_another_scope_is_not_handed_back(world: World, ctx: None) -> None:
    with use_scope(world.b.scope):
        theirs = db.session.get(Circle, world.b.circle_id)
        assert theirs is not None
    with use_scope(world.a.scope):
        assert db.session.get(Circle, world.b.circle_id) is None
    with use_scope(world.b.scope):
        theirs = db.session.get(Circle, world.b.circle_id)
    db.session.commit()  # expires it
    with use_scope(world.a.scope):
        with pytest.raises(ObjectDeletedError):
            _ = theirs.name  # type: ignore[union-attr]
        assert db.session.get(Circle, world.b.circle_id) is None


# -- writing in bulk --------------------------------------------------------------------------


def circle_names(scope: Scope) -> list[str]:
    with use_scope(scope):
        return sorted(db.session.scalars(select(Circle.name)))


def test_bulk_update_touches_only_the_scopes_rows(world: World, ctx: None) -> None:
    before = circle_names(world.b.scope)
    with use_scope(world.a.scope):
        changed = db.session.execute(update(Circle).values(name="renamed")).rowcount
    assert changed == 2
    assert circle_names(world.a.scope) == ["renamed", "renamed"]
    assert circle_names(world.b.scope) == before


def test_bulk_delete_touches_only_the_scopes_rows(targets: Targets, ctx: None) -> None:
    world = targets.world
    with use_scope(world.b.scope):
        theirs = sorted(db.session.scalars(select(Unique.id)))
    with use_scope(world.a.scope):
        assert db.session.execute(delete(Unique)).rowcount > 0
        assert db.session.scalars(select(Unique.id)).all() == []
    with use_scope(world.b.scope):
        assert sorted(db.session.scalars(select(Unique.id))) == theirs


def test_bulk_update_by_primary_key_refuses_other_tenants_rows(world: World, ctx: None) -> None:
    with use_scope(world.a.scope):
        with pytest.raises(TenantScopeError, match="outside the scope"):
            db.session.execute(
                update(Circle),
                [{"id": world.a.circle_id, "name": "x"}, {"id": world.b.circle_id, "name": "x"}],
            )
        db.session.execute(update(Circle), [{"id": world.a.circle_id, "name": "mine"}])
    assert "mine" in circle_names(world.a.scope)
    assert "x" not in circle_names(world.b.scope)


@pytest.mark.parametrize(
    ("column", "source"),
    [("reseller_id", "reseller_id"), ("account_id", "account_id"), ("id", "circle_id")],
)
def test_a_bulk_update_cannot_move_rows_to_another_tenant(
    world: World, ctx: None, column: str, source: str
) -> None:
    with use_scope(world.a.scope), pytest.raises(TenantScopeError, match="tenant columns"):
        db.session.execute(update(Circle).values({column: getattr(world.b, source)}))


def test_bulk_insert_is_stamped_and_checked(world: World, ctx: None) -> None:
    with use_scope(world.a.scope):
        db.session.execute(insert(Account), [{"company_name": "Stamped K.K."}])
        stamped = db.session.scalars(
            select(Account).where(Account.company_name == "Stamped K.K.")
        ).one()
        assert stamped.reseller_id == world.a.reseller_id
        with pytest.raises(TenantScopeError, match="another reseller"):
            db.session.execute(
                insert(Account), [{"company_name": "x", "reseller_id": world.b.reseller_id}]
            )
        with pytest.raises(TenantScopeError, match="inline VALUES"):
            db.session.execute(
                insert(Account).values(company_name="y", reseller_id=world.b.reseller_id)
            )


# -- writing through the unit of work -------------------------------------------------------------


def test_a_new_row_without_tenant_ids_is_stamped(world: World, ctx: None) -> None:
    a = world.a
    with use_scope(Scope(a.reseller_id, a.account_id, a.circle_id)):
        group = PickupGroup(name="Stamped")
        db.session.add(group)
        db.session.flush()
        assert (group.reseller_id, group.account_id, group.circle_id) == (
            a.reseller_id,
            a.account_id,
            a.circle_id,
        )


def test_a_new_row_of_another_tenant_is_refused(world: World, ctx: None) -> None:
    with use_scope(world.a.scope):
        db.session.add(Account(reseller_id=world.b.reseller_id, company_name="Planted"))
        with pytest.raises(TenantScopeError, match="another reseller"):
            db.session.flush()
    db.session.rollback()
    a = world.a
    with use_scope(Scope(a.reseller_id, a.account_id)):
        db.session.add(
            PickupGroup(account_id=a.other_account_id, circle_id=a.other_circle_id, name="x")
        )
        with pytest.raises(TenantScopeError, match="another account"):
            db.session.flush()


@pytest.mark.parametrize("kind", ["reseller", "account"])
def test_a_scope_cannot_create_a_tenant_beside_itself(world: World, ctx: None, kind: str) -> None:
    """A reseller's scope makes no reseller; an account's scope makes no account."""
    a = world.a
    with use_scope(Scope(a.reseller_id, a.account_id)):
        if kind == "reseller":
            db.session.add(Reseller(slug="newco", name="NewCo"))
        else:
            db.session.add(Account(company_name="Second account"))
        with pytest.raises(TenantScopeError):
            db.session.flush()


def test_a_rows_tenant_cannot_change(world: World, ctx: None) -> None:
    with use_scope(world.a.scope):
        staff = db.session.scalars(select(Staff).where(Staff.email == world.a.staff["admin"])).one()
        staff.reseller_id = world.b.reseller_id
        with pytest.raises(TenantScopeError, match="cannot change"):
            db.session.flush()


def test_without_a_scope_nothing_touches_tenant_data(world: World, ctx: None) -> None:
    attempts = [
        lambda: db.session.scalars(select(Circle)).all(),
        lambda: db.session.get(Circle, world.a.circle_id),
        lambda: db.session.scalar(select(func.count()).select_from(Unique)),
        lambda: db.session.execute(update(Circle).values(name="x")),
        lambda: db.session.execute(delete(Unique)),
        lambda: db.session.execute(insert(Account), [{"company_name": "x"}]),
    ]
    for attempt in attempts:
        with pytest.raises(TenantScopeError):
            attempt()
    db.session.add(Account(reseller_id=world.a.reseller_id, company_name="Orphan"))
    with pytest.raises(TenantScopeError):
        db.session.flush()


# -- statements the loader criteria cannot filter ---------------------------------------------


def test_core_statements_on_tenant_tables_are_refused(world: World, ctx: None) -> None:
    table = Circle.__table__
    refused = [
        select(table),
        select(table.c.name).where(table.c.reseller_id == world.b.reseller_id),
        select(Account).join(table, table.c.account_id == Account.id),
        select(Circle).join(table.alias(), table.alias().c.id == Circle.id),
        union_all(select(Circle.id), select(table.c.id)),
        select(Account.id).where(
            select(table.c.id).where(table.c.account_id == Account.id).exists()
        ),
        select(Circle).from_statement(select(table)),
        table.update().values(name="x"),
        table.delete(),
        Account.__table__.insert().values(company_name="x", reseller_id=world.a.reseller_id),
    ]
    with use_scope(world.a.scope):
        for statement in refused:
            with pytest.raises(TenantScopeError):
                db.session.execute(statement)
        with pytest.raises(TenantScopeError, match="Core INSERT"):
            db.session.execute(
                Account.__table__.insert(),
                [{"company_name": "x", "reseller_id": world.a.reseller_id}],
            )
        # The same through the mapped class is fine, and scoped.
        assert len(db.session.execute(select(Circle.id, table.c.name)).all()) == 2
    with platform_bypass("tests.tenancy"):
        owners = {row.reseller_id for row in db.session.execute(select(table))}
    assert {world.a.reseller_id, world.b.reseller_id} <= owners


def test_public_tables_stay_readable_without_a_scope(world: World, ctx: None) -> None:
    from tenants.models import ResellerHost

    hosts = db.session.scalars(select(ResellerHost.host)).all()
    assert world.a.host in hosts and world.b.host in hosts


# -- the bypass ---------------------------------------------------------------------------------


def test_the_bypass_needs_a_reason(ctx: None) -> None:
    with pytest.raises(ValueError, match="reason"), platform_bypass(""):
        pass


def test_the_bypass_sees_every_tenant_and_is_audited(world: World, ctx: None) -> None:
    actor = Actor("platform", 7, "operator@platform.test", world.platform_reseller_id)
    with acting_as(actor), platform_bypass("tests.bypass"):
        owners = set(db.session.scalars(select(Circle.reseller_id)))
        db.session.flush()
    assert {world.a.reseller_id, world.b.reseller_id} <= owners
    with use_scope(Scope(world.platform_reseller_id)):
        rows = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "tenant.bypass", AuditLog.actor_id == 7)
        ).all()
    assert [(r.reseller_id, r.actor_kind, r.after) for r in rows] == [
        (world.platform_reseller_id, "platform", {"reason": "tests.bypass"})
    ]


def test_the_bypass_ends_with_its_block(world: World, ctx: None) -> None:
    with use_scope(world.a.scope):
        with platform_bypass("tests.tenancy"):
            theirs = db.session.get(Circle, world.b.circle_id)
            assert theirs is not None
        assert db.session.get(Circle, world.b.circle_id) is None
        with platform_bypass("tests.tenancy"):
            theirs = db.session.get(Circle, world.b.circle_id)
            assert theirs is not None
            theirs.password_policy = PasswordPolicy.FORCE
        # A change of another tenant's row made in the bypass must be flushed in it.
        with pytest.raises(TenantScopeError):
            db.session.flush()


# -- no raw SQL in request code -----------------------------------------------------------------

REQUEST_CODE = [
    "tenants/views",
    "tenants/services",
    "tenants/options",
    "tenants/principals.py",
    "themes/views.py",
    "themes/services.py",
    "pbx_platform/web.py",
    "pbx_platform/auth.py",
    "pbx_platform/health.py",
]
RAW_SQL_NAMES = {"text", "literal_column", "table", "column", "TextClause"}


def raw_sql(source: str, name: str) -> list[str]:
    """Raw SQL in Python source: sqlalchemy's text()/literal_column()/table() imported
    or used, ``exec_driver_sql``, ``__table__`` (a Core table), or an SQL string
    passed to ``execute``."""
    found = []
    modules = set()
    for node in ast.walk(ast.parse(source)):
        line = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found += [f"{line} imports {a.name}" for a in node.names if a.name in RAW_SQL_NAMES]
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name.startswith("sqlalchemy")}
        elif isinstance(node, ast.Attribute):
            if node.attr in ("exec_driver_sql", "__table__", "connection"):
                found.append(f"{line} uses {node.attr}")
            elif (
                node.attr in RAW_SQL_NAMES
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
            ):
                found.append(f"{line} uses {node.value.id}.{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("execute", "scalar", "scalars")
            and node.args
            and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
        ):
            found.append(f"{line} executes an SQL string")
    return found


def request_code_files() -> list[Path]:
    files: list[Path] = []
    for entry in REQUEST_CODE:
        path = ROOT / entry
        assert path.exists(), f"{entry} moved: update REQUEST_CODE"
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def test_request_code_has_no_raw_sql() -> None:
    files = request_code_files()
    assert len(files) > 10
    found = [hit for f in files for hit in raw_sql(f.read_text(), str(f.relative_to(ROOT)))]
    assert found == [], "request code must go through the scoped ORM (R20)"


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy import select, text\n",
        "import sqlalchemy as sa\nq = sa.text('select 1')\n",
        "conn.exec_driver_sql('select * from circle')\n",
        "db.session.execute('select * from circle')\n",
        "db.session.execute(f'select * from {t}')\n",
        "stmt = select(Circle.__table__)\n",
        "db.session.connection().execute(select(Circle.id))\n",
    ],
)
def test_the_raw_sql_scan_finds_raw_sql(source: str) -> None:
    assert raw_sql(source, "example.py")


def test_the_raw_sql_scan_leaves_look_alikes_alone() -> None:
    source = "def text(name):\n    return name\n\nvalue = text('extension')\n"
    assert raw_sql(source, "example.py") == []


# -- past the ORM hook: the session's connection and raw SQL ---------------------------------


def test_core_through_the_sessions_connection_is_refused_under_a_scope(
    world: World, ctx: None
) -> None:
    with use_scope(world.a.scope):
        with pytest.raises(TenantScopeError, match="session's connection"):
            db.session.connection().execute(select(Circle.id)).all()
        with pytest.raises(TenantScopeError, match="session's connection"):
            db.session.connection().execute(update(Circle.__table__).values(name="hijacked"))
        # The ORM way still works, and sees A's circles only.
        assert set(db.session.scalars(select(Circle.reseller_id))) == {world.a.reseller_id}


def test_raw_sql_is_refused_under_a_scope(world: World, ctx: None) -> None:
    with use_scope(world.a.scope):
        with pytest.raises(TenantScopeError, match="raw SQL"):
            db.session.execute(text("SELECT id FROM circle")).all()
        with pytest.raises(TenantScopeError, match="raw SQL"):
            db.session.connection().execute(text("SELECT id FROM circle")).all()
        with pytest.raises(TenantScopeError, match="driver SQL"):
            db.session.connection().exec_driver_sql("SELECT id FROM circle").all()
    # Outside any scope a probe such as the health check's still runs.
    assert db.session.execute(text("SELECT 1")).scalar() == 1


def test_the_bypass_may_use_core_statements(world: World, ctx: None) -> None:
    with platform_bypass("tests.tenancy"):
        owners = set(db.session.connection().execute(select(Circle.reseller_id)).scalars())
    assert {world.a.reseller_id, world.b.reseller_id} <= owners


# -- the request scope API -------------------------------------------------------------------


def test_narrowing_pins_the_levels_and_never_widens(world: World, app: Flask) -> None:
    with app.test_request_context():
        enter_request_scope(world.a.reseller_id)
        narrowed = narrow_request_scope(account_id=world.a.account_id)
        assert narrowed == Scope(world.a.reseller_id, world.a.account_id)
        assert current_scope() == narrowed
        with pytest.raises(TenantScopeError, match="another account"):
            narrow_request_scope(account_id=world.a.other_account_id)
        circle = narrow_request_scope(circle_id=world.a.circle_id)
        assert circle == Scope(world.a.reseller_id, world.a.account_id, world.a.circle_id)
        reset_request_scope()
        assert current_scope() is None


def test_staff_on_a_circle_page_are_scoped_to_that_circle(
    world: World, app: Flask, browser
) -> None:
    """The circle boundary for staff is the scope's, not hand-written filters."""
    seen: list[Scope | None] = []

    def record(sender: Any, template: Any, context: Any, **extra: Any) -> None:
        seen.append(current_scope())

    client = browser(world.a.host)
    assert client.login_staff(world.a.staff["admin"], PASSWORD).status_code == 302
    with template_rendered.connected_to(record, app):
        page = client.get(f"/staff/circles/{world.a.circle_id}/uniques")
    assert page.status_code == 200
    assert set(seen) == {Scope(world.a.reseller_id, world.a.account_id, world.a.circle_id)}
    seen.clear()
    with template_rendered.connected_to(record, app):
        assert client.get("/staff/").status_code == 200
    assert set(seen) == {Scope(world.a.reseller_id)}


def test_phone_numbers_of_other_tenants_are_not_visible(world: World, ctx: None) -> None:
    with use_scope(world.a.scope):
        numbers = db.session.scalars(select(CirclePhoneNumber.reseller_id)).all()
    assert numbers and set(numbers) == {world.a.reseller_id}


def test_a_streamed_body_runs_in_the_scope_the_view_ran_in(app: Flask, world: World) -> None:
    """A body read after the view returned (and after the request's end reset the
    scope) runs in the view's scope again, and leaves it when done; a view without a
    scope or under the bypass cannot stream."""
    from pbx_platform.tenancy import (
        TenantScopeError,
        current_scope,
        platform_bypass,
        streamed_in_scope,
        use_scope,
    )

    seen: list[Any] = []

    def chunks() -> Iterator[bytes]:
        seen.append(current_scope())
        yield b"x"

    with app.test_request_context():
        with use_scope(world.a.circle_scope):
            body = streamed_in_scope(chunks())
        assert current_scope() is None  # the view returned, the request reset its scope
        assert list(body) == [b"x"]
        assert seen == [world.a.circle_scope]
        assert current_scope() is None
        with pytest.raises(TenantScopeError):
            streamed_in_scope(chunks())
        with use_scope(world.a.circle_scope), platform_bypass("tests.stream"):
            with pytest.raises(TenantScopeError):
                streamed_in_scope(chunks())
