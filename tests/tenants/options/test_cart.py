"""R9–R12: the option list, and buying and cancelling through the cart."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import use_scope
from tenants.models import Unique, UniqueKind
from tenants.options.models import Cart, CartStatus, CircleOption, OptionKind
from tenants.services import provisioning
from tests.circle_pages import pin_locale, text
from tests.factories import PASSWORD, in_circle
from tests.option_helpers import give_option

# 30 Nov 2026 is the last day of the month: 21:59 JST = 12:59 UTC.
BEFORE_CUT_OFF = datetime(2026, 11, 30, 12, 59, 0, tzinfo=UTC)
AT_CUT_OFF = datetime(2026, 11, 30, 13, 0, 0, tzinfo=UTC)
MID_MONTH = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)


def options_of(app, tenant, circle_id=None):
    with app.app_context(), use_scope(tenant.scope):
        rows = db.session.scalars(
            select(CircleOption)
            .where(CircleOption.circle_id == (circle_id or tenant.circle_id))
            .order_by(CircleOption.id)
        ).all()
        return [(r.kind, r.quantity, r.ends_on) for r in rows]


def tick(app, tenant, column, *unique_ids):
    with app.app_context(), use_scope(tenant.scope):
        for unique_id in unique_ids:
            setattr(db.session.get(Unique, unique_id), column, True)
        db.session.commit()


def phone_uniques(app, tenant):
    with app.app_context(), use_scope(tenant.scope):
        return db.session.scalars(
            select(Unique.id)
            .where(Unique.circle_id == tenant.circle_id, Unique.kind == "phone")
            .order_by(Unique.extension)
        ).all()


@pytest.fixture
def clock(request):
    """Pins the clock before the login happens (a later jump would hit the idle time-out)."""
    marker = request.node.get_closest_marker("clock")
    moment = marker.args[0] if marker else MID_MONTH
    with time_machine.travel(moment, tick=False) as traveller:
        yield traveller


@pytest.fixture
def circle_client(clock, world, browser):
    client = pin_locale(browser(world.a.host))
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    return client


def cart_id(page_html: str) -> str:
    return re.search(r'name="cart_id" value="(\d+)"', page_html).group(1)


def test_option_list_shows_every_held_option(app, world, circle_client):
    give_option(app, world.a, OptionKind.IVR)
    give_option(app, world.a, OptionKind.MONITORING, quantity=3)
    page = circle_client.get("/portal/options").get_data(as_text=True)
    assert 'data-kind="ivr"' in page
    assert 'data-kind="monitoring"' in page
    assert 'data-kind="call_recording"' in page  # offered for purchase
    assert 'name="count_monitoring"' in page  # R10: monitoring cancelled by count
    assert 'name="tick_ivr"' in page  # R10: IVR cancelled by tick


@pytest.mark.clock(BEFORE_CUT_OFF)
def test_cancel_before_2200_on_last_day_ends_this_month(app, world, circle_client):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    response = circle_client.post(
        "/portal/options/cart", {"action": "cancel", "tick_call_recording": "1"}
    )
    assert response.status_code == 302
    review = circle_client.get("/portal/cart").get_data(as_text=True)
    assert "ends at the end of 2026-11-30" in review
    # The date as a Japanese reader sees it (R12: the portal shows it before confirming).
    pin_locale(circle_client, "ja")
    assert "2026年11月30日をもって終了" in circle_client.get("/portal/cart").get_data(as_text=True)
    # Nothing changes until confirmation.
    assert options_of(app, world.a) == [(OptionKind.CALL_RECORDING, 1, None)]
    response = circle_client.post("/portal/cart/confirm", {"cart_id": cart_id(review)})
    assert response.status_code == 302
    assert options_of(app, world.a) == [(OptionKind.CALL_RECORDING, 1, date(2026, 11, 30))]


@pytest.mark.clock(AT_CUT_OFF)
def test_cancel_at_2200_on_last_day_ends_next_month(app, world, circle_client):
    give_option(app, world.a, OptionKind.IVR)
    circle_client.post("/portal/options/cart", {"action": "cancel", "tick_ivr": "1"})
    review = circle_client.get("/portal/cart").get_data(as_text=True)
    assert "ends at the end of 2026-12-31" in review
    circle_client.post("/portal/cart/confirm", {"cart_id": cart_id(review)})
    assert options_of(app, world.a) == [(OptionKind.IVR, 1, date(2026, 12, 31))]


def test_purchase_through_cart_and_double_submit_changes_nothing_twice(app, world, circle_client):
    circle_client.post(
        "/portal/options/cart", {"action": "buy", "tick_ivr": "1", "count_monitoring": "2"}
    )
    review = circle_client.get("/portal/cart").get_data(as_text=True)
    cid = cart_id(review)
    assert circle_client.post("/portal/cart/confirm", {"cart_id": cid}).status_code == 302
    again = circle_client.post("/portal/cart/confirm", {"cart_id": cid}, follow_redirects=True)
    assert "This cart has already been confirmed; nothing was changed twice." in text(again)
    held = options_of(app, world.a)
    assert sorted((k.value, q) for k, q, _ in held) == [("ivr", 1), ("monitoring", 2)]
    assert all(start is None for *_, start in held)


def test_stale_cart_is_refused_and_changes_nothing(app, world, browser, circle_client):
    give_option(app, world.a, OptionKind.IVR)
    circle_client.post("/portal/options/cart", {"action": "cancel", "tick_ivr": "1"})
    stale_id = cart_id(circle_client.get("/portal/cart").get_data(as_text=True))
    # Meanwhile reseller staff buy recording for the same circle.
    staff = browser(world.a.host)
    staff.login_staff(world.a.staff["admin"], PASSWORD)
    base = f"/staff/circles/{world.a.circle_id}"
    staff.post(f"{base}/options/cart", {"action": "buy", "tick_call_recording": "1"})
    staff_cart = cart_id(staff.get(f"{base}/cart").get_data(as_text=True))
    assert staff.post(f"{base}/cart/confirm", {"cart_id": staff_cart}).status_code == 302
    before = options_of(app, world.a)
    response = circle_client.post(
        "/portal/cart/confirm", {"cart_id": stale_id}, follow_redirects=True
    )
    assert (
        "The options were changed by someone else after you opened this cart. "
        "Please review the cart again; nothing has been changed."
    ) in text(response)
    assert options_of(app, world.a) == before


def test_delete_tick_removes_lines_before_confirmation(app, world, circle_client):
    circle_client.post(
        "/portal/options/cart", {"action": "buy", "tick_ivr": "1", "tick_call_recording": "1"}
    )
    with app.app_context(), use_scope(world.a.scope):
        cart = db.session.scalars(select(Cart).where(Cart.status == CartStatus.OPEN)).one()
        ids = {line.kind: line.id for line in cart.lines}
    circle_client.post("/portal/cart/remove", {"delete": str(ids[OptionKind.IVR])})
    review = circle_client.get("/portal/cart").get_data(as_text=True)
    assert 'data-kind="ivr"' not in review
    circle_client.post("/portal/cart/confirm", {"cart_id": cart_id(review)})
    assert [k for k, *_ in options_of(app, world.a)] == [OptionKind.CALL_RECORDING]


def test_count_cancellation_never_below_ticked_uniques(app, world, circle_client):
    give_option(app, world.a, OptionKind.WHISPERING, quantity=3)
    phones = phone_uniques(app, world.a)
    tick(app, world.a, "whispering", *phones[:2])
    response = circle_client.post(
        "/portal/options/cart", {"action": "cancel", "count_whispering": "3"}
    )
    assert response.status_code == 422
    # Names the uniques to untick.
    assert (
        "2 uniques use Whispering licences but only 0 would remain. "
        "Untick 2 of them first: 201 受付, 202 携帯"
    ) in text(response)
    assert (
        circle_client.get("/portal/cart").get_data(as_text=True).count('data-kind="whispering"')
        == 0
    )
    # Cancelling one of three leaves two for the two ticked uniques: accepted, and split.
    assert (
        circle_client.post(
            "/portal/options/cart", {"action": "cancel", "count_whispering": "1"}
        ).status_code
        == 302
    )
    review = circle_client.get("/portal/cart").get_data(as_text=True)
    circle_client.post("/portal/cart/confirm", {"cart_id": cart_id(review)})
    assert sorted(options_of(app, world.a), key=lambda r: r[1]) == [
        (OptionKind.WHISPERING, 1, date(2026, 11, 30)),
        (OptionKind.WHISPERING, 2, None),
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "Enter a whole number."),
        ("-1", "Enter a whole number."),
        ("1.5", "Enter a whole number."),
        ("999999999999", "Enter a whole number."),
        ("101", "Enter a number from 1 to 100."),
    ],
)
def test_bad_counts_give_a_message_and_change_nothing(app, world, circle_client, raw, message):
    response = circle_client.post(
        "/portal/options/cart", {"action": "buy", "count_monitoring": raw}
    )
    assert response.status_code == 422
    assert f"Monitoring licences: {message}" in text(response)
    with app.app_context(), use_scope(world.a.scope):
        assert db.session.scalars(select(Cart)).all() == []


def test_buying_a_held_ticked_option_is_refused(app, world, circle_client):
    give_option(app, world.a, OptionKind.IVR)
    response = circle_client.post("/portal/options/cart", {"action": "buy", "tick_ivr": "1"})
    assert response.status_code == 422
    assert options_of(app, world.a) == [(OptionKind.IVR, 1, None)]


def test_missing_csrf_token_changes_nothing(app, world, circle_client):
    response = circle_client.post(
        "/portal/options/cart", {"action": "buy", "tick_ivr": "1"}, csrf=False
    )
    assert response.status_code == 400
    with app.app_context(), use_scope(world.a.scope):
        assert db.session.scalars(select(Cart)).all() == []


def test_support_staff_read_only(app, world, browser):
    give_option(app, world.a, OptionKind.IVR)
    support = browser(world.a.host)
    support.login_staff(world.a.staff["support"], PASSWORD)
    base = f"/staff/circles/{world.a.circle_id}"
    page = support.get(f"{base}/options")
    assert page.status_code == 200
    assert 'name="tick_ivr"' not in page.get_data(as_text=True)
    assert (
        support.post(f"{base}/options/cart", {"action": "cancel", "tick_ivr": "1"}).status_code
        == 403
    )


def test_staff_of_another_reseller_get_404(app, world, browser):
    staff = browser(world.a.host)
    staff.login_staff(world.a.staff["admin"], PASSWORD)
    base = f"/staff/circles/{world.b.circle_id}"
    assert staff.get(f"{base}/options").status_code == 404
    assert staff.post(f"{base}/options/cart", {"action": "buy", "tick_ivr": "1"}).status_code == 404
    assert options_of(app, world.b) == []


def test_account_manager_acts_only_on_own_accounts_circles(app, world, browser):
    manager = browser(world.a.host)
    manager.login_staff(world.a.staff["manager"], PASSWORD)
    assert manager.get(f"/staff/circles/{world.a.circle_id}/options").status_code == 200
    assert manager.get(f"/staff/circles/{world.a.other_circle_id}/options").status_code == 404


# -- conference rooms: bought and cancelled by count, never below the rooms set up (R3) -----


def add_room(app, tenant, extension, name):
    with in_circle(app, tenant, tenant.circle_id) as circle:
        provisioning.create_unique(
            circle, extension=extension, display_name=name, kind=UniqueKind.CONFERENCE_ROOM
        )
        db.session.commit()


def test_rooms_are_cancelled_by_count(app, world, circle_client):
    give_option(app, world.a, OptionKind.CONFERENCE_ROOM, quantity=3)
    page = text(circle_client.get("/portal/options"))
    assert 'name="count_conference_room"' in page
    assert "Rooms to cancel" in page
    assert 'name="tick_conference_room"' not in page


def test_cancelling_rooms_below_the_rooms_set_up_names_the_rooms(app, world, circle_client):
    give_option(app, world.a, OptionKind.CONFERENCE_ROOM, quantity=3)
    add_room(app, world.a, "351", "第二")  # with the factory's 300 会議室: two rooms
    response = circle_client.post(
        "/portal/options/cart", {"action": "cancel", "count_conference_room": "2"}
    )
    assert response.status_code == 422
    assert (
        "The circle has 2 conference rooms but only 1 would remain. "
        "Delete 1 of them first: 300 会議室, 351 第二"
    ) in text(response)
    assert 'data-kind="conference_room"' not in circle_client.get("/portal/cart").get_data(
        as_text=True
    )
    # One of three leaves two rooms for the two rooms set up: accepted, and split (R12).
    assert (
        circle_client.post(
            "/portal/options/cart", {"action": "cancel", "count_conference_room": "1"}
        ).status_code
        == 302
    )
    review = circle_client.get("/portal/cart").get_data(as_text=True)
    assert (
        circle_client.post("/portal/cart/confirm", {"cart_id": cart_id(review)}).status_code == 302
    )
    assert sorted(options_of(app, world.a), key=lambda r: r[1]) == [
        (OptionKind.CONFERENCE_ROOM, 1, date(2026, 11, 30)),
        (OptionKind.CONFERENCE_ROOM, 2, None),
    ]


def test_a_room_set_up_after_the_line_was_added_stops_the_confirmation(app, world, circle_client):
    give_option(app, world.a, OptionKind.CONFERENCE_ROOM, quantity=2)
    circle_client.post("/portal/options/cart", {"action": "cancel", "count_conference_room": "1"})
    review = circle_client.get("/portal/cart").get_data(as_text=True)
    assert 'data-kind="conference_room"' in review
    add_room(app, world.a, "351", "第二")
    before = options_of(app, world.a)
    response = circle_client.post(
        "/portal/cart/confirm", {"cart_id": cart_id(review)}, follow_redirects=True
    )
    assert (
        "The circle has 2 conference rooms but only 1 would remain. "
        "Delete 1 of them first: 300 会議室, 351 第二"
    ) in text(response)
    assert options_of(app, world.a) == before
