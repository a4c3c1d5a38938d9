"""R5 IVR: the rules (business hours, ring time, channels, destinations, routing loops,
the prompt), the pages in both trees, their isolation (R20), save / cancel (R18) and
the option's contract (usable while its cancellation is pending, not after)."""

from __future__ import annotations

import html
import io
import math
import re
import struct
import wave
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from pbx_platform import storage
from pbx_platform.db import db
from pbx_platform.japanese import TOKYO
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import Scope, TenantScopeError, circle_scope, use_scope
from tenants.models import Circle, Unique, UniqueKind
from tenants.options import audio
from tenants.options import ivr as rules
from tenants.options.models import CircleOption, Ivr, OptionKind
from tenants.services import provisioning as p
from tests.factories import PASSWORD, in_circle
from tests.option_helpers import english

AFTER_END = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Tue 1 Dec 2026, 12:00 JST
NOT_CONTRACTED = "IVR is not contracted for this circle."


# --- helpers -----------------------------------------------------------------------------


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def give_ivr_option(app, tenant, *, circle_id=None, ends_on=None):
    with in_circle(app, tenant, circle_id or tenant.circle_id) as circle:
        db.session.add(
            CircleOption(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                kind=OptionKind.IVR,
                starts_on=date(2026, 1, 1),
                ends_on=ends_on,
            )
        )
        db.session.commit()


def make_ivr(app, tenant, extension="500", name="Main", *, circle_id=None) -> tuple[int, int]:
    """(Ivr.id, its unique's id)."""
    with in_circle(app, tenant, circle_id or tenant.circle_id) as circle:
        ivr = rules.create_ivr(circle, extension, name)
        db.session.commit()
        return ivr.id, ivr.unique_id


def route(app, tenant, ivr_id, **changes):
    """Set an IVR's stored routes directly (the rules are checked by update_ivr)."""
    with app.app_context(), use_scope(tenant.scope):
        ivr = db.session.get(Ivr, ivr_id)
        for key, value in changes.items():
            setattr(ivr, key, value)
        db.session.commit()


def state(app, tenant, ivr_id) -> dict[str, Any]:
    with app.app_context(), use_scope(tenant.scope):
        ivr = db.session.get(Ivr, ivr_id)
        if ivr is None:
            return {}
        return {
            "extension": ivr.unique.extension,
            "name": ivr.unique.display_name,
            "hours": ivr.business_hours,
            "holidays": ivr.closed_on_holidays,
            "after_hours": ivr.after_hours,
            "answer": ivr.answer_after_seconds,
            "channels": ivr.channels,
            "digits": ivr.digit_map,
            "timeout": ivr.timeout_destination,
            "prompt": (
                storage.read_all(storage.get_store(), ivr.prompt_key) if ivr.prompt_key else None
            ),
            "source": ivr.prompt_source,
            "prompt_text": ivr.prompt_text,
        }


def ivr_ids(app, tenant, circle_id=None) -> list[int]:
    with app.app_context(), use_scope(tenant.scope):
        return list(
            db.session.scalars(
                select(Ivr.id).where(Ivr.circle_id == (circle_id or tenant.circle_id))
            )
        )


def unique_id(app, tenant, extension, circle_id=None) -> int:
    with app.app_context(), use_scope(tenant.scope):
        return db.session.scalars(
            select(Unique.id).where(
                Unique.circle_id == (circle_id or tenant.circle_id), Unique.extension == extension
            )
        ).one()


def add_phone(app, tenant, extension, circle_id=None) -> int:
    with in_circle(app, tenant, circle_id or tenant.circle_id) as circle:
        phone = p.create_unique(circle, extension=extension, display_name=f"内線{extension}")
        db.session.commit()
        return phone.id


def settings(**changes: str) -> dict[str, str]:
    """A complete, valid edit form; ``changes`` override or add fields."""
    form = {
        "extension": "500",
        "display_name": "Main",
        "answer_after_seconds": "5",
        "channels": "4",
        "after_hours": "hangup",
        "timeout": "hangup",
    }
    for day in rules.DAYS[:5]:
        form.update({f"hours_{day}_open": "1", f"hours_{day}_start": "09:00",
                     f"hours_{day}_end": "18:00"})  # fmt: skip
    form.update(changes)
    return form


def sine_wav(rate=44100, channels=2, seconds=1.0) -> bytes:
    frames = bytearray()
    for n in range(int(rate * seconds)):
        value = round(12000 * math.sin(2 * math.pi * 440 * n / rate))
        frames += struct.pack("<h", value) * channels
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(bytes(frames))
    return buffer.getvalue()


def upload(client, path, data: bytes, name="prompt.wav", *, csrf=True):
    """A multipart upload encoded in memory (the test client would spool a large body to
    a temporary file that it never closes)."""
    fields: dict[str, Any] = {"prompt": FileStorage(io.BytesIO(data), filename=name)}
    if csrf:
        fields["csrf_token"] = client.token(path.rsplit("/", 1)[0])
    stream, length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return client.client.post(
        path, base_url=client.base_url, input_stream=stream, content_length=length,
        content_type=f"multipart/form-data; boundary={boundary}",
    )  # fmt: skip


@pytest.fixture
def portal(app, world, browser, clock):
    give_ivr_option(app, world.a)
    client = english(browser(world.a.host))
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    return client


