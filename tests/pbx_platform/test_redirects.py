"""Redirect targets (R20): one helper decides them, and only a path on the same host
survives, on every page that takes ``next`` and in the time-outs that send a login
back where it was."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest
import time_machine

from pbx_platform.extensions import limiter
from pbx_platform.redirects import safe_target
from tests.conftest import PortalClient
from tests.factories import PASSWORD

# Known ways round a "starts with one slash" check. Each is what a form field or a
# query parameter holds after the browser's decoding (so ``%09`` here reaches the app
# as the three characters, and ``\t`` as a TAB).
BYPASSES = [
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "/\r\n/evil.example",
    "/%0d%0a/evil.example",
    "/%0D%0A/evil.example",
    "/\n/evil.example",
    "/\x00/evil.example",
    "/%00/evil.example",
    "/\x7f/evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%2F/evil.example",
    "/%2F%2Fevil.example",
    "/%252F%252Fevil.example",
    "/%25252F%25252Fevil.example",
    "https://evil.example/",
    "HTTPS://evil.example/",
    "http:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "//a.localhost@evil.example",
    "https://a.localhost@evil.example/",
    "/\\a.localhost@evil.example",
    " //evil.example",
    " /evil.example",
    "\t//evil.example",
    "\x01/evil.example",
    "/ /evil.example",
    "/\u3000/evil.example",
    "/\u200b/evil.example",
    "/\u2028/evil.example",
    "/../evil.example",
    "/..//evil.example",
    "/.//evil.example",
    "/%2e%2e//evil.example",
    "/%2E/%2E%2E/evil.example",
    "/portal/../../evil.example",
    "/%ff/evil.example",
    "evil.example",
    "",
]
# Paths on the same host, however unusual, are followed (percent-encoded).
SAME_HOST = {
    "/portal/": "/portal/",
    "/portal/uniques?q=Front%20desk&page=2": "/portal/uniques?q=Front%20desk&page=2",
    "/portal/uniques?q=山田": "/portal/uniques?q=%E5%B1%B1%E7%94%B0",
    "/@evil.example": "/@evil.example",
    "/portal/uniques#top": "/portal/uniques#top",
}


def browser_host(base: str, location: str) -> str | None:
    """The host a browser goes to for ``Location: location`` (WHATWG URL parsing: leading
    and trailing C0 controls and spaces dropped, TAB/CR/LF removed, ``\\`` read as ``/``)."""
    cleaned = location.strip("".join(chr(code) for code in range(0x21)))
    cleaned = re.sub(r"[\t\r\n]", "", cleaned).replace("\\", "/")
    return urlsplit(urljoin(base, cleaned)).hostname


def assert_stays_on(response: Any, host: str, expected: str | None, sent: Any = None) -> None:
    """A redirect the browser follows on ``host`` (to ``expected``, when given)."""
    assert response.status_code == 302, sent
    location = response.headers["Location"]
    assert location.isascii(), sent
    assert browser_host(f"http://{host}/", location) == host.split(":")[0], sent
    if expected is not None:
        assert location == expected, sent


# --- the helper --------------------------------------------------------------------------


@pytest.mark.parametrize("target", BYPASSES)
def test_a_target_off_the_host_goes_home(target):
    assert safe_target(target) == "/"
    assert safe_target(target, "/staff/") == "/staff/"


@pytest.mark.parametrize("target", [None, 7, b"/portal/", ["/portal/"], "/" + "a" * 3000])
def test_what_is_not_a_reasonable_text_goes_home(target):
    assert safe_target(target) == "/"


@pytest.mark.parametrize(("target", "expected"), sorted(SAME_HOST.items()))
def test_a_path_on_the_host_is_followed_percent_encoded(target, expected):
    assert safe_target(target) == expected


@pytest.mark.parametrize("target", BYPASSES)
def test_no_target_the_helper_lets_through_leads_off_the_host(target):
    """Whatever the default, the browser stays on the host."""
    location = safe_target(target, "/portal/")
    assert browser_host("http://a.localhost/staff/login", location) == "a.localhost"


# --- the pages that take next --------------------------------------------------------------


def english(client: PortalClient) -> PortalClient:
    assert client.post("/locale", {"locale": "en", "next": "/"}).status_code == 302
    return client


def _login_form(page: str, world: Any) -> dict[str, str]:
    if page == "/login":
        return {"login_id": world.a.circle_login, "password": PASSWORD}
    if page == "/staff/login":
        return {"email": world.a.staff["admin"], "password": PASSWORD}
    return {"email": world.operator_email, "password": PASSWORD}


LOGIN_PAGES = [
    pytest.param("/login", "/portal/", id="circle"),
    pytest.param("/staff/login", "/staff/", id="staff"),
    pytest.param("/console/login", "/console/", id="console"),
]


def _host(world: Any, page: str) -> str:
    return "localhost" if page == "/console/login" else world.a.host


@pytest.mark.parametrize(("page", "home"), LOGIN_PAGES)
def test_a_login_with_an_unsafe_next_lands_on_the_home_page(world, browser, page, home):
    host = _host(world, page)
    for target in BYPASSES:
        limiter.reset()  # one login per payload: more than the per-address budget
        response = browser(host).post(page, {**_login_form(page, world), "next": target})
        assert_stays_on(response, host, home, sent=target)


@pytest.mark.parametrize(("page", "home"), LOGIN_PAGES)
def test_a_login_follows_a_next_on_the_same_host(world, browser, page, home):
    host = _host(world, page)
    target = f"{home}?q=山田"
    response = browser(host).post(page, {**_login_form(page, world), "next": target})
    assert_stays_on(response, host, f"{home}?q=%E5%B1%B1%E7%94%B0")


@pytest.mark.parametrize(("page", "home"), LOGIN_PAGES)
@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "/\\evil.example"])
def test_the_login_page_does_not_carry_an_unsafe_next_into_its_form(
    world, browser, page, home, target
):
    client = browser(_host(world, page))
    body = client.get(page, query_string={"next": target}).get_data(as_text=True)
    assert 'name="next" type="hidden" value=""' in body
    safe = client.get(page, query_string={"next": f"{home}?page=2"}).get_data(as_text=True)
    assert f'name="next" type="hidden" value="{home}?page=2"' in html.unescape(safe)


def test_the_language_switch_with_an_unsafe_next_goes_home(world, browser):
    client = browser(world.a.host)
    for target in BYPASSES:
        response = client.post("/locale", {"locale": "en", "next": target})
        assert_stays_on(response, world.a.host, "/", sent=target)


def test_the_language_switch_returns_to_the_page_it_was_sent_from(world, browser):
    client = english(browser(world.a.host))
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    page = client.get("/portal/uniques", query_string={"q": "山田 太郎"})
    found = re.search(r'name="next" value="([^"]*)"', page.get_data(as_text=True))
    assert found is not None
    assert found.group(1) == "/portal/uniques?q=%E5%B1%B1%E7%94%B0+%E5%A4%AA%E9%83%8E"
    response = client.post("/locale", {"locale": "ja", "next": found.group(1)})
    assert_stays_on(response, world.a.host, found.group(1))


def test_a_page_that_needs_a_login_sends_its_address_as_next(world, browser):
    client = english(browser(world.a.host))
    response = client.get("/portal/uniques", query_string={"q": "受付"})
    expected_next = "/portal/uniques?q=%E5%8F%97%E4%BB%98"
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={quote(expected_next, safe='/?')}"
    login = client.post("/login", {**_login_form("/login", world), "next": expected_next})
    assert_stays_on(login, world.a.host, expected_next)


# --- time-outs: a stale cookie and a path built to leave the host ------------------------------

START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
# The paths a request can carry (the server decodes %XX once before the app sees it).
REQUEST_PATHS = sorted({unquote(t) for t in BYPASSES if t.startswith("/") and "%ff" not in t})


def _raw_get(client: PortalClient, path: str) -> Any:
    """A GET of exactly ``path`` (as the server decoded it), bypassing the test
    client's own URL parsing, which would read ``//host`` as a host."""
    return client.client.get(
        "/",
        base_url=client.base_url,
        environ_overrides={"PATH_INFO": path.encode("utf-8").decode("latin-1")},
    )


