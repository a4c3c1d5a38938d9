"""R4 outbound number selection: selector uniques, their caller number, never a terminal."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import use_scope
from tenants.models import Account, CirclePhoneNumber, TerminalType, Unique, UniqueKind
from tenants.options.models import OptionKind, OutboundSelector
from tenants.services import provisioning as p
from tests import option_helpers
from tests.factories import PASSWORD, in_circle
from tests.option_helpers import english

AFTER_END = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 1 Dec 2026 12:00 JST
KIND = OptionKind.OUTBOUND_SELECTION
NOT_CONTRACTED = "Outbound number selection is not contracted for this circle."
NOT_A_TERMINAL = "An outbound number selector cannot be registered as a terminal"


# -- helpers --------------------------------------------------------------------------------


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def give_option(app, tenant, circle_id=None, ends_on=None):
    option_helpers.give_option(app, tenant, KIND, circle_id=circle_id, ends_on=ends_on)


def add_number(app, tenant, e164, circle_id=None):
    with in_circle(app, tenant, circle_id or tenant.circle_id) as circle:
        number = CirclePhoneNumber(
            reseller_id=circle.reseller_id,
            account_id=circle.account_id,
            circle_id=circle.id,
            e164=e164,
        )
        db.session.add(number)
        db.session.commit()
        return number.id


def number_ids(app, tenant, circle_id=None):
    with app.app_context(), use_scope(tenant.scope):
        return db.session.scalars(
            select(CirclePhoneNumber.id)
            .where(CirclePhoneNumber.circle_id == (circle_id or tenant.circle_id))
            .order_by(CirclePhoneNumber.id)
        ).all()


def sibling_circle(app, tenant):
    """Another circle of the same customer account, with a number of its own."""
    with app.app_context(), use_scope(tenant.scope):
        account = db.session.get(Account, tenant.account_id)
        circle = p.create_circle(
            account,
            name="sibling",
            login_id=f"{tenant.slug}-sibling",
            password=PASSWORD,
            phone_numbers=("06-6123-4567",),
        )
        db.session.commit()
        return circle.id, circle.phone_numbers[0].id


def make_selector(app, tenant, circle_id, extension="350"):
    with in_circle(app, tenant, circle_id) as circle:
        if not circle.phone_numbers:
            circle.phone_numbers.append(
                CirclePhoneNumber(
                    reseller_id=circle.reseller_id,
                    account_id=circle.account_id,
                    e164="+81355550000",
                )
            )
            db.session.flush()
        unique = p.create_unique(
            circle, extension=extension, display_name="selector", kind=UniqueKind.OUTBOUND_SELECTOR
        )
        db.session.add(
            OutboundSelector(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                unique_id=unique.id,
                phone_number_id=circle.phone_numbers[0].id,
            )
        )
        db.session.commit()
        return unique.id


def selectors_state(app, tenant, circle_id=None):
    with app.app_context(), use_scope(tenant.scope):
        rows = db.session.execute(
            select(Unique, OutboundSelector)
            .outerjoin(OutboundSelector, OutboundSelector.unique_id == Unique.id)
            .where(
                Unique.circle_id == (circle_id or tenant.circle_id),
                Unique.kind == UniqueKind.OUTBOUND_SELECTOR,
            )
            .order_by(Unique.id)
        ).all()
        return [
            (
                unique.id,
                unique.display_name,
                unique.extension,
                unique.terminal_type,
                unique.carrier,
                selector and selector.phone_number_id,
            )
            for unique, selector in rows
        ]


def selector_form(app, tenant, **values):
    form = {
        "name": "本社番号",
        "extension": "260",
        "phone_number_id": str(number_ids(app, tenant)[0]),
    }
    form.update(values)
    return form


def create(app, world, client, base, **values):
    return client.post(f"{base}/outbound-selectors/new", selector_form(app, world.a, **values))


def new_selector_id(response):
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


# -- the contract ----------------------------------------------------------------------------


def test_without_the_option_the_page_says_so_and_offers_to_buy_it(app, world, tree):
    client, base = tree
    body = text(client.get(f"{base}/outbound-selectors"))
    assert NOT_CONTRACTED in body
    assert f'href="{base}/options"' in body
    new = client.get(f"{base}/outbound-selectors/new")
    assert new.status_code == 200 and NOT_CONTRACTED in text(new)
    response = create(app, world, client, base)
    assert response.status_code == 409
    assert NOT_CONTRACTED in text(response)
    assert selectors_state(app, world.a) == []


def test_pending_cancellation_stays_usable_until_the_end_date(app, world, tree):
    client, base = tree
    give_option(app, world.a, ends_on=date(2026, 11, 30))
    page = text(client.get(f"{base}/outbound-selectors"))
    assert "cancellation of this option is pending" in page and "2026-11-30" in page
    new_selector_id(create(app, world, client, base))


def test_after_the_end_date_the_option_is_not_contracted(app, world, browser, clock):
    give_option(app, world.a, ends_on=date(2026, 11, 30))
    selector = make_selector(app, world.a, world.a.circle_id)
    clock.move_to(AFTER_END)
    client = english(browser(world.a.host))
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    body = text(client.get("/portal/outbound-selectors"))
    assert NOT_CONTRACTED in body and 'href="/portal/options"' in body
    assert NOT_CONTRACTED in text(client.get(f"/portal/outbound-selectors/{selector}"))
    before = selectors_state(app, world.a)
    url = f"/portal/outbound-selectors/{selector}"
    for response in (
        create(app, world, client, "/portal"),
        client.post(url, selector_form(app, world.a, name="x")),
        client.post(f"{url}/delete", {}, token_from=url),
    ):
        assert response.status_code == 409
        assert NOT_CONTRACTED in text(response)
    assert selectors_state(app, world.a) == before


# -- creating and editing --------------------------------------------------------------------


def test_create_a_selector(app, world, tree):
    client, base = tree
    give_option(app, world.a)
    number = number_ids(app, world.a)[0]
    response = create(app, world, client, base, name=" 本社番号 ", extension="２６０")
    selector = new_selector_id(response)
    assert response.headers["Location"] == f"{base}/outbound-selectors/{selector}"
    assert selectors_state(app, world.a) == [(selector, "本社番号", "260", None, None, number)]
    page = text(client.get(f"{base}/outbound-selectors/{selector}"))
    assert NOT_A_TERMINAL in page
    assert "03-1234-5678" in page
    listing = text(client.get(f"{base}/outbound-selectors"))
    assert "本社番号" in listing and "03-1234-5678" in listing
    assert "It is not a terminal" in listing
    with app.app_context(), use_scope(world.a.scope):
        actions = set(db.session.scalars(select(AuditLog.action)).all())
    assert "outbound_selector.create" in actions


def test_change_the_number_and_keep_the_extension(app, world, tree):
    client, base = tree
    give_option(app, world.a)
    second = add_number(app, world.a, "+81662223333")
    selector = new_selector_id(create(app, world, client, base))
    response = client.post(
        f"{base}/outbound-selectors/{selector}",
        selector_form(app, world.a, phone_number_id=str(second)),
    )
    assert response.status_code == 302
    assert selectors_state(app, world.a)[0][5] == second
    assert "06-6222-3333" in text(client.get(f"{base}/outbound-selectors"))


def test_delete_frees_the_extension(app, world, tree):
    client, base = tree
    give_option(app, world.a)
    selector = new_selector_id(create(app, world, client, base))
    url = f"{base}/outbound-selectors/{selector}"
    assert client.post(f"{url}/delete", {}, token_from=url).status_code == 302
    assert selectors_state(app, world.a) == []
    new_selector_id(create(app, world, client, base))


def test_cancel_returns_the_saved_state(app, world, tree):
    client, base = tree
    give_option(app, world.a)
    selector = new_selector_id(create(app, world, client, base, name="保存済み"))
    url = f"{base}/outbound-selectors/{selector}"
    refused = client.post(url, selector_form(app, world.a, name="編集中", extension="9"))
    assert refused.status_code == 422
    assert 'value="編集中"' in text(refused)
    assert f'class="button secondary" href="{url}"' in refused.get_data(as_text=True)
    saved = text(client.get(url))
    assert 'value="保存済み"' in saved and 'value="260"' in saved and "編集中" not in saved


def test_menu_lists_outbound_number_selection(app, world, portal):
    assert 'href="/portal/outbound-selectors"' in portal.get("/portal/options").get_data(
        as_text=True
    )


# -- never a terminal --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forged",
    [
        {"terminal_type": "sip_phone"},
        {"terminal_type": "mobile", "carrier": "au"},
        {"carrier": "docomo"},
        {"terminal_type": "nonsense"},
    ],
)
def test_a_forged_terminal_field_is_refused(app, world, tree, forged):
    client, base = tree
    give_option(app, world.a)
    response = create(app, world, client, base, **forged)
    assert response.status_code == 422
    assert NOT_A_TERMINAL in text(response)
    assert selectors_state(app, world.a) == []
    selector = new_selector_id(create(app, world, client, base))
    before = selectors_state(app, world.a)
    response = client.post(
        f"{base}/outbound-selectors/{selector}",
        selector_form(app, world.a, name="改名", **forged),
    )
    assert response.status_code == 422
    assert NOT_A_TERMINAL in text(response)
    assert selectors_state(app, world.a) == before


def test_the_database_refuses_a_terminal_type_on_a_selector(app, world):
    selector = make_selector(app, world.a, world.a.circle_id)
    with app.app_context(), use_scope(world.a.scope):
        db.session.get(Unique, selector).terminal_type = TerminalType.SIP_PHONE
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
    assert selectors_state(app, world.a)[0][3] is None


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"extension": ""}, "Enter an extension."),
        ({"extension": "abc"}, "Enter an extension of 3 digits from 200 to 899."),
        ({"extension": "199"}, "Enter an extension of 3 digits from 200 to 899."),
        ({"extension": "900"}, "Enter an extension of 3 digits from 200 to 899."),
        ({"extension": "２６００"}, "Enter an extension of 3 digits from 200 to 899."),
        ({"extension": "201"}, "Extension 201 is already used by 受付."),
        ({"extension": "300"}, "Extension 300 is already used by 会議室."),
        ({"extension": "400"}, "Extension 400 is already used by the ring group 代表."),
        ({"name": ""}, "Enter a name."),
        ({"name": "名" * 81}, "Use at most 80 characters."),
        ({"name": "a\tb"}, "Use plain text"),
        ({"phone_number_id": ""}, "Choose the number the called party sees."),
        ({"phone_number_id": "abc"}, "Choose one of this circle's numbers."),
        ({"phone_number_id": "0"}, "Choose one of this circle's numbers."),
        ({"phone_number_id": "1e3"}, "Choose one of this circle's numbers."),
        ({"phone_number_id": "9" * 40}, "Choose one of this circle's numbers."),
    ],
)
def test_bad_input_is_refused_with_a_message(app, world, tree, values, message):
    client, base = tree
    give_option(app, world.a)
    response = create(app, world, client, base, **values)
    assert response.status_code == 422
    body = text(response)
    assert message in body
    assert "Nothing was saved" in body
    assert selectors_state(app, world.a) == []


def test_numbers_of_other_circles_are_refused(app, world, tree):
    """Another circle of the same account, and another reseller's circle."""
    client, base = tree
    give_option(app, world.a)
    _, sibling_number = sibling_circle(app, world.a)
    for number in (sibling_number, number_ids(app, world.b)[0]):
        response = create(app, world, client, base, phone_number_id=str(number))
        assert response.status_code == 422
        assert "Choose one of this circle's numbers." in text(response)
    assert selectors_state(app, world.a) == []