@pytest.fixture(params=["portal", "staff"])
def tree(request, app, world, browser, clock):
    """(client, base URL) for the circle login and for the reseller's admin."""
    give_ivr_option(app, world.a)
    client = english(browser(world.a.host))
    if request.param == "portal":
        assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
        return client, "/portal"
    assert client.login_staff(world.a.staff["admin"], PASSWORD).status_code == 302
    return client, f"/staff/circles/{world.a.circle_id}"


def login_staff(world, browser, role: str) -> Any:
    client = english(browser(world.a.host))
    assert client.login_staff(world.a.staff[role], PASSWORD).status_code == 302
    return client


# --- rules: business hours ---------------------------------------------------------------


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


def test_business_hours_are_japan_time_start_inclusive_end_exclusive(app, world):
    ivr = Ivr(business_hours={"tue": ["09:00", "18:00"], "sat": ["00:00", "24:00"]},
              closed_on_holidays=False)  # fmt: skip
    assert not rules.is_open(ivr, jst(2026, 11, 10, 8, 59))
    assert rules.is_open(ivr, jst(2026, 11, 10, 9, 0))
    assert rules.is_open(ivr, jst(2026, 11, 10, 17, 59))
    assert not rules.is_open(ivr, jst(2026, 11, 10, 18, 0))
    # 00:00 UTC on Tuesday is 09:00 JST.
    assert rules.is_open(ivr, datetime(2026, 11, 10, 0, 0, tzinfo=UTC))
    assert not rules.is_open(ivr, jst(2026, 11, 11, 12, 0))  # Wednesday: closed
    assert rules.is_open(ivr, jst(2026, 11, 14, 23, 59))  # Saturday until 24:00


def test_public_holidays_close_only_when_ticked(app, world):
    hours = {"mon": ["09:00", "18:00"]}
    holiday = jst(2026, 11, 23, 12, 0)  # 勤労感謝の日, a Monday
    assert rules.is_open(Ivr(business_hours=hours, closed_on_holidays=False), holiday)
    assert not rules.is_open(Ivr(business_hours=hours, closed_on_holidays=True), holiday)
    assert rules.is_open(Ivr(business_hours=hours, closed_on_holidays=True), jst(2026, 11, 16, 12))


# --- rules: routing loops ----------------------------------------------------------------


def routes(chosen=(), silent=(), exits=True) -> rules.Routes:
    return rules.Routes(frozenset(chosen), frozenset(silent), exits)


def test_ivrs_that_only_route_to_one_another_are_trapped():
    graph = {1: routes({2}, {2}, exits=False), 2: routes({1}, {1}, exits=False)}
    assert rules.trapped(graph) == [1, 2]


def test_a_key_loop_with_an_exit_is_not_trapped():
    # A: 1 → B; B: 1 → A, 2 → a unique; both time out to hang-up.
    graph = {1: routes({2}, (), exits=True), 2: routes({1}, (), exits=True)}
    assert rules.trapped(graph) == []
    assert rules.silent_cycle(graph) == []


def test_an_ivr_leading_only_into_a_trap_is_trapped_too():
    graph = {1: routes({2}, {2}, exits=False), 2: routes({3}, {3}, exits=False),
             3: routes({2}, {2}, exits=False), 4: routes({1}, (), exits=True)}  # fmt: skip
    assert rules.trapped(graph) == [1, 2, 3]


def test_time_out_routes_that_go_round_are_a_silent_cycle():
    graph = {1: routes({2}, {2}), 2: routes({3}, {3}), 3: routes({1}, {1})}
    assert rules.silent_cycle(graph) == [1, 2, 3, 1]
    assert rules.silent_cycle({1: routes({1}, {1})}) == [1, 1]
    assert rules.silent_cycle({1: routes({2}, {2}), 2: routes()}) == []


# --- rules: outside numbers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "e164"),
    [("03-1234-5678", "+81312345678"), ("０９０－１２３４－５６７８", "+819012345678"),
     ("+1 650-253-0000", "+16502530000")],
)  # fmt: skip
def test_outside_numbers_are_stored_in_e164(typed, e164):
    assert rules.outside_number(typed) == e164


@pytest.mark.parametrize("typed", ["", "110", "12", "abc", "03-1234-5678" + "9" * 30])
def test_invalid_outside_numbers_are_refused(typed):
    with pytest.raises(rules.IvrError, match="valid phone number"):
        rules.outside_number(typed)


# --- the list page and creating IVRs -----------------------------------------------------


def test_create_an_ivr_in_both_trees(app, world, tree):
    client, base = tree
    page = client.get(f"{base}/ivrs")
    assert page.status_code == 200
    assert "This circle has no IVR yet." in text(page)
    response = client.post(f"{base}/ivrs", {"extension": "５００", "display_name": "代表メニュー"})
    assert response.status_code == 302
    (ivr_id,) = ivr_ids(app, world.a)
    assert response.headers["Location"].endswith(f"{base}/ivrs/{ivr_id}")
    saved = state(app, world.a, ivr_id)
    assert saved["extension"] == "500" and saved["name"] == "代表メニュー"
    assert saved["timeout"] == {"type": "hangup"} and saved["after_hours"] == {"type": "hangup"}
    assert saved["hours"]["mon"] == ["09:00", "18:00"] and saved["hours"]["sun"] is None
    with app.app_context(), use_scope(world.a.scope):
        unique = db.session.scalars(select(Unique).where(Unique.extension == "500")).one()
        assert unique.kind == UniqueKind.IVR and unique.circle_id == world.a.circle_id
    listing = text(client.get(f"{base}/ivrs"))
    assert f'href="{base}/ivrs/{ivr_id}"' in listing
    assert f'href="{base}/ivrs"' in listing  # the menu entry, in the caller's own tree


