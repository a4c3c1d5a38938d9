"""R6 storage page: stored bytes per day over 90 days, gaps filled, today exact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from pbx_platform.db import db
from tenants.options import storage_series
from tenants.options.models import OptionKind, RecordingLimit, RecordingStorageDay
from tests.call_helpers import add_recording
from tests.circle_pages import pin_locale, text
from tests.factories import PASSWORD, in_circle
from tests.option_helpers import give_option

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def snapshot(app, tenant, values: dict[date, int], circle_id: int | None = None):
    with in_circle(app, tenant, circle_id) as circle:
        for day, stored in values.items():
            db.session.add(
                RecordingStorageDay(
                    reseller_id=circle.reseller_id,
                    account_id=circle.account_id,
                    circle_id=circle.id,
                    day=day,
                    stored_bytes=stored,
                )
            )
        db.session.commit()


def series(app, tenant):
    with in_circle(app, tenant) as circle:
        return storage_series.stored_per_day(circle, TODAY)


def test_nothing_stored_ever_is_a_flat_zero(app, world):
    points = series(app, world.a)
    assert len(points) == 90
    assert points[0][0] == TODAY - timedelta(days=89) and points[-1][0] == TODAY
    assert {v for _, v in points} == {0}


def test_gaps_keep_the_last_snapshot_and_today_is_the_counter(app, world, clock):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    snapshot(app, world.a, {TODAY - timedelta(days=10): 5_000, TODAY - timedelta(days=7): 8_000})
    add_recording(app, world.a, NOW, size=12_345)
    points = dict(series(app, world.a))
    assert points[TODAY - timedelta(days=11)] is None  # before the first snapshot: unknown
    assert points[TODAY - timedelta(days=10)] == 5_000
    assert points[TODAY - timedelta(days=8)] == 5_000  # the job did not run: carried
    assert points[TODAY - timedelta(days=7)] == 8_000
    assert points[TODAY - timedelta(days=1)] == 8_000
    assert points[TODAY] == 12_345


def test_a_snapshot_before_the_window_carries_into_it(app, world):
    snapshot(app, world.a, {TODAY - timedelta(days=200): 7_777})
    points = series(app, world.a)
    assert points[0][1] == 7_777


def test_another_circles_snapshots_are_not_read(app, world):
    snapshot(app, world.a, {TODAY - timedelta(days=3): 9_999}, circle_id=world.a.other_circle_id)
    assert {v for _, v in series(app, world.a)} == {0}


def test_the_page_shows_the_chart_and_its_table(app, world, clock, browser):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    snapshot(app, world.a, {TODAY - timedelta(days=2): 2_500_000})
    add_recording(app, world.a, NOW, size=3_000_000)
    c = pin_locale(browser(world.a.host))
    c.login_circle(world.a.circle_login, PASSWORD)
    page = text(c.get("/portal/recording"))
    assert "<svg" in page and '<title id="chart-title">Recording storage per day</title>' in page
    assert "Stored size per day, last 90 days" in page
    assert '<td>2026-11-18</td><td class="num">2.5 MB</td>' in page
    assert '<td>2026-11-20</td><td class="num">3.0 MB</td>' in page
    assert "no data" in page  # the days before the first snapshot


def set_used(app, tenant, used: int, limit_gb: int = 100):
    with in_circle(app, tenant):
        row = db.session.scalars(select(RecordingLimit)).first()
        row.used_bytes, row.limit_gb = used, limit_gb
        db.session.commit()


@pytest.mark.parametrize(
    ("used", "notice"),
    [
        (89_000_000_000, None),
        (92_000_000_000, "The storage is nearly full (92% of 100 GB)."),
        (100_000_000_000, "The storage limit is reached: new recordings are not kept."),
    ],
)
def test_the_notice_near_and_at_100_gb(app, world, clock, browser, used, notice):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    add_recording(app, world.a, NOW, size=1_000)
    set_used(app, world.a, used)
    c = pin_locale(browser(world.a.host))
    c.login_circle(world.a.circle_login, PASSWORD)
    page = text(c.get("/portal/recording"))
    assert f"Billed: {used // 1_000_000_000} × 1 GB" in page
    for message in (
        "The storage is nearly full",
        "The storage limit is reached: new recordings are not kept.",
    ):
        assert (message in page) == (notice is not None and notice.startswith(message))
    if notice:
        assert notice in page and "contact your reseller" in page
