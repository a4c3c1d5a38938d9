"""Phones of a circle: adding one (R13 range, free extension; terminal type; carrier for
mobiles; R16 pickup group), SIP credentials shown once and stored as HA1 (RFC 2617 /
RFC 8760), changing the terminal type (R8), removing a phone with what used it."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import use_scope
from tenants.models import Carrier, Circle, RingGroupMember, TerminalType, Unique, UniqueKind
from tenants.options.models import ConferenceMember, ConferenceRoom, Ivr
from tenants.services import provisioning as p
from tenants.services.credentials import sip_ha1
from tests.circle_pages import login, text, tree_client

SECRET = re.compile(r'<code class="secret" data-secret>([^<]+)</code>')


@pytest.fixture(params=["portal", "staff"])
def tree(request: Any, world: Any, browser: Any) -> tuple[Any, str]:
    return tree_client(request.param, world, browser)


def unique_at(app: Any, world: Any, extension: str) -> Unique | None:
    with app.app_context(), use_scope(world.a.circle_scope):
        unique = db.session.scalars(
            select(Unique).where(
                Unique.circle_id == world.a.circle_id, Unique.extension == extension
            )
        ).first()
        if unique is not None:
            db.session.expunge(unique)
        return unique


def count(app: Any, world: Any) -> int:
    with app.app_context(), use_scope(world.a.circle_scope):
        return len(
            db.session.scalars(select(Unique.id).where(Unique.circle_id == world.a.circle_id)).all()
        )


def new(**values: Any) -> dict[str, Any]:
    return {
        "display_name": "総務",
        "extension": "210",
        "terminal_type": "sip_phone",
        "carrier": "",
        "pickup_group_id": "",
        **values,
    }


def test_add_a_sip_phone_shows_its_secret_once_and_stores_ha1(world, tree, app):
    client, prefix = tree
    assert client.get(f"{prefix}/uniques/new").status_code == 200
    response = client.post(f"{prefix}/uniques/new", new())
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    body = text(response)
    assert "総務 has been added." in body
    assert "it is shown only on this page and cannot be shown again" in body
    secret = SECRET.search(body).group(1)  # type: ignore[union-attr]
    unique = unique_at(app, world, "210")
    assert unique is not None
    assert unique.terminal_type == TerminalType.SIP_PHONE
    assert unique.pickup_group_id  # Default (R16)
    assert unique.sip_user == f"pbx{unique.id:07d}"
    assert unique.sip_realm == "sip.localhost"
    # RFC 2617 HA1, computed here independently of the code under test.
    ha1_input = f"{unique.sip_user}:sip.localhost:{secret}".encode()
    expected = hashlib.md5(ha1_input, usedforsecurity=False).hexdigest()
    assert unique.sip_ha1 == expected
    assert unique.sip_ha1_sha256 == sip_ha1(
        unique.sip_user, "sip.localhost", secret, algorithm="SHA-256"
    )
    detail = text(client.get(f"{prefix}/uniques/{unique.id}"))
    assert unique.sip_user in detail and secret not in detail
    assert secret not in {unique.sip_ha1, unique.sip_ha1_sha256}


def test_a_mobile_needs_its_carrier_and_gets_no_sip(world, tree, app):
    client, prefix = tree
    response = client.post(f"{prefix}/uniques/new", new(terminal_type="mobile"))
    assert response.status_code == 422
    assert "Choose the mobile's carrier." in text(response)
    response = client.post(f"{prefix}/uniques/new", new(terminal_type="mobile", carrier="docomo"))
    assert response.status_code == 302
    unique = unique_at(app, world, "210")
    assert unique is not None and unique.carrier == Carrier.DOCOMO and unique.sip_user is None


def test_full_width_extension_is_normalised(world, tree, app):
    client, prefix = tree
    assert client.post(f"{prefix}/uniques/new", new(extension="２１１")).status_code == 200
    assert unique_at(app, world, "211") is not None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"extension": "999"}, "Enter an extension of 3 digits from 200 to 899."),
        ({"extension": "20"}, "Enter an extension of 3 digits from 200 to 899."),
        ({"extension": "201"}, "Extension 201 is already used by 受付."),
        ({"extension": "400"}, "Extension 400 is already used by the ring group 代表."),
        ({"extension": ""}, "Enter the extension."),
        ({"display_name": ""}, "Enter a name."),
        ({"display_name": "名" * 81}, "Use at most 80 characters."),
        ({"terminal_type": "fax"}, "Choose one of the offered terminal types."),
        ({"pickup_group_id": "abc"}, "Choose one of this circle's pickup groups."),
        ({"pickup_group_id": "987654321"}, "Choose one of this circle's pickup groups."),
    ],
)
def test_bad_input_adds_nothing(world, tree, app, values, message):
    client, prefix = tree
    before = count(app, world)
    response = client.post(f"{prefix}/uniques/new", new(**values))
    assert response.status_code == 422
    body = text(response)
    assert message in body
    assert "Nothing was saved. Please correct the marked fields." in body
    assert count(app, world) == before


def test_another_tenants_pickup_group_is_refused(world, tree, app):
    client, prefix = tree
    with app.app_context(), use_scope(world.b.circle_scope):
        circle = db.session.get(Circle, world.b.circle_id)
        foreign = p.default_pickup_group(circle).id
    response = client.post(f"{prefix}/uniques/new", new(pickup_group_id=str(foreign)))
    assert response.status_code == 422
    assert "Choose one of this circle's pickup groups." in text(response)


def test_regenerate_the_sip_secret(world, tree, app):
    client, prefix = tree
    path = f"{prefix}/uniques/{world.a.unique_id}"
    page = text(client.get(path))
    assert "Generate a SIP secret" in page
    response = client.post(f"{path}/sip-secret", {}, token_from=path)
    assert response.status_code == 200
    first = SECRET.search(text(response)).group(1)  # type: ignore[union-attr]
    again = client.post(f"{path}/sip-secret", {}, token_from=path)
    second = SECRET.search(text(again)).group(1)  # type: ignore[union-attr]
    assert first != second
    unique = unique_at(app, world, "201")
    assert unique is not None
    assert unique.sip_ha1 == sip_ha1(unique.sip_user or "", "sip.localhost", second)


def test_a_stale_regeneration_changes_nothing(world, tree, app):
    client, prefix = tree
    path = f"{prefix}/uniques/{world.a.unique_id}"
    response = client.post(f"{path}/sip-secret", {"edit_version": "9"}, token_from=path)
    assert response.status_code == 302
    assert unique_at(app, world, "201").sip_ha1 is None  # type: ignore[union-attr]


def test_a_mobile_has_no_sip_secret_to_generate(world, tree, app):
    client, prefix = tree
    mobile = unique_at(app, world, "202")
    assert mobile is not None
    path = f"{prefix}/uniques/{mobile.id}"
    assert client.post(f"{path}/sip-secret", {}, token_from=path).status_code == 404


def test_changing_to_a_mobile_drops_the_sip_credentials(world, tree, app):
    client, prefix = tree
    path = f"{prefix}/uniques/{world.a.unique_id}"
    client.post(f"{path}/sip-secret", {}, token_from=path)
    form = {
        "extension": "201",
        "display_name": "受付",
        "pickup_group_id": str(unique_at(app, world, "201").pickup_group_id),  # type: ignore[union-attr]
        "terminal_type": "mobile",
        "carrier": "softbank",
    }
    assert client.post(path, form).status_code == 302
    unique = unique_at(app, world, "201")
    assert unique is not None
    assert (unique.terminal_type, unique.carrier) == (TerminalType.MOBILE, Carrier.SOFTBANK)
    assert unique.sip_user is None and unique.sip_ha1 is None


def test_whispering_keeps_a_phone_off_au_and_phs(world, tree, app):
    """R8: whispering cannot target PHS terminals or au mobiles."""
    client, prefix = tree
    with app.app_context(), use_scope(world.a.circle_scope):
        db.session.get(Unique, world.a.unique_id).whispering = True  # type: ignore[union-attr]
        db.session.commit()
    path = f"{prefix}/uniques/{world.a.unique_id}"
    group = str(unique_at(app, world, "201").pickup_group_id)  # type: ignore[union-attr]
    for terminal, carrier in (("phs", ""), ("mobile", "au")):
        response = client.post(
            path,
            {
                "extension": "201",
                "display_name": "受付",
                "pickup_group_id": group,
                "terminal_type": terminal,
                "carrier": carrier,
            },
        )
        assert response.status_code == 422
        assert "Whispering cannot target PHS terminals or au mobiles" in text(response)
    assert unique_at(app, world, "201").terminal_type == TerminalType.SIP_PHONE  # type: ignore[union-attr]


def _use_everywhere(app: Any, world: Any) -> int:
    """Put phone 201 in an IVR's key 3, a broadcast room, and tick its monitoring."""
    with app.app_context(), use_scope(world.a.circle_scope):
        circle = db.session.get(Circle, world.a.circle_id)
        phone = db.session.get(Unique, world.a.unique_id)
        assert circle is not None and phone is not None
        phone.monitoring = True
        ids = {
            "reseller_id": circle.reseller_id,
            "account_id": circle.account_id,
            "circle_id": circle.id,
        }
        ivr_unique = p.create_unique(
            circle, extension="510", display_name="Menu", kind=UniqueKind.IVR
        )
        db.session.add(
            Ivr(
                **ids,
                unique_id=ivr_unique.id,
                digit_map={"3": {"type": "unique", "id": phone.id}},
                timeout_destination={"type": "hangup"},
                after_hours={"type": "hangup"},
            )
        )
        room_unique = db.session.scalars(
            select(Unique).where(Unique.circle_id == circle.id, Unique.extension == "300")
        ).one()
        room = ConferenceRoom(**ids, unique_id=room_unique.id, broadcast=True)
        db.session.add(room)
        db.session.flush()
        db.session.add(ConferenceMember(**ids, room_id=room.id, unique_id=phone.id))
        db.session.commit()
        return phone.id