@pytest.mark.parametrize(
    ("extension", "name", "message"),
    [
        ("99", "Main", "Enter an extension of 3 digits from 200 to 899."),
        ("abc", "Main", "Enter an extension of 3 digits from 200 to 899."),
        ("201", "Main", "Extension 201 is already used by 受付."),
        ("400", "Main", "Extension 400 is already used by the ring group 代表."),
        ("500", "", "Enter a name."),
        ("500", "x" * 81, "Use at most 80 characters."),
        ("500", "a\x00b", "Use plain text without line breaks or control characters."),
    ],
)
def test_create_refuses_bad_input_and_creates_nothing(app, world, portal, extension, name,
                                                      message):  # fmt: skip
    response = portal.post("/portal/ivrs", {"extension": extension, "display_name": name})
    assert response.status_code == 422
    assert message in text(response)
    assert ivr_ids(app, world.a) == []


# --- the edit page: save changes and cancel (R18) ----------------------------------------


def test_save_every_setting_and_show_it_back(app, world, tree):
    client, base = tree
    ivr_id, _ = make_ivr(app, world.a)
    _, sub_unique = make_ivr(app, world.a, "501", "Sub")
    room = unique_id(app, world.a, "300")
    form = settings(
        extension="５１０", display_name="受付メニュー", answer_after_seconds="６０",
        channels="30", closed_on_holidays="1", hours_sat_open="1", hours_sat_start="9:30",
        hours_sat_end="24:00", hours_fri_end="１７：００",
        after_hours="outside", after_hours_number="０３－１２３４－５６７８",
        digit_1=f"unique:{world.a.unique_id}", digit_2=f"ring_group:{world.a.ring_group_id}",
        digit_3=f"conference:{room}", digit_4=f"ivr:{sub_unique}", digit_star="hangup",
        digit_hash="outside", digit_hash_number="090-1111-2222",
        digit_0="", timeout=f"unique:{world.a.unique_id}",
    )  # fmt: skip
    response = client.post(f"{base}/ivrs/{ivr_id}", form)
    assert response.status_code == 302, text(response)
    saved = state(app, world.a, ivr_id)
    assert saved["extension"] == "510" and saved["name"] == "受付メニュー"
    assert saved["answer"] == 60 and saved["channels"] == 30 and saved["holidays"] is True
    assert saved["hours"] == {"mon": ["09:00", "18:00"], "tue": ["09:00", "18:00"],
                              "wed": ["09:00", "18:00"], "thu": ["09:00", "18:00"],
                              "fri": ["09:00", "17:00"], "sat": ["09:30", "24:00"], "sun": None}  # fmt: skip
    assert saved["after_hours"] == {"type": "outside", "number": "+81312345678"}
    assert saved["digits"] == {
        "1": {"type": "unique", "id": world.a.unique_id},
        "2": {"type": "ring_group", "id": world.a.ring_group_id},
        "3": {"type": "conference", "id": room},
        "4": {"type": "ivr", "id": sub_unique},
        "*": {"type": "hangup"},
        "#": {"type": "outside", "number": "+819011112222"},
    }
    assert saved["timeout"] == {"type": "unique", "id": world.a.unique_id}
    page = text(client.get(f"{base}/ivrs/{ivr_id}"))
    assert 'value="03-1234-5678"' in page and 'value="090-1111-2222"' in page  # national
    assert f'<option value="ivr:{sub_unique}" selected>' in page
    assert 'value="24:00"' in page
    with app.app_context(), use_scope(world.a.scope):
        actions = db.session.scalars(
            select(AuditLog.action).where(AuditLog.object_type == "ivr", AuditLog.object_id == ivr_id)
        ).all()  # fmt: skip
        assert "ivr.update" in actions


def test_cancel_returns_the_form_to_its_saved_state(app, world, portal):
    ivr_id, _ = make_ivr(app, world.a)
    assert portal.post(f"/portal/ivrs/{ivr_id}", settings(channels="7")).status_code == 302
    failed = text(portal.post(f"/portal/ivrs/{ivr_id}", settings(channels="9", display_name="")))
    assert 'value="9"' in failed  # what was typed is shown back with the error
    assert f'<a class="button secondary" href="/portal/ivrs/{ivr_id}" id="cancel">' in failed
    again = text(portal.get(f"/portal/ivrs/{ivr_id}"))  # "cancel"
    assert re.search(r'id="channels"[^>]*value="7"', again)
    assert 'value="Main"' in again
    assert state(app, world.a, ivr_id)["channels"] == 7


