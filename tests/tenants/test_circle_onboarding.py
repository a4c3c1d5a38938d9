"""Staff create a customer's circle (R13, R14, R17) with a generated first password shown
once, and reset a circle's password the same way (its sessions end)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.passwords import password_problems, verify_password
from pbx_platform.tenancy import use_scope
from tenants.models import Circle, PasswordPolicy, PickupGroup
from tenants.services.credentials import generate_password
from tests.circle_pages import login, pin_locale, text
from tests.factories import PASSWORD

SECRET = re.compile(r'<code class="secret" data-secret>([^<]+)</code>')


def new_form(**values: Any) -> dict[str, Any]:
    return {
        "name": "本社",
        "login_id": "alpha-hq",
        "extension_length": "4",
        "policy": "force",
        **values,
    }


def circle_by_login(app: Any, world: Any, login_id: str) -> Circle | None:
    with app.app_context(), use_scope(world.a.scope):
        circle = db.session.scalars(select(Circle).where(Circle.login_id == login_id)).first()
        if circle is not None:
            db.session.expunge(circle)
        return circle


def circle_count(app: Any, world: Any) -> int:
    with app.app_context(), use_scope(world.a.scope):
        return len(db.session.scalars(select(Circle.id)).all())


@pytest.fixture
def admin(world: Any, browser: Any) -> Any:
    return login(browser, world.a, "admin")


def test_generated_passwords_meet_r15_and_differ(app):
    with app.test_request_context():
        drawn = {generate_password() for _ in range(50)}
        assert len(drawn) == 50
        for password in drawn:
            assert password_problems(password) == []
            assert re.fullmatch(r"([A-Za-z0-9]{4}-){3}[A-Za-z0-9]{4}", password)
            assert not set(password) & set("0O1lI")


def test_create_a_circle_shows_the_password_once(world, admin, app, browser):
    path = f"/staff/accounts/{world.a.account_id}/circles/new"
    page = admin.get(path)
    assert page.status_code == 200
    assert 'value="force" checked' in text(page)
    response = admin.post(path, new_form())
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    body = text(response)
    assert "The circle 本社 has been created." in body
    assert "it is shown only on this page and cannot be shown again" in body
    password = SECRET.search(body).group(1)  # type: ignore[union-attr]
    circle = circle_by_login(app, world, "alpha-hq")
    assert circle is not None
    assert circle.extension_length == 4
    assert circle.password_policy == PasswordPolicy.FORCE
    assert circle.password_hash != password and verify_password(circle.password_hash, password)
    with app.app_context(), use_scope(world.a.scope):
        groups = db.session.scalars(
            select(PickupGroup.name).where(PickupGroup.circle_id == circle.id)
        ).all()
    assert groups == ["Default"]
    # Not shown again: not on the circle's page, and the same form a second time is refused.
    assert password not in text(admin.get(f"/staff/circles/{circle.id}"))
    again = admin.post(path, new_form())
    assert again.status_code == 422
    assert password not in text(again)
    # The circle logs in with it and is forced to change it (R17).
    client = pin_locale(browser(world.a.host))
    response = client.login_circle("alpha-hq", password)
    assert response.status_code == 302
    assert client.get("/portal/").headers["Location"].endswith("/portal/password")


def test_full_width_input_is_normalised(world, admin, app):
    path = f"/staff/accounts/{world.a.account_id}/circles/new"
    response = admin.post(path, new_form(login_id="ａｌｐｈａ－ｈｑ２", extension_length="５"))
    assert response.status_code == 200
    circle = circle_by_login(app, world, "alpha-hq2")
    assert circle is not None and circle.extension_length == 5


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": ""}, "Enter a name."),
        ({"name": "x" * 81}, "Use at most 80 characters."),
        ({"login_id": ""}, "Enter a login ID."),
        ({"login_id": "a" * 65}, "Use at most 64 characters."),
        (
            {"login_id": "本社の回線"},
            "A login ID may contain only a–z, A–Z, 0–9 and the symbols @ - _ .",
        ),
        ({"login_id": "ALPHA-CIRCLE"}, "This login ID is already in use. Choose another."),
        ({"extension_length": "6"}, "Choose an extension length from 2 to 5 digits."),
        ({"extension_length": ""}, "Choose an extension length from 2 to 5 digits."),
        ({"policy": "always"}, "Choose one of the offered policies."),
    ],
)
def test_bad_input_creates_nothing(world, admin, app, values, message):
    before = circle_count(app, world)
    response = admin.post(f"/staff/accounts/{world.a.account_id}/circles/new", new_form(**values))
    assert response.status_code == 422
    body = text(response)
    assert message in body
    assert "Nothing was saved. Please correct the marked fields." in body
    assert circle_count(app, world) == before


def test_another_resellers_login_id_is_free_here(world, admin, app):
    """R14: unique within the reseller; B's IDs neither count nor show."""
    response = admin.post(
        f"/staff/accounts/{world.a.account_id}/circles/new", new_form(login_id="bravo-circle")
    )
    assert response.status_code == 200
    assert circle_by_login(app, world, "bravo-circle") is not None


