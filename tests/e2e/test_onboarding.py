"""A new reseller's first day, in a real browser: the operator creates the reseller,
its admin accepts the e-mailed invitation, creates a customer whose address comes from
its postal code, a circle with two phones and a ring group, and the circle logs in with
the generated password and is made to change it (R17 force, the default)."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer

ADMIN_EMAIL = "taro@hokuto.example"
ADMIN_PASSWORD = "Hokuto#Admin2026"
CIRCLE_PASSWORD = "Hokuto#Circle2026"


def _submit(page: Any, form: str = "main form") -> None:
    page.locator(form).locator("button[type=submit]:not(.default-submit)").last.click()
    page.wait_for_load_state("networkidle")


def _invitation_link(server: LiveServer, to: str) -> str:
    folder = Path(server.app.config["MAIL_DIR"])
    for path in sorted(folder.glob("*.eml"), reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if to in str(message["To"]):
            body = message.get_body(preferencelist=("plain",))
            assert body is not None
            found = re.search(r"https?://\S+/staff/invitation\?token=[\w-]+", body.get_content())
            assert found, body.get_content()
            return found.group(0)
    raise AssertionError(f"no mail to {to} in {folder}")


@pytest.mark.browser
def test_a_new_reseller_onboards_a_customer_whose_circle_logs_in(
    page: Any, live_server: LiveServer
) -> None:
    errors: list[str] = []
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.request.method} {r.url} → {r.status}") if r.status >= 500 else None
        ),
    )
    world = live_server.world

    # The operator creates the reseller; its first admin is invited by e-mail.
    page.goto(live_server.url("localhost", "/console/login"))
    login = page.locator("main form[action='/console/login']")
    login.locator("#email").fill(world.operator_email)
    login.locator("#password").fill(world.password)
    login.locator("button[type=submit]").click()
    page.goto(live_server.url("localhost", "/console/resellers/new"))
    for name, value in {
        "name": "北斗通信株式会社",
        "slug": "hokuto",
        "registration_number": "T7000012050002",
        "postal_code": "060-0001",
        "city": "札幌市中央区",
        "address_line1": "北一条西1-1",
        "bank_name": "北洋銀行",
        "bank_branch": "本店営業部",
        "bank_account_number": "7654321",
        "bank_account_holder": "ホクトツウシン(カ",
        "admin_name": "北斗 太郎",
        "admin_email": ADMIN_EMAIL,
    }.items():
        page.fill(f"main form [name={name}]", value)
    page.select_option("main form [name=prefecture]", "北海道")
    _submit(page)
    assert re.search(r"/console/resellers/\d+$", page.url), page.url

    # The admin follows the invitation on the reseller's own host and sets a password.
    host = "hokuto.localhost"
    link = _invitation_link(live_server, ADMIN_EMAIL)
    path = link.split(f"{host}:{live_server.port}", 1)[1]
    page.context.clear_cookies()
    page.goto(live_server.url(host, path))
    page.fill("[name=new_password]", ADMIN_PASSWORD)
    page.fill("[name=new_password_repeat]", ADMIN_PASSWORD)
    _submit(page)
    assert page.url.endswith("/staff/login"), page.url
    login = page.locator("main form[action='/staff/login']")
    login.locator("#email").fill(ADMIN_EMAIL)
    login.locator("#password").fill(ADMIN_PASSWORD)
    login.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/staff/$"))

    # A customer whose prefecture and city come from the postal code.
    page.goto(live_server.url(host, "/staff/customers/new"))
    page.fill("[name=company_name]", "株式会社みなと商事")
    page.fill("[name=postal_code]", "１００－０００１")
    page.click("button[name=assist][value=address]")
    page.wait_for_load_state("networkidle")
    assert page.input_value("[name=city]").startswith("千代田区")
    assert page.locator("[name=prefecture]").input_value() == "東京都"
    page.click("button[name=assist][value=reading]")
    page.wait_for_load_state("networkidle")
    assert page.input_value("[name=company_name_kana]") != ""
    page.fill("[name=address_line1]", "千代田1-1")
    page.check("[name=invoice_delivery][value=portal]")
    _submit(page)
    assert re.search(r"/staff/accounts/\d+$", page.url), page.url

    # A circle of that customer: the first password is shown once.
    page.click("a[href$='/circles/new']")
    page.fill("[name=name]", "本社")
    page.fill("[name=login_id]", "minato-hq")
    page.check("[name=extension_length][value='3']")
    _submit(page)
    password = page.locator("code[data-secret]").inner_text().strip()
    assert len(password) >= 12
    circle_path = page.locator("a.button[href*='/staff/circles/']").get_attribute("href")
    assert circle_path is not None

    # Two phones and a ring group that rings both.
    for extension, name in (("201", "受付"), ("202", "営業")):
        page.goto(live_server.url(host, f"{circle_path}/uniques/new"))
        page.fill("[name=display_name]", name)
        page.fill("[name=extension]", extension)
        page.select_option("[name=terminal_type]", "sip_phone")
        _submit(page)
    page.goto(live_server.url(host, f"{circle_path}/ring-groups/new"))
    page.fill("main form [name=name]", "代表")
    page.fill("main form [name=extension]", "400")
    page.fill("main form [name=ring_time]", "20")
    boxes = page.locator("main form input[name=members]")
    assert boxes.count() == 2  # the two phones just added
    for box in boxes.all():
        box.check()
    _submit(page)
    page.goto(live_server.url(host, f"{circle_path}/ring-groups"))
    listing = page.locator("main").inner_text()
    assert "代表" in listing and "400" in listing

    # The circle logs in with the generated password and must change it first.
    page.context.clear_cookies()
    page.goto(live_server.url(host, "/login"))
    login = page.locator("main form[action='/login']")
    login.locator("#login_id").fill("minato-hq")
    login.locator("#password").fill(password)
    login.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/portal/password$"))
    assert page.locator("#later").count() == 0
    page.fill("[name=current_password]", password)
    page.fill("[name=new_password]", CIRCLE_PASSWORD)
    page.fill("[name=new_password_repeat]", CIRCLE_PASSWORD)
    page.locator("main form[action$='/portal/password'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/portal/$"))
    assert "本社" in page.locator("main").inner_text()
    assert errors == []
