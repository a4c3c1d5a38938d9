"""Sessions: a copied cookie dies with logout, a password change and a policy change;
idle and absolute time-outs; logout by POST with a CSRF token only."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import use_scope
from tenants.models import Circle, Staff
from tests.conftest import PortalClient
from tests.factories import PASSWORD
from tests.form_versions import with_version

EXPIRED = "Your session has expired. Please log in again."
NEW_PASSWORD = "Fresh#Start2027"


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def english(client: PortalClient) -> PortalClient:
    assert client.post("/locale", {"locale": "en", "next": "/"}).status_code == 302
    return client


def cookie_of(client: PortalClient, host: str) -> str:
    cookie = client.client.get_cookie("session", domain=host)
    assert cookie is not None
    return cookie.value


def replay(browser: Any, host: str, value: str) -> PortalClient:
    """A fresh browser that holds nothing but a copy of a session cookie."""
    thief = browser(host)
    thief.client.set_cookie("session", value, domain=host)
    return thief


def circle_login(browser: Any, tenant: Any) -> PortalClient:
    client = english(browser(tenant.host))
    assert client.login_circle(tenant.circle_login, PASSWORD).status_code == 302
    return client


def staff_login(browser: Any, tenant: Any, role: str = "admin") -> PortalClient:
    client = english(browser(tenant.host))
    assert client.login_staff(tenant.staff[role], PASSWORD).status_code == 302
    return client


def is_logged_out(response: Any, login_path: str = "/login") -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith(login_path)


def session_version(app, tenant) -> int:
    with app.app_context(), use_scope(tenant.scope):
        circle = db.session.get(Circle, tenant.circle_id)
        assert circle is not None
        return circle.session_version


# --- copied cookies ----------------------------------------------------------------------


def test_a_copied_cookie_works_while_the_session_lives(world, browser):
    client = circle_login(browser, world.a)
    copy = replay(browser, world.a.host, cookie_of(client, world.a.host))
    assert copy.get("/portal/").status_code == 200


def test_a_copied_cookie_is_dead_after_logout(world, browser, app):
    client = circle_login(browser, world.a)
    old = cookie_of(client, world.a.host)
    before = session_version(app, world.a)
    response = client.post("/logout", token_from="/portal/")
    assert is_logged_out(response)
    assert session_version(app, world.a) == before + 1
    assert "You have logged out." in text(client.get(response.headers["Location"]))
    assert is_logged_out(client.get("/portal/"))
    thief = replay(browser, world.a.host, old)
    assert is_logged_out(thief.get("/portal/"))
    assert is_logged_out(thief.get("/portal/password"))


def test_logout_ends_every_earlier_session_of_the_login(world, browser):
    laptop = circle_login(browser, world.a)
    phone = circle_login(browser, world.a)
    assert phone.get("/portal/").status_code == 200
    laptop.post("/logout", token_from="/portal/")
    assert is_logged_out(phone.get("/portal/"))


def test_a_copied_staff_cookie_is_dead_after_logout(world, browser):
    client = staff_login(browser, world.a)
    old = cookie_of(client, world.a.host)
    assert replay(browser, world.a.host, old).get("/staff/").status_code == 200
    response = client.post("/staff/logout", token_from="/staff/")
    assert is_logged_out(response, "/staff/login")
    assert is_logged_out(replay(browser, world.a.host, old).get("/staff/"), "/staff/login")


def test_a_copied_console_cookie_is_dead_after_logout(world, browser):
    client = english(browser("localhost"))
    assert client.login_console(world.operator_email, PASSWORD).status_code == 302
    old = cookie_of(client, "localhost")
    assert replay(browser, "localhost", old).get("/console/").status_code == 200
    client.post("/console/logout", token_from="/console/")
    thief = replay(browser, "localhost", old)
    assert is_logged_out(thief.get("/console/"), "/console/login")


def test_a_copied_cookie_is_dead_after_a_password_change_elsewhere(world, browser):
    laptop = circle_login(browser, world.a)
    old = cookie_of(laptop, world.a.host)
    phone = circle_login(browser, world.a)
    changed = phone.post(
        "/portal/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_repeat": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    # The session that made the change goes on; every other one has ended.
    assert phone.get("/portal/").status_code == 200
    assert is_logged_out(laptop.get("/portal/"))
    assert is_logged_out(replay(browser, world.a.host, old).get("/portal/"))


def test_a_refused_password_change_ends_no_session(world, browser, app):
    laptop = circle_login(browser, world.a)
    phone = circle_login(browser, world.a)
    before = session_version(app, world.a)
    refused = phone.post(
        "/portal/password",
        {"current_password": PASSWORD, "new_password": "short", "new_password_repeat": "short"},
    )
    assert refused.status_code == 200
    assert session_version(app, world.a) == before
    assert laptop.get("/portal/").status_code == 200


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_a_copied_cookie_is_dead_after_staff_change_the_policy(world, browser, app, role):
    customer = circle_login(browser, world.a)
    old = cookie_of(customer, world.a.host)
    staff = staff_login(browser, world.a, role)
    path = f"/staff/circles/{world.a.circle_id}/password-policy"
    detail = f"/staff/circles/{world.a.circle_id}"
    saved = staff.post(path, with_version(staff, detail, {"policy": "warn"}), token_from=detail)
    assert saved.status_code == 302
    assert is_logged_out(customer.get("/portal/"))
    assert is_logged_out(replay(browser, world.a.host, old).get("/portal/"))


def test_saving_the_same_policy_again_ends_no_session(world, browser, app):
    customer = circle_login(browser, world.a)
    staff = staff_login(browser, world.a)
    path = f"/staff/circles/{world.a.circle_id}/password-policy"
    detail = f"/staff/circles/{world.a.circle_id}"
    saved = staff.post(path, with_version(staff, detail, {"policy": "none"}), token_from=detail)
    assert saved.status_code == 302
    assert customer.get("/portal/").status_code == 200


def test_a_cookie_of_one_reseller_host_means_nothing_on_another(world, browser):
    client = circle_login(browser, world.a)
    old = cookie_of(client, world.a.host)
    other = replay(browser, world.b.host, old)
    response = other.get("/portal/")
    assert response.status_code in (302, 404)
    assert "alpha circle" not in text(response)


def test_a_staff_cookie_on_the_console_is_no_login(world, browser):
    client = staff_login(browser, world.a)
    thief = replay(browser, "localhost", cookie_of(client, world.a.host))
    assert is_logged_out(thief.get("/console/"), "/console/login")


# --- time-outs ---------------------------------------------------------------------------

START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def test_idle_sessions_end_after_30_minutes(world, browser, app):
    assert app.config["SESSION_IDLE_MINUTES"] == 30
    with time_machine.travel(START, tick=False) as clock:
        client = circle_login(browser, world.a)
        clock.shift(timedelta(minutes=29))
        assert client.get("/portal/").status_code == 200
        # Activity resets the idle clock.
        clock.shift(timedelta(minutes=29))
        assert client.get("/portal/").status_code == 200
        clock.shift(timedelta(minutes=31))
        expired = client.get("/portal/")
        assert expired.status_code == 302
        landing = client.get(expired.headers["Location"], follow_redirects=True)
        assert landing.request.path == "/login"
        assert EXPIRED in text(landing)
        assert is_logged_out(client.get("/portal/"))


def test_the_idle_time_out_is_configurable(world, browser, app, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    with time_machine.travel(START, tick=False) as clock:
        client = circle_login(browser, world.a)
        clock.shift(timedelta(minutes=4))
        assert client.get("/portal/").status_code == 200
        clock.shift(timedelta(minutes=6))
        expired = client.get("/portal/", follow_redirects=True)
        assert expired.request.path == "/login"
        assert EXPIRED in text(expired)


def test_staff_sessions_end_after_12_hours_however_active(world, browser, app):
    assert app.config["SESSION_ABSOLUTE_HOURS"] == 12
    with time_machine.travel(START, tick=False) as clock:
        client = staff_login(browser, world.a)
        for _ in range(28):  # 11 h 40 min of steady work
            clock.shift(timedelta(minutes=25))
            assert client.get("/staff/").status_code == 200
        clock.shift(timedelta(minutes=25))  # 12 h 05 min after login
        expired = client.get("/staff/", follow_redirects=True)
        assert expired.request.path == "/staff/login"
        assert EXPIRED in text(expired)


def test_the_absolute_time_out_is_configurable(world, browser, app, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_ABSOLUTE_HOURS", 1)
    with time_machine.travel(START, tick=False) as clock:
        client = staff_login(browser, world.a)
        clock.shift(timedelta(minutes=25))
        assert client.get("/staff/").status_code == 200
        clock.shift(timedelta(minutes=25))
        assert client.get("/staff/").status_code == 200
        clock.shift(timedelta(minutes=25))
        expired = client.get("/staff/", follow_redirects=True)
        assert expired.request.path == "/staff/login"
        assert EXPIRED in text(expired)


def test_an_idle_copy_of_a_cookie_is_expired_too(world, browser):
    with time_machine.travel(START, tick=False) as clock:
        client = circle_login(browser, world.a)
        old = cookie_of(client, world.a.host)
        clock.shift(timedelta(minutes=31))
        landing = replay(browser, world.a.host, old).get("/portal/", follow_redirects=True)
        assert landing.request.path == "/login"
        assert EXPIRED in text(landing)


def test_a_post_on_an_expired_session_changes_nothing(world, browser, app):
    with time_machine.travel(START, tick=False) as clock:
        client = circle_login(browser, world.a)
        token_page = client.get("/portal/password")
        assert token_page.status_code == 200
        clock.shift(timedelta(minutes=31))
        response = client.post(
            "/portal/password",
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_repeat": NEW_PASSWORD,
            },
            token_from="/login",
        )
        assert response.status_code == 302
    fresh = browser(world.a.host)
    assert fresh.login_circle(world.a.circle_login, PASSWORD).status_code == 302


# --- logout itself -----------------------------------------------------------------------


@pytest.mark.parametrize(("path", "login"), [("/logout", "circle"), ("/staff/logout", "staff")])
def test_logout_is_not_a_get(world, browser, app, path, login):
    client = circle_login(browser, world.a) if login == "circle" else staff_login(browser, world.a)
    assert client.get(path).status_code == 405
    home = "/portal/" if login == "circle" else "/staff/"
    assert client.get(home).status_code == 200


def test_logout_without_a_csrf_token_is_refused_and_changes_nothing(world, browser, app):
    client = circle_login(browser, world.a)
    old = cookie_of(client, world.a.host)
    before = session_version(app, world.a)
    refused = client.post("/logout", csrf=False)
    assert refused.status_code == 400
    assert "The form has expired or was not sent from this site." in text(refused)
    assert session_version(app, world.a) == before
    assert client.get("/portal/").status_code == 200
    assert replay(browser, world.a.host, old).get("/portal/").status_code == 200


def test_logout_with_a_forged_csrf_token_is_refused(world, browser, app):
    client = circle_login(browser, world.a)
    before = session_version(app, world.a)
    refused = client.post("/logout", {"csrf_token": "forged"})
    assert refused.status_code == 400
    assert session_version(app, world.a) == before


def test_logout_with_a_token_of_another_browser_is_refused(world, browser, app):
    attacker = browser(world.a.host)
    token = attacker.token("/login")
    client = circle_login(browser, world.a)
    before = session_version(app, world.a)
    assert client.post("/logout", {"csrf_token": token}).status_code == 400
    assert session_version(app, world.a) == before


def test_staff_logout_bumps_the_staff_session_version(world, browser, app):
    client = staff_login(browser, world.a)
    email = world.a.staff["admin"]

    def version() -> int:
        with app.app_context(), use_scope(world.a.scope):
            return (
                db.session.scalars(select(Staff).where(Staff.email_key == email))
                .one()
                .session_version
            )

    before = version()
    client.post("/staff/logout", token_from="/staff/")
    assert version() == before + 1
