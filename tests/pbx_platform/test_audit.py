"""The audit trail (pbx_platform.audit): every change by anyone records who, which
tenant, what, before/after and when; staff browse it for their own scope."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, insert, select, update

from pbx_platform.audit import REDACTED, Actor, acting_as, is_secret
from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.paging import DEFAULT_PER_PAGE as AUDIT_PAGE_SIZE
from pbx_platform.tenancy import Scope, platform_bypass, use_scope
from tenants.models import Account, Circle, PasswordPolicy, PickupGroup, Staff, Unique
from tests.factories import PASSWORD, Tenant, World
from tests.form_versions import with_version

NEW_PASSWORD = "Next#Pass2027"


def staff_client(browser: Any, tenant: Tenant, role: str) -> Any:
    client = browser(tenant.host)
    assert client.login_staff(tenant.staff[role], PASSWORD).status_code == 302
    return client


def set_policy(client: Any, circle_id: int, policy: str) -> None:
    detail = f"/staff/circles/{circle_id}"
    response = client.post(
        f"{detail}/password-policy",
        with_version(client, detail, {"policy": policy}),
        token_from="/login",
    )
    assert response.status_code == 302


def entries(app: Flask, scope: Scope, action: str) -> list[AuditLog]:
    with app.app_context(), use_scope(scope):
        rows = db.session.scalars(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def staff_id(app: Flask, tenant: Tenant, role: str) -> int:
    with app.app_context(), use_scope(tenant.scope):
        return db.session.scalars(select(Staff.id).where(Staff.email == tenant.staff[role])).one()


def assert_recent_utc(moment: datetime) -> None:
    assert moment.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=5)


# -- changes through the web ----------------------------------------------------------------


def test_a_policy_set_by_staff_records_who_which_tenant_what_and_when(
    app: Flask, world: World, browser: Any
) -> None:
    set_policy(staff_client(browser, world.a, "admin"), world.a.circle_id, "force")
    (row,) = entries(app, world.a.scope, "circle.password_policy")
    assert (row.actor_kind, row.actor_id, row.actor_label) == (
        "reseller",
        staff_id(app, world.a, "admin"),
        world.a.staff["admin"],
    )
    assert (row.reseller_id, row.account_id, row.circle_id) == (
        world.a.reseller_id,
        world.a.account_id,
        world.a.circle_id,
    )
    assert (row.object_type, row.object_id) == ("circle", world.a.circle_id)
    assert row.before == {"password_policy": "none"}
    assert row.after == {"password_policy": "force"}
    assert_recent_utc(row.created_at)


def test_a_password_change_is_recorded_with_the_hashes_redacted(
    app: Flask, world: World, browser: Any
) -> None:
    client = browser(world.a.host)
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    response = client.post(
        "/portal/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_repeat": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    (row,) = entries(app, world.a.scope, "circle.password_change")
    assert (row.actor_kind, row.actor_id, row.actor_label) == (
        "circle",
        world.a.circle_id,
        world.a.circle_login,
    )
    assert row.circle_id == world.a.circle_id
    assert row.before is not None and row.after is not None
    assert row.before["password_hash"] == row.after["password_hash"] == REDACTED
    assert row.before["password_changed_at"] is None
    changed_at = datetime.fromisoformat(row.after["password_changed_at"])
    assert_recent_utc(changed_at)
    assert "$argon2" not in repr((row.before, row.after))
    assert_recent_utc(row.created_at)
    # And the page that shows it does not show a hash either.
    page = staff_client(browser, world.a, "admin").get("/staff/audit").get_data(as_text=True)
    assert "circle.password_change" in page
    assert "$argon2" not in page


# -- who sees which entries ---------------------------------------------------------------------


@pytest.fixture
def changes(app: Flask, world: World, browser: Any) -> World:
    """A policy change in each circle of A (by A's admin) and of B (by B's admin)."""
    admin_a = staff_client(browser, world.a, "admin")
    set_policy(admin_a, world.a.circle_id, "warn")
    set_policy(admin_a, world.a.other_circle_id, "force")
    set_policy(staff_client(browser, world.b, "admin"), world.b.circle_id, "force")
    return world


def test_staff_see_their_resellers_entries_and_none_of_another(
    app: Flask, changes: World, browser: Any
) -> None:
    world = changes
    page = staff_client(browser, world.a, "support").get("/staff/audit").get_data(as_text=True)
    assert f"circle#{world.a.circle_id}" in page
    assert f"circle#{world.a.other_circle_id}" in page
    assert world.a.staff["admin"] in page
    assert "bravo" not in page
    assert world.b.staff["admin"] not in page


def test_the_page_count_is_that_of_the_own_trail(app: Flask, world: World, browser: Any) -> None:
    """Another reseller's long trail does not show, not even as a number of pages."""
    with app.app_context(), acting_as(Actor("system", None, "import")):
        with use_scope(world.b.scope):
            db.session.execute(
                insert(AuditLog),
                [
                    {
                        "actor_kind": "system",
                        "actor_label": "import",
                        "action": "bravo.import",
                        "object_type": "unique_entry",
                        "created_at": datetime.now(UTC),
                    }
                    for _ in range(3 * AUDIT_PAGE_SIZE)
                ],
            )
        with use_scope(world.a.scope):
            own = db.session.scalar(select(func.count()).select_from(AuditLog))
        db.session.commit()
    assert own is not None
    page = staff_client(browser, world.a, "admin").get("/staff/audit").get_data(as_text=True)
    assert f"<span>1 / {math.ceil(own / AUDIT_PAGE_SIZE)}</span>" in page
    assert "bravo.import" not in page


