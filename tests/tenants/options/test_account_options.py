"""R2 invoice mailing through the cart, and R1 OEM server granted from the console."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import Scope, platform_bypass, use_scope
from tenants.models import AccountOption, AccountOptionKind, Reseller
from tests.circle_pages import pin_locale, text
from tests.factories import PASSWORD

NOW = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def mailing_rows(app, tenant, account_id):
    with app.app_context(), use_scope(tenant.scope):
        return [
            (o.starts_on, o.ends_on)
            for o in db.session.scalars(
                select(AccountOption).where(
                    AccountOption.account_id == account_id,
                    AccountOption.kind == AccountOptionKind.INVOICE_MAILING,
                )
            )
        ]


def confirm(client, path):
    page = client.get(path).get_data(as_text=True)
    cart_id = re.search(r'name="cart_id" value="(\d+)"', page).group(1)
    return client.post(path.replace("/options", "/cart/confirm"), {"cart_id": cart_id})


@pytest.mark.parametrize("who", ["manager", "admin", "billing"])
def test_invoice_mailing_bought_and_cancelled_through_the_cart(app, world, browser, clock, who):
    client = browser(world.a.host)
    client.login_staff(world.a.staff[who], PASSWORD)
    path = f"/staff/accounts/{world.a.account_id}/options"
    assert (
        client.post(
            f"/staff/accounts/{world.a.account_id}/options/cart",
            {"action": "buy", "tick_invoice_mailing": "1"},
        ).status_code
        == 302
    )
    assert mailing_rows(app, world.a, world.a.account_id) == []  # nothing until confirmed
    assert confirm(client, path).status_code == 302
    assert mailing_rows(app, world.a, world.a.account_id) == [(date(2026, 11, 10), None)]
    client.post(
        f"/staff/accounts/{world.a.account_id}/options/cart",
        {"action": "cancel", "tick_invoice_mailing": "1"},
    )
    assert "2026" in client.get(path).get_data(as_text=True)
    confirm(client, path)
    assert mailing_rows(app, world.a, world.a.account_id) == [
        (date(2026, 11, 10), date(2026, 11, 30))
    ]


def test_support_and_circles_cannot_buy_invoice_mailing(app, world, browser, clock):
    support = browser(world.a.host)
    support.login_staff(world.a.staff["support"], PASSWORD)
    assert (
        support.post(
            f"/staff/accounts/{world.a.account_id}/options/cart",
            {"action": "buy", "tick_invoice_mailing": "1"},
        ).status_code
        == 403
    )
    circle = browser(world.a.host)
    circle.login_circle(world.a.circle_login, PASSWORD)
    assert circle.get(f"/staff/accounts/{world.a.account_id}/options").status_code in (302, 404)
    assert mailing_rows(app, world.a, world.a.account_id) == []


def test_manager_cannot_reach_another_account(app, world, browser, clock):
    manager = browser(world.a.host)
    manager.login_staff(world.a.staff["manager"], PASSWORD)
    assert manager.get(f"/staff/accounts/{world.a.other_account_id}/options").status_code == 404
    assert (
        manager.post(
            f"/staff/accounts/{world.a.other_account_id}/options/cart",
            {"action": "buy", "tick_invoice_mailing": "1"},
        ).status_code
        == 404
    )


def console(browser, world):
    client = browser("localhost")
    assert client.login_console(world.operator_email, PASSWORD).status_code == 302
    return client


def test_platform_staff_grant_oem_server_and_the_reseller_exists(app, world, browser, clock):
    client = console(browser, world)
    response = client.post(
        f"/console/accounts/{world.a.account_id}/oem",
        {"slug": "gamma", "name": "Gamma Telecom", "admin_email": "boss@gamma.test"},
    )
    assert response.status_code == 200
    password = re.search(
        r'class="one-time-password">([^<]+)<', response.get_data(as_text=True)
    ).group(1)
    admin = browser("gamma.localhost")
    assert admin.login_staff("boss@gamma.test", password.replace("&amp;", "&")).status_code == 302
    with app.app_context(), platform_bypass("test"):
        reseller = db.session.scalars(select(Reseller).where(Reseller.slug == "gamma")).one()
        assert reseller.oem_account_id == world.a.account_id


def test_grant_refuses_bad_or_taken_slugs(app, world, browser, clock):
    client = console(browser, world)
    for slug in ("Bad Slug", "x", "bravo", "<script>"):
        response = client.post(
            f"/console/accounts/{world.a.account_id}/oem",
            {"slug": slug, "name": "N", "admin_email": "a@b.test"},
        )
        assert response.status_code == 422
    with app.app_context(), platform_bypass("test"):
        assert db.session.scalar(select(Reseller).where(Reseller.slug == "x")) is None


def test_ending_refused_while_the_reseller_has_customers(app, world, browser, clock):
    from tenants.services import provisioning

    client = pin_locale(console(browser, world))
    client.post(
        f"/console/accounts/{world.a.account_id}/oem",
        {"slug": "gamma", "name": "Gamma", "admin_email": "boss@gamma.test"},
    )
    with app.app_context():
        with platform_bypass("test"):
            gamma = db.session.scalars(select(Reseller).where(Reseller.slug == "gamma")).one()
        with use_scope(Scope(gamma.id)):
            provisioning.create_account(gamma, company_name="Gamma customer")
            db.session.commit()
    response = client.post(f"/console/accounts/{world.a.account_id}/oem/end", follow_redirects=True)
    assert (
        "The reseller Gamma still has 1 customer accounts. "
        "Move or close them before ending the OEM server option."
    ) in text(response)
    with app.app_context(), use_scope(world.a.scope):
        option = db.session.scalars(
            select(AccountOption).where(AccountOption.kind == AccountOptionKind.OEM_SERVER)
        ).one()
        assert option.ends_on is None


def test_reseller_staff_cannot_reach_the_console(world, browser):
    client = browser(world.a.host)
    client.login_staff(world.a.staff["admin"], PASSWORD)
    assert client.get("/console/accounts").status_code in (302, 404)
