"""The main menu (pbx_platform.navigation) reaches every section from every page, by
the login's R22 actions; the circle's home links to every circle page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from pbx_platform.navigation import _sections, add_section
from tests.circle_pages import pin_locale, text
from tests.factories import PASSWORD, World

MENU = re.compile(r'<nav class="main-nav"[^>]*>(.*?)</nav>', re.S)


def _menu(page: str) -> list[str]:
    found = MENU.search(page)
    assert found, "no main menu"
    return re.findall(r'<a [^>]*href="([^"]+)"', found.group(1))


def _staff(browser: Any, world: World, role: str) -> Any:
    client = pin_locale(browser(world.a.host))
    assert client.login_staff(world.a.staff[role], PASSWORD).status_code == 302
    return client


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "admin",
            [
                "/staff/",
                "/staff/customers",
                "/staff/users",
                "/staff/audit",
                "/staff/theme",
                "/staff/recording-retention",
                "/staff/sessions",
            ],
        ),
        ("billing", ["/staff/", "/staff/customers", "/staff/audit", "/staff/sessions"]),
        ("support", ["/staff/", "/staff/customers", "/staff/audit", "/staff/sessions"]),
        ("manager", ["/staff/", "/staff/customers", "/staff/audit", "/staff/sessions"]),
    ],
)
def test_every_staff_page_shows_the_sections_the_role_may_open(
    app: Flask, world: World, browser: Any, role: str, expected: list[str]
) -> None:
    client = _staff(browser, world, role)
    pages = ["/staff/", "/staff/audit", f"/staff/accounts/{world.a.account_id}"]
    pages.append(f"/staff/circles/{world.a.circle_id}/options")
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert _menu(text(response)) == expected, path


def test_the_current_section_is_marked(app: Flask, world: World, browser: Any) -> None:
    page = text(_staff(browser, world, "admin").get("/staff/audit"))
    assert '<a aria-current="page" href="/staff/audit">Audit log</a>' in page
    page = text(_staff(browser, world, "admin").get(f"/staff/circles/{world.a.circle_id}"))
    assert '<a aria-current="page" href="/staff/">' not in page


def test_the_circle_home_links_to_every_circle_page(app: Flask, world: World, browser: Any) -> None:
    client = pin_locale(browser(world.a.host))
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    page = text(client.get("/portal/"))
    assert _menu(page) == [
        "/portal/",
        "/portal/options",
        "/portal/password",
        "/portal/login-id",
        "/portal/sessions",
    ]
    circle_pages = re.search(r'<nav class="sub-nav circle-pages"[^>]*>(.*?)</nav>', page, re.S)
    assert circle_pages
    links = set(re.findall(r'href="([^"]+)"', circle_pages.group(1)))
    for path in (
        "/portal/options",
        "/portal/cart",
        "/portal/uniques",
        "/portal/settings",
        "/portal/pickup-groups",
        "/portal/conference-rooms",
        "/portal/ivrs",
        "/portal/outbound-selectors",
        "/portal/recording",
        "/portal/licences",
    ):
        assert path in links, path


def test_object_pages_carry_breadcrumbs(app: Flask, world: World, browser: Any) -> None:
    page = text(_staff(browser, world, "admin").get(f"/staff/circles/{world.a.circle_id}/uniques"))
    crumbs = re.search(r'<nav class="breadcrumbs"[^>]*>(.*?)</nav>', page, re.S)
    assert crumbs
    assert re.findall(r">([^<>]+)</(?:a|span)>", crumbs.group(1)) == [
        "Customers",
        "alpha 株式会社",
        "alpha circle",
        "Uniques",
    ]


def test_a_section_is_one_line_and_a_missing_page_is_not_shown(
    app: Flask, world: World, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pbx_platform.navigation._sections", list(_sections))
    add_section("staff", "staff_portal.not_built_yet", "Later", action="account_view", order=1)
    add_section("staff", "staff_portal.sessions", "Sessions first", order=-1)
    menu = _menu(text(_staff(browser, world, "support").get("/staff/")))
    assert menu == ["/staff/sessions", "/staff/", "/staff/customers", "/staff/audit"]
