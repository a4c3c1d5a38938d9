"""Customer accounts in the reseller's portal: the form (reading, postal code, phone,
invoice delivery and R2), the list (search, paging, sorting), suspension and
termination (R12 dates), and who may do what (R22)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from pbx_platform.db import db
from pbx_platform.japanese import postal_code
from pbx_platform.models import LoginSession
from pbx_platform.tenancy import use_scope
from tenants.models import (
    Account,
    AccountOption,
    AccountOptionKind,
    AccountStatus,
    Circle,
    InvoiceDelivery,
)
from tenants.options.models import CircleOption, OptionKind
from tenants.services import customers
from tenants.services import provisioning as p
from tests.circle_pages import login, pin_locale, text
from tests.factories import PASSWORD
from tests.form_versions import page_version

NOW = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo, 10 November

FORM = {
    "company_name": "株式会社テスト商会",
    "company_name_kana": "テストショウカイ",
    "postal_code": "100-0001",
    "prefecture": "東京都",
    "city": "千代田区",
    "address_line1": "千代田1-1",
    "address_line2": "テストビル3階",
    "billing_contact_name": "経理 花子",
    "billing_contact_email": "keiri@test.example",
    "billing_contact_phone": "03-1234-5678",
    "invoice_delivery": "portal",
}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def accounts_named(app, tenant, name):
    with app.app_context(), use_scope(tenant.scope):
        return db.session.scalars(select(Account).where(Account.company_name == name)).all()


def account_row(app, tenant, account_id):
    with app.app_context(), use_scope(tenant.scope):
        account = db.session.get(Account, account_id)
        db.session.expunge(account)
        return account


def account_count(app, tenant):
    with app.app_context(), use_scope(tenant.scope):
        return db.session.scalar(select(func.count(Account.id)))


def set_details(app, tenant, account_id, **values):
    with app.app_context(), use_scope(tenant.scope):
        account = db.session.get(Account, account_id)
        for name, value in values.items():
            setattr(account, name, value)
        db.session.commit()


# --- the form --------------------------------------------------------------------------


def test_admin_creates_a_customer_from_full_width_input(app, world, browser):
    client = login(browser, world.a, "admin")
    response = client.post(
        "/staff/customers/new",
        {
            **FORM,
            "company_name": "株式会社ＡＢＣ物流",
            "company_name_kana": "ｴｰﾋﾞｰｼｰﾌﾞﾂﾘｭｳ",
            "postal_code": "〒１００－０００１",
            "billing_contact_phone": "０３－１２３４－５６７８",
            "billing_contact_email": "ｋｅｉｒｉ@test.example",
        },
    )
    assert response.status_code == 302
    # The name as typed (full-width letters are the user's choice); codes normalised.
    (account,) = accounts_named(app, world.a, "株式会社ＡＢＣ物流")
    assert account.company_name_kana == "エービーシーブツリュウ"
    assert account.postal_code == "100-0001"
    assert account.billing_contact_phone == "+81312345678"
    assert account.billing_contact_email == "keiri@test.example"
    assert account.invoice_delivery == InvoiceDelivery.PORTAL
    assert account.reseller_id == world.a.reseller_id
    assert account.status == AccountStatus.ACTIVE
    page = text(client.get(response.headers["Location"]))
    assert "03-1234-5678" in page and "〒100-0001" in page and "エービーシーブツリュウ" in page
    assert "Active" in page


@pytest.mark.parametrize(
    "dash", ["-", "－", "ー", "‐", "−", "ｰ"], ids=["ascii", "fw", "choon", "hyphen", "minus", "hw"]
)
def test_postal_code_and_phone_accept_every_dash_a_keyboard_types(app, world, browser, dash):
    client = login(browser, world.a, "admin")
    response = client.post(
        "/staff/customers/new",
        {
            **FORM,
            "postal_code": f"100{dash}0001",
            "billing_contact_phone": f"03{dash}1234{dash}5678",
        },
    )
    assert response.status_code == 302
    (account,) = accounts_named(app, world.a, FORM["company_name"])
    assert (account.postal_code, account.billing_contact_phone) == ("100-0001", "+81312345678")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("postal_code", "12345", "Enter a postal code of 7 digits, such as 100-0001."),
        ("postal_code", "１００－０００１２", "Enter a postal code of 7 digits, such as 100-0001."),
        ("postal_code", "", "Enter a postal code of 7 digits, such as 100-0001."),
        (
            "billing_contact_phone",
            "03-1234",
            "Enter a Japanese phone number, such as 03-1234-5678.",
        ),
        (
            "billing_contact_phone",
            "０３－１２３４",
            "Enter a Japanese phone number, such as 03-1234-5678.",
        ),
        (
            "billing_contact_phone",
            "x" * 200,
            "Enter a Japanese phone number, such as 03-1234-5678.",
        ),
        ("company_name_kana", "Test Shokai", "Enter the reading in katakana."),
        ("company_name_kana", "試験商会", "Enter the reading in katakana."),
        ("company_name_kana", "テスト1", "Enter the reading in katakana."),
        ("company_name", "株" * 121, "At most 120 characters."),
        ("company_name", "", "This field is required."),
        ("company_name", "A\x00B", "Remove the control characters."),
        ("address_line2", "ビ" * 121, "At most 120 characters."),
        ("city", "市" * 81, "At most 80 characters."),
        (
            "billing_contact_email",
            "keiri-at-example",
            "Enter an e-mail address such as name@example.jp.",
        ),
        ("prefecture", "東京", "Choose a prefecture."),
        ("invoice_delivery", "fax", "Choose how the invoices reach the customer."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_creates_nothing(
    app, world, browser, field, value, message
):
    client = login(browser, world.a, "admin")
    before = account_count(app, world.a)
    response = client.post("/staff/customers/new", {**FORM, field: value})
    assert response.status_code == 422
    assert message in text(response)
    assert "Nothing was saved: correct the fields marked below." in text(response)
    assert account_count(app, world.a) == before


def test_enter_in_a_field_saves_rather_than_asking_for_help(app, world, browser):
    """A browser submits a form's first submit button on Enter: that one saves."""
    client = login(browser, world.a, "admin")
    page = text(client.get("/staff/customers/new"))
    first = page.index('<button type="submit"', page.index('class="card customer-form"'))
    assert page[first:].startswith('<button type="submit" name="assist" value=""')