BAD_INPUT = [
    ({"channels": "abc"}, "Enter a whole number."),
    ({"channels": "1.5"}, "Enter a whole number."),
    ({"channels": "0"}, "Enter a number from 1 to 30."),
    ({"channels": "31"}, "Enter a number from 1 to 30."),
    ({"channels": "-1"}, "Enter a whole number."),
    ({"answer_after_seconds": "61"}, "Enter a number from 0 to 60."),
    ({"answer_after_seconds": ""}, "Enter a whole number."),
    ({"hours_mon_start": "25:00"}, "Enter the times as HH:MM"),
    ({"hours_mon_start": "9:60"}, "Enter the times as HH:MM"),
    ({"hours_mon_start": "nine"}, "Enter the times as HH:MM"),
    ({"hours_mon_start": "24:00"}, "Enter the times as HH:MM"),
    ({"hours_mon_end": "24:01"}, "Enter the times as HH:MM"),
    ({"hours_mon_start": "18:00", "hours_mon_end": "09:00"}, "opening time must be before"),
    ({"hours_mon_start": "09:00", "hours_mon_end": "09:00"}, "opening time must be before"),
    ({"digit_A": "hangup"}, "Unknown key “A”: only 0–9, * and # can be assigned."),
    ({"digit_1": "bogus"}, "Choose a destination from the list."),
    ({"digit_1": "unique:abc"}, "Choose a destination from the list."),
    ({"digit_1": "unique:99999999"}, "This destination does not exist in this circle."),
    ({"digit_1": "outside", "digit_1_number": "12"}, "Enter a valid phone number"),
    ({"digit_1": "outside", "digit_1_number": ""}, "Enter a valid phone number"),
    ({"timeout": ""}, "Choose a destination."),
    ({"after_hours": "ivr:"}, "Choose a destination from the list."),
    ({"extension": "201"}, "Extension 201 is already used by 受付."),
    ({"extension": "9000"}, "Enter an extension of 3 digits from 200 to 899."),
    ({"display_name": "  "}, "Enter a name."),
    ({"display_name": "Main\x00"}, "Use plain text without line breaks or control characters."),
    ({"extension": "５０\x00"}, "Enter an extension of 3 digits from 200 to 899."),
]


@pytest.mark.parametrize(("changes", "message"), BAD_INPUT)
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(
    app, world, portal, changes, message
):
    ivr_id, _ = make_ivr(app, world.a)
    before = state(app, world.a, ivr_id)
    response = portal.post(f"/portal/ivrs/{ivr_id}", settings(**{"channels": "9", **changes}))
    assert response.status_code == 422
    assert message in text(response)
    assert "Nothing was changed." in text(response)
    assert state(app, world.a, ivr_id) == before


def test_destinations_must_be_of_the_right_kind(app, world, portal):
    ivr_id, _ = make_ivr(app, world.a)
    room = unique_id(app, world.a, "300")
    before = state(app, world.a, ivr_id)
    for changes in (
        {"digit_1": f"conference:{world.a.unique_id}"},  # a phone is not a conference room
        {"digit_1": f"unique:{room}"},  # a conference room is not an extension
        {"digit_1": f"ivr:{world.a.unique_id}"},  # a phone is not an IVR
        {"digit_1": f"ring_group:{world.a.unique_id + 1000}"},
    ):
        response = portal.post(f"/portal/ivrs/{ivr_id}", settings(**changes))
        assert response.status_code == 422
        assert "This destination does not exist in this circle." in text(response)
    assert state(app, world.a, ivr_id) == before


def test_forged_ids_of_another_circle_are_never_stored(app, world, tree):
    client, base = tree
    ivr_id, _ = make_ivr(app, world.a)
    sibling_phone = add_phone(app, world.a, "210", circle_id=world.a.other_circle_id)
    give_ivr_option(app, world.a, circle_id=world.a.other_circle_id)
    _, sibling_ivr = make_ivr(app, world.a, "520", circle_id=world.a.other_circle_id)
    before = state(app, world.a, ivr_id)
    for forged in (
        f"unique:{sibling_phone}",  # the same reseller's other circle
        f"ivr:{sibling_ivr}",
        f"unique:{world.b.unique_id}",  # another reseller
        f"ring_group:{world.b.ring_group_id}",
    ):
        for field in ("digit_5", "timeout", "after_hours"):
            response = client.post(f"{base}/ivrs/{ivr_id}", settings(**{field: forged}))
            assert response.status_code == 422, (field, forged)
            assert "This destination does not exist in this circle." in text(response)
    assert state(app, world.a, ivr_id) == before


def test_a_destination_that_no_longer_exists_is_shown_as_such(app, world, portal):
    ivr_id, _ = make_ivr(app, world.a)
    route(app, world.a, ivr_id, digit_map={"7": {"type": "unique", "id": 987654}})
    page = text(portal.get(f"/portal/ivrs/{ivr_id}"))
    assert '<option value="unique:987654" selected>(no longer exists)</option>' in page


# --- routing loops through the pages -----------------------------------------------------


def test_a_key_loop_with_an_exit_is_accepted(app, world, portal):
    a_id, a_unique = make_ivr(app, world.a, "500", "A")
    b_id, b_unique = make_ivr(app, world.a, "501", "B")
    assert portal.post(f"/portal/ivrs/{a_id}",
                       settings(digit_1=f"ivr:{b_unique}")).status_code == 302  # fmt: skip
    response = portal.post(f"/portal/ivrs/{b_id}", settings(
        extension="501", display_name="B", digit_1=f"ivr:{a_unique}",
        digit_2=f"unique:{world.a.unique_id}"))  # fmt: skip
    assert response.status_code == 302
    assert state(app, world.a, b_id)["digits"]["1"] == {"type": "ivr", "id": a_unique}


def test_ivrs_routing_only_to_each_other_are_refused(app, world, portal):
    a_id, a_unique = make_ivr(app, world.a, "500", "A")
    b_id, b_unique = make_ivr(app, world.a, "501", "B")
    to_b = {"type": "ivr", "id": b_unique}
    route(app, world.a, a_id, digit_map={"1": to_b}, timeout_destination=to_b, after_hours=to_b)
    before = state(app, world.a, b_id)
    response = portal.post(f"/portal/ivrs/{b_id}", settings(
        extension="501", display_name="B", digit_1=f"ivr:{a_unique}", timeout=f"ivr:{a_unique}",
        after_hours=f"ivr:{a_unique}"))  # fmt: skip
    assert response.status_code == 422
    page = text(response)
    assert "Routing loop: IVRs 500, 501 only route to one another" in page
    assert state(app, world.a, b_id) == before