def test_a_forged_account_id_in_the_form_is_ignored(world, admin, app):
    response = admin.post(
        f"/staff/accounts/{world.a.account_id}/circles/new",
        new_form(account_id=str(world.b.account_id), reseller_id=str(world.b.reseller_id)),
    )
    assert response.status_code == 200
    circle = circle_by_login(app, world, "alpha-hq")
    assert circle is not None
    assert (circle.account_id, circle.reseller_id) == (world.a.account_id, world.a.reseller_id)


@pytest.mark.parametrize("role", ["billing", "support", "manager"])
def test_only_admins_create_circles_and_reset_passwords(world, browser, app, role):
    client = login(browser, world.a, role)
    path = f"/staff/accounts/{world.a.account_id}/circles/new"
    assert client.get(path).status_code == 403
    assert client.post(path, new_form()).status_code == 403
    assert circle_by_login(app, world, "alpha-hq") is None
    reset = f"/staff/circles/{world.a.circle_id}/password-reset"
    assert client.post(reset, {"policy": "force"}).status_code == 403
    assert "Reset the password" not in text(client.get(f"/staff/circles/{world.a.circle_id}"))


def test_another_tenants_account_is_not_found(world, admin):
    path = f"/staff/accounts/{world.b.account_id}/circles/new"
    assert admin.get(path).status_code == 404
    assert admin.post(path, new_form()).status_code == 404


def test_reset_ends_the_circles_sessions_and_shows_the_new_password_once(
    world, admin, app, browser
):
    circle_client = login(browser, world.a)
    assert circle_client.get("/portal/").status_code == 200
    path = f"/staff/circles/{world.a.circle_id}/password-reset"
    page = admin.get(path)
    assert page.status_code == 200 and 'value="force" checked' in text(page)
    response = admin.post(path, {"policy": "force"})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    body = text(response)
    assert "The password of alpha circle has been reset." in body
    assert "1 open session(s) of the circle ended." in body
    password = SECRET.search(body).group(1)  # type: ignore[union-attr]
    # The open session is gone; the old password no longer works, the new one does.
    assert circle_client.get("/portal/").status_code == 302
    fresh = pin_locale(browser(world.a.host))
    assert fresh.login_circle(world.a.circle_login, PASSWORD).status_code != 302
    assert fresh.login_circle(world.a.circle_login, password).status_code == 302
    circle = circle_by_login(app, world, world.a.circle_login)
    assert circle is not None and circle.password_policy == PasswordPolicy.FORCE
    assert password not in text(admin.get(f"/staff/circles/{world.a.circle_id}"))


def test_reset_with_a_bad_policy_changes_nothing(world, admin, app):
    before = circle_by_login(app, world, world.a.circle_login)
    response = admin.post(
        f"/staff/circles/{world.a.circle_id}/password-reset", {"policy": "sometimes"}
    )
    assert response.status_code == 422
    assert "Choose one of the offered policies." in text(response)
    after = circle_by_login(app, world, world.a.circle_login)
    assert before is not None and after is not None
    assert after.password_hash == before.password_hash


def test_reset_of_another_tenants_circle_is_not_found(world, admin):
    path = f"/staff/circles/{world.b.circle_id}/password-reset"
    assert admin.get(path).status_code == 404
    assert admin.post(path, {"policy": "force"}).status_code == 404


def _pool(app: Any, tenant: Any, *numbers: str) -> list[int]:
    """Free numbers in the tenant reseller's inventory."""
    from tenants.models import NumberKind, Reseller
    from tenants.services import provisioning as p

    with app.app_context(), use_scope(tenant.scope):
        reseller = db.session.get(Reseller, tenant.reseller_id)
        ids = [p.add_inventory_number(reseller, n, NumberKind.LANDLINE).id for n in numbers]
        db.session.commit()
    return ids


def test_a_new_circle_takes_its_numbers_from_the_pool(world, admin, app):
    from tenants.models import PhoneNumber

    first, second = _pool(app, world.a, "03-5555-0101", "03-5555-0102")
    path = f"/staff/accounts/{world.a.account_id}/circles/new"
    form_page = text(admin.get(path))
    assert "03-5555-0101" in form_page and "03-5555-0102" in form_page
    response = admin.post(path, {**new_form(), "phone_number_id": [str(first), str(second)]})
    assert response.status_code == 200
    circle = circle_by_login(app, world, "alpha-hq")
    assert circle is not None
    with app.app_context(), use_scope(world.a.scope):
        held = db.session.scalars(
            select(PhoneNumber.e164).where(PhoneNumber.circle_id == circle.id)
        ).all()
    assert sorted(held) == ["+81355550101", "+81355550102"]
    # Taken now: the next circle's form no longer offers them.
    assert "03-5555-0101" not in text(admin.get(path))


@pytest.mark.parametrize("forged", ["other reseller", "not a number"])
def test_a_number_outside_the_pool_creates_no_circle(world, admin, app, forged):
    (foreign,) = _pool(app, world.b, "06-5555-0199")
    raw = str(foreign) if forged == "other reseller" else "１２"
    pin_locale(admin, "en")
    path = f"/staff/accounts/{world.a.account_id}/circles/new"
    response = admin.post(path, {**new_form(), "phone_number_id": raw})
    assert response.status_code == 422
    assert "That number is not in your pool." in text(response)
    assert circle_by_login(app, world, "alpha-hq") is None
