"""Password recovery (issue 7): "Forgot your password?" on the staff and console logins,
and reset links to a circle's recovery address sent by staff or the account manager."""

from __future__ import annotations

import time_machine
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import use_scope
from tenants.models import Circle, PasswordPolicy
from tests.factories import PASSWORD, open_session_ids

NEW_PASSWORD = "Fresh#Pass2027"
SENT = (
    "If an account with this e-mail address exists, we have sent a link to reset the "
    "password. The link is valid for one hour."
)


def _english(client):
    client.post("/locale", {"locale": "en", "next": "/"})
    return client


def _forgot(client, email, path="/staff/password/forgot"):
    return client.post(path, {"email": email}, token_from=path)


def test_the_login_pages_offer_the_forgotten_password_page(world, browser):
    portal = _english(browser(world.a.host))
    assert "/staff/password/forgot" in portal.get("/staff/login").get_data(as_text=True)
    console = _english(browser("localhost"))
    assert "/console/password/forgot" in console.get("/console/login").get_data(as_text=True)


def test_a_known_and_an_unknown_address_get_the_same_answer(world, browser, mailbox):
    client = _english(browser(world.a.host))
    known = _forgot(client, world.a.staff["billing"])
    known_page = client.get(known.location).get_data(as_text=True)
    unknown = _forgot(client, "nobody@alpha.test")
    unknown_page = client.get(unknown.location).get_data(as_text=True)
    assert known.status_code == unknown.status_code == 302
    assert known.location == unknown.location
    assert SENT in known_page and SENT in unknown_page
    assert [m.envelope_to for m in mailbox.messages] == [(world.a.staff["billing"],)]


