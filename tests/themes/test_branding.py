"""R19: every page a reseller's staff or customers see shows that reseller's brand and
never another's; the platform console has its own."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import use_scope
from tests.conftest import PortalClient
from tests.factories import Tenant, World
from themes.models import Theme
from themes.services import CONSOLE_PRODUCT_NAME, theme_values, update_theme

BRANDS = {"a": ("Alpha Phone", "help@alpha.test"), "b": ("Bravo Phone", "help@bravo.test")}
COLOURS = {"a": ("#1f4e8c", "#e8f0fb"), "b": ("#8a1538", "#fbe9ee")}
PAIRS = [("a", "b"), ("b", "a")]


def english(client: PortalClient) -> PortalClient:
    client.post("/locale", {"locale": "en", "next": "/"})
    return client


def assert_brand(page: str, own: str, other: str) -> None:
    own_name, own_email = BRANDS[own]
    other_name, other_email = BRANDS[other]
    assert f"| {own_name}</title>" in page
    assert f'<span class="product-name">{own_name}</span>' in page
    assert own_email in page  # the support contact in the footer
    assert other_name not in page
    assert other_email not in page
    assert CONSOLE_PRODUCT_NAME not in page


def tenant(world: World, key: str) -> Tenant:
    return world.a if key == "a" else world.b


def logged_in(browser: Any, world: World, key: str, who: str) -> PortalClient:
    t = tenant(world, key)
    client = english(browser(t.host))
    if who == "circle":
        response = client.login_circle(t.circle_login, world.password)
    else:
        response = client.login_staff(t.staff[who], world.password)
    assert response.status_code == 302
    return client


@pytest.mark.parametrize(("own", "other"), PAIRS)
@pytest.mark.parametrize("path", ["/login", "/staff/login"])
def test_login_pages_show_the_hosts_brand(
    world: World, browser: Any, own: str, other: str, path: str
) -> None:
    response = browser(tenant(world, own).host).get(path)
    assert response.status_code == 200
    assert_brand(response.get_data(as_text=True), own, other)


@pytest.mark.parametrize(("own", "other"), PAIRS)
@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("admin", "/staff/"),
        ("admin", "/staff/audit"),
        ("admin", "/staff/theme"),
        ("support", "/staff/"),
        ("manager", "/staff/"),
        ("manager", "/staff/audit"),
        ("circle", "/portal/"),
        ("circle", "/portal/password"),
        ("circle", "/portal/login-id"),
    ],
)
def test_pages_after_login_show_the_hosts_brand(
    world: World, browser: Any, own: str, other: str, who: str, path: str
) -> None:
    response = logged_in(browser, world, own, who).get(path)
    assert response.status_code == 200
    assert_brand(response.get_data(as_text=True), own, other)


@pytest.mark.parametrize(("own", "other"), PAIRS)
def test_error_pages_show_the_hosts_brand(world: World, browser: Any, own: str, other: str) -> None:
    client = english(browser(tenant(world, own).host))
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert_brand(missing.get_data(as_text=True), own, other)
    expired = client.post("/staff/login", {"email": "x@y.jp", "password": "z"}, csrf=False)
    assert expired.status_code == 400
    assert_brand(expired.get_data(as_text=True), own, other)
    forbidden = logged_in(browser, world, own, "billing").get("/staff/theme")
    assert forbidden.status_code == 403
    assert_brand(forbidden.get_data(as_text=True), own, other)


@pytest.mark.parametrize(("own", "other"), PAIRS)
def test_stylesheet_carries_the_hosts_colours(
    world: World, browser: Any, own: str, other: str
) -> None:
    response = browser(tenant(world, own).host).get("/theme.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    css = response.get_data(as_text=True)
    primary, accent = COLOURS[own]
    assert f"--brand-primary:{primary};" in css
    assert f"--brand-accent:{accent};" in css
    for colour in COLOURS[other]:
        assert colour not in css


def test_console_shows_its_own_brand(world: World, browser: Any) -> None:
    client = english(browser("localhost"))
    pages = [client.get("/console/login")]
    assert client.login_console(world.operator_email, world.password).status_code == 302
    pages.append(client.get("/console/"))
    for response in pages:
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert f'<span class="product-name">{CONSOLE_PRODUCT_NAME}</span>' in page
        assert 'class="console"' in page
        for name, email in BRANDS.values():
            assert name not in page
            assert email not in page
    css = client.get("/theme.css").get_data(as_text=True)
    assert "--brand-primary:#263238;" in css
    assert client.get("/theme/logo").status_code == 404


def test_platform_portal_shows_its_product_name_not_the_consoles(
    world: World, browser: Any
) -> None:
    page = browser("direct.localhost").get("/login").get_data(as_text=True)
    assert '<span class="product-name">Direct</span>' in page
    assert CONSOLE_PRODUCT_NAME not in page


def test_unknown_host_serves_no_brand(world: World, browser: Any) -> None:
    client = browser("nobody.localhost")
    assert client.get("/theme.css").status_code == 404
    assert client.get("/login").status_code == 404


def test_unknown_host_with_a_portals_login_cookie_is_a_plain_404(
    world: World, browser: Any
) -> None:
    a = browser(world.a.host)
    assert a.login_staff(world.a.staff["admin"], world.password).status_code == 302
    cookie = a.client.get_cookie("session", domain=world.a.host)
    assert cookie is not None
    stranger = browser("nobody.localhost")
    stranger.client.set_cookie("session", cookie.value, domain="nobody.localhost")
    response = stranger.get("/staff/")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Alpha Phone" not in page
    assert "/staff/logout" not in page


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 60, 120)).save(out, format="PNG")
    return out.getvalue()


def give_logo(app: Flask, t: Tenant) -> bytes:
    with app.test_request_context(), use_scope(t.scope):
        theme = db.session.scalars(select(Theme)).one()
        outcome = update_theme(theme, theme_values(theme), png(), False, 512 * 1024)
        assert outcome.ok, outcome.errors
        db.session.commit()
        assert theme.logo is not None
        return theme.logo


def test_logo_is_served_only_on_its_resellers_host(app: Flask, world: World, browser: Any) -> None:
    logo = give_logo(app, world.a)
    a, b = browser(world.a.host), browser(world.b.host)
    served = a.get("/theme/logo?v=1")
    assert served.status_code == 200
    assert served.mimetype == "image/png"
    assert served.data == logo
    assert b.get("/theme/logo?v=1").status_code == 404
    assert browser("localhost").get("/theme/logo").status_code == 404
    assert 'src="/theme/logo?v=1"' in a.get("/login").get_data(as_text=True)
    assert "/theme/logo" not in b.get("/login").get_data(as_text=True)
