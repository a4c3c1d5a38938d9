"""R6: the reseller's admins set how long ended circles' recordings are kept (1–3650
days, 90 by default; R22: admins only), on a versioned form."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import platform_bypass
from tenants.models import Reseller
from tests.circle_pages import pin_locale, text
from tests.factories import PASSWORD

PAGE = "/staff/recording-retention"


def _days(app, reseller_id: int) -> tuple[int, int]:
    with app.app_context(), platform_bypass("test"):
        reseller = db.session.get(Reseller, reseller_id)
        return reseller.recording_retention_days, reseller.retention_edit_version


@pytest.fixture
def admin(world, browser):
    c = pin_locale(browser(world.a.host))
    assert c.login_staff(world.a.staff["admin"], PASSWORD).status_code == 302
    return c


def test_the_page_shows_the_default_of_90_days(admin):
    page = text(admin.get(PAGE))
    assert 'name="retention_days"' in page and 'value="90"' in page
    assert "1 to 3650 days; 90 unless you change it." in page


def test_an_admin_saves_the_period_and_it_is_audited(app, world, admin):
    response = admin.post(PAGE, {"retention_days": "１２０", "edit_version": "0"})
    assert response.status_code == 302
    assert _days(app, world.a.reseller_id) == (120, 1)
    assert _days(app, world.b.reseller_id) == (90, 0)
    assert "The retention period has been saved." in text(admin.get(PAGE))
    with app.app_context(), platform_bypass("test"):
        entry = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "reseller.retention")
        ).one()
    assert (entry.reseller_id, entry.after) == (
        world.a.reseller_id,
        {"recording_retention_days": 120},
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "Enter a number from 1 to 3650."),
        ("3651", "Enter a number from 1 to 3650."),
        ("", "Enter a whole number."),
        ("90日", "Enter a whole number."),
        ("-5", "Enter a whole number."),
        ("9" * 40, "Enter a whole number."),
    ],
)
def test_bad_periods_are_refused_with_nothing_saved(app, world, admin, raw, message):
    response = admin.post(PAGE, {"retention_days": raw, "edit_version": "0"})
    assert response.status_code == 422
    assert message in text(response)
    assert _days(app, world.a.reseller_id) == (90, 0)


def test_the_edges_are_accepted(app, world, admin):
    assert admin.post(PAGE, {"retention_days": "1", "edit_version": "0"}).status_code == 302
    assert admin.post(PAGE, {"retention_days": "3650", "edit_version": "1"}).status_code == 302
    assert _days(app, world.a.reseller_id) == (3650, 2)


def test_a_stale_form_saves_nothing(app, world, admin):
    assert admin.post(PAGE, {"retention_days": "30", "edit_version": "0"}).status_code == 302
    response = admin.post(PAGE, {"retention_days": "60", "edit_version": "0"})
    assert response.status_code in (302, 409)
    assert _days(app, world.a.reseller_id) == (30, 1)


@pytest.mark.parametrize("role", ["billing", "support", "manager"])
def test_only_admins_set_the_period(app, world, browser, role):
    c = browser(world.a.host)
    assert c.login_staff(world.a.staff[role], PASSWORD).status_code == 302
    assert c.get(PAGE).status_code == 403
    assert c.post(PAGE, {"retention_days": "10", "edit_version": "0"}).status_code == 403
    assert _days(app, world.a.reseller_id) == (90, 0)
