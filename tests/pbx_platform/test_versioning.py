"""pbx_platform.versioning: every settings form carries the version it was opened at.

Two people open the same settings page; the first saves; the second saves from the
page as it was opened. The second save changes nothing, says that someone else
changed the page since it was opened, and shows the current values (R18's cancel is
a plain reload and needs nothing). Parallel saves on PostgreSQL are in
tests/test_concurrency.py; the theme editor's cases in tests/themes/test_themes.py.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import circle_scope
from pbx_platform.versioning import StaleEdit, claim_edit, form_version
from tenants import forms_ivr
from tenants.models import Circle, PickupGroup, Unique, UniqueKind
from tenants.options import ivr as ivr_rules
from tenants.options.models import Ivr, OptionKind, OutboundSelector
from tenants.services import provisioning
from tests.factories import PASSWORD, Tenant, World, in_circle
from tests.form_versions import page_version
from tests.option_helpers import give_option

STALE = (
    "Someone else changed this page after you opened it. Nothing was saved; "
    "the current settings are shown."
)


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def in_scope(app: Flask, tenant: Tenant, read: Callable[[Circle], Any]) -> Any:
    with in_circle(app, tenant, tenant.circle_id) as circle:
        assert circle is not None
        result = read(circle)
        db.session.commit()
        return result


def phones(circle: Circle) -> list[int]:
    return list(
        db.session.scalars(
            select(Unique.id)
            .where(Unique.circle_id == circle.id, Unique.kind == UniqueKind.PHONE)
            .order_by(Unique.extension)
        )
    )


@dataclass(frozen=True)
class Page:
    """One settings page: where it is shown and saved, two different saves of it, what
    the database holds of it, and what the page shows after the first save."""

    page: str
    post: str
    first: dict[str, Any]
    stale: dict[str, Any]
    stored: Callable[[Circle], Any]
    shown: str | None
    role: str | None = None  # None: the circle's own login; else a staff role


def password_policy(app: Flask, world: World) -> Page:
    base = f"/staff/circles/{world.a.circle_id}"
    return Page(
        base,
        f"{base}/password-policy",
        {"policy": "warn"},
        {"policy": "force"},
        lambda circle: circle.password_policy.value,
        None,
        role="admin",
    )


def unique(app: Flask, world: World) -> Page:
    group = in_scope(
        app,
        world.a,
        lambda circle: db.session.scalars(
            select(PickupGroup.id).where(PickupGroup.circle_id == circle.id)
        ).one(),
    )
    form = {"extension": "201", "pickup_group_id": str(group)}
    return Page(
        f"/portal/uniques/{world.a.unique_id}",
        f"/portal/uniques/{world.a.unique_id}",
        {**form, "display_name": "From the first"},
        {**form, "display_name": "From the second"},
        lambda circle: db.session.get(Unique, world.a.unique_id).display_name,  # type: ignore[union-attr]
        'value="From the first"',
    )


def pickup_group(app: Flask, world: World) -> Page:
    def make(circle: Circle) -> int:
        group = PickupGroup(
            reseller_id=circle.reseller_id,
            account_id=circle.account_id,
            circle_id=circle.id,
            name="Sales",
        )
        db.session.add(group)
        db.session.flush()
        return group.id

    group_id = in_scope(app, world.a, make)
    path = f"/portal/pickup-groups/{group_id}"
    return Page(
        path,
        path,
        {"name": "SalesFirst"},
        {"name": "SalesSecond"},
        lambda circle: db.session.get(PickupGroup, group_id).name,  # type: ignore[union-attr]
        'value="SalesFirst"',
    )


def ivr(app: Flask, world: World) -> Page:
    give_option(app, world.a, OptionKind.IVR)

    def make(circle: Circle) -> tuple[int, dict[str, str]]:
        with circle_scope(circle.reseller_id, circle.account_id, circle.id):
            made = ivr_rules.create_ivr(circle, "500", "Main")
            db.session.flush()
            return made.id, forms_ivr.form_values(made)

    ivr_id, form = in_scope(app, world.a, make)
    path = f"/portal/ivrs/{ivr_id}"
    return Page(
        path,
        path,
        {**form, "display_name": "From the first"},
        {**form, "display_name": "From the second", "channels": "4"},
        lambda circle: (
            db.session.get(Ivr, ivr_id).unique.display_name,  # type: ignore[union-attr]
            db.session.get(Ivr, ivr_id).channels,  # type: ignore[union-attr]
        ),
        'value="From the first"',
    )


def conference_room(app: Flask, world: World) -> Page:
    give_option(app, world.a, OptionKind.CONFERENCE_ROOM)
    room = in_scope(
        app,
        world.a,
        lambda circle: db.session.scalars(
            select(Unique.id).where(
                Unique.circle_id == circle.id, Unique.kind == UniqueKind.CONFERENCE_ROOM
            )
        ).one(),
    )
    path = f"/portal/conference-rooms/{room}"
    form = {"extension": "300", "phone_number_id": "", "broadcast": ""}
    return Page(
        path,
        path,
        {**form, "name": "From the first"},
        {**form, "name": "From the second"},
        lambda circle: db.session.get(Unique, room).display_name,  # type: ignore[union-attr]
        'value="From the first"',
    )


def outbound_selector(app: Flask, world: World) -> Page:
    give_option(app, world.a, OptionKind.OUTBOUND_SELECTION)

    def make(circle: Circle) -> tuple[int, int]:
        number = circle.phone_numbers[0]
        selector = provisioning.create_unique(
            circle, extension="350", display_name="selector", kind=UniqueKind.OUTBOUND_SELECTOR
        )
        db.session.add(
            OutboundSelector(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                unique_id=selector.id,
                phone_number_id=number.id,
            )
        )
        db.session.flush()
        return selector.id, number.id

    selector, number = in_scope(app, world.a, make)
    path = f"/portal/outbound-selectors/{selector}"
    form = {"extension": "350", "phone_number_id": str(number)}
    return Page(
        path,
        path,
        {**form, "name": "From the first"},
        {**form, "name": "From the second"},
        lambda circle: db.session.get(Unique, selector).display_name,  # type: ignore[union-attr]
        'value="From the first"',
    )


def recording(app: Flask, world: World) -> Page:
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    first, second = in_scope(app, world.a, phones)
    return Page(
        "/portal/recording",
        "/portal/recording",
        {"refuse": [str(first)]},
        {"refuse": [str(second)]},
        lambda circle: sorted(
            db.session.scalars(
                select(Unique.id).where(
                    Unique.circle_id == circle.id, Unique.recording_refused.is_(True)
                )
            )
        ),
        None,
    )


def licences(app: Flask, world: World) -> Page:
    give_option(app, world.a, OptionKind.MONITORING, 2, starts_on=date(2026, 1, 1))
    first, second = in_scope(app, world.a, phones)
    return Page(
        "/portal/licences",
        "/portal/licences",
        {"monitoring": [str(first)]},
        {"monitoring": [str(second)]},
        lambda circle: sorted(
            db.session.scalars(
                select(Unique.id).where(Unique.circle_id == circle.id, Unique.monitoring.is_(True))
            )
        ),
        None,
    )


PAGES = {
    "password-policy": password_policy,
    "unique": unique,
    "pickup-group": pickup_group,
    "ivr": ivr,
    "conference-room": conference_room,
    "outbound-selector": outbound_selector,
    "recording": recording,
    "licences": licences,
}


def client_of(browser: Any, world: World, role: str | None) -> Any:
    client = browser(world.a.host)
    assert client.post("/locale", {"locale": "en", "next": "/"}).status_code == 302
    if role is None:
        assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    else:
        assert client.login_staff(world.a.staff[role], PASSWORD).status_code == 302
    return client


@pytest.fixture(params=list(PAGES), ids=list(PAGES))
def page(request: Any, app: Flask, world: World) -> Page:
    return PAGES[request.param](app, world)


def test_a_save_from_a_page_opened_before_another_save_changes_nothing(
    app: Flask, world: World, browser: Any, page: Page
) -> None:
    first = client_of(browser, world, page.role)
    second = client_of(browser, world, page.role)
    opened = page_version(second, page.page)
    assert opened is not None, "the form carries no edit_version"
    saved = first.post(page.post, page.first, token_from=page.page)
    assert saved.status_code == 302, text(saved)
    after_first = in_scope(app, world.a, page.stored)

    response = second.post(page.post, {**page.stale, "edit_version": opened}, token_from=page.page)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(page.page)
    shown = text(second.get(page.page))
    assert STALE in shown
    if page.shown:
        assert page.shown in shown  # the current values, not the stale form's
    assert in_scope(app, world.a, page.stored) == after_first
    assert page_version(second, page.page) == str(int(opened) + 1)


def test_a_save_without_a_version_changes_nothing(
    app: Flask, world: World, browser: Any, page: Page
) -> None:
    client = client_of(browser, world, page.role)
    before = in_scope(app, world.a, page.stored)
    response = client.post(page.post, {**page.first, "edit_version": ""}, token_from=page.page)
    assert response.status_code == 302
    assert in_scope(app, world.a, page.stored) == before
    assert STALE in text(client.get(page.page))


def test_a_refused_stale_save_records_nothing_in_the_audit_trail(
    app: Flask, world: World, browser: Any, page: Page
) -> None:
    client = client_of(browser, world, page.role)
    opened = page_version(client, page.page)
    assert client.post(page.post, page.first, token_from=page.page).status_code == 302
    count = in_scope(app, world.a, lambda circle: len(db.session.scalars(select(AuditLog)).all()))
    client.post(page.post, {**page.stale, "edit_version": opened}, token_from=page.page)
    assert in_scope(app, world.a, lambda c: len(db.session.scalars(select(AuditLog)).all())) == (
        count
    )


# -- the helper itself -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "version"),
    [("0", 0), ("12", 12), ("１２", 12), (" 3 ", 3), ("", -1), (None, -1), ("-1", -1), ("x", -1)],
)
def test_form_version_reads_what_a_person_or_a_browser_sends(raw: Any, version: int) -> None:
    assert form_version(raw) == version


def test_claim_bumps_the_version_once_and_refuses_the_old_one(app: Flask, world: World) -> None:
    with in_circle(app, world.a, world.a.circle_id) as circle:
        assert circle is not None and circle.edit_version == 0
        claim_edit(circle, 0)
        assert circle.edit_version == 1
        with pytest.raises(StaleEdit):
            claim_edit(circle, 0)
        db.session.expire(circle)
        assert circle.edit_version == 1