def test_time_outs_that_go_round_are_refused_even_with_key_exits(app, world, portal):
    a_id, a_unique = make_ivr(app, world.a, "500", "A")
    b_id, b_unique = make_ivr(app, world.a, "501", "B")
    route(app, world.a, a_id, timeout_destination={"type": "ivr", "id": b_unique},
          digit_map={"1": {"type": "unique", "id": world.a.unique_id}})  # fmt: skip
    response = portal.post(f"/portal/ivrs/{b_id}", settings(
        extension="501", display_name="B", timeout=f"ivr:{a_unique}",
        digit_2=f"unique:{world.a.unique_id}"))  # fmt: skip
    assert response.status_code == 422
    assert "a caller who presses no key would go round 500 → 501 → 500 forever" in text(response)


@pytest.mark.parametrize("field", ["timeout", "after_hours"])
def test_an_ivr_that_times_out_or_closes_into_itself_is_refused(app, world, portal, field):
    a_id, a_unique = make_ivr(app, world.a)
    response = portal.post(f"/portal/ivrs/{a_id}", settings(**{field: f"ivr:{a_unique}",
                                                             "digit_1": "hangup"}))  # fmt: skip
    assert response.status_code == 422
    assert "would go round 500 → 500 forever" in text(response)


def test_a_key_back_to_the_same_menu_is_accepted(app, world, portal):
    a_id, a_unique = make_ivr(app, world.a)
    response = portal.post(f"/portal/ivrs/{a_id}", settings(digit_9=f"ivr:{a_unique}"))
    assert response.status_code == 302


# --- deleting ----------------------------------------------------------------------------


def test_delete_an_ivr_and_refuse_while_another_routes_to_it(app, world, tree):
    client, base = tree
    a_id, a_unique = make_ivr(app, world.a, "500", "A")
    b_id, b_unique = make_ivr(app, world.a, "501", "B")
    route(app, world.a, a_id, digit_map={"1": {"type": "ivr", "id": b_unique}})
    refused = client.post(f"{base}/ivrs/{b_id}/delete")
    assert refused.status_code == 409
    assert "IVR 501 is a destination of IVR 500." in text(refused)
    assert sorted(ivr_ids(app, world.a)) == sorted([a_id, b_id])
    assert client.post(f"{base}/ivrs/{a_id}/delete").status_code == 302
    assert client.post(f"{base}/ivrs/{b_id}/delete").status_code == 302
    assert ivr_ids(app, world.a) == []
    with app.app_context(), use_scope(world.a.scope):
        assert db.session.get(Unique, a_unique) is None


# --- the prompt --------------------------------------------------------------------------


def read_wav(data: bytes) -> wave._wave_params:
    with wave.open(io.BytesIO(data), "rb") as reader:
        return reader.getparams()


def test_upload_a_wav_converted_to_telephony_and_played_back(app, world, tree):
    client, base = tree
    ivr_id, _ = make_ivr(app, world.a)
    response = upload(client, f"{base}/ivrs/{ivr_id}/prompt", sine_wav(44100, 2, 1.0))
    assert response.status_code == 302, text(response)
    saved = state(app, world.a, ivr_id)
    assert saved["source"] == "upload"
    params = read_wav(saved["prompt"])
    assert (params.nchannels, params.sampwidth, params.framerate, params.nframes) == (1, 2, 8000,
                                                                                      8000)  # fmt: skip
    page = text(client.get(f"{base}/ivrs/{ivr_id}"))
    assert f'<audio controls preload="none" src="{base}/ivrs/{ivr_id}/prompt.wav">' in page
    served = client.get(f"{base}/ivrs/{ivr_id}/prompt.wav")
    assert served.status_code == 200 and served.mimetype == "audio/wav"
    assert served.data == saved["prompt"]
    assert client.post(f"{base}/ivrs/{ivr_id}/prompt/delete").status_code == 302
    assert state(app, world.a, ivr_id)["prompt"] is None
    assert client.get(f"{base}/ivrs/{ivr_id}/prompt.wav").status_code == 404


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.wav",
         "This file is not a WAV audio file."),
        (b"just some text, not audio", "voice.wav", "This file is not a WAV audio file."),
        (sine_wav(8000, 1, 0.1) + bytes(audio.MAX_UPLOAD_BYTES), "big.wav",
         "The file is larger than 5 MB."),
        (b"", "empty.wav", "The file is empty."),
    ],
)  # fmt: skip
def test_bad_uploads_are_refused_and_nothing_changes(app, world, portal, data, name, message):
    ivr_id, _ = make_ivr(app, world.a)
    response = upload(portal, f"/portal/ivrs/{ivr_id}/prompt", data, name)
    assert response.status_code == 422
    assert message in text(response)
    assert state(app, world.a, ivr_id)["prompt"] is None


def test_an_upload_past_the_request_limit_gets_413(app, world, portal):
    ivr_id, _ = make_ivr(app, world.a)
    response = upload(portal, f"/portal/ivrs/{ivr_id}/prompt", bytes(9 * 1024 * 1024))
    assert response.status_code == 413
    assert state(app, world.a, ivr_id)["prompt"] is None


def test_no_file_chosen(app, world, portal):
    ivr_id, _ = make_ivr(app, world.a)
    response = portal.post(f"/portal/ivrs/{ivr_id}/prompt", {}, token_from=f"/portal/ivrs/{ivr_id}")
    assert response.status_code == 422
    assert "Choose a file to upload." in text(response)