def _expired_get(client: PortalClient, clock: Any, minutes: int, path: str) -> Any:
    clock.shift(timedelta(minutes=minutes))
    return _raw_get(client, path)


def test_an_idle_session_is_not_sent_off_the_host(world, browser):
    """``/%09/evil.example`` with a stale cookie: the time-out sends the login back to the
    page it asked for, but never off the host (``//evil.example`` reaches the app as
    ``request.path`` ``/evil.example``, a path of this host)."""
    for path in REQUEST_PATHS:
        limiter.reset()
        with time_machine.travel(START, tick=False) as clock:
            client = browser(world.a.host)
            assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
            response = _expired_get(client, clock, 31, path)
        assert_stays_on(response, world.a.host, None, sent=path)
        assert response.headers["Location"] in ("/", "/" + path.lstrip("/")), path


def test_a_session_past_its_absolute_limit_is_not_sent_off_the_host(
    world, browser, app, monkeypatch
):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 24 * 60)
    monkeypatch.setitem(app.config, "SESSION_ABSOLUTE_HOURS", 1)
    for path in REQUEST_PATHS:
        limiter.reset()
        with time_machine.travel(START, tick=False) as clock:
            client = browser(world.a.host)
            assert client.login_staff(world.a.staff["admin"], PASSWORD).status_code == 302
            response = _expired_get(client, clock, 61, path)
        assert_stays_on(response, world.a.host, None, sent=path)
        assert response.headers["Location"] in ("/", "/" + path.lstrip("/")), path


def test_an_expired_session_returns_to_the_page_on_the_host(world, browser):
    with time_machine.travel(START, tick=False) as clock:
        client = english(browser(world.a.host))
        assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
        clock.shift(timedelta(minutes=31))
        response = client.get("/portal/uniques", query_string={"q": "受付"})
    assert_stays_on(response, world.a.host, "/portal/uniques?q=%E5%8F%97%E4%BB%98")