def test_removal_says_what_uses_the_phone_then_takes_it_out_everywhere(world, tree, app):
    client, prefix = tree
    phone_id = _use_everywhere(app, world)
    path = f"{prefix}/uniques/{phone_id}/delete"
    page = client.get(path)
    assert page.status_code == 200
    body = text(page)
    assert "This phone is in use. Removing it changes:" in body
    assert "Ring groups: 代表 — it is taken out of them." in body
    assert "IVRs: Menu — where they sent callers to it, they hang up instead." in body
    assert "Conference broadcasts: 会議室 — it is no longer rung." in body
    assert "Licences: Monitoring — its ticks are freed for another unique." in body
    response = client.post(path, {})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{prefix}/uniques"
    assert "受付 has been removed." in text(client.get(f"{prefix}/uniques"))
    with app.app_context(), use_scope(world.a.circle_scope):
        assert db.session.get(Unique, phone_id) is None
        assert db.session.scalars(select(RingGroupMember)).all() == []
        assert db.session.scalars(select(ConferenceMember)).all() == []
        assert db.session.scalars(select(Ivr)).one().digit_map["3"] == {"type": "hangup"}


def test_a_stale_removal_removes_nothing(world, tree, app):
    client, prefix = tree
    path = f"{prefix}/uniques/{world.a.unique_id}/delete"
    response = client.post(path, {"edit_version": "5"})
    assert response.status_code == 302
    assert response.headers["Location"] == path
    assert unique_at(app, world, "201") is not None


def test_an_unused_phone_says_so(world, tree, app):
    client, prefix = tree
    mobile = unique_at(app, world, "202")
    assert mobile is not None
    body = text(client.get(f"{prefix}/uniques/{mobile.id}/delete"))
    assert "No ring group, IVR, conference broadcast or licence uses this phone." in body


def test_a_conference_room_is_not_removed_here(world, tree, app):
    client, prefix = tree
    room = unique_at(app, world, "300")
    assert room is not None
    assert client.get(f"{prefix}/uniques/{room.id}/delete").status_code == 404
    assert client.post(f"{prefix}/uniques/{room.id}/delete", {}).status_code == 404


def test_support_staff_cannot_add_or_remove(world, browser, app):
    client = login(browser, world.a, "support")
    prefix = f"/staff/circles/{world.a.circle_id}"
    assert "Add a phone" not in text(client.get(f"{prefix}/uniques"))
    assert client.post(f"{prefix}/uniques/new", new()).status_code == 403
    assert client.post(f"{prefix}/uniques/{world.a.unique_id}/delete", {}).status_code == 403
    assert unique_at(app, world, "201") is not None
