"""Staff users (issue 7): invitations by e-mail, roles, deactivation, the last-admin rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from pbx_platform.db import db, utcnow
from pbx_platform.tenancy import use_scope
from tenants.models import Staff, StaffKind, StaffRole
from tests.factories import PASSWORD

NEW_PASSWORD = "Fresh#Pass2027"
_APP = []


@pytest.fixture(autouse=True)
def _remember_app(app):
    _APP[:] = [app]


def current_app():
    return _APP[0]


def _login_admin(world, browser, *, locale="en"):
    client = browser(world.a.host)
    client.post("/locale", {"locale": locale, "next": "/"})
    assert client.login_staff(world.a.staff["admin"], PASSWORD).status_code == 302
    return client


def _staff(world, email):
    with current_app().app_context(), use_scope(world.a.scope):
        return db.session.scalars(select(Staff).where(Staff.email == email)).one()


def _invite(client, **overrides):
    data = {"name": "Hanako Sato", "email": "hanako@example.co.jp", "role": "billing"}
    data.update({"locale": "en", **overrides})
    return client.post("/staff/users/invite", data, token_from="/staff/users")


def test_the_list_shows_every_role_and_the_last_login_in_japan_time(world, browser):
    client = _login_admin(world, browser)
    with current_app().app_context(), use_scope(world.a.scope):
        billing = db.session.scalars(
            select(Staff).where(Staff.email == world.a.staff["billing"])
        ).one()
        billing.last_login_at = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
        db.session.commit()
    html = client.get("/staff/users").get_data(as_text=True)
    for role in ("admin", "billing", "support"):
        assert world.a.staff[role] in html
    assert world.a.staff["manager"] in html
    assert "Account manager" in html
    # 15:30 UTC is 00:30 the next day in Tokyo.
    assert "2026-12-01 00:30 JST" in html
    assert world.b.staff["admin"] not in html


def test_an_invitation_is_mailed_in_the_invitees_language_and_the_resellers_brand(
    world, browser, mailbox
):
    client = _login_admin(world, browser)
    response = _invite(client, locale="ja")
    assert response.status_code == 302
    mail = mailbox.only()
    assert mail.envelope_to == ("hanako@example.co.jp",)
    assert mail.message["Subject"] == "Alpha Phone へのご招待"
    assert mail.message["From"].startswith("Alpha Phone <")
    assert mail.message["Reply-To"] == "help@alpha.test"
    assert "Hanako Sato 様" in mail.text
    assert "help@alpha.test" in mail.html and "Alpha Phone" in mail.html
    assert mail.links[0].startswith("http://alpha.localhost/staff/invitation?token=")
    staff = _staff(world, "hanako@example.co.jp")
    assert staff.role == StaffRole.BILLING and staff.password_hash == ""


def test_the_invitation_link_sets_the_password_once_and_the_user_can_log_in(
    world, browser, mailbox
):
    _invite(_login_admin(world, browser))
    path = mailbox.only().path_of_link()
    guest = browser(world.a.host)
    guest.post("/locale", {"locale": "en", "next": "/"})
    assert "Welcome" in guest.get(path).get_data(as_text=True)
    weak = guest.post(path, {"new_password": "short", "new_password_repeat": "short"})
    assert weak.status_code == 400
    assert "Use at least 8 characters." in weak.get_data(as_text=True)
    done = guest.post(path, {"new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD})
    assert done.status_code == 302 and done.location.endswith("/staff/login")
    again = guest.get(path)
    assert again.status_code == 410
    assert "This link has already been used" in again.get_data(as_text=True)
    assert guest.login_staff("hanako@example.co.jp", NEW_PASSWORD).status_code == 302


def test_an_invitation_expires_after_72_hours(world, browser, mailbox):
    with time_machine.travel("2026-12-01 00:00:00+00:00", tick=False) as clock:
        _invite(_login_admin(world, browser))
        path = mailbox.only().path_of_link()
        guest = browser(world.a.host)
        guest.post("/locale", {"locale": "en", "next": "/"})
        clock.move_to("2026-12-03 23:59:00+00:00")
        assert guest.get(path).status_code == 200
        clock.move_to("2026-12-04 00:00:00+00:00")
        guest.post("/locale", {"locale": "en", "next": "/"})
        expired = guest.get(path)
        assert expired.status_code == 410
        assert "This link has expired." in expired.get_data(as_text=True)
        posted = guest.post(
            path, {"new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD}
        )
        assert posted.status_code == 410
    assert _staff(world, "hanako@example.co.jp").password_hash == ""


def test_a_link_of_one_reseller_is_unknown_on_another_resellers_portal(world, browser, mailbox):
    _invite(_login_admin(world, browser))
    path = mailbox.only().path_of_link()
    other = browser(world.b.host)
    other.post("/locale", {"locale": "en", "next": "/"})
    assert other.get(path).status_code == 404
    assert other.get("/staff/invitation?token=" + "x" * 300).status_code == 404
    assert other.get("/staff/invitation").status_code == 404


def test_bad_invitation_input_gets_messages_and_changes_nothing(world, browser, mailbox):
    client = _login_admin(world, browser)
    cases = {
        "not-an-address": "Enter an e-mail address such as name@example.co.jp.",
        "a" * 250 + "@example.jp": "Use at most 254 characters.",
        world.a.staff["support"]: "A staff user with this e-mail address already exists.",
    }
    for email, message in cases.items():
        response = _invite(client, email=email)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert _invite(client, name="x" * 81).status_code == 400
    assert _invite(client, role="owner").status_code == 400
    assert _invite(client, locale="fr").status_code == 400
    assert mailbox.messages == []


def test_full_width_addresses_are_normalised(world, browser, mailbox):
    client = _login_admin(world, browser)
    assert _invite(client, email="ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ").status_code == 302
    assert mailbox.only().envelope_to == ("taro@example.jp",)


def test_an_address_used_by_another_reseller_may_be_invited_here(world, browser, mailbox):
    client = _login_admin(world, browser)
    assert _invite(client, email=world.b.staff["admin"]).status_code == 302


def test_a_stale_role_form_changes_nothing(world, browser):
    client = _login_admin(world, browser)
    support = _staff(world, world.a.staff["support"])
    path = f"/staff/users/{support.id}/role"
    token, version = client.hidden_fields(f"/staff/users/{support.id}")
    assert client.post(path, {"role": "billing", "csrf_token": token, "edit_version": version})
    stale = client.post(path, {"role": "admin", "csrf_token": token, "edit_version": version})
    assert stale.status_code == 302
    page = client.get(stale.location).get_data(as_text=True)
    assert "Someone else changed this page after you opened it. Nothing was saved" in page
    assert _staff(world, world.a.staff["support"]).role == StaffRole.BILLING


def test_a_role_change_ends_the_users_sessions(world, browser):
    client = _login_admin(world, browser)
    support_browser = browser(world.a.host)
    support_browser.login_staff(world.a.staff["support"], PASSWORD)
    support = _staff(world, world.a.staff["support"])
    assert (
        client.post(
            f"/staff/users/{support.id}/role",
            {"role": "billing"},
            token_from=f"/staff/users/{support.id}",
        ).status_code
        == 302
    )
    assert support_browser.get("/staff/").status_code == 302


def test_deactivation_ends_the_sessions_and_refuses_logins_until_reactivated(world, browser):
    client = _login_admin(world, browser)
    billing_browser = browser(world.a.host)
    billing_browser.login_staff(world.a.staff["billing"], PASSWORD)
    assert billing_browser.get("/staff/").status_code == 200
    billing = _staff(world, world.a.staff["billing"])
    assert client.post(f"/staff/users/{billing.id}/deactivate").status_code == 302
    assert billing_browser.get("/staff/").status_code == 302
    assert billing_browser.login_staff(world.a.staff["billing"], PASSWORD).status_code == 200
    assert client.post(f"/staff/users/{billing.id}/reactivate").status_code == 302
    assert billing_browser.login_staff(world.a.staff["billing"], PASSWORD).status_code == 302


def test_the_last_active_admin_can_be_neither_deactivated_nor_demoted(world, browser):
    client = _login_admin(world, browser)
    admin = _staff(world, world.a.staff["admin"])
    for path, data in (
        (f"/staff/users/{admin.id}/deactivate", {}),
        (f"/staff/users/{admin.id}/role", {"role": "support"}),
    ):
        response = client.post(path, data, token_from=f"/staff/users/{admin.id}")
        assert response.status_code == 409
        assert (
            "This is the last active admin. Make another user an admin first, "
            "so that someone can still manage the staff users."
        ) in response.get_data(as_text=True)
    admin = _staff(world, world.a.staff["admin"])
    assert admin.active and admin.role == StaffRole.ADMIN


def test_with_a_second_admin_the_first_may_step_down(world, browser):
    client = _login_admin(world, browser)
    support = _staff(world, world.a.staff["support"])
    client.post(
        f"/staff/users/{support.id}/role",
        {"role": "admin"},
        token_from=f"/staff/users/{support.id}",
    )
    admin = _staff(world, world.a.staff["admin"])
    assert (
        client.post(
            f"/staff/users/{admin.id}/role",
            {"role": "billing"},
            token_from=f"/staff/users/{admin.id}",
        ).status_code
        == 302
    )
    assert _staff(world, world.a.staff["admin"]).role == StaffRole.BILLING


def test_an_admin_invites_an_account_manager_from_the_accounts_page(world, browser, mailbox):
    client = _login_admin(world, browser)
    path = f"/staff/accounts/{world.a.account_id}/managers"
    page = client.get(f"/staff/accounts/{world.a.account_id}").get_data(as_text=True)
    assert "Invite an account manager" in page
    data = {"name": "Boss", "email": "boss@customer.jp", "locale": "en"}
    response = client.post(path, data, token_from=f"/staff/accounts/{world.a.account_id}")
    assert response.status_code == 302
    mail = mailbox.only()
    assert mail.message["Subject"] == "You are invited to Alpha Phone"
    assert "You manage the account alpha 株式会社." in mail.text
    manager = _staff(world, "boss@customer.jp")
    assert manager.kind == StaffKind.ACCOUNT_MANAGER and manager.account_id == world.a.account_id


def test_a_foreign_account_id_invites_nobody(world, browser, mailbox):
    client = _login_admin(world, browser)
    data = {"name": "Boss", "email": "boss@customer.jp", "locale": "en"}
    response = client.post(
        f"/staff/accounts/{world.b.account_id}/managers",
        data,
        token_from=f"/staff/accounts/{world.a.account_id}",
    )
    assert response.status_code == 404
    assert mailbox.messages == []


def test_a_refused_change_sends_no_mail(world, browser, mailbox, app, monkeypatch):
    """The invitation is queued, then the request fails: the rollback drops the mail."""
    client = _login_admin(world, browser)
    from tenants.services import staff_users

    original = staff_users._mail_invitation

    def then_fail(staff, invited_by):
        original(staff, invited_by)
        raise RuntimeError("after the mail was queued")

    monkeypatch.setattr(staff_users, "_mail_invitation", then_fail)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    try:
        try:
            _invite(client)
        except RuntimeError:
            pass
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert mailbox.messages == []
    with app.app_context(), use_scope(world.a.scope):
        assert (
            db.session.scalars(select(Staff).where(Staff.email == "hanako@example.co.jp")).first()
            is None
        )


def test_staff_user_pages_are_for_admins_only(world, browser):
    for role in ("billing", "support", "manager"):
        client = browser(world.a.host)
        client.login_staff(world.a.staff[role], PASSWORD)
        assert client.get("/staff/users").status_code == 403


def test_last_login_is_noted(world, browser):
    before = utcnow()
    _login_admin(world, browser)
    assert _staff(world, world.a.staff["admin"]).last_login_at >= before.replace(microsecond=0)


def test_invite_staff_works_outside_a_request_for_the_console(world, app, mailbox):
    """What the console's "create reseller" calls for the first admin."""
    from pbx_platform.tenancy import platform_bypass
    from tenants.models import Reseller
    from tenants.services.staff_users import invite_staff

    with app.app_context(), platform_bypass("tests.invite"):
        reseller = db.session.get(Reseller, world.a.reseller_id)
        outcome = invite_staff(
            reseller, "first@alpha.jp", "First Admin", StaffRole.ADMIN, "en", None
        )
        assert outcome.ok and outcome.staff is not None
        db.session.commit()
    mail = mailbox.only()
    assert mail.message["Subject"] == "You are invited to Alpha Phone"
    assert "You have been invited to Alpha Phone." in mail.text
    assert mail.links[0].startswith("http://alpha.localhost/staff/invitation?token=")