def test_mp3_without_a_decoder_says_so(app, world, portal, monkeypatch):
    monkeypatch.setattr(audio, "mp3_decoder", lambda: None)
    ivr_id, _ = make_ivr(app, world.a)
    page = text(portal.get(f"/portal/ivrs/{ivr_id}"))
    assert "MP3 files cannot be used on this server (no decoder is installed)." in page
    response = upload(portal, f"/portal/ivrs/{ivr_id}/prompt",
                      b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(200), "song.mp3")  # fmt: skip
    assert response.status_code == 422
    assert "MP3 files cannot be converted on this server" in text(response)


def test_speech_prompt_from_text(app, world, portal):
    if audio.speech_engine() is None:
        import os

        if os.environ.get("CI") == "true":
            pytest.fail("espeak-ng is not installed; CI must install it")
        print("skipped: espeak-ng is not installed (apt-get install espeak-ng)")
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    ivr_id, _ = make_ivr(app, world.a)
    response = portal.post(f"/portal/ivrs/{ivr_id}/speech",
                           {"speech_text": "おでんわ ありがとう ございます"})  # fmt: skip
    assert response.status_code == 302, text(response)
    saved = state(app, world.a, ivr_id)
    assert saved["source"] == "speech" and saved["prompt_text"] == "おでんわ ありがとう ございます"
    params = read_wav(saved["prompt"])
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 8000)
    assert params.nframes > 4000


@pytest.mark.parametrize(
    ("typed", "message"),
    [("あ" * 201, "The text is longer than 200 characters."),
     ("営業時間外です", "The speech engine cannot read kanji."),
     ("   ", "Enter the text to speak.")],
)  # fmt: skip
def test_bad_speech_text_is_refused(app, world, portal, typed, message):
    ivr_id, _ = make_ivr(app, world.a)
    response = portal.post(f"/portal/ivrs/{ivr_id}/speech", {"speech_text": typed})
    assert response.status_code == 422
    assert message in text(response)
    assert state(app, world.a, ivr_id)["prompt"] is None


def test_without_a_speech_engine_the_page_says_so_and_refuses(app, world, portal, monkeypatch):
    monkeypatch.setattr(audio, "speech_engine", lambda: None)
    ivr_id, _ = make_ivr(app, world.a)
    page = text(portal.get(f"/portal/ivrs/{ivr_id}"))
    assert "Speech synthesis is not installed on this server" in page
    assert re.search(r'<textarea id="speech_text"[^>]* disabled>', page)
    response = portal.post(f"/portal/ivrs/{ivr_id}/speech", {"speech_text": "こんにちは"})
    assert response.status_code == 422
    assert "Speech synthesis is not installed on this server." in text(response)


# --- CSRF --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/portal/ivrs", "/portal/ivrs/{id}", "/portal/ivrs/{id}/delete",
             "/portal/ivrs/{id}/prompt", "/portal/ivrs/{id}/speech",
             "/portal/ivrs/{id}/prompt/delete"],
)  # fmt: skip
def test_posts_without_a_csrf_token_are_refused(app, world, portal, path):
    ivr_id, _ = make_ivr(app, world.a)
    before = state(app, world.a, ivr_id)
    response = portal.post(path.format(id=ivr_id), settings(extension="600", speech_text="あ"),
                           csrf=False)  # fmt: skip
    assert response.status_code == 400
    assert state(app, world.a, ivr_id) == before
    assert ivr_ids(app, world.a) == [ivr_id]


# --- the contract ------------------------------------------------------------------------


def test_without_the_option_the_pages_say_not_contracted_and_refuse_changes(
    app, world, browser, clock
):
    ivr_id, _ = make_ivr(app, world.a)  # kept from an earlier contract
    client = english(browser(world.a.host))
    client.login_circle(world.a.circle_login, PASSWORD)
    for path in ("/portal/ivrs", f"/portal/ivrs/{ivr_id}"):
        page = client.get(path)
        assert page.status_code == 200
        body = text(page)
        assert NOT_CONTRACTED in body
        assert 'href="/portal/options"' in body
        assert 'name="channels"' not in body
    before = state(app, world.a, ivr_id)
    for response in (
        client.post("/portal/ivrs", {"extension": "600", "display_name": "x"}),
        client.post(f"/portal/ivrs/{ivr_id}", settings(channels="9"), token_from="/portal/ivrs"),
        client.get(f"/portal/ivrs/{ivr_id}/prompt.wav"),
    ):
        assert response.status_code == 409
        assert NOT_CONTRACTED in text(response)
    staff = login_staff(world, browser, "admin")
    base = f"/staff/circles/{world.a.circle_id}"
    body = text(staff.get(f"{base}/ivrs/{ivr_id}"))
    assert NOT_CONTRACTED in body
    assert f'href="{base}/options"' in body
    refused = staff.post(f"{base}/ivrs/{ivr_id}/delete", token_from=f"{base}/ivrs")
    assert refused.status_code == 409
    assert NOT_CONTRACTED in text(refused)
    assert ivr_ids(app, world.a) == [ivr_id]
    assert state(app, world.a, ivr_id) == before


