"""R17 force in a real browser: the circle cannot use the portal until it has chosen a
new password, and then lands on its portal in the reseller's colours."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tenants.models import PasswordPolicy
from tests.e2e.conftest import LiveServer
from tests.factories import PASSWORD, set_policy

NEW_PASSWORD = "Brand#New2026x"
ALPHA_PRIMARY_RGB = "rgb(31, 78, 140)"  # #1f4e8c, alpha's primary colour in the factories

# The stylesheet value of --brand-primary set by the reseller's /theme.css (base.css
# has a default of its own, so the computed colour alone cannot tell them apart).
THEME_PRIMARY_JS = """() => Array.from(document.styleSheets)
  .filter(s => s.href && new URL(s.href).pathname === '/theme.css')
  .flatMap(s => Array.from(s.cssRules))
  .map(r => r.style ? r.style.getPropertyValue('--brand-primary').trim() : '')
  .filter(v => v)"""


@pytest.mark.browser
def test_forced_password_change_leads_to_the_branded_portal(
    page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    world = live_server.world
    with live_server.app.app_context():
        set_policy(world.a, PasswordPolicy.FORCE)
    host = world.a.host  # alpha.localhost
    # A server error still lands on the expected URL: keep them, to fail with their names.
    server_errors: list[str] = []

    def keep_server_errors(response: Any) -> None:
        if response.status >= 500:
            server_errors.append(f"{response.request.method} {response.url} → {response.status}")

    page.on("response", keep_server_errors)

    page.goto(live_server.url(host, "/login"))
    login = page.locator("main form[action='/login']")
    login.locator("#login_id").fill(world.a.circle_login)
    login.locator("#password").fill(PASSWORD)
    login.locator("button[type=submit]").click()

    # Sent to the change page, with the force notice and no way to put it off.
    page.wait_for_url(re.compile(r"/portal/password$"))
    assert server_errors == []
    assert page.locator("p.warning[role=alert]").is_visible()
    assert page.locator("#later").count() == 0
    assert page.locator("form[action$='/portal/password/later']").count() == 0

    # The portal itself leads back to the change page.
    page.goto(live_server.url(host, "/portal/"))
    page.wait_for_url(re.compile(r"/portal/password$"))
    assert server_errors == []
    page.screenshot(path=str(tmp_path / "change-password.png"), full_page=True)

    change = page.locator("main form[action='/portal/password']")
    change.locator("#current_password").fill(PASSWORD)
    change.locator("#new_password").fill(NEW_PASSWORD)
    change.locator("#new_password_repeat").fill(NEW_PASSWORD)
    change.locator("button[type=submit]").click()

    page.wait_for_url(re.compile(r"/portal/$"))
    assert server_errors == []
    assert page.url == live_server.url(host, "/portal/")
    assert page.locator(".flash.flash-success").is_visible()
    assert page.locator("h1").inner_text() == "alpha circle"

    # Alpha's brand, and nothing of bravo's.
    bar = page.locator("header.brand-bar")
    assert bar.evaluate("e => getComputedStyle(e).backgroundColor") == ALPHA_PRIMARY_RGB
    assert page.evaluate(THEME_PRIMARY_JS) == ["#1f4e8c"]
    product = bar.locator(".product-name")
    assert product.is_visible()
    assert product.inner_text() == "Alpha Phone"
    assert "Bravo Phone" not in page.content()

    page.screenshot(path=str(tmp_path / "portal.png"), full_page=True)