def test_one_selector_per_number(app, world, tree):
    client, base = tree
    give_option(app, world.a)
    first = new_selector_id(create(app, world, client, base, name="第一"))
    before = selectors_state(app, world.a)
    response = create(app, world, client, base, name="第二", extension="261")
    assert response.status_code == 422
    assert "The selector 第一 already presents 03-1234-5678" in text(response)
    assert selectors_state(app, world.a) == before
    assert (
        client.post(
            f"{base}/outbound-selectors/{first}", selector_form(app, world.a, name="第一")
        ).status_code
        == 302
    )


def test_extension_taken_by_a_conference_room_is_refused(app, world, portal):
    """Selectors and rooms share the circle's extensions."""
    give_option(app, world.a)
    response = create(app, world, portal, "/portal", extension="300")
    assert response.status_code == 422


def test_missing_csrf_token_is_refused(app, world, tree):
    client, base = tree
    give_option(app, world.a)
    response = client.post(
        f"{base}/outbound-selectors/new", selector_form(app, world.a), csrf=False
    )
    assert response.status_code == 400
    assert selectors_state(app, world.a) == []


# -- who may see and change what (R20) -------------------------------------------------------


def test_support_staff_see_but_cannot_change(app, world, browser, clock):
    give_option(app, world.a)
    selector = make_selector(app, world.a, world.a.circle_id)
    support = english(browser(world.a.host))
    support.login_staff(world.a.staff["support"], PASSWORD)
    base = f"/staff/circles/{world.a.circle_id}"
    url = f"{base}/outbound-selectors/{selector}"
    page = support.get(url)
    assert page.status_code == 200 and "Save changes" not in text(page)
    before = selectors_state(app, world.a)
    assert create(app, world, support, base).status_code == 403
    assert support.post(url, selector_form(app, world.a, name="x")).status_code == 403
    assert support.post(f"{url}/delete", {}, token_from=url).status_code == 403
    assert selectors_state(app, world.a) == before


