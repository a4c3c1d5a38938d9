"""Sessions: one server-side record per browser. Logout ends its own browser's session
only; a password change (R15) ends the others, a forced-policy change (R17) all of
them; a copied cookie of an ended session gets nothing. Idle and absolute time-outs;
logout by POST with a CSRF token only. The "Active sessions" page of each login."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask.sessions import SecureCookieSessionInterface
from flask_babel import force_locale
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.models import LoginSession
from pbx_platform.tenancy import platform_bypass, use_scope
from tenants.labels import browser_summary
from tenants.models import Staff
from tests.conftest import PortalClient
from tests.factories import PASSWORD, open_session_ids
from tests.form_versions import with_version
from tests.isolation_routes import build_targets

TOKYO = ZoneInfo("Asia/Tokyo")
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


def open_sessions(app, tenant, kind: str = "circle", principal_id: int | None = None):
    """Ids of the login's session records that are not revoked."""
    with app.app_context(), use_scope(tenant.scope):
        return open_session_ids(kind, principal_id or tenant.circle_id)


def staff_id(app, tenant, role: str = "admin") -> int:
    with app.app_context(), use_scope(tenant.scope):
        email = tenant.staff[role]
        return db.session.scalars(select(Staff.id).where(Staff.email_key == email)).one()


# --- copied cookies ----------------------------------------------------------------------


def test_a_copied_cookie_works_while_the_session_lives(world, browser):
    client = circle_login(browser, world.a)
    copy = replay(browser, world.a.host, cookie_of(client, world.a.host))
    assert copy.get("/portal/").status_code == 200


def test_a_copied_cookie_is_dead_after_logout(world, browser, app):
    client = circle_login(browser, world.a)
    old = cookie_of(client, world.a.host)
    assert len(open_sessions(app, world.a)) == 1
    response = client.post("/logout", token_from="/portal/")
    assert is_logged_out(response)
    assert open_sessions(app, world.a) == ()
    assert "You have logged out." in text(client.get(response.headers["Location"]))
    assert is_logged_out(client.get("/portal/"))
    thief = replay(browser, world.a.host, old)
    assert is_logged_out(thief.get("/portal/"))
    assert is_logged_out(thief.get("/portal/password"))


def test_logout_in_one_browser_leaves_the_other_browsers_of_the_login_logged_in(
    world, browser, app
):
    """A circle login shared in a company: one person logging out logs out nobody else."""
    laptop = circle_login(browser, world.a)
    phone = circle_login(browser, world.a)
    phone_cookie = cookie_of(phone, world.a.host)
    laptop_cookie = cookie_of(laptop, world.a.host)
    assert len(open_sessions(app, world.a)) == 2
    assert is_logged_out(laptop.post("/logout", token_from="/portal/"))
    assert is_logged_out(laptop.get("/portal/"))
    assert phone.get("/portal/").status_code == 200
    assert replay(browser, world.a.host, phone_cookie).get("/portal/").status_code == 200
    assert is_logged_out(replay(browser, world.a.host, laptop_cookie).get("/portal/"))
    assert len(open_sessions(app, world.a)) == 1


def test_staff_logout_leaves_the_same_staff_logins_other_browser_logged_in(world, browser):
    desk = staff_login(browser, world.a)
    home = staff_login(browser, world.a)
    desk.post("/staff/logout", token_from="/staff/")
    assert is_logged_out(desk.get("/staff/"), "/staff/login")
    assert home.get("/staff/").status_code == 200


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


