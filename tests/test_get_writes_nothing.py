"""Reading a page writes nothing: every GET route of the app, asked by every role, adds,
changes or removes no row of any tenant table and records no audit row.

Opening the account options page used to open a cart (and record ``cart.create``);
a cart is now opened by the first line added to it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import inspect, select

from pbx_platform.db import TenantScoped, db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import platform_bypass
from tests.isolation_routes import ROUTES, Targets
from tests.isolation_routes import build_targets as _build_targets
from tests.test_permissions import ROLES, _client, _methods, _path, area

# Bookkeeping a read may touch: when a session was last seen is not a change anyone made.
BOOKKEEPING = {"last_seen_at", "last_used_at", "updated_at", "last_login_at"}


def _tenant_models() -> list[type[Any]]:
    return [
        mapper.class_
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, TenantScoped) or mapper.class_ is AuditLog
    ]


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every tenant table and of the audit trail, read past the scope."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with platform_bypass("tests.get_writes_nothing"):
        for model in _tenant_models():
            columns = [column for column in inspect(model).columns if column.key not in BOOKKEEPING]
            query = select(*columns).order_by(*inspect(model).primary_key)
            if model is AuditLog:
                # The operator's reads across tenants are recorded by design (the audited
                # bypass, as is this snapshot's own): what they read is not a change.
                query = query.where(AuditLog.action != "tenant.bypass")
            rows[model.__table__.name] = [tuple(row) for row in db.session.execute(query)]
    return rows


def changed(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [table for table in before if before[table] != after[table]]


@pytest.fixture
def targets(app: Flask, world: Any) -> Targets:
    with app.app_context():
        return _build_targets(world)


GET_ROUTES = sorted(ROUTES)


def test_a_snapshot_sees_a_new_audit_row(app: Flask, world: Any) -> None:
    """The check can fail: an audit row written between two snapshots is seen."""
    with app.app_context():
        before = snapshot()
        with platform_bypass("tests.get_writes_nothing"):
            db.session.add(
                AuditLog(
                    reseller_id=world.a.reseller_id,
                    actor_kind="system",
                    actor_label="system",
                    action="test.write",
                    object_type="test",
                )
            )
            db.session.flush()
        assert "audit_log" in changed(before, snapshot())


def test_no_get_page_writes_a_row_for_any_role(app: Flask, targets: Targets, browser: Any) -> None:
    clients = {role: _client(browser, targets.world, role) for role in ROLES}
    with app.app_context():
        before = snapshot()
    problems = []
    for endpoint in GET_ROUTES:
        if "GET" not in _methods(app, endpoint):
            continue
        entry = ROUTES[endpoint]
        path = _path(app, endpoint, targets.a)
        for role in ROLES:
            if role not in area(entry) and entry.roles:
                continue
            response = clients[role].get(path)
            assert response.status_code < 500, f"GET {path} as {role}: {response.status_code}"
            response.close()
            with app.app_context():
                after = snapshot()
            tables = changed(before, after)
            if tables:
                problems.append(f"GET {endpoint} as {role} wrote to {tables}")
                before = after
    assert not problems, "\n".join(problems)


def test_opening_the_account_options_page_opens_no_cart(
    app: Flask, targets: Targets, browser: Any
) -> None:
    client = _client(browser, targets.world, "admin")
    path = f"/staff/accounts/{targets.a.of('account_id')}/options"
    with app.app_context():
        before = snapshot()
    assert client.get(path).status_code == 200
    with app.app_context():
        after = snapshot()
    assert changed(before, after) == []