def test_staff_of_another_reseller_get_404(app, world, browser, clock):
    give_option(app, world.b)
    selector = make_selector(app, world.b, world.b.circle_id)
    staff = english(browser(world.a.host))
    staff.login_staff(world.a.staff["admin"], PASSWORD)
    base = f"/staff/circles/{world.b.circle_id}"
    token = f"/staff/circles/{world.a.circle_id}/outbound-selectors"
    before = selectors_state(app, world.b)
    assert staff.get(f"{base}/outbound-selectors").status_code == 404
    assert staff.get(f"{base}/outbound-selectors/{selector}").status_code == 404
    form = {"name": "x", "extension": "270", "phone_number_id": str(number_ids(app, world.b)[0])}
    assert staff.post(f"{base}/outbound-selectors/new", form, token_from=token).status_code == 404
    url = f"{base}/outbound-selectors/{selector}"
    assert staff.post(url, form, token_from=token).status_code == 404
    assert staff.post(f"{url}/delete", {}, token_from=token).status_code == 404
    assert selectors_state(app, world.b) == before


def test_a_selector_of_another_circle_is_not_found(app, world, browser, clock):
    """Circle login, and staff naming their own circle with another circle's selector."""
    give_option(app, world.a)
    sibling_id, _ = sibling_circle(app, world.a)
    others = [
        make_selector(app, world.a, world.a.other_circle_id),
        make_selector(app, world.a, sibling_id),
        make_selector(app, world.b, world.b.circle_id),
    ]
    circle = english(browser(world.a.host))
    circle.login_circle(world.a.circle_login, PASSWORD)
    staff = english(browser(world.a.host))
    staff.login_staff(world.a.staff["admin"], PASSWORD)
    before = [selectors_state(app, world.a, c) for c in (world.a.other_circle_id, sibling_id)]
    for client, base in ((circle, "/portal"), (staff, f"/staff/circles/{world.a.circle_id}")):
        token = f"{base}/outbound-selectors"
        for selector in others:
            url = f"{base}/outbound-selectors/{selector}"
            assert client.get(url).status_code == 404
            form = selector_form(app, world.a, extension="280")
            assert client.post(url, form, token_from=token).status_code == 404
            assert client.post(f"{url}/delete", {}, token_from=token).status_code == 404
    assert [
        selectors_state(app, world.a, c) for c in (world.a.other_circle_id, sibling_id)
    ] == before