def test_an_account_manager_sees_only_their_accounts_entries(
    app: Flask, changes: World, browser: Any
) -> None:
    world = changes
    page = staff_client(browser, world.a, "manager").get("/staff/audit").get_data(as_text=True)
    assert f"circle#{world.a.circle_id}" in page
    assert f"circle#{world.a.other_circle_id}" not in page
    # Reseller-wide entries (the reseller's own staff, the brand) are not the account's;
    # the account's managers are.
    assert "theme#" not in page
    staff_ids = set(re.findall(r"staff#(\d+)", page))
    assert staff_ids == {str(world_manager_id(app, world))}
    assert "bravo" not in page


def test_the_console_shows_entries_across_resellers(changes: World, browser: Any) -> None:
    world = changes
    console = browser("localhost")
    assert console.login_console(world.operator_email, PASSWORD).status_code == 302
    page = console.get("/console/audit").get_data(as_text=True)
    assert world.a.staff["admin"] in page and world.b.staff["admin"] in page
    assert f"circle#{world.a.circle_id}" in page and f"circle#{world.b.circle_id}" in page


def test_a_platform_change_lands_in_the_tenants_own_trail(app: Flask, world: World) -> None:
    operator = Actor("platform", 1, world.operator_email, world.platform_reseller_id)
    with app.app_context(), acting_as(operator), platform_bypass("tests.audit"):
        circle = db.session.get(Circle, world.b.circle_id)
        assert circle is not None
        circle.password_policy = PasswordPolicy.WARN
        db.session.flush()
        db.session.commit()
    (row,) = entries(app, world.b.scope, "circle.update")
    assert (row.actor_kind, row.actor_label, row.reseller_id) == (
        "platform",
        world.operator_email,
        world.b.reseller_id,
    )
    bypass = entries(app, Scope(world.platform_reseller_id), "tenant.bypass")
    assert [r.after for r in bypass if r.actor_kind == "platform"] == [{"reason": "tests.audit"}]


def test_a_bypass_naming_no_tenant_is_recorded_in_the_platforms_trail(
    app: Flask, world: World
) -> None:
    """A job or a CLI command has no tenant of its own; its bypass is still on record."""
    with app.app_context(), platform_bypass("tests.nightly_job"):
        db.session.commit()
    bypass = entries(app, Scope(world.platform_reseller_id), "tenant.bypass")
    (row,) = [r for r in bypass if r.after == {"reason": "tests.nightly_job"}]
    assert (row.actor_kind, row.actor_label) == ("system", "system")


@pytest.mark.parametrize(
    ("path", "status"),
    [("/console/accounts/987654/oem", 404), ("/console/accounts", 200)],
    ids=["refused-404", "ok-200"],
)
def test_a_bypass_is_on_record_whatever_the_response(
    app: Flask, world: World, browser: Any, path: str, status: int
) -> None:
    """A failed request rolls its changes back, but not the record that it used the
    bypass: an operator probing ids leaves a trail."""
    client = browser("localhost")
    assert client.login_console(world.operator_email, PASSWORD).status_code == 302
    before = len(entries(app, Scope(world.platform_reseller_id), "tenant.bypass"))
    assert client.get(path).status_code == status
    rows = entries(app, Scope(world.platform_reseller_id), "tenant.bypass")
    (new,) = rows[before:]
    assert (new.actor_kind, new.actor_label) == ("platform", world.operator_email)
    assert new.after is not None and new.after["reason"].startswith("console.")