def test_pending_cancellation_stays_usable_until_its_end_date_then_not(app, world, browser, clock):
    give_ivr_option(app, world.a, ends_on=date(2026, 11, 30))
    ivr_id, _ = make_ivr(app, world.a)
    client = english(browser(world.a.host))
    client.login_circle(world.a.circle_login, PASSWORD)
    page = text(client.get(f"/portal/ivrs/{ivr_id}"))
    assert "cancellation is pending: it can be used until 2026-11-30" in page
    assert client.post(f"/portal/ivrs/{ivr_id}", settings(channels="9")).status_code == 302
    assert state(app, world.a, ivr_id)["channels"] == 9

    clock.move_to(datetime(2026, 11, 30, 14, 59, tzinfo=UTC))  # 23:59 JST on the end date
    client = english(browser(world.a.host))
    client.login_circle(world.a.circle_login, PASSWORD)
    assert 'name="channels"' in text(client.get(f"/portal/ivrs/{ivr_id}"))

    clock.move_to(AFTER_END)
    client = english(browser(world.a.host))
    client.login_circle(world.a.circle_login, PASSWORD)
    body = text(client.get(f"/portal/ivrs/{ivr_id}"))
    assert NOT_CONTRACTED in body
    assert 'href="/portal/options"' in body
    response = client.post(f"/portal/ivrs/{ivr_id}", settings(channels="3"),
                           token_from="/portal/ivrs")  # fmt: skip
    assert response.status_code == 409
    assert NOT_CONTRACTED in text(response)
    assert state(app, world.a, ivr_id)["channels"] == 9


# --- who may see and change what (R20) ---------------------------------------------------


def test_account_manager_can_edit(app, world, browser, clock):
    give_ivr_option(app, world.a)
    ivr_id, _ = make_ivr(app, world.a)
    manager = login_staff(world, browser, "manager")
    base = f"/staff/circles/{world.a.circle_id}"
    assert manager.post(f"{base}/ivrs/{ivr_id}", settings(channels="11")).status_code == 302
    assert state(app, world.a, ivr_id)["channels"] == 11


def test_support_staff_see_read_only_and_cannot_post(app, world, browser, clock):
    give_ivr_option(app, world.a)
    ivr_id, _ = make_ivr(app, world.a)
    support = login_staff(world, browser, "support")
    base = f"/staff/circles/{world.a.circle_id}"
    page = support.get(f"{base}/ivrs/{ivr_id}")
    assert page.status_code == 200
    body = text(page)
    assert "Save changes" not in body and "Delete the IVR" not in body
    assert re.search(r'id="channels"[^>]* disabled', body)
    before = state(app, world.a, ivr_id)
    token = f"{base}/ivrs/{ivr_id}"
    for path, data in (
        (f"{base}/ivrs", {"extension": "600", "display_name": "x"}),
        (f"{base}/ivrs/{ivr_id}", settings(channels="9")),
        (f"{base}/ivrs/{ivr_id}/delete", {}),
        (f"{base}/ivrs/{ivr_id}/speech", {"speech_text": "あ"}),
        (f"{base}/ivrs/{ivr_id}/prompt/delete", {}),
    ):
        assert support.post(path, data, token_from=token).status_code == 403, path
    assert state(app, world.a, ivr_id) == before
    assert ivr_ids(app, world.a) == [ivr_id]


def test_staff_of_another_reseller_get_404(app, world, browser, clock):
    give_ivr_option(app, world.b)
    b_ivr, _ = make_ivr(app, world.b)
    staff = login_staff(world, browser, "admin")
    base = f"/staff/circles/{world.b.circle_id}"
    for path in (f"{base}/ivrs", f"{base}/ivrs/{b_ivr}", f"{base}/ivrs/{b_ivr}/prompt.wav"):
        assert staff.get(path).status_code == 404, path
    response = staff.post(f"{base}/ivrs/{b_ivr}", settings(channels="9"), token_from="/staff/login")
    assert response.status_code == 404
    assert state(app, world.b, b_ivr)["channels"] == 2


def test_another_circles_ivr_is_not_found(app, world, browser, clock, portal):
    give_ivr_option(app, world.a, circle_id=world.a.other_circle_id)
    sibling_ivr, _ = make_ivr(app, world.a, "520", circle_id=world.a.other_circle_id)
    give_ivr_option(app, world.b)
    b_ivr, _ = make_ivr(app, world.b)
    with app.app_context():
        stored = storage.get_store().put("prompts/test", [sine_wav(8000, 1, 0.1)])
    route(app, world.a, sibling_ivr, prompt_key=stored.key)
    for other in (sibling_ivr, b_ivr):
        for path in (f"/portal/ivrs/{other}", f"/portal/ivrs/{other}/prompt.wav"):
            assert portal.get(path).status_code == 404, path
        response = portal.post(f"/portal/ivrs/{other}", settings(channels="9"),
                               token_from="/portal/ivrs")  # fmt: skip
        assert response.status_code == 404
        assert portal.post(f"/portal/ivrs/{other}/delete", token_from="/portal/ivrs"
                           ).status_code == 404  # fmt: skip
    # Staff acting on one circle cannot reach the IVR of their other circle through it.
    staff = login_staff(world, browser, "admin")
    base = f"/staff/circles/{world.a.circle_id}"
    assert staff.get(f"{base}/ivrs/{sibling_ivr}").status_code == 404
    assert staff.get(f"{base}/ivrs/{sibling_ivr}/prompt.wav").status_code == 404
    assert staff.get(f"/staff/circles/{world.a.other_circle_id}/ivrs/{sibling_ivr}/prompt.wav"
                     ).status_code == 200  # fmt: skip
    assert state(app, world.a, sibling_ivr)["channels"] == 2
    assert ivr_ids(app, world.b) == [b_ivr]