def test_the_normalised_values_are_shown_back_with_the_errors(app, world, browser):
    client = login(browser, world.a, "admin")
    response = client.post(
        "/staff/customers/new",
        {**FORM, "postal_code": "１５０－０００２", "company_name_kana": "ｻｸﾗ商事"},
    )
    assert response.status_code == 422
    page = text(response)
    assert 'value="150-0002"' in page and 'value="サクラ商事"' in page


def test_hiragana_reading_becomes_katakana(app, world, browser):
    client = login(browser, world.a, "admin")
    client.post("/staff/customers/new", {**FORM, "company_name_kana": "てすと しょうかい"})
    (account,) = accounts_named(app, world.a, FORM["company_name"])
    assert account.company_name_kana == "テスト ショウカイ"


def test_the_reading_is_suggested_from_the_name_and_nothing_is_saved(app, world, browser):
    client = login(browser, world.a, "admin")
    before = account_count(app, world.a)
    response = client.post(
        "/staff/customers/new",
        {
            **FORM,
            "company_name": "株式会社さくら商事",
            "company_name_kana": "",
            "assist": "reading",
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert 'value="サクラショウジ"' in page  # without the legal form 株式会社
    assert "A reading was suggested from the company name. Check it before saving." in page
    assert account_count(app, world.a) == before


def test_saving_without_a_reading_suggests_one_and_asks_again(app, world, browser):
    client = login(browser, world.a, "admin")
    response = client.post(
        "/staff/customers/new", {**FORM, "company_name": "東京海上", "company_name_kana": ""}
    )
    assert response.status_code == 422
    page = text(response)
    assert 'value="トウキョウカイジョウ"' in page
    assert "Check it and save again." in page
    assert accounts_named(app, world.a, "東京海上") == []


def test_suggest_reading_leaves_out_latin_letters():
    assert customers.suggest_reading("株式会社ABC物流") == "ブツリュウ"
    assert customers.suggest_reading("有限会社いろは工房") == "イロハコウボウ"


def test_the_postal_code_fills_prefecture_city_and_town(app, world, browser):
    client = login(browser, world.a, "admin")
    response = client.post(
        "/staff/customers/new",
        {
            **FORM,
            "postal_code": "１５００００２",
            "prefecture": "",
            "city": "",
            "address_line1": "",
            "assist": "address",
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert 'value="150-0002"' in page
    assert '<option selected value="東京都">' in page or 'value="東京都" selected' in page
    assert 'value="渋谷区"' in page and 'value="渋谷"' in page
    assert "The address was filled in from the postal code." in page


def test_an_unknown_postal_code_says_so(app, world, browser):
    client = login(browser, world.a, "admin")
    response = client.post(
        "/staff/customers/new", {**FORM, "postal_code": "999-9999", "assist": "address"}
    )
    assert response.status_code == 200
    assert "This postal code was not found." in text(response)


def test_lookup_postal_code_from_offline_data():
    found = customers.lookup_postal_code("〒060-0000")
    assert (found.prefecture, found.city, found.town) == ("北海道", "札幌市中央区", "")
    assert customers.lookup_postal_code("abc") is None


def test_post_delivery_is_refused_for_a_new_customer(app, world, browser):
    client = login(browser, world.a, "admin")
    response = client.post("/staff/customers/new", {**FORM, "invoice_delivery": "post"})
    assert response.status_code == 422
    assert (
        "Invoices go by post only with the invoice mailing option. "
        "Buy it on the account's options page first."
    ) in text(response)
    assert accounts_named(app, world.a, FORM["company_name"]) == []


def test_post_delivery_needs_invoice_mailing_r2(app, world, browser, clock):
    client = login(browser, world.a, "admin")
    path = f"/staff/accounts/{world.a.account_id}/edit"
    page = text(client.get(path))
    assert "Post needs the invoice mailing option (R2)" in page
    assert f"/staff/accounts/{world.a.account_id}/options" in page  # the way to the cart
    refused = client.post(path, {**FORM, "invoice_delivery": "post"})
    assert refused.status_code == 422
    assert account_row(app, world.a, world.a.account_id).invoice_delivery == InvoiceDelivery.PORTAL
    with app.app_context(), use_scope(world.a.scope):
        account = db.session.get(Account, world.a.account_id)
        p.add_account_option(account, AccountOptionKind.INVOICE_MAILING, date(2026, 11, 1))
        db.session.commit()
    assert client.post(path, {**FORM, "invoice_delivery": "post"}).status_code == 302
    assert account_row(app, world.a, world.a.account_id).invoice_delivery == InvoiceDelivery.POST


def test_edit_shows_the_current_values_in_national_format(app, world, browser):
    set_details(app, world.a, world.a.account_id, billing_contact_phone="+81312345678")
    client = login(browser, world.a, "billing")
    page = text(client.get(f"/staff/accounts/{world.a.account_id}/edit"))
    assert 'value="03-1234-5678"' in page and 'name="edit_version" value="0"' in page


def test_a_stale_edit_is_refused_and_changes_nothing(app, world, browser):
    path = f"/staff/accounts/{world.a.account_id}/edit"
    first = login(browser, world.a, "admin")
    second = login(browser, world.a, "billing")
    opened = page_version(second, path)
    assert first.post(path, {**FORM, "company_name": "First K.K."}).status_code == 302
    response = second.post(
        path, {**FORM, "company_name": "Second K.K.", "edit_version": opened}, follow_redirects=True
    )
    page = text(response)
    assert "Someone else changed this page after you opened it. Nothing was saved" in page
    assert 'value="First K.K."' in page  # the current values
    assert account_row(app, world.a, world.a.account_id).company_name == "First K.K."


def test_a_foreign_account_id_in_the_form_changes_only_the_url_account(app, world, browser):
    client = login(browser, world.a, "admin")
    path = f"/staff/accounts/{world.a.account_id}/edit"
    response = client.post(
        path, {**FORM, "company_name": "Mine K.K.", "account_id": str(world.b.account_id)}
    )
    assert response.status_code == 302
    assert account_row(app, world.a, world.a.account_id).company_name == "Mine K.K."
    assert account_row(app, world.b, world.b.account_id).company_name == "bravo 株式会社"
    created = client.post(
        "/staff/customers/new",
        {**FORM, "reseller_id": str(world.b.reseller_id), "account_id": str(world.b.account_id)},
    )
    assert created.status_code == 302
    (account,) = accounts_named(app, world.a, FORM["company_name"])
    assert account.reseller_id == world.a.reseller_id
    assert accounts_named(app, world.b, FORM["company_name"]) == []


def test_another_resellers_account_is_404(app, world, browser):
    client = login(browser, world.a, "admin")
    assert client.get(f"/staff/accounts/{world.b.account_id}/edit").status_code == 404
    assert client.post(f"/staff/accounts/{world.b.account_id}/edit", FORM).status_code == 404
    assert client.post(f"/staff/accounts/{world.b.account_id}/suspend").status_code == 404
    assert account_row(app, world.b, world.b.account_id).status == AccountStatus.ACTIVE


@pytest.mark.parametrize(
    ("role", "new", "edit", "suspend"),
    [
        ("admin", 200, 200, 302),
        ("billing", 403, 200, 403),
        ("support", 403, 403, 403),
        ("manager", 403, 403, 403),
    ],
)
def test_r22_who_creates_edits_and_suspends(app, world, browser, role, new, edit, suspend):
    client = login(browser, world.a, role)
    account = world.a.account_id
    assert client.get("/staff/customers").status_code == 200
    assert client.get("/staff/customers/new").status_code == new
    assert client.get(f"/staff/accounts/{account}/edit").status_code == edit
    assert client.post(f"/staff/accounts/{account}/suspend").status_code == suspend
    expected = AccountStatus.SUSPENDED if suspend == 302 else AccountStatus.ACTIVE
    assert account_row(app, world.a, account).status == expected


def test_billing_sees_no_create_suspend_or_terminate_buttons(app, world, browser):
    client = login(browser, world.a, "billing")
    page = text(client.get(f"/staff/accounts/{world.a.account_id}"))
    assert "Edit" in page and "Suspend" not in page and "Terminate" not in page
    assert "New customer" not in text(client.get("/staff/customers"))


# --- the list --------------------------------------------------------------------------


def add_customers(app, tenant, count, **details):
    with app.app_context(), use_scope(tenant.scope):
        reseller_id = tenant.reseller_id
        for n in range(count):
            db.session.add(
                Account(
                    reseller_id=reseller_id,
                    company_name=f"顧客{n:03d}",
                    company_name_kana=f"コキャク{n:03d}",
                    **details,
                )
            )
        db.session.commit()


def listed(client, **query):
    page = text(client.get("/staff/customers", query_string=query))
    return page


@pytest.fixture
def searchable(app, world):
    set_details(
        app,
        world.a,
        world.a.account_id,
        company_name="株式会社桜井製作所 SAKURAI",
        company_name_kana="サクライセイサクショ",
        billing_contact_phone="+81312345678",
    )
    set_details(app, world.b, world.b.account_id, billing_contact_phone="+81312345678")
    return world


@pytest.mark.parametrize(
    "query",
    [
        "桜井",  # the name
        "ＳＡＫＵＲＡＩ",  # the name as typed in full width, for a name in ASCII
        "セイサク",  # the reading
        "さくらい",  # the reading, typed in hiragana
        "ｻｸﾗｲ",  # the reading, in half-width katakana
        "03-1234-5678",  # the billing phone, national
        "０３１２３４５６７８",  # full-width digits
        "+81 3-1234-5678",  # international
        "ALPHA-CIRCLE",  # a circle's login ID, without case
        "alpha-ci",  # its start
    ],
)
def test_search_by_each_key(app, searchable, browser, query):
    client = login(browser, searchable.a, "admin")
    page = listed(client, q=query)
    assert "株式会社桜井製作所" in page
    assert "alpha Other K.K." not in page
    assert "1 customer(s)" in page


def test_search_never_finds_another_resellers_customers(app, searchable, browser):
    client = login(browser, searchable.a, "admin")
    assert "0 customer(s)" in listed(client, q="bravo-circle")
    assert "bravo 株式会社" not in listed(client, q="bravo")
    # Both resellers' accounts have this billing phone: only A's is listed.
    assert "1 customer(s)" in listed(client, q="03-1234-5678")


def test_search_takes_like_wildcards_literally(app, searchable, browser):
    client = login(browser, searchable.a, "admin")
    assert "0 customer(s)" in listed(client, q="%")
    assert "0 customer(s)" in listed(client, q="_")


def test_an_account_manager_lists_its_own_account_only(app, world, browser):
    client = login(browser, world.a, "manager")
    page = listed(client)
    assert "alpha 株式会社" in page and "alpha Other K.K." not in page


def test_paging_and_sorting_on_the_server(app, world, browser):
    add_customers(app, world.a, 43)
    client = login(browser, world.a, "admin")
    first = listed(client)
    assert "45 customer(s)" in first and "Page 1 of 3" in first
    assert "顧客000" in first and "顧客019" in first and "顧客020" not in first
    third = listed(client, page="3")
    assert "Page 3 of 3" in third and "顧客040" in third and "顧客000" not in third
    assert third.count('data-account="') == 5
    backwards = listed(client, sort="kana", dir="desc")
    assert "顧客042" in backwards and "顧客000" not in backwards
    assert "page=2" in backwards and "dir=desc" in backwards  # the pager keeps the order
    assert "Page 3 of 3" in listed(client, page="99")
    assert "Page 1 of 3" in listed(client, page="-4", sort="bogus")


def test_the_list_costs_the_same_statements_with_5_and_with_60_customers(app, world, browser):
    from sqlalchemy import event

    client = login(browser, world.a, "admin")

    def statements():
        seen = []
        with app.app_context():
            engine = db.engine

        def count(*args):
            seen.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/staff/customers", query_string={"q": "顧客"}).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    add_customers(app, world.a, 5)
    client.get("/staff/customers")
    small = statements()
    add_customers(app, world.a, 55)
    assert statements() == small


# --- suspension --------------------------------------------------------------------------


def suspend(app, world, browser):
    admin = login(browser, world.a, "admin")
    response = admin.post(f"/staff/accounts/{world.a.account_id}/suspend")
    assert response.status_code == 302
    return admin


def test_suspension_refuses_logins_with_a_message_and_ends_sessions(app, world, browser):
    circle = login(browser, world.a)
    manager = login(browser, world.a, "manager")
    admin = suspend(app, world, browser)
    assert "Suspended" in text(admin.get(f"/staff/accounts/{world.a.account_id}"))
    assert "Suspended" in listed(admin)
    # Their open sessions ended: the next request is sent to the login page.
    assert circle.get("/portal/").status_code == 302
    assert manager.get("/staff/").status_code == 302
    with app.app_context(), use_scope(world.a.scope):
        live = db.session.scalar(
            select(func.count(LoginSession.id)).where(
                LoginSession.account_id == world.a.account_id,
                LoginSession.revoked_at.is_(None),
            )
        )
    assert live == 0
    message = "This customer account is suspended, so logging in is not possible."
    fresh = pin_locale(browser(world.a.host))
    refused = fresh.login_circle(world.a.circle_login, PASSWORD)
    assert refused.status_code == 200 and message in text(refused)
    refused = fresh.login_staff(world.a.staff["manager"], PASSWORD)
    assert refused.status_code == 200 and message in text(refused)
    # A wrong password says nothing of the account's state.
    wrong = fresh.login_circle(world.a.circle_login, "Wrong#Pass2026")
    assert message not in text(wrong)
    # Other accounts' circles and the reseller's staff go on.
    assert fresh.login_circle(world.a.other_circle_login, PASSWORD).status_code == 302


def test_suspension_keeps_options_and_reactivation_lets_logins_in(app, world, browser, clock):
    with app.app_context(), use_scope(world.a.scope):
        circle = db.session.get(Circle, world.a.circle_id)
        p.add_circle_option(circle, OptionKind.IVR, starts_on=date(2026, 1, 1))
        db.session.commit()
    admin = suspend(app, world, browser)
    with app.app_context(), use_scope(world.a.scope):
        ends = db.session.scalars(
            select(CircleOption.ends_on).where(CircleOption.circle_id == world.a.circle_id)
        ).all()
    assert ends == [None]
    again = admin.post(f"/staff/accounts/{world.a.account_id}/suspend", follow_redirects=True)
    assert "This account is already suspended." in text(again)
    back = admin.post(f"/staff/accounts/{world.a.account_id}/reactivate", follow_redirects=True)
    assert "The account is active again: its logins work." in text(back)
    assert account_row(app, world.a, world.a.account_id).status == AccountStatus.ACTIVE
    fresh = browser(world.a.host)
    assert fresh.login_circle(world.a.circle_login, PASSWORD).status_code == 302


# --- termination (R12) -------------------------------------------------------------------


def give_options(app, tenant):
    with app.app_context(), use_scope(tenant.scope):
        account = db.session.get(Account, tenant.account_id)
        circle = db.session.get(Circle, tenant.circle_id)
        p.add_account_option(account, AccountOptionKind.INVOICE_MAILING, date(2026, 1, 1))
        p.add_circle_option(circle, OptionKind.IVR, starts_on=date(2026, 1, 1))
        p.add_circle_option(circle, OptionKind.MONITORING, quantity=3, starts_on=date(2026, 2, 1))
        # Already being cancelled: keeps its own (earlier) date.
        p.add_circle_option(
            circle,
            OptionKind.CALL_RECORDING,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 11, 30),
        )
        db.session.commit()


def option_ends(app, tenant):
    with app.app_context(), use_scope(tenant.scope):
        circle_rows = db.session.scalars(
            select(CircleOption).where(CircleOption.account_id == tenant.account_id)
        ).all()
        account_rows = db.session.scalars(
            select(AccountOption).where(AccountOption.account_id == tenant.account_id)
        ).all()
        return {
            **{o.kind.value: (o.quantity, o.ends_on) for o in circle_rows},
            **{o.kind.value: (1, o.ends_on) for o in account_rows},
        }


def terminate(client, tenant):
    return client.post(
        f"/staff/accounts/{tenant.account_id}/terminate", {"confirm": "1"}, follow_redirects=True
    )


@pytest.mark.parametrize(
    ("requested", "closes"),
    [
        (datetime(2026, 11, 10, 3, 0, tzinfo=UTC), date(2026, 11, 30)),
        # 21:59 in Tokyo on the last day: this month.
        (datetime(2026, 11, 30, 12, 59, tzinfo=UTC), date(2026, 11, 30)),
        # 22:00 in Tokyo on the last day: the end of the next month.
        (datetime(2026, 11, 30, 13, 0, tzinfo=UTC), date(2026, 12, 31)),
    ],
)
def test_termination_cancels_every_option_with_the_r12_date(app, world, browser, requested, closes):
    give_options(app, world.a)
    with time_machine.travel(requested, tick=False):
        client = login(browser, world.a, "admin")
        page = text(client.get(f"/staff/accounts/{world.a.account_id}/terminate"))
        assert f"The options run until the end of {closes.isoformat()}" in page
        assert "IVR" in page and "Invoice mailing" in page
        done = text(terminate(client, world.a))
    assert (
        f"The account is terminated: its options end and it closes at the end of {closes.isoformat()}."
    ) in done
    assert option_ends(app, world.a) == {
        "ivr": (1, closes),
        "monitoring": (3, closes),
        "call_recording": (1, date(2026, 11, 30)),
        "invoice_mailing": (1, closes),
    }
    account = account_row(app, world.a, world.a.account_id)
    assert account.closes_on == closes and account.terminated_at is not None
    # Nothing was deleted; the other account keeps its options untouched.
    assert account_count(app, world.a) == 2


def test_a_terminated_account_logs_in_until_its_closing_date(app, world, browser, clock):
    client = login(browser, world.a, "admin")
    terminate(client, world.a)
    assert "Terminated: closes on 2026-11-30" in listed(client)
    clock.move_to(datetime(2026, 11, 30, 14, 59, tzinfo=UTC))  # 23:59 on the 30th in Tokyo
    circle = login(browser, world.a)  # the last day: still open
    assert circle.get("/portal/").status_code == 200
    clock.move_to(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))  # 1 December in Tokyo
    assert circle.get("/portal/").status_code == 302  # the session no longer counts
    fresh = pin_locale(browser(world.a.host))
    refused = fresh.login_circle(world.a.circle_login, PASSWORD)
    assert (
        "This customer account was closed at the end of 2026-11-30. "
        "Logging in is no longer possible."
    ) in text(refused)
    refused = fresh.login_staff(world.a.staff["manager"], PASSWORD)
    assert "Logging in is no longer possible." in text(refused)
    client = login(browser, world.a, "admin")
    page = text(client.get(f"/staff/accounts/{world.a.account_id}"))
    assert "Closed on 2026-11-30" in page
    assert "Suspend" not in page and "Reactivate" not in page
    # The reseller's staff still log in, and the account's rows are all there.
    assert fresh.login_staff(world.a.staff["support"], PASSWORD).status_code == 302


def test_termination_needs_the_tick_and_happens_once(app, world, browser, clock):
    client = login(browser, world.a, "admin")
    unticked = client.post(f"/staff/accounts/{world.a.account_id}/terminate", {})
    assert unticked.status_code == 422
    assert "Tick the box to confirm the termination." in text(unticked)
    assert account_row(app, world.a, world.a.account_id).terminated_at is None
    terminate(client, world.a)
    again = text(terminate(client, world.a))
    assert "This account has already been terminated." in again


def test_nothing_can_be_bought_for_a_terminated_account(app, world, browser, clock):
    client = login(browser, world.a, "admin")
    terminate(client, world.a)
    response = client.post(
        f"/staff/accounts/{world.a.account_id}/options/cart",
        {"action": "buy", "tick_invoice_mailing": "1"},
    )
    assert response.status_code == 422
    assert "This customer account is terminated: nothing can be bought." in text(response)


def test_a_reseller_account_is_not_terminated_here(app, world, browser, clock):
    with app.app_context(), use_scope(world.a.scope):
        account = db.session.get(Account, world.a.account_id)
        p.add_account_option(account, AccountOptionKind.OEM_SERVER, date(2026, 1, 1))
        db.session.commit()
    client = login(browser, world.a, "admin")
    page = text(terminate(client, world.a))
    assert "This account is a reseller (OEM server)." in page
    assert account_row(app, world.a, world.a.account_id).terminated_at is None


# --- the account page ----------------------------------------------------------------------


def test_the_account_page_has_places_for_circles_and_managers(app, world, browser):
    client = login(browser, world.a, "admin")
    page = text(client.get(f"/staff/accounts/{world.a.account_id}"))
    assert "alpha circle" in page and "Billing contact" in page and "Portal download" in page


# --- demo data -----------------------------------------------------------------------------


def test_demo_customers_have_full_details_and_loading_again_completes_old_ones(app):
    from pbx_platform.tenancy import platform_bypass
    from tenants import demo

    with app.app_context():
        demo.load("localhost", "localhost")
        with platform_bypass("test"):
            accounts = db.session.scalars(select(Account)).all()
            assert accounts and all(
                customers.is_katakana(a.company_name_kana)
                and postal_code(a.postal_code) == a.postal_code
                and customers.lookup_postal_code(a.postal_code).prefecture == a.prefecture
                and a.city
                and a.address_line1
                and a.billing_contact_name
                and customers.parse_phone(a.billing_contact_phone) == a.billing_contact_phone
                for a in accounts
            )
            # Post only where invoice mailing is held (R2).
            for a in accounts:
                if a.invoice_delivery == InvoiceDelivery.POST:
                    assert customers.mailing_contracted(a, date(2026, 12, 1))
            first_id = accounts[0].id
            accounts[0].company_name_kana = ""
            accounts[0].city = ""
            db.session.flush()
        assert demo.load("localhost", "localhost") == []
        with platform_bypass("test"):
            first = db.session.get(Account, first_id)
            assert first.company_name_kana and first.city
        db.session.rollback()
