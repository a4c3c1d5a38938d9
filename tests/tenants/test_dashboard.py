"""The reseller staff's dashboard: figures of the scope, computed by hand for the world."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from invoices.models import PriceBookEntry
from pbx_platform.db import db
from pbx_platform.japanese import month_end, tokyo_today
from pbx_platform.paging import MAX_PAGE, Paging
from pbx_platform.tenancy import use_scope
from tenants.models import AccountOption, AccountOptionKind
from tenants.options.models import CircleOption, OptionKind
from tests.circle_pages import pin_locale, text
from tests.factories import PASSWORD, Tenant, World

# Retail prices of A (yen per unit and month, tax excluded).
PRICES = {"conference_room": 3000, "ivr": 5000, "monitoring": 500, "invoice_mailing": 200}


def _option(tenant: Tenant, circle_id: int, account_id: int, **values: Any) -> CircleOption:
    return CircleOption(
        reseller_id=tenant.reseller_id, account_id=account_id, circle_id=circle_id, **values
    )


@pytest.fixture
def business(app: Flask, world: World) -> World:
    """A's options today: 2 conference rooms; 1 IVR cancelled, ending this month (R12);
    3 monitoring licences in the other circle; invoice mailing for the other account;
    one option that ended last month and one that starts next month (neither counts).
    B holds options of its own that A's figures must not include."""
    a, b = world.a, world.b
    today = tokyo_today()
    with app.app_context():
        with use_scope(a.scope):
            for kind, price in PRICES.items():
                db.session.add(
                    PriceBookEntry(
                        reseller_id=a.reseller_id, option_kind=kind, monthly_price_yen=price
                    )
                )
            past = today - timedelta(days=60)
            db.session.add_all(
                [
                    _option(
                        a,
                        a.circle_id,
                        a.account_id,
                        kind=OptionKind.CONFERENCE_ROOM,
                        quantity=2,
                        starts_on=past,
                    ),
                    _option(
                        a,
                        a.circle_id,
                        a.account_id,
                        kind=OptionKind.IVR,
                        quantity=1,
                        starts_on=past,
                        ends_on=month_end(today),
                    ),
                    _option(
                        a,
                        a.other_circle_id,
                        a.other_account_id,
                        kind=OptionKind.MONITORING,
                        quantity=3,
                        starts_on=past,
                    ),
                    _option(
                        a,
                        a.circle_id,
                        a.account_id,
                        kind=OptionKind.CALL_RECORDING,
                        quantity=1,
                        starts_on=past,
                        ends_on=today.replace(day=1) - timedelta(1),
                    ),
                    _option(
                        a,
                        a.circle_id,
                        a.account_id,
                        kind=OptionKind.OUTBOUND_SELECTION,
                        quantity=1,
                        starts_on=month_end(today) + timedelta(1),
                    ),
                    AccountOption(
                        reseller_id=a.reseller_id,
                        account_id=a.other_account_id,
                        kind=AccountOptionKind.INVOICE_MAILING,
                        starts_on=past,
                    ),
                ]
            )
            db.session.flush()
        with use_scope(b.scope):
            db.session.add(
                _option(
                    b,
                    b.circle_id,
                    b.account_id,
                    kind=OptionKind.IVR,
                    quantity=4,
                    starts_on=today - timedelta(days=60),
                    ends_on=month_end(today),
                )
            )
            db.session.flush()
        db.session.commit()
    return world


def _board(browser: Any, tenant: Tenant, role: str, locale: str = "en") -> str:
    client = pin_locale(browser(tenant.host), locale)
    assert client.login_staff(tenant.staff[role], PASSWORD).status_code == 302
    response = client.get("/staff/")
    assert response.status_code == 200
    return text(response)


def _figure(page: str, name: str) -> str:
    found = re.search(rf'id="fig-{name}">([^<]*)<', page)
    assert found, name
    return found.group(1)


def _kinds(page: str) -> dict[str, tuple[str, str]]:
    rows = re.findall(
        r'<tr data-kind="([a-z_]+)"><td>[^<]*</td><td class="num">(\d+)</td>'
        r'<td class="num">([^<]*)</td></tr>',
        page,
    )
    return {kind: (quantity, money) for kind, quantity, money in rows}