def test_the_reset_mail_is_branded_and_its_link_works_once_within_an_hour(
    world, browser, mailbox, app
):
    with time_machine.travel("2026-12-01 03:00:00+00:00", tick=False) as clock:
        other = browser(world.a.host)
        other.login_staff(world.a.staff["support"], PASSWORD)
        client = _english(browser(world.a.host))
        _forgot(client, world.a.staff["support"])
        mail = mailbox.only()
        assert mail.message["From"].startswith("Alpha Phone <")
        assert mail.message["Subject"] == "Reset your password"
        assert "valid for 60 minutes" in mail.text
        path = mail.path_of_link()
        assert path.startswith("/staff/password/reset?token=")
        clock.move_to("2026-12-01 03:59:00+00:00")
        _english(client)
        done = client.post(
            path, {"new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD}
        )
        assert done.status_code == 302
        used = client.get(path)
        assert used.status_code == 410
        assert "This link has already been used" in used.get_data(as_text=True)
        assert client.login_staff(world.a.staff["support"], NEW_PASSWORD).status_code == 302
        # Setting the password ended the login's other session.
        assert other.get("/staff/").status_code == 302


def test_a_reset_link_expires_after_an_hour(world, browser, mailbox):
    with time_machine.travel("2026-12-01 03:00:00+00:00", tick=False) as clock:
        client = _english(browser(world.a.host))
        _forgot(client, world.a.staff["support"])
        path = mailbox.only().path_of_link()
        clock.move_to("2026-12-01 04:00:00+00:00")
        _english(client)
        response = client.post(
            path, {"new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD}
        )
        assert response.status_code == 410
        assert "This link has expired." in response.get_data(as_text=True)
    assert client.login_staff(world.a.staff["support"], PASSWORD).status_code == 302


def test_a_newer_link_replaces_the_older_one(world, browser, mailbox):
    client = _english(browser(world.a.host))
    _forgot(client, world.a.staff["support"])
    _forgot(client, world.a.staff["support"])
    first, second = (m.path_of_link() for m in mailbox.messages)
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_a_garbled_token_gets_the_invalid_link_page(world, browser):
    client = _english(browser(world.a.host))
    for token in ("", "x", "%00", "ｘ" * 50, "a" * 5000):
        response = client.get(f"/staff/password/reset?token={token}")
        assert response.status_code == 404
        assert "This link is not valid." in response.get_data(as_text=True)


def test_the_forgotten_password_form_is_limited_per_address(world, browser, mailbox, app):
    client = _english(browser(world.a.host))
    for _ in range(3):
        assert _forgot(client, world.a.staff["support"]).status_code == 302
    limited = _forgot(client, world.a.staff["support"])
    assert limited.status_code == 429
    assert "Too many attempts." in limited.get_data(as_text=True)
    assert len(mailbox.messages) == 3
    # Another address still has its budget.
    assert _forgot(client, world.a.staff["billing"]).status_code == 302


def test_the_forgotten_password_form_is_limited_per_client(world, browser, app, monkeypatch):
    monkeypatch.setitem(app.config, "FORGOT_PER_IP", "2 per hour")
    client = _english(browser(world.a.host))
    assert _forgot(client, "one@alpha.test").status_code == 302
    assert _forgot(client, "two@alpha.test").status_code == 302
    assert _forgot(client, "three@alpha.test").status_code == 429


def test_a_staff_address_gets_no_console_reset_and_the_reverse(world, browser, mailbox):
    console = _english(browser("localhost"))
    _forgot(console, world.a.staff["admin"], "/console/password/forgot")
    portal = _english(browser(world.a.host))
    _forgot(portal, world.operator_email)
    assert mailbox.messages == []
    _forgot(console, world.operator_email, "/console/password/forgot")
    assert mailbox.only().path_of_link().startswith("/console/password/reset?token=")


def test_a_deactivated_user_gets_no_reset(world, browser, mailbox):
    admin = _english(browser(world.a.host))
    admin.login_staff(world.a.staff["admin"], PASSWORD)
    page = admin.get("/staff/users").get_data(as_text=True)
    assert world.a.staff["billing"] in page
    from tenants.models import Staff

    with admin.client.application.app_context(), use_scope(world.a.scope):
        billing_id = db.session.scalars(
            select(Staff.id).where(Staff.email == world.a.staff["billing"])
        ).one()
    admin.post(f"/staff/users/{billing_id}/deactivate")
    mailbox.clear()
    _forgot(_english(browser(world.a.host)), world.a.staff["billing"])
    assert mailbox.messages == []


# -- circles --------------------------------------------------------------------------------------


def _circle(app, world):
    with app.app_context(), use_scope(world.a.scope):
        return db.session.get(Circle, world.a.circle_id)


def _staff_client(world, browser, role):
    client = _english(browser(world.a.host))
    assert client.login_staff(world.a.staff[role], PASSWORD).status_code == 302
    return client


def _set_recovery(client, world, email):
    base = f"/staff/circles/{world.a.circle_id}/recovery"
    return client.post(base, {"recovery_email": email}, token_from=base)


def test_the_account_manager_sets_a_recovery_address_and_sends_a_reset(
    world, browser, mailbox, app
):
    manager = _staff_client(world, browser, "manager")
    assert _set_recovery(manager, world, "ｄｅｓｋ＠ｃｕｓｔｏｍｅｒ．ｊｐ").status_code == 302
    assert _circle(app, world).recovery_email == "desk@customer.jp"
    circle_browser = browser(world.a.host)
    circle_browser.login_circle(world.a.circle_login, PASSWORD)
    base = f"/staff/circles/{world.a.circle_id}/recovery"
    sent = manager.post(base + "/send-reset", token_from=base)
    assert sent.status_code == 302
    mail = mailbox.only()
    assert mail.envelope_to == ("desk@customer.jp",)
    # The circle's reseller's default language is Japanese.
    assert mail.message["Subject"] == "パスワード再設定のご案内"
    path = mail.path_of_link()
    assert path.startswith("/password/reset?token=")
    guest = _english(browser(world.a.host))
    done = guest.post(path, {"new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD})
    assert done.status_code == 302 and done.location.endswith("/login")
    assert guest.login_circle(world.a.circle_login, NEW_PASSWORD).status_code == 302
    assert circle_browser.get("/portal/").status_code == 302
    assert _circle(app, world).password_policy == PasswordPolicy.NONE


def test_support_staff_send_a_reset_but_cannot_change_the_address(world, browser, mailbox, app):
    _set_recovery(_staff_client(world, browser, "admin"), world, "desk@customer.jp")
    support = _staff_client(world, browser, "support")
    base = f"/staff/circles/{world.a.circle_id}/recovery"
    assert _set_recovery(support, world, "evil@attacker.test").status_code == 403
    assert support.post(base + "/send-reset", token_from=base).status_code == 302
    assert mailbox.only().envelope_to == ("desk@customer.jp",)


def test_billing_staff_may_not_send_a_reset(world, browser, mailbox):
    _set_recovery(_staff_client(world, browser, "admin"), world, "desk@customer.jp")
    billing = _staff_client(world, browser, "billing")
    base = f"/staff/circles/{world.a.circle_id}/recovery"
    assert billing.post(base + "/send-reset", token_from=base).status_code == 403
    assert mailbox.messages == []


def test_without_a_recovery_address_no_reset_is_sent(world, browser, mailbox):
    admin = _staff_client(world, browser, "admin")
    base = f"/staff/circles/{world.a.circle_id}/recovery"
    response = admin.post(base + "/send-reset", token_from=base)
    assert response.status_code == 409
    assert "This circle has no recovery e-mail address. Enter one first." in response.get_data(
        as_text=True
    )
    assert mailbox.messages == []


def test_bad_recovery_addresses_are_refused(world, browser, app):
    admin = _staff_client(world, browser, "admin")
    for bad, message in (
        ("not an address", "Enter an e-mail address such as name@example.co.jp."),
        ("a" * 300 + "@example.jp", "Use at most 254 characters."),
    ):
        response = _set_recovery(admin, world, bad)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert _circle(app, world).recovery_email is None


def test_a_stale_recovery_form_changes_nothing(world, browser, app):
    admin = _staff_client(world, browser, "admin")
    base = f"/staff/circles/{world.a.circle_id}/recovery"
    token, version = admin.hidden_fields(base)
    data = {"csrf_token": token, "edit_version": version}
    assert admin.post(base, {**data, "recovery_email": "one@customer.jp"}).status_code == 302
    stale = admin.post(base, {**data, "recovery_email": "two@customer.jp"})
    assert stale.status_code == 302
    assert _circle(app, world).recovery_email == "one@customer.jp"


def test_the_circle_edits_its_own_recovery_address(world, browser, app):
    circle = _english(browser(world.a.host))
    circle.login_circle(world.a.circle_login, PASSWORD)
    response = circle.post("/portal/recovery", {"recovery_email": "me@customer.jp"})
    assert response.status_code == 302
    assert _circle(app, world).recovery_email == "me@customer.jp"
    assert (
        circle.post("/portal/recovery/send-reset", token_from="/portal/recovery").status_code == 403
    )


def test_another_resellers_circle_is_not_found(world, browser, mailbox):
    admin = _staff_client(world, browser, "admin")
    base = f"/staff/circles/{world.b.circle_id}/recovery"
    assert admin.post(base + "/send-reset", token_from="/staff/").status_code == 404
    assert mailbox.messages == []


def test_sessions_of_the_circle_end_when_the_password_is_set(world, browser, mailbox, app):
    _set_recovery(_staff_client(world, browser, "admin"), world, "desk@customer.jp")
    circle_browser = browser(world.a.host)
    circle_browser.login_circle(world.a.circle_login, PASSWORD)
    admin = _staff_client(world, browser, "admin")
    base = f"/staff/circles/{world.a.circle_id}/recovery"
    admin.post(base + "/send-reset", token_from=base)
    path = mailbox.only().path_of_link()
    browser(world.a.host).post(
        path, {"new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD}
    )
    with app.app_context(), use_scope(world.a.scope):
        assert open_session_ids("circle", world.a.circle_id) == ()


CIRCLE_SENT = (
    "If this circle has a recovery address, we have sent a link to reset the password "
    "there. The link is valid for one hour. If it has none, ask your administrator."
)


def _circle_forgot(client, login_id):
    return client.post("/password/forgot", {"login_id": login_id}, token_from="/password/forgot")


def test_a_circle_asks_for_its_own_reset_from_the_login_page(world, browser, mailbox, app):
    assert _set_recovery(_staff_client(world, browser, "admin"), world, "desk@customer.jp")
    mailbox.clear()
    guest = _english(browser(world.a.host))
    assert "/password/forgot" in guest.get("/login").get_data(as_text=True)
    # The login ID as a Japanese keyboard may type it: full width, upper case.
    answer = _circle_forgot(guest, "ＡＬＰＨＡ－ＣＩＲＣＬＥ")
    assert answer.status_code == 302
    assert CIRCLE_SENT in guest.get(answer.location).get_data(as_text=True)
    mail = mailbox.only()
    assert mail.envelope_to == ("desk@customer.jp",)
    path = mail.path_of_link()
    assert path.startswith("/password/reset?token=")
    done = guest.post(path, {"new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD})
    assert done.status_code == 302
    assert guest.login_circle(world.a.circle_login, NEW_PASSWORD).status_code == 302


def test_a_circle_without_an_address_and_an_unknown_id_get_the_same_answer(world, browser, mailbox):
    guest = _english(browser(world.a.host))
    known = _circle_forgot(guest, world.a.circle_login)  # no recovery address
    unknown = _circle_forgot(guest, "nobody-here")
    other_reseller = _circle_forgot(guest, world.b.circle_login)
    assert known.status_code == unknown.status_code == other_reseller.status_code == 302
    assert known.location == unknown.location == other_reseller.location
    assert CIRCLE_SENT in guest.get(known.location).get_data(as_text=True)
    assert mailbox.messages == []


def test_the_circle_reset_form_is_limited_per_login_id(world, browser, mailbox):
    guest = _english(browser(world.a.host))
    for _ in range(3):
        assert _circle_forgot(guest, world.a.circle_login).status_code == 302
    limited = _circle_forgot(guest, "ALPHA-CIRCLE")  # the same ID, otherwise written
    assert limited.status_code == 429
    assert "Too many attempts." in limited.get_data(as_text=True)
    assert _circle_forgot(guest, world.a.other_circle_login).status_code == 302
