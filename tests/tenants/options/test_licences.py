"""R7 monitoring and R8 whispering ticks, within the licences bought."""

from __future__ import annotations

import pytest

from tenants.options.models import OptionKind
from tests.circle_pages import pin_locale, text
from tests.factories import PASSWORD, in_circle
from tests.option_helpers import give_option, uniques_of


@pytest.fixture
def client(world, browser):
    c = pin_locale(browser(world.a.host))
    assert c.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    return c


def test_ticks_within_licences_are_saved(app, world, client):
    give_option(app, world.a, OptionKind.MONITORING, quantity=1)
    give_option(app, world.a, OptionKind.WHISPERING, quantity=1)
    phone = uniques_of(app, world.a)["受付"].id
    response = client.post("/portal/licences", {"monitoring": str(phone), "whispering": str(phone)})
    assert response.status_code == 302
    saved = uniques_of(app, world.a)["受付"]
    assert saved.monitoring and saved.whispering


def test_more_ticks_than_licences_are_refused(app, world, client):
    give_option(app, world.a, OptionKind.MONITORING, quantity=1)
    uniques = uniques_of(app, world.a)
    response = client.post(
        "/portal/licences", {"monitoring": [str(uniques["受付"].id), str(uniques["携帯"].id)]}
    )
    assert response.status_code == 422
    assert "Monitoring licences: 2 ticked but only 1 licences are contracted." in text(response)
    assert not any(u.monitoring for u in uniques_of(app, world.a).values())


def test_whispering_refused_for_au_naming_the_unique(app, world, client):
    give_option(app, world.a, OptionKind.WHISPERING, quantity=5)
    au_phone = uniques_of(app, world.a)["携帯"]  # a mobile on au in the factory
    response = client.post("/portal/licences", {"whispering": str(au_phone.id)})
    assert response.status_code == 422
    assert (
        "Whispering is not available for 202 携帯 (PHS and au phones cannot be whispered to)."
        in text(response)
    )
    assert uniques_of(app, world.a)["携帯"].whispering is False


def test_whispering_refused_for_phs(app, world, client):
    from pbx_platform.db import db
    from tenants.models import TerminalType
    from tenants.services import provisioning

    give_option(app, world.a, OptionKind.WHISPERING, quantity=5)
    with in_circle(app, world.a, world.a.circle_id) as circle:
        phs = provisioning.create_unique(
            circle, extension="250", display_name="倉庫PHS", terminal_type=TerminalType.PHS
        ).id
        db.session.commit()
    response = client.post("/portal/licences", {"whispering": str(phs)})
    assert response.status_code == 422
    assert (
        "Whispering is not available for 250 倉庫PHS (PHS and au phones cannot be whispered to)."
        in text(response)
    )


def test_conference_rooms_and_foreign_ids_are_refused(app, world, client):
    give_option(app, world.a, OptionKind.MONITORING, quantity=5)
    uniques = uniques_of(app, world.a)
    foreign = uniques_of(app, world.b)["受付"].id
    assert (
        client.post("/portal/licences", {"monitoring": str(uniques["会議室"].id)}).status_code
        == 422
    )
    assert client.post("/portal/licences", {"monitoring": str(foreign)}).status_code == 422
    assert uniques_of(app, world.b)["受付"].monitoring is False


NOT_CONTRACTED = "Monitoring and whispering is not contracted for this circle."


def test_without_either_licence_the_page_says_so_and_changes_are_refused(app, world, client):
    page = client.get("/portal/licences")
    assert page.status_code == 200
    assert NOT_CONTRACTED in text(page)
    assert 'href="/portal/options"' in text(page)
    phone = uniques_of(app, world.a)["受付"].id
    refused = client.post("/portal/licences", {"monitoring": str(phone)})
    assert refused.status_code == 409
    assert NOT_CONTRACTED in text(refused)
    assert not uniques_of(app, world.a)["受付"].monitoring


def test_one_of_the_two_licences_is_enough_for_the_page(app, world, client):
    give_option(app, world.a, OptionKind.WHISPERING, quantity=1)
    page = text(client.get("/portal/licences"))
    assert NOT_CONTRACTED not in page
    phone = uniques_of(app, world.a)["受付"].id
    assert client.post("/portal/licences", {"whispering": str(phone)}).status_code == 302


def test_staff_tree_and_isolation(app, world, browser):
    give_option(app, world.a, OptionKind.MONITORING, quantity=1)
    staff = browser(world.a.host)
    staff.login_staff(world.a.staff["admin"], PASSWORD)
    phone = uniques_of(app, world.a)["受付"].id
    assert (
        staff.post(
            f"/staff/circles/{world.a.circle_id}/licences", {"monitoring": str(phone)}
        ).status_code
        == 302
    )
    assert staff.get(f"/staff/circles/{world.b.circle_id}/licences").status_code == 404
