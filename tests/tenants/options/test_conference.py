"""R3 conference rooms: the settings pages in both trees, their rules and their isolation."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import circle_scope, use_scope
from tenants.models import Account, Circle, CirclePhoneNumber, Unique, UniqueKind
from tenants.options import conference
from tenants.options.models import ConferenceMember, ConferenceRoom, OptionKind
from tenants.services import provisioning as p
from tests import option_helpers
from tests.factories import PASSWORD, in_circle
from tests.option_helpers import english

AFTER_END = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 1 Dec 2026 12:00 JST
KIND = OptionKind.CONFERENCE_ROOM
NOT_CONTRACTED = "Conference room is not contracted for this circle."


# -- helpers --------------------------------------------------------------------------------


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


# Rooms bought by default: one for the factory's room (300 会議室), one to create (R3).
ROOMS = 2


def give_option(app, tenant, quantity=ROOMS, circle_id=None, ends_on=None):
    option_helpers.give_option(app, tenant, KIND, quantity, circle_id=circle_id, ends_on=ends_on)


def number_ids(app, tenant, circle_id=None):
    with app.app_context(), use_scope(tenant.scope):
        return db.session.scalars(
            select(CirclePhoneNumber.id)
            .where(CirclePhoneNumber.circle_id == (circle_id or tenant.circle_id))
            .order_by(CirclePhoneNumber.id)
        ).all()


def phone_ids(app, tenant, circle_id=None):
    with app.app_context(), use_scope(tenant.scope):
        return db.session.scalars(
            select(Unique.id)
            .where(
                Unique.circle_id == (circle_id or tenant.circle_id),
                Unique.kind == UniqueKind.PHONE,
            )
            .order_by(Unique.extension)
        ).all()


def add_phones(app, tenant, *extensions, circle_id=None):
    with in_circle(app, tenant, circle_id or tenant.circle_id) as circle:
        ids = [p.create_unique(circle, extension=e, display_name=f"内線{e}").id for e in extensions]
        db.session.commit()
        return ids


def sibling_circle(app, tenant):
    """Another circle of the same customer account, with a number and a phone."""
    with app.app_context(), use_scope(tenant.scope):
        account = db.session.get(Account, tenant.account_id)
        circle = p.create_circle(
            account,
            name="sibling",
            login_id=f"{tenant.slug}-sibling",
            password=PASSWORD,
            phone_numbers=("06-6123-4567",),
        )
        with circle_scope(circle.reseller_id, circle.account_id, circle.id):
            phone = p.create_unique(circle, extension="210", display_name="sibling phone")
        db.session.commit()
        return circle.id, circle.phone_numbers[0].id, phone.id


def make_room(app, tenant, circle_id, extension="350", name="other room"):
    with in_circle(app, tenant, circle_id) as circle:
        unique = p.create_unique(
            circle, extension=extension, display_name=name, kind=UniqueKind.CONFERENCE_ROOM
        )
        db.session.add(
            ConferenceRoom(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                unique_id=unique.id,
            )
        )
        db.session.commit()
        return unique.id


def rooms_state(app, tenant, circle_id=None):
    """Every room unique of the circle with its settings: what must not change."""
    with app.app_context(), use_scope(tenant.scope):
        rows = db.session.execute(
            select(Unique, ConferenceRoom)
            .outerjoin(ConferenceRoom, ConferenceRoom.unique_id == Unique.id)
            .where(
                Unique.circle_id == (circle_id or tenant.circle_id),
                Unique.kind == UniqueKind.CONFERENCE_ROOM,
            )
            .order_by(Unique.id)
        ).all()
        state = []
        for unique, room in rows:
            members = (
                sorted(
                    db.session.scalars(
                        select(ConferenceMember.unique_id).where(
                            ConferenceMember.room_id == room.id
                        )
                    ).all()
                )
                if room
                else []
            )
            state.append(
                (
                    unique.id,
                    unique.display_name,
                    unique.extension,
                    unique.terminal_type,
                    room and room.phone_number_id,
                    room and room.entry_password,
                    room and room.broadcast,
                    members,
                )
            )
        return state


def room_form(**values):
    form = {
        "name": "営業会議",
        "extension": "250",
        "phone_number_id": "",
        "new_pin": "",
        "broadcast": "",
    }
    form.update(values)
    return form


def create(client, base, **values):
    return client.post(f"{base}/conference-rooms/new", room_form(**values))


def new_room_id(response):
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


# -- the contract ----------------------------------------------------------------------------


def test_without_the_option_the_page_says_so_and_offers_to_buy_it(app, world, tree):
    client, base = tree
    page = client.get(f"{base}/conference-rooms")
    assert page.status_code == 200
    body = text(page)
    assert NOT_CONTRACTED in body
    assert f'href="{base}/options"' in body
    new = client.get(f"{base}/conference-rooms/new")
    assert new.status_code == 200
    assert NOT_CONTRACTED in text(new) and 'name="name"' not in text(new)
    response = create(client, base)
    assert response.status_code == 409
    assert NOT_CONTRACTED in text(response)
    assert [r[2] for r in rooms_state(app, world.a)] == ["300"]  # the factory's room only


def test_pending_cancellation_keeps_the_rooms_usable_until_the_end_date(app, world, tree):
    """The rooms held can be changed until the end date; no new room takes a room
    whose cancellation is pending (R3, R12)."""
    client, base = tree
    give_option(app, world.a, ends_on=date(2026, 11, 30))
    page = text(client.get(f"{base}/conference-rooms"))
    assert (
        "The cancellation of this option is pending: "
        "rooms can be used and changed until 2026-11-30."
    ) in page
    room = rooms_state(app, world.a)[0][0]
    changed = client.post(f"{base}/conference-rooms/{room}", room_form(extension="300"))
    assert changed.status_code == 302
    before = rooms_state(app, world.a)
    refused = create(client, base)
    assert refused.status_code == 422
    assert (
        "This circle has 1 conference room(s) and may have 0 (one per room bought and not "
        "being cancelled). Buy another room on the options page, or delete one, to add a "
        "new room."
    ) in text(refused)
    assert rooms_state(app, world.a) == before


def test_after_the_end_date_the_option_is_not_contracted(app, world, browser, clock):
    give_option(app, world.a, ends_on=date(2026, 11, 30))
    clock.move_to(AFTER_END)
    client = english(browser(world.a.host))
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    body = text(client.get("/portal/conference-rooms"))
    assert NOT_CONTRACTED in body
    assert 'href="/portal/options"' in body
    room = rooms_state(app, world.a)[0][0]
    assert NOT_CONTRACTED in text(client.get(f"/portal/conference-rooms/{room}"))
    before = rooms_state(app, world.a)
    for response in (
        create(client, "/portal"),
        client.post(
            f"/portal/conference-rooms/{room}", room_form(extension="300"), token_from="/portal/"
        ),
        client.post(f"/portal/conference-rooms/{room}/delete", {}, token_from="/portal/"),
    ):
        assert response.status_code == 409
        assert NOT_CONTRACTED in text(response)
    assert rooms_state(app, world.a) == before


# -- creating and editing --------------------------------------------------------------------


def test_create_a_room_with_every_setting(app, world, tree):
    client, base = tree
    give_option(app, world.a)
    number = number_ids(app, world.a)[0]
    phones = phone_ids(app, world.a)
    response = create(
        client,
        base,
        name=" 営業会議 ",
        extension="２５０",
        phone_number_id=str(number),
        new_pin="１２３４",
        broadcast="1",
        members=[str(u) for u in phones],
    )
    room_id = new_room_id(response)
    assert response.headers["Location"] == f"{base}/conference-rooms/{room_id}"
    state = [s for s in rooms_state(app, world.a) if s[0] == room_id]
    assert state == [(room_id, "営業会議", "250", None, number, "1234", True, sorted(phones))]
    page = text(client.get(f"{base}/conference-rooms/{room_id}"))
    assert "03-1234-5678" in page
    assert "••••" in page
    assert "1234" not in page.replace("03-1234-5678", "")  # the PIN is never shown back
    listing = text(client.get(f"{base}/conference-rooms"))
    assert "営業会議" in listing and "03-1234-5678" in listing


def test_every_room_takes_five_participants_however_many_rooms_are_bought(app, world, portal):
    give_option(app, world.a, quantity=3)
    assert "Each room takes up to 5 participants at once (5 lines)." in text(
        portal.get("/portal/conference-rooms")
    )
    assert "Up to 5 participants (5 lines) from extensions and from outside." in text(
        portal.get("/portal/conference-rooms/new")
    )


# -- as many rooms as bought (R3) ---------------------------------------------------------------

FULL = (
    "This circle has {rooms} conference room(s) and may have {n} (one per room bought and "
    "not being cancelled). Buy another room on the options page, or delete one, to add a "
    "new room."
)
FULL_NOTICE = (
    "Every room bought is set up: buy another room on the options page, or delete one, "
    "to add a new room."
)


def test_a_circle_that_bought_two_rooms_cannot_create_a_third(app, world, browser, clock):
    """The issue's case, on a circle with no room yet: two bought, two made, the third
    refused with nothing changed."""
    give_option(app, world.a, quantity=2, circle_id=world.a.other_circle_id)
    client = english(browser(world.a.host))
    assert client.login_staff(world.a.staff["admin"], PASSWORD).status_code == 302
    base = f"/staff/circles/{world.a.other_circle_id}"
    new_room_id(create(client, base, name="第一", extension="251"))
    new_room_id(create(client, base, name="第二", extension="252"))
    before = rooms_state(app, world.a, circle_id=world.a.other_circle_id)
    refused = create(client, base, name="第三", extension="253")
    assert refused.status_code == 422
    assert FULL.format(rooms=2, n=2) in text(refused)
    assert rooms_state(app, world.a, circle_id=world.a.other_circle_id) == before
    listing = text(client.get(f"{base}/conference-rooms"))
    assert "Rooms: 2 of 2 bought." in listing
    assert FULL_NOTICE in listing
    assert f'href="{base}/conference-rooms/new"' not in listing


def test_the_factory_room_counts_and_buying_one_more_allows_one_more(app, world, portal):
    give_option(app, world.a, quantity=1)  # the factory's room 300 takes it
    assert FULL_NOTICE in text(portal.get("/portal/conference-rooms/new"))
    refused = create(portal, "/portal")
    assert refused.status_code == 422
    assert FULL.format(rooms=1, n=1) in text(refused)
    give_option(app, world.a, quantity=1)
    assert "Rooms: 1 of 2 bought." in text(portal.get("/portal/conference-rooms"))
    new_room_id(create(portal, "/portal"))


def test_rooms_whose_cancellation_is_pending_are_not_counted(app, world, portal):
    give_option(app, world.a, quantity=1, ends_on=date(2026, 11, 30))
    give_option(app, world.a, quantity=2)
    page = text(portal.get("/portal/conference-rooms"))
    assert "1 room(s) bought end on 2026-11-30." in page
    assert "Rooms: 1 of 2 bought." in page
    new_room_id(create(portal, "/portal"))
    refused = create(portal, "/portal", extension="251")
    assert refused.status_code == 422
    assert FULL.format(rooms=2, n=2) in text(refused)


def test_a_full_circle_still_changes_and_deletes_its_rooms(app, world, portal):
    give_option(app, world.a, quantity=1)
    room = rooms_state(app, world.a)[0][0]
    saved = portal.post(f"/portal/conference-rooms/{room}", room_form(extension="300"))
    assert saved.status_code == 302
    deleted = portal.post(f"/portal/conference-rooms/{room}/delete", {})
    assert deleted.status_code == 302
    assert rooms_state(app, world.a) == []
    new_room_id(create(portal, "/portal"))


def test_the_room_count_service_refuses_a_room_past_the_rooms_bought(app, world):
    give_option(app, world.a, quantity=1)
    t = world.a
    with (
        app.test_request_context(),
        force_locale("en"),
        circle_scope(t.reseller_id, t.account_id, t.circle_id),
    ):
        circle = db.session.get(Circle, world.a.circle_id)
        outcome = conference.save_room(
            circle, None, conference.RoomInput(name="新規", extension="251"), date(2026, 11, 10)
        )
        assert outcome.errors == {"rooms": [FULL.format(rooms=1, n=1)]}
        assert conference.room_count(circle, date(2026, 11, 10)) == conference.RoomCount(1, 1)


def test_menu_lists_the_conference_rooms(app, world, portal):
    page = portal.get("/portal/options").get_data(as_text=True)
    assert 'href="/portal/conference-rooms"' in page


def test_edit_keeps_its_own_extension_and_an_empty_pin_keeps_the_pin(app, world, tree):
    client, base = tree
    give_option(app, world.a)
    room_id = new_room_id(create(client, base, new_pin="4321"))
    response = client.post(
        f"{base}/conference-rooms/{room_id}", room_form(name="改名", extension="250")
    )
    assert response.status_code == 302
    (state,) = [s for s in rooms_state(app, world.a) if s[0] == room_id]
    assert state[1:3] == ("改名", "250")
    assert state[5] == "4321"


def test_pin_can_be_changed_and_removed(app, world, portal):
    give_option(app, world.a)
    room_id = new_room_id(create(portal, "/portal", new_pin="4321"))
    url = f"/portal/conference-rooms/{room_id}"
    assert portal.post(url, room_form(new_pin="87654321")).status_code == 302
    assert [s[5] for s in rooms_state(app, world.a) if s[0] == room_id] == ["87654321"]
    assert portal.post(url, room_form(clear_pin="1")).status_code == 302
    assert [s[5] for s in rooms_state(app, world.a) if s[0] == room_id] == [None]
    assert "No PIN" in text(portal.get(url))


def test_the_pin_is_redacted_in_the_audit_log(app, world, portal):
    give_option(app, world.a)
    new_room_id(create(portal, "/portal", new_pin="9876"))
    with app.app_context(), use_scope(world.a.scope):
        rows = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "conference.create")
        ).all()
    assert {row.object_type for row in rows} >= {"unique_entry", "conference_room"}
    assert "9876" not in repr([(row.before, row.after) for row in rows])


def test_a_room_unique_without_settings_is_listed_and_gets_them_on_save(app, world, portal):
    give_option(app, world.a)
    factory_room = rooms_state(app, world.a)[0]
    assert factory_room[2] == "300" and factory_room[4] is None
    assert "会議室" in text(portal.get("/portal/conference-rooms"))
    url = f"/portal/conference-rooms/{factory_room[0]}"
    assert (
        portal.post(url, room_form(name="会議室", extension="300", new_pin="1111")).status_code
        == 302
    )
    assert rooms_state(app, world.a)[0][5] == "1111"


def test_delete_frees_the_extension(app, world, tree):
    client, base = tree
    give_option(app, world.a)
    room_id = new_room_id(create(client, base))
    response = client.post(
        f"{base}/conference-rooms/{room_id}/delete", {}, token_from=f"{base}/conference-rooms"
    )
    assert response.status_code == 302
    assert room_id not in [s[0] for s in rooms_state(app, world.a)]
    assert create(client, base).status_code == 302  # 250 is free again


def test_cancel_returns_the_saved_state(app, world, tree):
    """R18: after a refused edit, "cancel" (a link to the page) shows the saved values."""
    client, base = tree
    give_option(app, world.a)
    room_id = new_room_id(create(client, base, name="保存済み"))
    url = f"{base}/conference-rooms/{room_id}"
    refused = client.post(url, room_form(name="編集中", extension="abc"))
    assert refused.status_code == 422
    assert 'value="編集中"' in text(refused)
    assert f'class="button secondary" href="{url}"' in refused.get_data(as_text=True)
    saved = text(client.get(url))
    assert 'value="保存済み"' in saved and 'value="250"' in saved
    assert "編集中" not in saved
    new_page = client.get(f"{base}/conference-rooms/new").get_data(as_text=True)
    assert f'class="button secondary" href="{base}/conference-rooms"' in new_page


# -- bad input: a clear message, nothing changes, never a 500 -------------------------------


@pytest.mark.parametrize(
    ("extension", "message"),
    [
        ("", "Enter an extension."),
        ("abc", "Enter an extension of 3 digits from 200 to 899."),
        ("199", "Enter an extension of 3 digits from 200 to 899."),
        ("900", "Enter an extension of 3 digits from 200 to 899."),
        ("2500", "Enter an extension of 3 digits from 200 to 899."),
        ("25", "Enter an extension of 3 digits from 200 to 899."),
        ("٢٥٠", "Enter an extension of 3 digits from 200 to 899."),  # not ASCII digits after NFKC
        ("25O", "Enter an extension of 3 digits from 200 to 899."),
        ("201", "Extension 201 is already used by 受付."),
        ("３００", "Extension 300 is already used by 会議室."),
        ("400", "Extension 400 is already used by the ring group 代表."),
    ],
)
def test_bad_or_taken_extensions_are_refused(app, world, tree, extension, message):
    client, base = tree
    give_option(app, world.a)
    before = rooms_state(app, world.a)
    response = create(client, base, extension=extension)
    assert response.status_code == 422
    assert message in text(response)
    assert "Nothing was saved" in text(response)
    assert rooms_state(app, world.a) == before


@pytest.mark.parametrize("pin", ["12a4", "123", "123456789", "12 34", "-1234", "１２３"])
def test_bad_pins_are_refused(app, world, portal, pin):
    give_option(app, world.a)
    room_id = new_room_id(create(portal, "/portal", new_pin="1234"))
    before = rooms_state(app, world.a)
    response = portal.post(f"/portal/conference-rooms/{room_id}", room_form(new_pin=pin))
    assert response.status_code == 422
    assert "The PIN must be 4 to 8 digits." in text(response)
    assert f'value="{pin}"' not in text(response)  # a refused PIN is not shown back either
    assert rooms_state(app, world.a) == before


def test_new_pin_and_remove_pin_together_are_refused(app, world, portal):
    give_option(app, world.a)
    room_id = new_room_id(create(portal, "/portal", new_pin="1234"))
    response = portal.post(
        f"/portal/conference-rooms/{room_id}", room_form(new_pin="5678", clear_pin="1")
    )
    assert response.status_code == 422
    assert "not both" in text(response)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name."),
        ("   ", "Enter a name."),
        ("会" * 81, "Use at most 80 characters."),
        ("a\nb", "Use plain text"),
        ("a\u202eb", "Use plain text"),
    ],
)
def test_bad_names_are_refused(app, world, portal, name, message):
    give_option(app, world.a)
    before = rooms_state(app, world.a)
    response = create(portal, "/portal", name=name)
    assert response.status_code == 422
    assert message in text(response)
    assert rooms_state(app, world.a) == before


def test_a_name_of_80_characters_is_accepted(app, world, portal):
    give_option(app, world.a)
    assert create(portal, "/portal", name="会" * 80).status_code == 302


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone_number_id", "abc", "Choose one of this circle's numbers"),
        ("phone_number_id", "-1", "Choose one of this circle's numbers"),
        ("phone_number_id", "99999999999999999999", "Choose one of this circle's numbers"),
        ("members", "x", "Tick members among this circle's phones only."),
        ("members", "1.5", "Tick members among this circle's phones only."),
        ("broadcast", "maybe", "Tick the box or leave it empty."),
        ("clear_pin", "maybe", "Tick the box or leave it empty."),
    ],
)
def test_wrong_types_are_refused(app, world, tree, field, value, message):
    client, base = tree
    give_option(app, world.a)
    before = rooms_state(app, world.a)
    response = create(client, base, **{field: value})
    assert response.status_code == 422
    assert message in text(response)
    assert rooms_state(app, world.a) == before


def test_numbers_and_members_of_other_circles_are_refused(app, world, tree):
    """Another circle of the same account, and another reseller's circle."""
    client, base = tree
    give_option(app, world.a)
    _, sibling_number, sibling_phone = sibling_circle(app, world.a)
    foreign_number = number_ids(app, world.b)[0]
    foreign_phone = phone_ids(app, world.b)[0]
    own_phone = phone_ids(app, world.a)[0]
    before = rooms_state(app, world.a)
    for number in (sibling_number, foreign_number):
        response = create(client, base, phone_number_id=str(number))
        assert response.status_code == 422
        assert "Choose one of this circle's numbers" in text(response)
    for phone in (sibling_phone, foreign_phone):
        response = create(client, base, broadcast="1", members=[str(own_phone), str(phone)])
        assert response.status_code == 422
        assert "Tick members among this circle's phones only." in text(response)
    assert rooms_state(app, world.a) == before


