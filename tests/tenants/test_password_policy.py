"""R17: forced password change (none / warn / force), set by the account's manager and by
the reseller's staff."""

from __future__ import annotations

import html
from typing import Any

import pytest
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.passwords import verify_password
from pbx_platform.tenancy import use_scope
from tenants.models import Circle, PasswordPolicy
from tests.conftest import PortalClient
from tests.factories import PASSWORD, open_session_ids, set_policy
from tests.form_versions import with_version

NEW_PASSWORD = "Fresh#Start2027"
CHANGE_PAGE = "/portal/password"


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def english(client: PortalClient) -> PortalClient:
    assert client.post("/locale", {"locale": "en", "next": "/"}).status_code == 302
    return client


def with_policy(app, tenant, policy: PasswordPolicy) -> None:
    with app.app_context():
        set_policy(tenant, policy)


def circle_state(app, tenant, circle_id: int | None = None) -> dict[str, Any]:
    with app.app_context(), use_scope(tenant.scope):
        circle = db.session.get(Circle, circle_id or tenant.circle_id)
        assert circle is not None
        return {
            "policy": circle.password_policy,
            "open_sessions": open_session_ids("circle", circle.id),
            "password_hash": circle.password_hash,
            "login_id": circle.login_id,
        }


def log_in(browser: Any, tenant: Any) -> tuple[PortalClient, Any]:
    client = english(browser(tenant.host))
    return client, client.login_circle(tenant.circle_login, PASSWORD)


def staff(browser: Any, tenant: Any, role: str) -> PortalClient:
    client = english(browser(tenant.host))
    assert client.login_staff(tenant.staff[role], PASSWORD).status_code == 302
    return client


def set_by_staff(client: PortalClient, circle_id: int, policy: str) -> Any:
    detail = f"/staff/circles/{circle_id}"
    return client.post(
        f"{detail}/password-policy",
        with_version(client, detail, {"policy": policy}),
        token_from="/staff/",
    )


def change(client: PortalClient, new: str = NEW_PASSWORD) -> Any:
    return client.post(
        CHANGE_PAGE,
        {"current_password": PASSWORD, "new_password": new, "new_password_repeat": new},
    )


def has_later(body: str) -> bool:
    return 'id="later"' in body and "/portal/password/later" in body


# --- none --------------------------------------------------------------------------------