def test_the_admin_sees_the_resellers_figures(business: World, browser: Any) -> None:
    page = _board(browser, business.a, "admin")
    # 2 accounts, 2 circles, 3 uniques (201, 202, 300) in the world of A.
    assert (_figure(page, "customers"), _figure(page, "circles"), _figure(page, "uniques")) == (
        "2",
        "2",
        "3",
    )
    assert _kinds(page) == {
        "conference_room": ("2", "¥6,000"),
        "ivr": ("1", "¥5,000"),
        "monitoring": ("3", "¥1,500"),
        "invoice_mailing": ("1", "¥200"),
    }
    # 6,000 + 5,000 + 1,500 + 200: the ended and the future option count for nothing.
    assert _figure(page, "mrr") == "¥12,700"


def test_cancellations_taking_effect_this_month(business: World, browser: Any) -> None:
    page = _board(browser, business.a, "admin")
    end = month_end(tokyo_today())
    items = re.findall(r"<li>([^<]*)</li>", page.split('id="cancellations"')[1].split("</ul>")[0])
    assert items == [f"IVR × 1 for alpha circle ends at the end of {end.isoformat()}"]


def test_the_figures_in_japanese(business: World, browser: Any) -> None:
    page = _board(browser, business.a, "admin", "ja")
    end = month_end(tokyo_today())
    assert _figure(page, "mrr") == "12,700円"
    assert f"alpha circleのIVR × 1は{end.year}年{end.month}月{end.day}日の末日で終了します" in page


def test_an_account_manager_sees_their_account_only(business: World, browser: Any) -> None:
    page = _board(browser, business.a, "manager")
    assert (_figure(page, "customers"), _figure(page, "circles")) == ("1", "1")
    assert _kinds(page) == {"conference_room": ("2", "¥6,000"), "ivr": ("1", "¥5,000")}
    assert _figure(page, "mrr") == "¥11,000"


def test_recent_changes_read_as_sentences(business: World, browser: Any) -> None:
    page = _board(browser, business.a, "admin")
    recent = page.split('id="recent-changes"')[1].split("</ul>")[0]
    items = re.findall(r"<li>(.*?) <span class=\"muted\">", recent)
    assert len(items) == 10
    assert "system created price “Conference room”" in items
    assert (
        f'<a href="/staff/accounts/{business.a.other_account_id}">system created account option “Invoice mailing”</a>'
        in items
    )


def test_customers_sort_on_the_server(business: World, browser: Any) -> None:
    client = pin_locale(browser(business.a.host), "en")
    assert client.login_staff(business.a.staff["admin"], PASSWORD).status_code == 302
    ascending = text(client.get("/staff/?sort=name&dir=asc"))
    descending = text(client.get("/staff/?sort=name&dir=desc"))
    names = r'<td><a href="/staff/accounts/\d+">([^<]*)</a></td>'
    assert re.findall(names, ascending) == ["alpha Other K.K.", "alpha 株式会社"]
    assert re.findall(names, descending) == ["alpha 株式会社", "alpha Other K.K."]
    for bad in ("sort=password_hash", "page=-1", "dir=sideways", "page=１"):
        response = client.get(f"/staff/?{bad}")
        assert response.status_code == 200, bad
        assert re.findall(names, text(response)) == ["alpha Other K.K.", "alpha 株式会社"], bad


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, (1, "name", False)),
        ({"page": "3", "sort": "city", "dir": "desc"}, (3, "city", True)),
        ({"page": "abc"}, (1, "name", False)),
        ({"page": "0"}, (1, "name", False)),
        ({"page": str(MAX_PAGE + 1)}, (1, "name", False)),
        ({"page": "２"}, (1, "name", False)),
        ({"page": "2", "sort": "nope"}, (1, "name", False)),
        ({"page": "2", "dir": "up"}, (1, "name", False)),
    ],
)
def test_paging_parameters_are_bounded_and_validated(
    args: dict[str, str], expected: tuple[int, str, bool]
) -> None:
    paging = Paging.from_args(args, ("name", "city"), default="name")
    assert (paging.page, paging.sort, paging.descending) == expected