def test_only_phones_can_be_members(app, world, portal):
    give_option(app, world.a)
    factory_room = rooms_state(app, world.a)[0][0]
    response = create(portal, "/portal", broadcast="1", members=[str(factory_room)])
    assert response.status_code == 422


def test_a_number_leads_to_one_room_only(app, world, tree):
    client, base = tree
    give_option(app, world.a, quantity=3)
    number = str(number_ids(app, world.a)[0])
    first = new_room_id(create(client, base, name="第一", phone_number_id=number))
    before = rooms_state(app, world.a)
    response = create(client, base, name="第二", extension="251", phone_number_id=number)
    assert response.status_code == 422
    assert "Calls to 03-1234-5678 already go to the room 第一" in text(response)
    assert rooms_state(app, world.a) == before
    # The room that has it may save it again.
    assert (
        client.post(
            f"{base}/conference-rooms/{first}", room_form(name="第一", phone_number_id=number)
        ).status_code
        == 302
    )


def test_broadcast_needs_a_member(app, world, portal):
    give_option(app, world.a)
    response = create(portal, "/portal", broadcast="1")
    assert response.status_code == 422
    assert "Tick at least one phone" in text(response)


def test_broadcast_members_are_limited_by_the_five_lines_of_a_room(app, world, portal):
    give_option(app, world.a, quantity=4)  # more rooms bought: still 5 lines each
    phones = [*phone_ids(app, world.a), *add_phones(app, world.a, "203", "204", "205")]
    assert len(phones) == 5
    response = create(portal, "/portal", broadcast="1", members=[str(u) for u in phones])
    assert response.status_code == 422
    assert (
        "A room has 5 lines: a broadcast room can ring at most 4 members "
        "(the caller takes one line). Untick some."
    ) in text(response)
    assert (
        create(portal, "/portal", broadcast="1", members=[str(u) for u in phones[:4]]).status_code
        == 302
    )


