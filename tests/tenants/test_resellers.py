"""Resellers as the platform sees them: the qualified-invoice registration number (R23),
host names, address and bank account rules, and the console's reseller pages."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from pbx_platform.db import db
from pbx_platform.models import AuditLog, LoginSession
from pbx_platform.tenancy import platform_bypass
from tenants.models import Account, Circle, Reseller, ResellerHost, Staff
from tenants.services import reseller_details as details
from tenants.services.resellers import (
    check_registration_number,
    corporate_number_check_digit,
)

# -- the check digit (法人番号の指定等に関する省令 第2条), on published corporate numbers --


@pytest.mark.parametrize(
    ("twelve", "digit"),
    [
        # 7000012050002, the National Tax Agency (国税庁): base digits from the right
        # 2,0,0,0,5,0,2,1,0,0,0,0 → Σ Pn×Qn = 2+5+2+1×2 = 11, 11 mod 9 = 2, 9 − 2 = 7.
        ("000012050002", 7),
        ("700110005901", 8),  # 8700110005901
        ("000000000000", 9),  # Σ = 0 → 9 − 0
        # Σ a multiple of 9 that is not 0: 9 − 0 = 9 as well (000000000009: 9×1 = 9).
        ("000000000009", 9),
    ],
)
def test_check_digit_follows_the_national_tax_agency_rule(twelve, digit):
    assert corporate_number_check_digit(twelve) == digit


def test_the_check_digit_weights_even_positions_twice():
    # A 1 in the 2nd place from the right counts 2: 9 − 2 = 7; in the 1st place, 9 − 1 = 8.
    assert corporate_number_check_digit("000000000010") == 7
    assert corporate_number_check_digit("000000000001") == 8


def test_a_valid_registration_number_has_no_errors(app):
    with app.test_request_context(), force_locale("en"):
        check = check_registration_number("T8700110005901")
    assert check.errors == [] and check.warnings == []


def test_a_wrong_check_digit_is_refused(app):
    with app.test_request_context(), force_locale("en"):
        check = check_registration_number("T1700110005901")
        with pytest.raises(details.DetailError) as refused:
            details.registration_number("T1700110005901")
    assert check.errors == [
        "The check digit of this registration number is wrong. Please check the number."
    ]
    assert refused.value.field == "registration_number"


@pytest.mark.parametrize(
    "typed",
    ["Ｔ８７００１１０００５９０１", "t8700110005901", "T-8700-1100-0590-1", " T8700110005901 "],
)
def test_full_width_lower_case_and_grouped_numbers_are_read(app, typed):
    with app.test_request_context(), force_locale("en"):
        assert details.registration_number(typed) == "T8700110005901"


@pytest.mark.parametrize(
    "bad", ["", "8700110005901", "T870011000590", "T87001100059012", "T870011000590X"]
)
def test_malformed_numbers_are_refused(app, bad):
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(details.DetailError) as refused:
            details.registration_number(bad)
    assert str(refused.value) == "A registration number is T followed by 13 digits."


# -- host names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("PBX.Example.CO.JP", "pbx.example.co.jp"),
        ("ｐｂｘ．ｅｘａｍｐｌｅ．ｊｐ", "pbx.example.jp"),  # full-width letters and dot
        ("電話.example.jp", "xn--722ax0w.example.jp"),  # IDNA: stored as the A-label
        ("pbx.example.jp.", "pbx.example.jp"),
    ],
)
def test_host_names_are_lower_cased_and_idna_encoded(app, typed, stored):
    with app.test_request_context(), force_locale("en"):
        assert details.host_name(typed) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "localhost",
        "-pbx.example.jp",
        "pbx_.example.jp",
        "a..b.jp",
        "x" * 64 + ".jp",
        "1.2.3.4",
        "pbx.example.jp/x",
        "a b.jp",
        ("a" * 60 + ".") * 5 + "jp",
    ],
)
def test_invalid_host_names_are_refused(app, bad):
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(details.DetailError) as refused:
            details.host_name(bad)
    assert str(refused.value).endswith("is not a valid host name.")


def test_custom_domains_under_the_base_domain_are_refused(app):
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(details.DetailError) as refused:
            details.custom_hosts("other.localhost", base_domain="localhost", own_slug="mine")
    assert str(refused.value) == (
        "other.localhost is under the platform's domain localhost; "
        "only mine.localhost is this reseller's there."
    )


def test_a_custom_domain_listed_twice_in_other_case_is_refused(app):
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(details.DetailError) as refused:
            details.custom_hosts(
                "pbx.example.jp\nPBX.example.JP", base_domain="localhost", own_slug="m"
            )
    assert str(refused.value) == "pbx.example.jp is listed twice."


# -- address and bank account -----------------------------------------------------------------


def test_full_width_postal_code_with_a_long_dash_is_read(app):
    with app.test_request_context(), force_locale("en"):
        address = details.address(
            postal_code="１００ー０００１", prefecture="東京都", city="千代田区", rest="千代田1-1"
        )
    assert address.postal_code == "100-0001"


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        (
            {"postal_code": "100-001"},
            "postal_code",
            "Enter the postal code as 7 digits (123-4567).",
        ),
        ({"prefecture": "東京"}, "prefecture", "Choose a prefecture."),
        ({"city": "x" * 81}, "city", "Enter at most 80 characters."),
        ({"rest": ""}, "address_line1", "This field is required."),
    ],
)
def test_bad_addresses_are_refused(app, kwargs, field, message):
    values = {"postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区", "rest": "1-1"}
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(details.DetailError) as refused:
            details.address(**{**values, **kwargs})
    assert (refused.value.field, str(refused.value)) == (field, message)


def test_half_width_katakana_holder_is_stored_full_width(app):
    with app.test_request_context(), force_locale("en"):
        bank = details.bank_account(
            bank_name="みずほ銀行",
            branch="東京営業部",
            account_type="ordinary",
            number="１２３４５６７",
            holder="ｶ)ｻｸﾗﾃﾚｺﾑ",
        )
    assert bank.holder == "カ)サクラテレコム"
    assert bank.number == "1234567"


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"number": "123456"}, "bank_account_number", "Enter the account number as 7 digits."),
        ({"number": "12345678"}, "bank_account_number", "Enter the account number as 7 digits."),
        (
            {"holder": "さくらてれこむ"},
            "bank_account_holder",
            "Enter the account holder in katakana.",
        ),
        ({"holder": "サクラ" * 21}, "bank_account_holder", "Enter at most 60 characters."),
        ({"account_type": "savings"}, "bank_account_type", "Choose the account type."),
        ({"bank_name": "銀" * 41}, "bank_name", "Enter at most 40 characters."),
    ],
)
def test_bad_bank_accounts_are_refused(app, kwargs, field, message):
    values = {
        "bank_name": "みずほ銀行",
        "branch": "本店",
        "account_type": "current",
        "number": "1234567",
        "holder": "サクラテレコム",
    }
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(details.DetailError) as refused:
            details.bank_account(**{**values, **kwargs})
    assert (refused.value.field, str(refused.value)) == (field, message)


# -- the console pages ------------------------------------------------------------------------

NEW = {
    "name": "北風テレコム株式会社",
    "slug": "kitakaze",
    "custom_hosts": "PBX.Kitakaze.example",
    "registration_number": "Ｔ７０００－０１２０－５０００２",
    "postal_code": "０６０－０００１",
    "prefecture": "北海道",
    "city": "札幌市中央区",
    "address_line1": "北一条西1-1",
    "address_line2": "",
    "bank_name": "北洋銀行",
    "bank_branch": "本店営業部",
    "bank_account_type": "ordinary",
    "bank_account_number": "7654321",
    "bank_account_holder": "ｷﾀｶｾﾞﾃﾚｺﾑ(ｶ",
    "admin_name": "北風 太郎",
    "admin_email": "Taro@Kitakaze.example",
}


NEW_ADMIN_PASSWORD = "Kitakaze#2026first"


@pytest.fixture
def console(world, browser):
    client = browser("localhost")
    client.post("/locale", {"locale": "en", "next": "/"})
    client.login_console(world.operator_email, world.password)
    return client


def _count(app, model, *where):
    with app.app_context(), platform_bypass("test"):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_operator_creates_a_reseller_from_scratch(app, console, mailbox):
    response = console.post("/console/resellers/new", NEW)
    assert response.status_code == 302
    with app.app_context(), platform_bypass("test"):
        reseller = db.session.scalars(select(Reseller).where(Reseller.slug == "kitakaze")).one()
        hosts = sorted((h.host, h.is_custom) for h in reseller.hosts)
        admin = db.session.scalars(select(Staff).where(Staff.reseller_id == reseller.id)).one()
        assert (reseller.name, reseller.registration_number) == (
            "北風テレコム株式会社",
            "T7000012050002",
        )
        assert (reseller.postal_code, reseller.bank_account_holder) == (
            "060-0001",
            "キタカゼテレコム(カ",
        )
        assert (admin.email, admin.role.value, admin.password_hash) == (
            "taro@kitakaze.example",
            "admin",
            "",
        )
        invited = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "staff.invite")
        ).all()
        assert [row.reseller_id for row in invited] == [reseller.id]
    # The first admin's invitation, to the portal under its own (custom) domain.
    mail = mailbox.only()
    assert mail.envelope_to == ("taro@kitakaze.example",)
    assert mail.links[0].startswith("http://pbx.kitakaze.example/staff/invitation?token=")
    assert hosts == [("kitakaze.localhost", False), ("pbx.kitakaze.example", True)]
    page = console.get(response.headers["Location"]).get_data(as_text=True)
    assert "invitation due" in page and "pbx.kitakaze.example" in page


def test_the_invited_admin_logs_in_only_after_accepting_the_invitation(
    app, console, browser, mailbox
):
    console.post("/console/resellers/new", NEW)
    portal = browser("kitakaze.localhost")
    for password in ("", "!invitation-due", NEW_ADMIN_PASSWORD):
        assert portal.login_staff("taro@kitakaze.example", password).status_code == 200
    path = mailbox.only().path_of_link()
    accepted = portal.post(
        path, {"new_password": NEW_ADMIN_PASSWORD, "new_password_repeat": NEW_ADMIN_PASSWORD}
    )
    assert accepted.status_code == 302
    assert portal.login_staff("taro@kitakaze.example", NEW_ADMIN_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"registration_number": "T1000012050002"},
            "The check digit of this registration number is wrong.",
        ),
        (
            {"custom_hosts": "a.localhost"},
            "a.localhost is under the platform&#39;s domain localhost",
        ),
        ({"postal_code": "０６０－００１"}, "Enter the postal code as 7 digits (123-4567)."),
        ({"name": "名" * 121}, "Enter at most 120 characters."),
        ({"bank_account_holder": "きたかぜ"}, "Enter the account holder in katakana."),
        ({"slug": "Ki"}, "Use 3–40 lower-case letters, digits and hyphens for the slug."),
        ({"admin_email": "taro@"}, "Enter a valid e-mail address."),
    ],
)
def test_bad_input_is_answered_and_creates_nothing(app, console, change, message):
    response = console.post("/console/resellers/new", {**NEW, **change})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(app, Reseller, Reseller.slug == "kitakaze") == 0


def test_a_host_of_another_reseller_in_other_case_is_refused(app, world, console):
    response = console.post("/console/resellers/new", {**NEW, "custom_hosts": ""})
    assert response.status_code == 302
    # A second reseller claiming the first one's custom domain in capitals.
    console.post(
        f"/console/resellers/{world.b.reseller_id}/edit", {**NEW, "custom_hosts": "pbx.b.example"}
    )
    again = console.post(
        "/console/resellers/new", {**NEW, "slug": "minami", "custom_hosts": "PBX.B.Example"}
    )
    assert again.status_code == 422
    assert "The host name pbx.b.example is already in use." in again.get_data(as_text=True)
    assert _count(app, Reseller, Reseller.slug == "minami") == 0


def test_a_taken_slug_is_refused(app, world, console):
    response = console.post(
        "/console/resellers/new", {**NEW, "slug": world.a.slug, "custom_hosts": ""}
    )
    assert response.status_code == 422
    assert "This slug is already in use." in response.get_data(as_text=True)


def test_operator_edits_hosts_and_details(app, world, console):
    path = f"/console/resellers/{world.a.reseller_id}/edit"
    response = console.post(path, {**NEW, "custom_hosts": "pbx.a.example\nfax.a.example"})
    assert response.status_code == 302
    with app.app_context(), platform_bypass("test"):
        reseller = db.session.get(Reseller, world.a.reseller_id)
        hosts = sorted(h.host for h in reseller.hosts)
        assert (reseller.registration_number, reseller.edit_version) == ("T7000012050002", 1)
        assert reseller.name == f"Reseller {world.a.slug}"  # not on the edit form
    assert hosts == sorted(["fax.a.example", f"{world.a.slug}.localhost", "pbx.a.example"])
    console.post(path, {**NEW, "custom_hosts": "fax.a.example"})
    with app.app_context(), platform_bypass("test"):
        hosts = sorted(h.host for h in db.session.get(Reseller, world.a.reseller_id).hosts)
    assert hosts == sorted(["fax.a.example", f"{world.a.slug}.localhost"])


def test_a_stale_edit_form_changes_nothing(app, world, console):
    path = f"/console/resellers/{world.a.reseller_id}/edit"
    token, version = console.hidden_fields(path)
    assert version == "0"
    console.post(path, {**NEW, "custom_hosts": "first.a.example"})
    stale = console.post(
        path,
        {**NEW, "custom_hosts": "second.a.example", "csrf_token": token, "edit_version": version},
    )
    assert stale.status_code == 409
    assert "Someone else changed this page after you opened it." in stale.get_data(as_text=True)
    assert _count(app, ResellerHost, ResellerHost.host == "second.a.example") == 0
    assert _count(app, ResellerHost, ResellerHost.host == "first.a.example") == 1


def test_the_edit_form_keeps_its_reseller_whatever_a_hidden_field_says(app, world, console):
    path = f"/console/resellers/{world.a.reseller_id}/edit"
    console.post(path, {**NEW, "reseller_id": str(world.b.reseller_id), "slug": world.b.slug})
    with app.app_context(), platform_bypass("test"):
        a = db.session.get(Reseller, world.a.reseller_id)
        b = db.session.get(Reseller, world.b.reseller_id)
        assert (a.registration_number, b.registration_number) == ("T7000012050002", None)
        assert a.slug == world.a.slug


def test_suspension_refuses_logins_ends_sessions_and_keeps_rows(app, world, console, browser):
    staff = browser(world.a.host)
    staff.post("/locale", {"locale": "en", "next": "/"})
    assert staff.login_staff(world.a.staff["admin"], world.password).status_code == 302
    assert staff.get("/staff/").status_code == 200
    circles_before = _count(app, Circle, Circle.reseller_id == world.a.reseller_id)
    accounts_before = _count(app, Account, Account.reseller_id == world.a.reseller_id)

    assert console.post(f"/console/resellers/{world.a.reseller_id}/suspend", {}).status_code == 302

    assert staff.get("/staff/").status_code == 302  # its session ended
    assert (
        _count(
            app,
            LoginSession,
            LoginSession.reseller_id == world.a.reseller_id,
            LoginSession.revoked_at.is_(None),
        )
        == 0
    )
    notice = "This service is suspended. Logins are not possible at the moment"
    for path in ("/staff/login", "/login"):
        assert notice in staff.get(path).get_data(as_text=True)
    refused = staff.login_staff(world.a.staff["admin"], world.password)
    assert refused.status_code == 200 and notice in refused.get_data(as_text=True)
    circle = browser(world.a.host)
    assert circle.login_circle(world.a.circle_login, world.password).status_code == 200
    # The other reseller is untouched, and nothing of A is gone.
    other = browser(world.b.host)
    assert other.login_staff(world.b.staff["admin"], world.password).status_code == 302
    assert _count(app, Circle, Circle.reseller_id == world.a.reseller_id) == circles_before
    assert _count(app, Account, Account.reseller_id == world.a.reseller_id) == accounts_before

    assert (
        console.post(f"/console/resellers/{world.a.reseller_id}/reactivate", {}).status_code == 302
    )
    assert notice not in staff.get("/staff/login").get_data(as_text=True)
    assert staff.login_staff(world.a.staff["admin"], world.password).status_code == 302


def test_the_platform_cannot_be_suspended(app, world, console):
    response = console.post(f"/console/resellers/{world.platform_reseller_id}/suspend", {})
    assert response.status_code == 302
    page = console.get(response.headers["Location"]).get_data(as_text=True)
    assert "The platform itself cannot be suspended." in page


def test_the_list_searches_name_slug_and_host_and_pages(app, world, console):
    console.post(
        f"/console/resellers/{world.b.reseller_id}/edit", {**NEW, "custom_hosts": "pbx.umi.example"}
    )
    page = console.get("/console/?q=UMI.EXAMPLE").get_data(as_text=True)
    assert f"Reseller {world.b.slug}" in page and f"Reseller {world.a.slug}<" not in page
    page = console.get(f"/console/?q={world.a.slug}").get_data(as_text=True)
    assert f"Reseller {world.a.slug}" in page and f"Reseller {world.b.slug}" not in page
    assert "No reseller matches your search." in console.get("/console/?q=%25").get_data(
        as_text=True
    )
    for n in range(25):
        console.post("/console/resellers/new", {**NEW, "slug": f"bulk{n:02d}", "custom_hosts": ""})
    first = console.get("/console/").get_data(as_text=True)
    assert "Page 1 of 2" in first and "bulk16" in first and "bulk17" not in first
    second = console.get("/console/?page=2").get_data(as_text=True)
    assert "bulk17" in second and "Page 2 of 2" in second
    assert "Page 2 of 2" in console.get("/console/?page=99").get_data(as_text=True)


def test_every_field_ten_thousand_characters_long_is_answered(app, console):
    huge = {key: "x" * 10_000 for key in NEW}
    response = console.post("/console/resellers/new", huge)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter at most 120 characters." in page
    assert "Enter the postal code as 7 digits (123-4567)." in page
    assert _count(app, Reseller) == 3


def test_a_form_without_its_csrf_token_changes_nothing(app, world, console):
    response = console.post("/console/resellers/new", NEW, csrf=False)
    assert response.status_code == 400
    suspend = console.post(f"/console/resellers/{world.a.reseller_id}/suspend", {}, csrf=False)
    assert suspend.status_code == 400
    assert _count(app, Reseller, Reseller.suspended_at.is_not(None)) == 0
    assert _count(app, Reseller, Reseller.slug == "kitakaze") == 0