# -- what the hooks see -------------------------------------------------------------------------

ACTOR = Actor("reseller", 42, "admin@alpha.test")


def test_bulk_updates_and_deletes_are_recorded_row_by_row(app: Flask, world: World) -> None:
    a = world.a
    with app.app_context(), acting_as(ACTOR), use_scope(a.scope):
        uniques = dict(db.session.execute(select(Unique.id, Unique.display_name)).all())
        db.session.execute(update(Unique).values(display_name="renamed"))
        db.session.execute(delete(PickupGroup).where(PickupGroup.circle_id == a.other_circle_id))
        db.session.commit()
    updated = entries(app, a.scope, "unique_entry.update")
    assert {row.object_id: (row.before, row.after) for row in updated} == {
        id_: ({"display_name": name}, {"display_name": "renamed"}) for id_, name in uniques.items()
    }
    assert {row.actor_label for row in updated} == {ACTOR.label}
    (deleted,) = entries(app, a.scope, "pickup_group.delete")
    assert deleted.before is not None and deleted.before["name"] == "Default"
    assert deleted.after is None and deleted.circle_id == a.other_circle_id
    assert entries(app, world.b.scope, "unique_entry.update") == []


def test_bulk_inserts_are_recorded(app: Flask, world: World) -> None:
    with app.app_context(), acting_as(ACTOR), use_scope(world.a.scope):
        db.session.execute(insert(Account), [{"company_name": "Bulk K.K."}])
        db.session.commit()
    (row,) = [
        r
        for r in entries(app, world.a.scope, "account.create")
        if r.after and r.after.get("company_name") == "Bulk K.K."
    ]
    assert row.reseller_id == world.a.reseller_id and row.actor_label == ACTOR.label


def test_the_before_value_is_known_after_a_commit_expired_it(app: Flask, world: World) -> None:
    with app.app_context(), acting_as(ACTOR), use_scope(world.a.scope):
        circle = db.session.get(Circle, world.a.circle_id)
        assert circle is not None
        db.session.commit()  # every attribute expired: the old value is not in memory
        circle.password_policy = PasswordPolicy.FORCE
        db.session.commit()
    (row,) = entries(app, world.a.scope, "circle.update")
    assert row.before == {"password_policy": "none"}
    assert row.after == {"password_policy": "force"}


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password_hash", True),
        ("entry_password", True),
        ("pin", True),
        ("room_pin", True),
        ("api_token", True),
        ("totp_secret", True),
        ("password_policy", False),
        ("password_changed_at", False),
        ("session_version", False),
        ("display_name", False),
    ],
)
def test_secrets_are_told_apart_from_their_neighbours(key: str, secret: bool) -> None:
    assert is_secret(key) is secret


def test_core_statements_run_in_the_bypass_are_recorded(app: Flask, world: World) -> None:
    operator = Actor("platform", 1, world.operator_email, world.platform_reseller_id)
    table = Circle.__table__
    with app.app_context(), acting_as(operator), platform_bypass("tests.audit"):
        db.session.execute(
            table.update().where(table.c.id == world.b.circle_id).values(name="Renamed by staff")
        )
        db.session.commit()
    (row,) = entries(app, world.b.scope, "circle.update")
    assert (row.object_id, row.before, row.after) == (
        world.b.circle_id,
        {"name": "bravo circle"},
        {"name": "Renamed by staff"},
    )
    assert row.actor_kind == "platform"


def test_a_managers_own_password_change_is_in_the_audit_of_the_account(app, world, browser):
    """Staff rows of account managers carry the account: the manager's own changes are
    audited under the account and visible to the manager."""
    from sqlalchemy import select

    from pbx_platform.db import db
    from pbx_platform.models import AuditLog
    from pbx_platform.tenancy import use_scope
    from tenants.models import Staff
    from tenants.services import logins

    with app.app_context(), use_scope(world.a.scope):
        manager = db.session.scalars(
            select(Staff).where(Staff.email_key == world.a.staff["manager"])
        ).one()
        assert logins.change_password(
            manager, current=world.password, new="Other#Pass2026", repeat="Other#Pass2026"
        ).ok
        db.session.commit()
        row = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "staff.password_change")
        ).one()
        assert row.account_id == world.a.account_id


def world_manager_id(app: Flask, world: World) -> int:
    from tenants.models import Staff

    with app.app_context(), use_scope(world.a.scope):
        return db.session.scalars(
            select(Staff.id).where(Staff.email_key == world.a.staff["manager"])
        ).one()
