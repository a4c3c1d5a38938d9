"""Resellers as the platform sees them: the qualified-invoice registration number."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from tenants.services.resellers import check_registration_number, corporate_number_check_digit


@pytest.mark.parametrize(
    ("twelve", "digit"),
    [
        ("000012050002", 7),  # 7000012050002, the National Tax Agency's own number
        ("700110005901", 8),  # 8700110005901
        ("000000000000", 9),  # Σ = 0 → 9 − 0
    ],
)
def test_check_digit_follows_the_national_tax_agency_rule(twelve, digit):
    assert corporate_number_check_digit(twelve) == digit


def test_a_valid_corporate_number_has_no_errors_or_warnings(app):
    with app.test_request_context(), force_locale("en"):
        check = check_registration_number("T8700110005901")
    assert check.errors == [] and check.warnings == []


def test_a_failed_check_digit_is_a_warning_not_an_error(app):
    with app.test_request_context(), force_locale("en"):
        check = check_registration_number("T1700110005901")
    assert check.errors == []
    assert "check digit" in check.warnings[0]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "8700110005901",
        "T870011000590",
        "T87001100059012",
        "t8700110005901",
        "T870011000590X",
        "Ｔ8700110005901",
    ],
)
def test_malformed_numbers_are_errors(app, bad):
    with app.test_request_context(), force_locale("en"):
        check = check_registration_number(bad)
    assert check.errors and "T followed by 13 digits" in check.errors[0]


def test_console_shows_the_warning(world, browser, app):
    from pbx_platform.db import db
    from pbx_platform.tenancy import platform_bypass
    from tenants.models import Reseller

    with app.app_context(), platform_bypass("test"):
        db.session.get(Reseller, world.a.reseller_id).registration_number = "T1700110005901"
        db.session.commit()
    console = browser("localhost")
    console.post("/locale", {"locale": "en", "next": "/"})
    console.login_console(world.operator_email, world.password)
    page = console.get(f"/console/resellers/{world.a.reseller_id}").get_data(as_text=True)
    assert "check digit" in page