def test_none_lands_on_the_portal(world, browser, app):
    assert circle_state(app, world.a)["policy"] == PasswordPolicy.NONE
    client, response = log_in(browser, world.a)
    assert response.headers["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200
    page = client.get(CHANGE_PAGE)
    assert not has_later(text(page))


# --- warn --------------------------------------------------------------------------------


def test_warn_lands_on_the_change_page_with_a_later_link(world, browser, app):
    with_policy(app, world.a, PasswordPolicy.WARN)
    client, response = log_in(browser, world.a)
    assert response.status_code == 302
    assert response.headers["Location"] == CHANGE_PAGE
    page = client.get(CHANGE_PAGE)
    assert page.status_code == 200
    body = text(page)
    assert has_later(body)
    assert "Later" in body
    assert "recommends that you change your password" in body


def test_warn_ignores_next_and_still_lands_on_the_change_page(world, browser, app):
    with_policy(app, world.a, PasswordPolicy.WARN)
    client = browser(world.a.host)
    response = client.post(
        "/login",
        {"login_id": world.a.circle_login, "password": PASSWORD, "next": "/portal/login-id"},
    )
    assert response.headers["Location"] == CHANGE_PAGE


def test_warn_later_leads_to_the_portal_and_changes_nothing(world, browser, app):
    with_policy(app, world.a, PasswordPolicy.WARN)
    client, _ = log_in(browser, world.a)
    before = circle_state(app, world.a)
    later = client.post("/portal/password/later", token_from=CHANGE_PAGE)
    assert later.status_code == 302
    assert later.headers["Location"] == "/portal/"
    home = client.get("/portal/")
    assert home.status_code == 200
    assert "Please change your password soon." in text(home)
    assert circle_state(app, world.a) == before
    assert verify_password(circle_state(app, world.a)["password_hash"], PASSWORD)


def test_warn_lets_the_user_use_the_portal(world, browser, app):
    with_policy(app, world.a, PasswordPolicy.WARN)
    client, _ = log_in(browser, world.a)
    assert client.get("/portal/").status_code == 200
    assert client.get("/portal/login-id").status_code == 200
    assert client.get(f"/portal/uniques/{world.a.unique_id}").status_code == 200


def test_warn_asks_again_at_the_next_login(world, browser, app):
    with_policy(app, world.a, PasswordPolicy.WARN)
    client, _ = log_in(browser, world.a)
    client.post("/portal/password/later", token_from=CHANGE_PAGE)
    _, again = log_in(browser, world.a)
    assert again.headers["Location"] == CHANGE_PAGE


def test_warn_ends_once_the_password_is_changed(world, browser, app):
    with_policy(app, world.a, PasswordPolicy.WARN)
    client, _ = log_in(browser, world.a)
    assert change(client).headers["Location"] == "/portal/"
    assert circle_state(app, world.a)["policy"] == PasswordPolicy.NONE
    fresh = browser(world.a.host)
    assert fresh.login_circle(world.a.circle_login, NEW_PASSWORD).headers["Location"] == "/portal/"


# --- force -------------------------------------------------------------------------------


def test_force_lands_on_the_change_page_without_a_later_link(world, browser, app):
    with_policy(app, world.a, PasswordPolicy.FORCE)
    client, response = log_in(browser, world.a)
    assert response.headers["Location"] == CHANGE_PAGE
    page = client.get(CHANGE_PAGE)
    assert page.status_code == 200
    body = text(page)
    assert not has_later(body)
    assert "Later" not in body
    assert "requires a new password" in body


def blocked_urls(world: Any) -> list[str]:
    a = world.a
    return [
        "/",
        "/portal/",
        "/portal/login-id",
        f"/portal/uniques/{a.unique_id}",
        "/portal/uniques/999999",
        "/portal/no-such-page",
        "/staff/",
        f"/staff/circles/{a.circle_id}",
        "/staff/audit",
        "/staff/login",
        "/login",
        "/console/",
    ]


def test_force_sends_every_direct_url_to_the_change_page(world, browser, app):
    with_policy(app, world.a, PasswordPolicy.FORCE)
    client, _ = log_in(browser, world.a)
    for url in blocked_urls(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == CHANGE_PAGE, url


def test_force_refuses_every_post_but_the_change_itself(world, browser, app):
    with_policy(app, world.a, PasswordPolicy.FORCE)
    client, _ = log_in(browser, world.a)
    before = circle_state(app, world.a)
    attempts = [
        ("/portal/password/later", {}),
        ("/portal/login-id", {"login_id": "escaped-id"}),
        (f"/staff/circles/{world.a.circle_id}/password-policy", {"policy": "none"}),
    ]
    for path, data in attempts:
        response = client.post(path, data, token_from=CHANGE_PAGE)
        assert response.status_code == 302, path
        assert response.headers["Location"] == CHANGE_PAGE, path
    assert circle_state(app, world.a) == before
    # And the 'later' post did not open the portal either.
    assert client.get("/portal/").headers["Location"] == CHANGE_PAGE


def test_force_still_allows_logout_and_the_language_switch(world, browser, app):
    with_policy(app, world.a, PasswordPolicy.FORCE)
    client, _ = log_in(browser, world.a)
    switched = client.post("/locale", {"locale": "ja", "next": CHANGE_PAGE}, token_from=CHANGE_PAGE)
    assert switched.status_code == 302
    assert switched.headers["Location"] == CHANGE_PAGE
    stylesheet = client.get("/static/themes/base.css")
    stylesheet.close()
    assert stylesheet.status_code == 200
    out = client.post("/logout", token_from=CHANGE_PAGE)
    assert out.status_code == 302
    assert out.headers["Location"].startswith("/login")
    assert client.get("/portal/").headers["Location"].startswith("/login")


def test_force_errors_on_the_change_page_keep_the_user_there(world, browser, app):
    with_policy(app, world.a, PasswordPolicy.FORCE)
    client, _ = log_in(browser, world.a)
    refused = change(client, "weak")
    assert refused.status_code == 200
    assert "Use at least 8 characters." in text(refused)
    assert circle_state(app, world.a)["policy"] == PasswordPolicy.FORCE
    assert client.get("/portal/").headers["Location"] == CHANGE_PAGE


def test_force_ends_once_the_password_is_changed(world, browser, app):
    with_policy(app, world.a, PasswordPolicy.FORCE)
    client, _ = log_in(browser, world.a)
    done = change(client)
    assert done.status_code == 302
    assert done.headers["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200
    assert client.get("/portal/login-id").status_code == 200
    state = circle_state(app, world.a)
    assert state["policy"] == PasswordPolicy.NONE
    assert verify_password(state["password_hash"], NEW_PASSWORD)
    _, again = log_in(browser, world.a)
    assert again.status_code == 200  # the old password no longer works
    fresh = browser(world.a.host)
    assert fresh.login_circle(world.a.circle_login, NEW_PASSWORD).headers["Location"] == "/portal/"


def test_force_catches_a_session_opened_before_the_policy_was_set(world, browser, app):
    """The policy written without ending the sessions (as a direct database change
    would): the check on every request still sends the open session to the change page."""
    client, _ = log_in(browser, world.a)
    assert client.get("/portal/").status_code == 200
    sessions = circle_state(app, world.a)["open_sessions"]
    with_policy(app, world.a, PasswordPolicy.FORCE)
    assert circle_state(app, world.a)["open_sessions"] == sessions != ()
    for url in ("/portal/", "/portal/login-id", f"/portal/uniques/{world.a.unique_id}"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == CHANGE_PAGE, url
    assert client.get(CHANGE_PAGE).status_code == 200


def test_force_set_by_staff_ends_open_sessions_and_applies_at_the_next_login(world, browser, app):
    client, _ = log_in(browser, world.a)
    assert len(circle_state(app, world.a)["open_sessions"]) == 1
    assert (
        set_by_staff(staff(browser, world.a, "admin"), world.a.circle_id, "force").status_code
        == 302
    )
    state = circle_state(app, world.a)
    assert state["policy"] == PasswordPolicy.FORCE
    assert state["open_sessions"] == ()
    assert client.get("/portal/").headers["Location"].startswith("/login")
    _, again = log_in(browser, world.a)
    assert again.headers["Location"] == CHANGE_PAGE


def test_force_applies_to_the_circle_only_not_to_its_neighbours(world, browser, app):
    with_policy(app, world.a, PasswordPolicy.FORCE)
    neighbour = english(browser(world.a.host))
    response = neighbour.login_circle(world.a.other_circle_login, PASSWORD)
    assert response.headers["Location"] == "/portal/"
    assert neighbour.get("/portal/").status_code == 200


# --- who may set the policy --------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_reseller_admins_and_the_account_manager_set_the_policy(world, browser, app, role):
    client = staff(browser, world.a, role)
    for value in ("warn", "force", "none"):
        response = set_by_staff(client, world.a.circle_id, value)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/staff/circles/{world.a.circle_id}"
        assert circle_state(app, world.a)["policy"] == PasswordPolicy(value)
    detail = client.get(f"/staff/circles/{world.a.circle_id}")
    assert "The password policy has been saved." in text(detail)


def test_the_policy_change_is_audited(world, browser, app):
    set_by_staff(staff(browser, world.a, "manager"), world.a.circle_id, "force")
    with app.app_context(), use_scope(world.a.scope):
        rows = list(
            db.session.scalars(select(AuditLog).where(AuditLog.action == "circle.password_policy"))
        )
    assert len(rows) == 1
    assert rows[0].circle_id == world.a.circle_id
    assert rows[0].actor_label == world.a.staff["manager"]
    assert "password_policy" in rows[0].after


@pytest.mark.parametrize("role", ["support", "billing"])
def test_support_and_billing_staff_may_not_set_the_policy(world, browser, app, role):
    """R22: support changes nothing; billing changes no PBX setting."""
    client = staff(browser, world.a, role)
    before = circle_state(app, world.a)
    response = set_by_staff(client, world.a.circle_id, "force")
    assert response.status_code == 403
    assert "You do not have permission to do this." in text(response)
    assert circle_state(app, world.a) == before
    # They see the policy but get no form.
    detail = text(client.get(f"/staff/circles/{world.a.circle_id}"))
    assert "/password-policy" not in detail


def test_a_manager_cannot_set_the_policy_of_another_accounts_circle(world, browser, app):
    client = staff(browser, world.a, "manager")
    before = circle_state(app, world.a, world.a.other_circle_id)
    response = set_by_staff(client, world.a.other_circle_id, "force")
    assert response.status_code == 404
    assert circle_state(app, world.a, world.a.other_circle_id) == before


def test_reseller_staff_cannot_set_the_policy_of_another_resellers_circle(world, browser, app):
    client = staff(browser, world.a, "admin")
    before = circle_state(app, world.b)
    response = set_by_staff(client, world.b.circle_id, "force")
    assert response.status_code == 404
    assert circle_state(app, world.b) == before


def test_a_circle_cannot_set_its_own_policy(world, browser, app):
    client, _ = log_in(browser, world.a)
    before = circle_state(app, world.a)
    response = set_by_staff(client, world.a.circle_id, "none")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
    assert circle_state(app, world.a) == before


@pytest.mark.parametrize(
    "value", ["sometimes", "", "FORCE", "none; drop table circle", "x" * 10_000]
)
def test_an_invalid_policy_gets_a_clear_message_and_changes_nothing(world, browser, app, value):
    client = staff(browser, world.a, "admin")
    before = circle_state(app, world.a)
    response = set_by_staff(client, world.a.circle_id, value)
    assert response.status_code == 400
    assert "Choose one of the offered policies." in text(response)
    assert circle_state(app, world.a) == before


def test_a_missing_policy_gets_a_clear_message_and_changes_nothing(world, browser, app):
    client = staff(browser, world.a, "admin")
    before = circle_state(app, world.a)
    response = client.post(
        f"/staff/circles/{world.a.circle_id}/password-policy", {}, token_from="/staff/"
    )
    assert response.status_code == 400
    assert "Choose one of the offered policies." in text(response)
    assert circle_state(app, world.a) == before
