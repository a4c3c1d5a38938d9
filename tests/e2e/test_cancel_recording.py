"""R10–R12 in a real browser: cancel full call recording through the whole cart flow."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest

from pbx_platform.db import db
from pbx_platform.tenancy import use_scope
from tenants.models import Circle
from tenants.options.dates import cancellation_effective_date
from tenants.options.models import CircleOption, OptionKind
from tests.e2e.conftest import LiveServer
from tests.factories import PASSWORD


@pytest.mark.browser
def test_cancel_recording_through_the_cart(page: Any, live_server: LiveServer) -> None:
    world = live_server.world
    tenant = world.b  # the force-policy test changes alpha's password; stay out of its way
    with live_server.app.app_context(), use_scope(tenant.scope):
        circle = db.session.get(Circle, tenant.circle_id)
        db.session.add(
            CircleOption(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                kind=OptionKind.CALL_RECORDING,
                starts_on=date(2026, 1, 1),
            )
        )
        db.session.commit()
    host = tenant.host

    page.goto(live_server.url(host, "/login"))
    login = page.locator("main form[action='/login']")
    login.locator("#login_id").fill(tenant.circle_login)
    login.locator("#password").fill(PASSWORD)
    login.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/portal/$"))

    page.goto(live_server.url(host, "/portal/options"))
    row = page.locator("tr[data-kind='call_recording']").first
    row.locator("input[name='tick_call_recording']").check()
    page.locator("button[name='next']").click()

    # The review page shows the effective date before anything changes.
    page.wait_for_url(re.compile(r"/portal/cart$"))
    expected = cancellation_effective_date(datetime.now(UTC))
    effective = page.locator("tr[data-kind='call_recording'] td.effective").inner_text()
    assert f"{expected.year}年{expected.month}月{expected.day}日" in effective or (
        expected.isoformat() in effective
    )
    page.locator("#confirm").click()

    page.wait_for_url(re.compile(r"/portal/options$"))
    pending = page.locator("tr[data-kind='call_recording'] .badge.pending")
    assert pending.is_visible()
    with live_server.app.app_context(), use_scope(tenant.scope):
        option = db.session.query(CircleOption).filter_by(circle_id=tenant.circle_id).one()
        assert option.ends_on == expected
    # Still usable until its end date: the settings page works and says when it ends.
    page.goto(live_server.url(host, "/portal/recording"))
    assert page.locator(".warning.pending").is_visible()
