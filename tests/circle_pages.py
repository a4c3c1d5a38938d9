"""Helpers for tests of the circle pages, which exist in two trees: the circle's own
portal (/portal) and its reseller's staff portal (/staff/circles/<id>)."""

from __future__ import annotations

import html
from typing import Any

from tests.factories import PASSWORD


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def pin_locale(client: Any, locale: str = "en") -> Any:
    """The client's pages in ``locale`` from now on (the language switch of every page)."""
    assert client.post("/locale", {"locale": locale, "next": "/"}).status_code == 302
    return client


def login(browser: Any, tenant: Any, role: str | None = None) -> Any:
    """A client in English, logged in as the tenant's circle (role None) or a staff role."""
    client = pin_locale(browser(tenant.host))
    if role is None:
        assert client.login_circle(tenant.circle_login, PASSWORD).status_code == 302
    else:
        assert client.login_staff(tenant.staff[role], PASSWORD).status_code == 302
    return client


def tree_client(kind: str, world: Any, browser: Any) -> tuple[Any, str]:
    """(client, URL prefix) of circle A, as its own login or as its reseller's admin."""
    if kind == "portal":
        return login(browser, world.a), "/portal"
    return login(browser, world.a, "admin"), f"/staff/circles/{world.a.circle_id}"
