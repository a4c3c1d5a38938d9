"""R6: recording settings, storage, refusal ticks, downloads and the 100 GB limit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from flask_babel import force_locale
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import use_scope
from tenants.models import Circle
from tenants.options import recording, services
from tenants.options.models import OptionKind, RecordingLimit
from tests.call_helpers import add_recording
from tests.circle_pages import pin_locale, text
from tests.factories import PASSWORD, in_circle
from tests.option_helpers import give_option, uniques_of

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 12:00 JST
NOT_CONTRACTED = "Full call recording is not contracted for this circle."


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client(clock, world, browser):
    c = pin_locale(browser(world.a.host))
    assert c.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    return c


def test_not_contracted_page_offers_to_buy(world, client):
    page = text(client.get("/portal/recording"))
    assert NOT_CONTRACTED in page
    assert "/portal/options" in page


def test_refusal_ticks_without_recording_are_refused(app, world, client):
    target = uniques_of(app, world.a)["受付"].id
    response = client.post("/portal/recording", {"refuse": str(target)})
    assert response.status_code == 409
    assert NOT_CONTRACTED in text(response)
    assert uniques_of(app, world.a)["受付"].recording_refused is False


def test_usage_shows_megabytes_and_started_blocks(app, world, client):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    add_recording(app, world.a, NOW, size=1_500_000)
    page = text(client.get("/portal/recording"))
    assert "1.5 MB used of 100 GB" in page
    assert "Billed: 1 × 1 GB (every started 1,000 MB)" in page


def test_started_blocks_count_every_started_gigabyte():
    assert recording.Usage(0, 100).started_blocks == 0
    assert recording.Usage(1, 100).started_blocks == 1
    assert recording.Usage(1_000_000_000, 100).started_blocks == 1
    assert recording.Usage(1_000_000_001, 100).started_blocks == 2


def test_refusal_ticks_are_saved_and_cancel_restores(app, world, client):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    uniques = uniques_of(app, world.a)
    target = uniques["受付"].id
    assert client.post("/portal/recording", {"refuse": str(target)}).status_code == 302
    assert uniques_of(app, world.a)["受付"].recording_refused is True
    assert uniques_of(app, world.a)["携帯"].recording_refused is False
    # Unticking everything clears it.
    client.post("/portal/recording", {})
    assert uniques_of(app, world.a)["受付"].recording_refused is False


def test_foreign_unique_ids_are_refused(app, world, client):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    foreign = uniques_of(app, world.b, circle_id=world.b.circle_id)["受付"].id
    response = client.post("/portal/recording", {"refuse": str(foreign)})
    assert response.status_code == 422
    assert uniques_of(app, world.b)["受付"].recording_refused is False
    assert client.post("/portal/recording", {"refuse": "abc"}).status_code == 400


def test_downloads_refused_once_recording_has_ended(app, world, browser):
    give_option(app, world.a, OptionKind.CALL_RECORDING, ends_on=date(2026, 11, 30))
    with time_machine.travel(NOW, tick=False):
        rec = add_recording(app, world.a, NOW)
        c = browser(world.a.host)
        c.login_circle(world.a.circle_login, PASSWORD)
        # Pending cancellation: still usable until its end date.
        assert c.get(f"/portal/recording/{rec}.wav").status_code == 200
    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), tick=False):
        c = pin_locale(browser(world.a.host))
        c.login_circle(world.a.circle_login, PASSWORD)
        for response in (
            c.get(f"/portal/recording/{rec}.wav"),
            c.get("/portal/recording/archive?from=2026-11-01&to=2026-11-30"),
        ):
            assert response.status_code == 409
            assert NOT_CONTRACTED in text(response)


def test_a_recording_of_another_circle_is_404(app, world, client):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    give_option(app, world.a, OptionKind.CALL_RECORDING, circle_id=world.a.other_circle_id)
    other = add_recording(app, world.a, NOW, circle_id=world.a.other_circle_id)
    assert client.get(f"/portal/recording/{other}.wav").status_code == 404


def test_growth_past_the_limit_is_blocked_until_staff_raise_it(app, world, clock, browser):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    staff = pin_locale(browser(world.a.host))
    staff.login_staff(world.a.staff["admin"], PASSWORD)
    base = f"/staff/circles/{world.a.circle_id}"
    assert staff.post(f"{base}/recording/limit", {"limit_gb": "1"}).status_code == 302
    # Storage as metered: the counter holds almost 1 GB without the files being here.
    with in_circle(app, world.a, world.a.circle_id):
        db.session.scalars(select(RecordingLimit)).one().used_bytes = 999_999_000
        db.session.commit()
    with pytest.raises(recording.RecordingError):
        add_recording(app, world.a, NOW, size=2_000)
    assert "1000.0 MB used of 1 GB" in text(staff.get(f"{base}/recording"))
    assert staff.post(f"{base}/recording/limit", {"limit_gb": "abc"}).status_code == 422
    assert staff.post(f"{base}/recording/limit", {"limit_gb": "2"}).status_code == 302
    add_recording(app, world.a, NOW, size=2_000)


def test_circle_cannot_raise_its_own_limit(app, world, client):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    assert client.post("/portal/recording/limit", {"limit_gb": "500"}).status_code == 403


def test_support_staff_read_only(app, world, clock, browser):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    support = browser(world.a.host)
    support.login_staff(world.a.staff["support"], PASSWORD)
    base = f"/staff/circles/{world.a.circle_id}"
    assert support.get(f"{base}/recording").status_code == 200
    assert support.post(f"{base}/recording", {}).status_code == 403


def limit_rows(app, tenant):
    with app.app_context(), use_scope(tenant.scope):
        return db.session.scalars(
            select(RecordingLimit.limit_gb).where(RecordingLimit.circle_id == tenant.circle_id)
        ).all()


@pytest.mark.parametrize("limit_gb", ["200", "abc"])
def test_a_storage_limit_for_a_circle_without_recording_is_refused(
    app, world, clock, browser, limit_gb
):
    staff = pin_locale(browser(world.a.host))
    staff.login_staff(world.a.staff["admin"], PASSWORD)
    response = staff.post(
        f"/staff/circles/{world.a.circle_id}/recording/limit", {"limit_gb": limit_gb}
    )
    assert response.status_code == 409
    assert NOT_CONTRACTED in text(response)
    assert limit_rows(app, world.a) == []


def test_a_storage_limit_after_recording_has_ended_is_refused(app, world, browser):
    give_option(app, world.a, OptionKind.CALL_RECORDING, ends_on=date(2026, 11, 30))
    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), tick=False):
        staff = pin_locale(browser(world.a.host))
        staff.login_staff(world.a.staff["admin"], PASSWORD)
        response = staff.post(
            f"/staff/circles/{world.a.circle_id}/recording/limit", {"limit_gb": "200"}
        )
    assert response.status_code == 409
    assert NOT_CONTRACTED in text(response)
    assert limit_rows(app, world.a) == []


def test_the_limit_service_refuses_a_circle_without_recording(app, world):
    with app.test_request_context(), force_locale("en"), use_scope(world.a.circle_scope):
        circle = db.session.get(Circle, world.a.circle_id)
        with pytest.raises(services.OptionNotContracted) as refused:
            recording.set_limit(circle, 200, date(2026, 11, 20))
        assert refused.value.message == NOT_CONTRACTED
    assert limit_rows(app, world.a) == []
