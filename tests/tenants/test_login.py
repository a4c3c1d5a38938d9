"""Login pages (circle, staff, console), login rate limits, proxies and session cookies."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from pbx_platform import create_app
from pbx_platform.config import load_config
from pbx_platform.db import db
from pbx_platform.extensions import limiter
from pbx_platform.models import LoginSession
from pbx_platform.net import client_address
from pbx_platform.sessions import token_digest
from pbx_platform.tenancy import use_scope
from tests.conftest import PortalClient
from tests.factories import PASSWORD

INVALID = "The login ID or password is not correct."
TOO_MANY = "Too many attempts. Please wait a few minutes and try again."


def english(client: PortalClient) -> PortalClient:
    assert client.post("/locale", {"locale": "en", "next": "/"}).status_code == 302
    return client


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def session_data(client: PortalClient, host: str) -> dict[str, Any]:
    cookie = client.client.get_cookie("session", domain=host)
    assert cookie is not None
    app = client.client.application
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return dict(serializer.loads(cookie.value))


# --- the pages, on the reseller's host and in its brand (R19) ---------------------------


def theme_css(client: PortalClient, page: str) -> str:
    """The stylesheet of the brand a page links to."""
    found = re.search(r'href="(/theme\.css[^"]*)"', page)
    assert found is not None
    response = client.get(html.unescape(found.group(1)))
    assert response.status_code == 200
    return response.get_data(as_text=True).lower()


def test_circle_login_page_is_on_the_resellers_host_in_its_brand(world, browser):
    client = browser(world.a.host)
    page = client.get("/login")
    assert page.status_code == 200
    body = text(page)
    assert "Alpha Phone" in body
    assert "Bravo Phone" not in body
    assert 'name="login_id"' in body
    stylesheet = theme_css(client, body)
    assert "#1f4e8c" in stylesheet
    assert "#8a1538" not in stylesheet


def test_staff_login_page_is_separate_and_in_the_resellers_brand(world, browser):
    page = browser(world.b.host).get("/staff/login")
    assert page.status_code == 200
    body = text(page)
    assert "Bravo Phone" in body
    assert "Alpha Phone" not in body
    assert 'name="email"' in body
    assert 'name="login_id"' not in body
    assert "#8a1538" in theme_css(browser(world.b.host), body)


def test_login_pages_of_the_portal_do_not_exist_on_the_console(world, browser):
    console = browser("localhost")
    assert console.get("/login").status_code == 404
    assert console.get("/staff/login").status_code == 404
    assert browser(world.a.host).get("/console/login").status_code == 404


def test_circle_logs_in_and_reaches_its_portal(world, browser):
    client = english(browser(world.a.host))
    response = client.login_circle(world.a.circle_login, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/portal/"
    home = client.get("/portal/")
    assert home.status_code == 200
    assert "alpha circle" in text(home)
    assert "Alpha Phone" in text(home)


def test_staff_logs_in_on_the_resellers_host(world, browser):
    client = english(browser(world.a.host))
    response = client.login_staff(world.a.staff["admin"], PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    dashboard = client.get("/staff/")
    assert dashboard.status_code == 200
    assert "Alpha Phone" in text(dashboard)


def test_platform_staff_log_in_on_the_console_only(world, browser):
    console = english(browser("localhost"))
    assert console.login_console(world.operator_email, PASSWORD).status_code == 302
    portal = english(browser(world.a.host))
    refused = portal.login_staff(world.operator_email, PASSWORD)
    assert refused.status_code == 200
    assert INVALID in text(refused)


def test_reseller_staff_cannot_log_in_on_the_console(world, browser):
    console = english(browser("localhost"))
    refused = console.login_console(world.a.staff["admin"], PASSWORD)
    assert refused.status_code == 200
    assert INVALID in text(refused)


def test_circle_of_another_reseller_is_unknown_on_this_host(world, browser):
    client = english(browser(world.b.host))
    response = client.login_circle(world.a.circle_login, PASSWORD)
    assert response.status_code == 200
    assert INVALID in text(response)


@pytest.mark.parametrize(
    ("login_id", "password"),
    [
        ("alpha-circle", "Wrong#Pass2026"),
        ("nobody-here", PASSWORD),
        ("nobody-here", "Wrong#Pass2026"),
    ],
    ids=["wrong-password", "unknown-id", "both-wrong"],
)
def test_failed_circle_login_gives_one_generic_message(world, browser, login_id, password):
    client = english(browser(world.a.host))
    response = client.login_circle(login_id, password)
    assert response.status_code == 200
    body = text(response)
    assert INVALID in body
    assert "not found" not in body.lower()
    assert client.get("/portal/").status_code == 302


@pytest.mark.parametrize(
    ("email", "password"),
    [("admin@alpha.test", "Wrong#Pass2026"), ("nobody@alpha.test", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_failed_staff_login_gives_one_generic_message(world, browser, email, password):
    client = english(browser(world.a.host))
    response = client.login_staff(email, password)
    assert response.status_code == 200
    assert INVALID in text(response)
    assert client.get("/staff/").status_code == 302


@pytest.mark.parametrize(
    "typed",
    [
        "ALPHA-CIRCLE",
        "Alpha-Circle",
        "ａｌｐｈａ－ｃｉｒｃｌｅ",
        "ＡＬＰＨＡ－ＣＩＲＣＬＥ",
        " alpha-circle ",
    ],
    ids=["upper", "mixed", "full-width", "full-width-upper", "padded"],
)
def test_login_id_is_compared_case_insensitively_and_after_nfkc(world, browser, typed):
    client = browser(world.a.host)
    response = client.login_circle(typed, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/portal/"


def test_staff_email_is_compared_case_insensitively(world, browser):
    client = browser(world.a.host)
    response = client.login_staff("  Admin@Alpha.TEST ", PASSWORD)
    assert response.status_code == 302


def test_next_is_followed_only_on_this_site(world, browser):
    client = browser(world.a.host)
    inside = client.post(
        "/login",
        {"login_id": world.a.circle_login, "password": PASSWORD, "next": "/portal/login-id"},
    )
    assert inside.headers["Location"] == "/portal/login-id"
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        other = browser(world.a.host)
        outside = other.post(
            "/login", {"login_id": world.a.circle_login, "password": PASSWORD, "next": target}
        )
        assert outside.status_code == 302
        assert outside.headers["Location"] == "/portal/"


# --- rate limits -------------------------------------------------------------------------


def fail(client: PortalClient, login_id: str, **kwargs: Any) -> Any:
    return client.post("/login", {"login_id": login_id, "password": "Wrong#Pass2026"}, **kwargs)


def test_failed_logins_are_limited_per_login_id(world, browser, app):
    assert app.config["LOGIN_FAILURES_PER_ID"] == "5 per 15 minutes"
    client = english(browser(world.a.host))
    for _ in range(5):
        assert fail(client, world.a.circle_login).status_code == 200
    blocked = fail(client, world.a.circle_login)
    assert blocked.status_code == 429
    assert TOO_MANY in text(blocked)
    # The right password does not get through either while the ID is blocked.
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 429
    # Another login ID is not affected.
    assert client.login_circle(world.a.other_circle_login, PASSWORD).status_code == 302


def test_the_login_id_limit_counts_every_spelling_of_the_id_together(world, browser):
    client = browser(world.a.host)
    for typed in (
        "alpha-circle",
        "ALPHA-CIRCLE",
        "ａｌｐｈａ－ｃｉｒｃｌｅ",
        "Alpha-Circle",
        "alpha-circle",
    ):
        assert fail(client, typed).status_code == 200
    assert fail(client, "alpha-CIRCLE").status_code == 429


def test_the_login_id_limit_holds_across_addresses(world, browser):
    client = browser(world.a.host)
    for n in range(5):
        response = fail(client, world.a.circle_login, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
        assert response.status_code == 200
    blocked = fail(client, world.a.circle_login, environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert blocked.status_code == 429


def test_successful_logins_do_not_count_against_the_login_id(world, browser):
    for _ in range(4):
        assert fail(browser(world.a.host), world.a.circle_login).status_code == 200
    assert browser(world.a.host).login_circle(world.a.circle_login, PASSWORD).status_code == 302
    assert browser(world.a.host).login_circle(world.a.circle_login, PASSWORD).status_code == 302
    # Four failures so far: a fifth is still answered, a sixth is not.
    assert fail(browser(world.a.host), world.a.circle_login).status_code == 200
    assert fail(browser(world.a.host), world.a.circle_login).status_code == 429


def test_staff_logins_are_limited_per_email(world, browser):
    client = english(browser(world.a.host))
    for _ in range(5):
        response = client.login_staff(world.a.staff["admin"], "Wrong#Pass2026")
        assert response.status_code == 200
    blocked = client.login_staff(world.a.staff["admin"], PASSWORD)
    assert blocked.status_code == 429
    assert TOO_MANY in text(blocked)


@pytest.mark.parametrize(
    ("path", "who"),
    [("/staff/login", "staff"), ("/console/login", "operator")],
)
def test_extra_form_fields_and_new_addresses_do_not_reset_the_staff_limit(
    world, proxied_app, path, who
):
    """The limit keys on the e-mail the form authenticates, whatever else the request
    carries: a fresh ``login_id`` each time and a new forwarded address each time."""
    proxied_app.config["LOGIN_ATTEMPTS_PER_IP"] = "30 per minute"
    host = world.a.host if who == "staff" else "localhost"
    email = world.a.staff["admin"] if who == "staff" else "operator@platform.test"
    client = english(PortalClient(proxied_app.test_client(), host))
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    def attempt(n: int, password: str) -> Any:
        return client.post(
            path,
            {"email": email, "password": password, "login_id": f"decoy-{n}", "extra": str(n)},
            environ_base=proxy,
            headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
        )

    for n in range(5):
        assert attempt(n, "Wrong#Pass2026").status_code == 200
    blocked = attempt(5, "Wrong#Pass2026")
    assert blocked.status_code == 429
    assert TOO_MANY in text(blocked)
    # The right password is refused too until the window passes.
    assert attempt(6, PASSWORD).status_code == 429


def test_full_width_spellings_of_a_staff_email_share_one_limit(world, browser):
    client = browser(world.a.host)
    email = world.a.staff["admin"]
    wide = email.upper().translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    for typed in (email, email.upper(), wide, f"  {email}  ", email):
        assert client.login_staff(typed, "Wrong#Pass2026").status_code == 200
    assert client.login_staff(email, PASSWORD).status_code == 429


def test_a_full_width_staff_email_logs_in(world, browser):
    email = world.a.staff["admin"]
    wide = email.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert browser(world.a.host).login_staff(wide, PASSWORD).status_code == 302


def test_the_login_id_limit_is_configurable(world, browser, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ID", "2 per 15 minutes")
    client = browser(world.a.host)
    assert fail(client, world.a.circle_login).status_code == 200
    assert fail(client, world.a.circle_login).status_code == 200
    assert fail(client, world.a.circle_login).status_code == 429


def test_login_attempts_are_limited_per_address(world, browser, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ATTEMPTS_PER_IP", "3 per minute")
    client = english(browser(world.a.host))
    here = {"REMOTE_ADDR": "192.0.2.10"}
    for n in range(3):
        assert fail(client, f"someone-{n}", environ_base=here).status_code == 200
    blocked = fail(client, "someone-else", environ_base=here)
    assert blocked.status_code == 429
    assert TOO_MANY in text(blocked)
    # Every attempt counts per address, a successful one too.
    right = {"login_id": world.a.circle_login, "password": PASSWORD}
    assert client.post("/login", right, environ_base=here).status_code == 429
    # Another address is counted separately.
    there = {"REMOTE_ADDR": "192.0.2.11"}
    assert fail(client, "someone-0", environ_base=there).status_code == 200
    assert client.post("/login", right, environ_base=there).status_code == 302


def test_the_address_limit_covers_every_login_form_together(world, browser, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ATTEMPTS_PER_IP", "3 per minute")
    client = browser(world.a.host)
    here = {"REMOTE_ADDR": "192.0.2.20"}
    assert fail(client, "someone-1", environ_base=here).status_code == 200
    staff = {"email": "x@alpha.test", "password": "Wrong#Pass2026"}
    assert client.post("/staff/login", staff, environ_base=here).status_code == 200
    assert fail(client, "someone-2", environ_base=here).status_code == 200
    assert client.post("/staff/login", staff, environ_base=here).status_code == 429


def test_forwarded_for_is_ignored_without_a_configured_proxy(world, browser, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ATTEMPTS_PER_IP", "2 per minute")
    client = browser(world.a.host)
    here = {"REMOTE_ADDR": "192.0.2.30"}
    for n in range(2):
        spoofed = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert fail(client, f"id-{n}", environ_base=here, headers=spoofed).status_code == 200
    spoofed = {"X-Forwarded-For": "198.51.100.77"}
    assert fail(client, "id-9", environ_base=here, headers=spoofed).status_code == 429


def test_get_requests_to_the_login_page_are_not_limited(world, browser, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ATTEMPTS_PER_IP", "2 per minute")
    client = browser(world.a.host)
    for _ in range(5):
        assert client.get("/login").status_code == 200


@pytest.fixture
def proxied_app(app):
    """The same application deployed behind one trusted proxy (PROXY_HOPS=1)."""
    storage, strategy = limiter._storage, limiter._limiter
    proxied = create_app(
        {
            "TESTING": True,
            "ENV": "testing",
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_STORAGE_URI": "memory://",
            "WTF_CSRF_ENABLED": True,
            "PROXY_HOPS": 1,
            "LOGIN_ATTEMPTS_PER_IP": "2 per minute",
        }
    )
    yield proxied
    with proxied.app_context():
        db.engine.dispose()
    # The limiter is one object for every app: give the test app its storage back.
    limiter._storage, limiter._limiter = storage, strategy


def test_proxy_hops_wraps_the_app_in_proxyfix(proxied_app, app):
    assert isinstance(proxied_app.wsgi_app, ProxyFix)
    assert proxied_app.wsgi_app.x_for == 1
    assert not isinstance(app.wsgi_app, ProxyFix)


def test_behind_the_proxy_the_forwarded_address_is_the_client(world, proxied_app):
    seen: list[str] = []

    @proxied_app.get("/__address_for_test")
    def _address() -> str:
        seen.append(client_address())
        return "ok"

    client = proxied_app.test_client()
    client.get(
        "/__address_for_test",
        base_url="http://localhost",
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert seen == ["203.0.113.9"]


def test_behind_the_proxy_each_forwarded_client_is_limited_separately(world, proxied_app):
    client = PortalClient(proxied_app.test_client(), world.a.host)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(2):
        first = {"X-Forwarded-For": "203.0.113.1"}
        assert fail(client, f"id-{n}", environ_base=proxy, headers=first).status_code == 200
    first = {"X-Forwarded-For": "203.0.113.1"}
    assert fail(client, "id-3", environ_base=proxy, headers=first).status_code == 429
    second = {"X-Forwarded-For": "203.0.113.2"}
    assert fail(client, "id-4", environ_base=proxy, headers=second).status_code == 200


# --- the session on login ----------------------------------------------------------------


def test_session_id_rotates_on_login_and_anonymous_values_do_not_survive(world, browser, app):
    client = browser(world.a.host)
    client.get("/login")
    with client.client.session_transaction(base_url=client.base_url) as anonymous:
        anonymous["sid"] = "planted-by-an-attacker"
        anonymous["planted"] = "value"
    before = session_data(client, world.a.host)
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    after = session_data(client, world.a.host)
    assert after["sid"] and after["sid"] != before["sid"]
    assert "planted" not in after
    again = browser(world.a.host)
    again.login_circle(world.a.circle_login, PASSWORD)
    assert session_data(again, world.a.host)["sid"] != after["sid"]


def test_the_chosen_language_survives_login(world, browser):
    client = english(browser(world.a.host))
    client.login_circle(world.a.circle_login, PASSWORD)
    assert session_data(client, world.a.host)["locale"] == "en"


def test_session_cookie_is_httponly_and_samesite_lax(world, browser):
    client = browser(world.a.host)
    response = client.login_circle(world.a.circle_login, PASSWORD)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "secure" not in attributes  # testing and development run on plain http


def test_cookies_are_secure_in_production(tmp_path):
    config = load_config(
        str(tmp_path),
        {
            "PBX_ENV": "production",
            "PBX_SECRET_KEY": "a-production-secret",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        },
    )
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_cookies_are_not_secure_in_development(tmp_path):
    config = load_config(str(tmp_path), {"PBX_ENV": "development"})
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_login_writes_the_principal_and_a_token_whose_hash_only_is_stored(world, browser, app):
    client = browser(world.a.host)
    client.login_circle(world.a.circle_login, PASSWORD)
    data = session_data(client, world.a.host)
    assert data["_user_id"] == f"circle:{world.a.circle_id}"
    with app.app_context(), use_scope(world.a.scope):
        (record,) = db.session.scalars(
            select(LoginSession).where(LoginSession.principal_id == world.a.circle_id)
        )
        assert (record.principal_kind, record.revoked_at) == ("circle", None)
        assert record.token_hash == token_digest(data["sid"]) != data["sid"]


@pytest.mark.parametrize("path", ["/staff/", "/staff/circles/1/options", "/staff/theme"])
def test_anonymous_staff_pages_lead_to_the_staff_login(world, browser, path):
    response = browser(world.a.host).get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