def test_members_are_kept_when_broadcast_is_off(app, world, portal):
    give_option(app, world.a)
    phone = phone_ids(app, world.a)[0]
    room_id = new_room_id(create(portal, "/portal", broadcast="1", members=[str(phone)]))
    assert (
        portal.post(
            f"/portal/conference-rooms/{room_id}", room_form(members=[str(phone)])
        ).status_code
        == 302
    )
    (state,) = [s for s in rooms_state(app, world.a) if s[0] == room_id]
    assert state[6] is False and state[7] == [phone]


def test_missing_csrf_token_is_refused(app, world, tree):
    client, base = tree
    give_option(app, world.a)
    before = rooms_state(app, world.a)
    response = client.post(f"{base}/conference-rooms/new", room_form(), csrf=False)
    assert response.status_code == 400
    assert rooms_state(app, world.a) == before


# -- who may see and change what (R20) -------------------------------------------------------


def test_support_staff_see_but_cannot_change(app, world, browser, clock):
    give_option(app, world.a)
    room = rooms_state(app, world.a)[0][0]
    support = english(browser(world.a.host))
    support.login_staff(world.a.staff["support"], PASSWORD)
    base = f"/staff/circles/{world.a.circle_id}"
    page = support.get(f"{base}/conference-rooms/{room}")
    assert page.status_code == 200
    assert "Save changes" not in text(page)
    before = rooms_state(app, world.a)
    assert create(support, base).status_code == 403
    assert (
        support.post(f"{base}/conference-rooms/{room}", room_form(extension="300")).status_code
        == 403
    )
    assert (
        support.post(
            f"{base}/conference-rooms/{room}/delete", {}, token_from=f"{base}/conference-rooms"
        ).status_code
        == 403
    )
    assert rooms_state(app, world.a) == before