def test_the_services_refuse_a_scope_wider_than_the_circle(app, world):
    """The IVR services read the circle through the tenant scope alone (R20): under the
    reseller's scope, which sees every circle of the reseller, or under another circle's,
    they refuse instead of seeing (or changing) the sibling circle's IVRs."""
    own_ivr, _ = make_ivr(app, world.a, "500")
    sibling_ivr, _ = make_ivr(app, world.a, "520", circle_id=world.a.other_circle_id)
    with app.app_context(), use_scope(world.a.scope):
        circle = db.session.get(Circle, world.a.circle_id)
        sibling = db.session.get(Circle, world.a.other_circle_id)
        own, other = db.session.get(Ivr, own_ivr), db.session.get(Ivr, sibling_ivr)
        assert circle is not None and sibling is not None and own and other
        good = rules.IvrSettings(
            extension="500", display_name="Main", business_hours={}, closed_on_holidays=False,
            after_hours=dict(rules.HANGUP), answer_after_seconds=0, channels=9,
        )  # fmt: skip
        calls = {
            "circle_ivrs": lambda: rules.circle_ivrs(circle),
            "find_ivr": lambda: rules.find_ivr(circle, sibling_ivr),
            "targets": lambda: rules.targets(circle),
            "create_ivr": lambda: rules.create_ivr(circle, "510", "Night"),
            "settings_from_input": lambda: rules.settings_from_input(
                circle, own, rules.IvrInput(extension="500", display_name="Main")
            ),
            "update_ivr": lambda: rules.update_ivr(circle, own, good),
            "delete_ivr": lambda: rules.delete_ivr(sibling, other),
            "remove_prompt": lambda: rules.remove_prompt(other),
        }
        scopes = {
            "reseller": world.a.scope,
            "other circle": Scope(world.a.reseller_id, world.a.other_account_id,
                                  world.a.other_circle_id),
        }  # fmt: skip
        for scope_name, scope in scopes.items():
            with use_scope(scope):
                for name, call in calls.items():
                    if scope_name == "other circle" and name in ("delete_ivr", "remove_prompt"):
                        continue  # these act on the sibling, which that scope is narrowed to
                    with pytest.raises(TenantScopeError):
                        call()
                        pytest.fail(f"{name} ran under the {scope_name} scope")
        # Narrowed to the circle, the same services see this circle's IVR alone.
        with circle_scope(circle.reseller_id, circle.account_id, circle.id):
            assert [ivr.id for ivr in rules.circle_ivrs(circle)] == [own_ivr]
            assert rules.find_ivr(circle, sibling_ivr) is None
            assert set(rules.targets(circle).ivrs) == {own.unique_id}
    assert state(app, world.a, own_ivr)["channels"] == 2
    assert state(app, world.a, sibling_ivr)["channels"] == 2
    assert ivr_ids(app, world.a) == [own_ivr]


def test_the_service_validates_a_typed_input_without_a_request(app, world):
    """The service takes an ``IvrInput`` (no request form): the same rules and messages
    as the page, every problem at once, and a valid input becomes ``IvrSettings``."""
    ivr_id, _ = make_ivr(app, world.a)
    with app.app_context(), use_scope(world.a.scope), force_locale("en"):
        circle = db.session.get(Circle, world.a.circle_id)
        assert circle is not None
        with circle_scope(circle.reseller_id, circle.account_id, circle.id):
            ivr = rules.find_ivr(circle, ivr_id)
            assert ivr is not None
            weekday = rules.DayHours(open=True, start="９：００", end="18:00")
            typed = rules.IvrInput(
                extension="５００", display_name=" Main ", hours={"mon": weekday},
                answer_after_seconds="６０", channels="30",
                after_hours=rules.DestinationChoice("outside", "０３－１２３４－５６７８"),
                timeout=rules.DestinationChoice("hangup"),
                digits={"1": rules.DestinationChoice(f"unique:{world.a.unique_id}")},
            )  # fmt: skip
            saved = rules.settings_from_input(circle, ivr, typed)
            assert (saved.extension, saved.display_name) == ("500", "Main")
            assert saved.business_hours["mon"] == ["09:00", "18:00"]
            assert saved.business_hours["tue"] is None
            assert (saved.answer_after_seconds, saved.channels) == (60, 30)
            assert saved.after_hours == {"type": "outside", "number": "+81312345678"}
            assert saved.digit_map == {"1": {"type": "unique", "id": world.a.unique_id}}
            bad = rules.IvrInput(
                extension="201", display_name="", hours={"mon": rules.DayHours(True, "9", "")},
                answer_after_seconds="61", channels="0",
                after_hours=rules.DestinationChoice("unique:999999"),
                timeout=rules.DestinationChoice(""),
                digits={"#": rules.DestinationChoice("ring_group:x")}, unknown_keys=("A",),
            )  # fmt: skip
            with pytest.raises(rules.IvrError) as refused:
                rules.settings_from_input(circle, ivr, bad)
    assert refused.value.errors == {
        "extension": "Extension 201 is already used by 受付.",
        "display_name": "Enter a name.",
        "hours_mon": "Enter the times as HH:MM (for example 09:00).",
        "answer_after_seconds": "Enter a number from 0 to 60.",
        "channels": "Enter a number from 1 to 30.",
        "after_hours": "This destination does not exist in this circle.",
        "timeout": "Choose a destination.",
        "digit_hash": "Choose a destination from the list.",
        "digits": "Unknown key “A”: only 0–9, * and # can be assigned.",
    }