def test_a_copied_cookie_is_dead_after_a_password_change_elsewhere(world, browser, app):
    laptop = circle_login(browser, world.a)
    old = cookie_of(laptop, world.a.host)
    phone = circle_login(browser, world.a)
    phone_cookie = cookie_of(phone, world.a.host)
    changed = phone.post(
        "/portal/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_repeat": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    # The session that made the change goes on (its own cookie too); every other one
    # has ended.
    assert "Your password has been changed." in text(phone.get(changed.headers["Location"]))
    assert phone.get("/portal/").status_code == 200
    assert replay(browser, world.a.host, phone_cookie).get("/portal/").status_code == 200
    assert is_logged_out(laptop.get("/portal/"))
    assert is_logged_out(replay(browser, world.a.host, old).get("/portal/"))
    assert len(open_sessions(app, world.a)) == 1


def test_a_refused_password_change_ends_no_session(world, browser, app):
    laptop = circle_login(browser, world.a)
    phone = circle_login(browser, world.a)
    before = open_sessions(app, world.a)
    refused = phone.post(
        "/portal/password",
        {"current_password": PASSWORD, "new_password": "short", "new_password_repeat": "short"},
    )
    assert refused.status_code == 200
    assert open_sessions(app, world.a) == before
    assert laptop.get("/portal/").status_code == 200


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_a_copied_cookie_is_dead_after_staff_change_the_policy(world, browser, app, role):
    customer = circle_login(browser, world.a)
    old = cookie_of(customer, world.a.host)
    colleague = circle_login(browser, world.a)
    staff = staff_login(browser, world.a, role)
    path = f"/staff/circles/{world.a.circle_id}/password-policy"
    detail = f"/staff/circles/{world.a.circle_id}"
    saved = staff.post(path, with_version(staff, detail, {"policy": "warn"}), token_from=detail)
    assert saved.status_code == 302
    # Every session of the circle ends; the staff login's own goes on.
    assert is_logged_out(customer.get("/portal/"))
    assert is_logged_out(colleague.get("/portal/"))
    assert is_logged_out(replay(browser, world.a.host, old).get("/portal/"))
    assert open_sessions(app, world.a) == ()
    assert staff.get("/staff/").status_code == 200


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
    before = open_sessions(app, world.a)
    refused = client.post("/logout", csrf=False)
    assert refused.status_code == 400
    assert "The form has expired or was not sent from this site." in text(refused)
    assert open_sessions(app, world.a) == before
    assert client.get("/portal/").status_code == 200
    assert replay(browser, world.a.host, old).get("/portal/").status_code == 200


def test_logout_with_a_forged_csrf_token_is_refused(world, browser, app):
    client = circle_login(browser, world.a)
    before = open_sessions(app, world.a)
    refused = client.post("/logout", {"csrf_token": "forged"})
    assert refused.status_code == 400
    assert open_sessions(app, world.a) == before != ()


def test_logout_with_a_token_of_another_browser_is_refused(world, browser, app):
    attacker = browser(world.a.host)
    token = attacker.token("/login")
    client = circle_login(browser, world.a)
    before = open_sessions(app, world.a)
    assert client.post("/logout", {"csrf_token": token}).status_code == 400
    assert open_sessions(app, world.a) == before != ()


def test_staff_logout_revokes_the_staff_session_record(world, browser, app):
    client = staff_login(browser, world.a)
    admin = staff_id(app, world.a)
    assert len(open_sessions(app, world.a, "staff", admin)) == 1
    client.post("/staff/logout", token_from="/staff/")
    assert open_sessions(app, world.a, "staff", admin) == ()


# --- the "Active sessions" page ------------------------------------------------------------

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def circle_login_with(browser: Any, tenant: Any, user_agent: str) -> PortalClient:
    client = english(browser(tenant.host))
    response = client.post(
        "/login",
        {"login_id": tenant.circle_login, "password": PASSWORD},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 302
    return client


def end(client: PortalClient, path: str, **kwargs: Any) -> Any:
    return client.post(path, token_from=path.rsplit("/sessions", 1)[0] + "/sessions", **kwargs)


def test_the_sessions_page_lists_every_browser_of_the_login_and_marks_this_one(world, browser, app):
    with time_machine.travel(START, tick=False) as clock:
        phone = circle_login_with(browser, world.a, SAFARI_IPHONE)
        clock.shift(timedelta(minutes=5))
        laptop = circle_login_with(browser, world.a, CHROME_WINDOWS)
        page = laptop.get("/portal/sessions")
        assert phone.get("/portal/").status_code == 200
    assert page.status_code == 200
    body = text(page)
    assert "<h1>Active sessions</h1>" in body
    assert "Chrome 131 · Windows" in body
    assert "Safari 17 · iOS" in body
    assert body.count("This session") == 1
    # The row marked as this session is the laptop's (the last logged in: first row).
    current = body.split('class="current-session"', 1)[1].split("</tr>", 1)[0]
    assert "Chrome 131 · Windows" in current
    assert "2026-04-01 18:05 JST" in current
    assert "2026-04-01 18:00 JST" in body  # the phone's login, in Japan time
    assert "Log out everywhere else" in body


def test_the_sessions_page_speaks_japanese_with_japanese_dates(world, browser):
    with time_machine.travel(START, tick=False):
        client = browser(world.a.host)
        assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
        body = text(client.get("/portal/sessions"))
    assert "<h1>ログイン中のセッション</h1>" in body
    assert "2026年4月1日 18:00" in body
    assert "このセッション" in body
    assert "最終アクセス" in body
    # One session only: nothing else to log out of.
    assert "他のすべてのセッションからログアウト" not in body
    assert 'href="/portal/sessions">ログイン中のセッション</a>' in body


def test_ending_another_session_from_the_list_logs_that_browser_out_only(world, browser, app):
    phone = circle_login(browser, world.a)
    stolen = cookie_of(phone, world.a.host)
    laptop = circle_login(browser, world.a)
    phone_session, laptop_session = open_sessions(app, world.a)
    response = end(laptop, f"/portal/sessions/{phone_session}/end")
    assert response.status_code == 302
    assert response.headers["Location"] == "/portal/sessions"
    assert "The session has been ended." in text(laptop.get("/portal/sessions"))
    assert open_sessions(app, world.a) == (laptop_session,)
    assert is_logged_out(phone.get("/portal/"))
    # A copy of the ended session's cookie is sent to the login page.
    landing = replay(browser, world.a.host, stolen).get("/portal/", follow_redirects=True)
    assert landing.request.path == "/login"
    assert laptop.get("/portal/").status_code == 200


def test_ending_this_session_from_the_list_is_logging_out(world, browser, app):
    client = circle_login(browser, world.a)
    other = circle_login(browser, world.a)
    (mine, _) = open_sessions(app, world.a)
    response = end(client, f"/portal/sessions/{mine}/end")
    assert is_logged_out(response)
    assert "You have logged out." in text(client.get(response.headers["Location"]))
    assert is_logged_out(client.get("/portal/"))
    assert other.get("/portal/").status_code == 200


def test_log_out_everywhere_else_ends_every_session_but_this_one(world, browser, app):
    others = [circle_login(browser, world.a) for _ in range(2)]
    client = circle_login(browser, world.a)
    mine = open_sessions(app, world.a)[-1]
    response = end(client, "/portal/sessions/end-others")
    assert response.headers["Location"] == "/portal/sessions"
    assert "All your other sessions have been ended." in text(client.get("/portal/sessions"))
    assert open_sessions(app, world.a) == (mine,)
    assert all(is_logged_out(other.get("/portal/")) for other in others)
    assert client.get("/portal/").status_code == 200
    again = end(client, "/portal/sessions/end-others")
    assert "You have no other sessions." in text(client.get(again.headers["Location"]))


def test_a_session_of_another_login_or_tenant_cannot_be_ended_from_the_list(world, browser, app):
    """Another circle's, a staff login's and another reseller's session ids are 404."""
    client = circle_login(browser, world.a)
    neighbour = english(browser(world.a.host))
    assert neighbour.login_circle(world.a.other_circle_login, PASSWORD).status_code == 302
    staff = staff_login(browser, world.a)
    foreign = english(browser(world.b.host))
    assert foreign.login_circle(world.b.circle_login, PASSWORD).status_code == 302
    theirs = [
        *open_sessions(app, world.a, "circle", world.a.other_circle_id),
        *open_sessions(app, world.a, "staff", staff_id(app, world.a)),
        *open_sessions(app, world.b),
    ]
    assert len(theirs) == 3
    for session_id in theirs:
        response = end(client, f"/portal/sessions/{session_id}/end")
        assert response.status_code == 404, session_id
        assert "The page you asked for does not exist." in text(response)
    assert neighbour.get("/portal/").status_code == 200
    assert staff.get("/staff/").status_code == 200
    assert foreign.get("/portal/").status_code == 200


def test_staff_end_their_own_sessions_only(world, browser, app):
    admin = staff_login(browser, world.a)
    admin_elsewhere = staff_login(browser, world.a)
    billing = staff_login(browser, world.a, "billing")
    (billing_session,) = open_sessions(app, world.a, "staff", staff_id(app, world.a, "billing"))
    refused = end(admin, f"/staff/sessions/{billing_session}/end")
    assert refused.status_code == 404
    assert billing.get("/staff/").status_code == 200
    page = text(admin.get("/staff/sessions"))
    assert "<h1>Active sessions</h1>" in page
    assert page.count("End session") == 1  # the other browser of the admin only
    _, elsewhere = open_sessions(app, world.a, "staff", staff_id(app, world.a))
    assert end(admin, f"/staff/sessions/{elsewhere}/end").status_code == 302
    assert is_logged_out(admin_elsewhere.get("/staff/"), "/staff/login")
    assert admin.get("/staff/").status_code == 200


def test_support_staff_may_end_their_own_other_sessions(world, browser):
    support = staff_login(browser, world.a, "support")
    elsewhere = staff_login(browser, world.a, "support")
    response = end(support, "/staff/sessions/end-others")
    assert response.headers["Location"] == "/staff/sessions"
    assert is_logged_out(elsewhere.get("/staff/"), "/staff/login")
    assert support.get("/staff/").status_code == 200


def test_the_operator_sees_and_ends_console_sessions(world, browser):
    def operator() -> PortalClient:
        client = english(browser("localhost"))
        assert client.login_console(world.operator_email, PASSWORD).status_code == 302
        return client

    desk, laptop = operator(), operator()
    page = text(desk.get("/console/sessions"))
    assert "<h1>Active sessions</h1>" in page
    assert 'href="/console/sessions">Active sessions</a>' in page
    response = end(desk, "/console/sessions/end-others")
    assert response.headers["Location"] == "/console/sessions"
    assert is_logged_out(laptop.get("/console/"), "/console/login")
    assert desk.get("/console/").status_code == 200


def test_ending_a_session_needs_a_csrf_token(world, browser, app):
    client = circle_login(browser, world.a)
    circle_login(browser, world.a)
    before = open_sessions(app, world.a)
    for path in (f"/portal/sessions/{before[0]}/end", "/portal/sessions/end-others"):
        refused = client.post(path, csrf=False)
        assert refused.status_code == 400
        assert "The form has expired or was not sent from this site." in text(refused)
    assert open_sessions(app, world.a) == before


def test_last_seen_is_written_at_most_once_a_minute(world, browser, app):
    def last_seen() -> datetime:
        with app.app_context(), use_scope(world.a.scope):
            (record,) = db.session.scalars(
                select(LoginSession).where(LoginSession.circle_id == world.a.circle_id)
            )
            return record.last_seen_at

    with time_machine.travel(START, tick=False) as clock:
        client = circle_login(browser, world.a)
        assert last_seen() == START
        clock.shift(timedelta(seconds=50))
        assert client.get("/portal/").status_code == 200
        assert last_seen() == START
        clock.shift(timedelta(seconds=20))
        assert client.get("/portal/").status_code == 200
        assert last_seen() == START + timedelta(seconds=70)


def test_an_expired_session_is_revoked_and_leaves_the_list(world, browser, app):
    with time_machine.travel(START, tick=False) as clock:
        idle = circle_login(browser, world.a)
        clock.shift(timedelta(minutes=20))
        active = circle_login(browser, world.a)
        clock.shift(timedelta(minutes=15))  # the first one is idle for 35 minutes
        page = text(active.get("/portal/sessions"))
        assert page.count("End session") == 0
        assert page.count("This session") == 1
        landing = idle.get("/portal/", follow_redirects=True)
        assert EXPIRED in text(landing)
        assert len(open_sessions(app, world.a)) == 1


def test_the_database_holds_no_usable_cookie_token(world, browser, app):
    client = circle_login(browser, world.a)
    with app.app_context(), use_scope(world.a.scope):
        (record,) = db.session.scalars(
            select(LoginSession).where(LoginSession.circle_id == world.a.circle_id)
        )
        stored = record.token_hash
    # A forged cookie that carries the stored hash as its token is no login.
    forged = browser(world.a.host)
    with app.test_request_context():
        serializer = SecureCookieSessionInterface().get_signing_serializer(app)
        assert serializer is not None
        value = serializer.dumps({"_user_id": f"circle:{world.a.circle_id}", "sid": stored})
    forged.client.set_cookie("session", value, domain=world.a.host)
    assert is_logged_out(forged.get("/portal/"))
    assert client.get("/portal/").status_code == 200


@pytest.mark.parametrize(
    ("user_agent", "summary"),
    [
        (CHROME_WINDOWS, "Chrome 131 · Windows"),
        (SAFARI_IPHONE, "Safari 17 · iOS"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, "
            "like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
            "Edge 131 · macOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox 133 · Linux",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome 131 · Android",
        ),
        ("curl/8.5.0", "Unknown browser"),
        ("", "Unknown browser"),
    ],
)
def test_user_agents_are_summarised_as_browser_and_system(app, user_agent, summary):
    with app.test_request_context(headers={"Accept-Language": "en"}), force_locale("en"):
        assert browser_summary(user_agent) == summary


def test_purge_deletes_records_unused_for_the_given_days_and_keeps_live_ones(world, browser, app):
    with time_machine.travel(START, tick=False) as clock:
        old = circle_login(browser, world.a)
        old.post("/logout", token_from="/portal/")
        staff_login(browser, world.b)  # another tenant's, never used again
        clock.shift(timedelta(days=31))
        live = circle_login(browser, world.a)
        result = app.test_cli_runner().invoke(args=["sessions", "purge", "--days", "30"])
        assert result.exit_code == 0, result.output
        assert result.output == "Deleted 2 session records.\n"
        assert live.get("/portal/").status_code == 200
    with app.app_context(), platform_bypass("tests.sessions"):
        remaining = db.session.scalars(select(LoginSession.principal_kind)).all()
    assert remaining == ["circle"]


def test_logging_in_again_in_the_same_browser_ends_its_earlier_session(world, browser, app):
    client = circle_login(browser, world.a)
    old = cookie_of(client, world.a.host)
    (first,) = open_sessions(app, world.a)
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    (second,) = open_sessions(app, world.a)
    assert second != first
    assert client.get("/portal/").status_code == 200
    assert is_logged_out(replay(browser, world.a.host, old).get("/portal/"))


# --- nothing a login sees is kept in a cache -----------------------------------------------

NO_STORE = "private, no-store"


def test_pages_a_circle_sees_are_not_stored(world, browser, app):
    with app.app_context():
        targets = build_targets(world)
    client = circle_login(browser, world.a)
    day = datetime.now(TOKYO).date().isoformat()
    for url in (
        "/portal/",
        "/portal/uniques",
        f"/portal/recording/{targets.a.recording_id}.wav",
        f"/portal/recording/archive?from={day}&to={day}",
        f"/portal/ivrs/{targets.a.ivr_id}/prompt.wav",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == NO_STORE, url
    # A refusal and a redirect are a login's answers too.
    assert client.get("/portal/uniques/987654321").headers["Cache-Control"] == NO_STORE
    assert client.get("/").headers["Cache-Control"] == NO_STORE


def test_pages_staff_and_the_operator_see_are_not_stored(world, browser):
    client = staff_login(browser, world.a)
    for url in ("/staff/", f"/staff/circles/{world.a.circle_id}", "/staff/audit"):
        assert client.get(url).headers["Cache-Control"] == NO_STORE, url
    console = english(browser("localhost"))
    login = console.login_console(world.operator_email, PASSWORD)
    assert login.headers["Cache-Control"] == NO_STORE
    assert console.get("/console/").headers["Cache-Control"] == NO_STORE


def test_the_brand_stylesheet_stays_cacheable_for_a_login(world, browser):
    client = circle_login(browser, world.a)
    response = client.get("/theme.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"


def test_pages_of_nobody_logged_in_keep_their_own_caching(world, browser):
    client = browser(world.a.host)
    assert "Cache-Control" not in client.get("/login").headers
    assert client.get("/theme.css").headers["Cache-Control"] == "public, max-age=300"


# --- ending sessions is in the audit log ---------------------------------------------------


def session_audit(app, tenant) -> list[tuple[str, int | None, str, int | None, Any]]:
    """(action, session id, actor kind, actor id, after) of the session audit rows."""
    from pbx_platform.models import AuditLog

    with app.app_context(), use_scope(tenant.scope):
        rows = db.session.scalars(
            select(AuditLog).where(AuditLog.object_type == "login_session").order_by(AuditLog.id)
        ).all()
        return [(r.action, r.object_id, r.actor_kind, r.actor_id, r.after) for r in rows]


def test_ending_another_session_from_the_list_is_audited(world, browser, app):
    phone = circle_login(browser, world.a)
    laptop = circle_login(browser, world.a)
    phone_session, _ = open_sessions(app, world.a)
    assert session_audit(app, world.a) == []
    assert end(laptop, f"/portal/sessions/{phone_session}/end").status_code == 302
    assert is_logged_out(phone.get("/portal/"))
    [(action, object_id, actor_kind, actor_id, after)] = session_audit(app, world.a)
    assert (action, object_id) == ("session.end", phone_session)
    assert (actor_kind, actor_id) == ("circle", world.a.circle_id)
    assert after["principal"] == f"circle:{world.a.circle_id}"
    assert after["revoked_at"]


def test_log_out_everywhere_else_audits_each_session_it_ends(world, browser, app):
    for _ in range(2):
        circle_login(browser, world.a)
    client = circle_login(browser, world.a)
    *others, _mine = open_sessions(app, world.a)
    end(client, "/portal/sessions/end-others")
    rows = session_audit(app, world.a)
    assert [(action, object_id) for action, object_id, *_ in rows] == [
        ("session.end_others", session_id) for session_id in others
    ]


def test_a_password_change_audits_the_sessions_it_ends(world, browser, app):
    circle_login(browser, world.a)
    phone = circle_login(browser, world.a)
    laptop_session, _phone_session = open_sessions(app, world.a)
    changed = phone.post(
        "/portal/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_repeat": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    rows = session_audit(app, world.a)
    assert [(action, object_id) for action, object_id, *_ in rows] == [
        ("session.end.password_change", laptop_session)
    ]


def test_a_new_password_policy_audits_the_sessions_it_ends_under_the_staff(world, browser, app):
    circle_login(browser, world.a)
    (customer_session,) = open_sessions(app, world.a)
    staff = staff_login(browser, world.a)
    path = f"/staff/circles/{world.a.circle_id}/password-policy"
    detail = f"/staff/circles/{world.a.circle_id}"
    saved = staff.post(path, with_version(staff, detail, {"policy": "warn"}), token_from=detail)
    assert saved.status_code == 302
    [(action, object_id, actor_kind, actor_id, _)] = session_audit(app, world.a)
    assert (action, object_id) == ("session.end.password_policy", customer_session)
    assert (actor_kind, actor_id) == ("reseller", staff_id(app, world.a))


def test_a_browsers_own_logout_is_no_audit_row(world, browser, app):
    client = circle_login(browser, world.a)
    assert is_logged_out(client.post("/logout", token_from="/portal/"))
    assert session_audit(app, world.a) == []