def test_staff_of_another_reseller_get_404(app, world, browser, clock):
    give_option(app, world.b)
    room = rooms_state(app, world.b)[0][0]
    staff = english(browser(world.a.host))
    staff.login_staff(world.a.staff["admin"], PASSWORD)
    base = f"/staff/circles/{world.b.circle_id}"
    before = rooms_state(app, world.b)
    assert staff.get(f"{base}/conference-rooms").status_code == 404
    assert staff.get(f"{base}/conference-rooms/{room}").status_code == 404
    token_page = f"/staff/circles/{world.a.circle_id}/conference-rooms"
    assert (
        staff.post(f"{base}/conference-rooms/new", room_form(), token_from=token_page).status_code
        == 404
    )
    assert (
        staff.post(f"{base}/conference-rooms/{room}/delete", {}, token_from=token_page).status_code
        == 404
    )
    assert rooms_state(app, world.b) == before


def test_a_room_of_another_circle_is_not_found(app, world, browser, clock):
    """Circle login, and staff naming their own circle with another circle's room."""
    give_option(app, world.a)
    give_option(app, world.a, circle_id=world.a.other_circle_id)
    other_room = make_room(app, world.a, world.a.other_circle_id)
    sibling_id, *_ = sibling_circle(app, world.a)
    sibling_room = make_room(app, world.a, sibling_id, extension="360")
    foreign_room = make_room(app, world.b, world.b.circle_id)
    circle = english(browser(world.a.host))
    circle.login_circle(world.a.circle_login, PASSWORD)
    staff = english(browser(world.a.host))
    staff.login_staff(world.a.staff["admin"], PASSWORD)
    manager = english(browser(world.a.host))
    manager.login_staff(world.a.staff["manager"], PASSWORD)
    before = [rooms_state(app, world.a, c) for c in (world.a.other_circle_id, sibling_id)]
    for client, base in (
        (circle, "/portal"),
        (staff, f"/staff/circles/{world.a.circle_id}"),
        (manager, f"/staff/circles/{world.a.circle_id}"),
    ):
        for room in (other_room, sibling_room, foreign_room):
            url = f"{base}/conference-rooms/{room}"
            assert client.get(url).status_code == 404
            token = f"{base}/conference-rooms"
            assert client.post(url, room_form(extension="370"), token_from=token).status_code == 404
            assert client.post(f"{url}/delete", {}, token_from=token).status_code == 404
    assert [rooms_state(app, world.a, c) for c in (world.a.other_circle_id, sibling_id)] == before


def test_account_manager_works_on_own_accounts_circle_only(app, world, browser, clock):
    give_option(app, world.a)
    manager = english(browser(world.a.host))
    manager.login_staff(world.a.staff["manager"], PASSWORD)
    base = f"/staff/circles/{world.a.circle_id}"
    assert create(manager, base).status_code == 302
    other = f"/staff/circles/{world.a.other_circle_id}/conference-rooms"
    assert manager.get(other).status_code == 404
