"""R24: option fees (full month or daily proration) and recording storage per started GB."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from invoices.amounts import Rounding
from invoices.charges import (
    GB,
    Proration,
    active_days,
    option_fee,
    storage_blocks,
    storage_fee,
)
from invoices.periods import BillingPeriod
from pbx_platform.japanese import TOKYO
from tenants.options.dates import cancellation_effective_date

NOVEMBER = BillingPeriod(2026, 11)  # 30 days
FEB_LEAP = BillingPeriod(2028, 2)  # 29 days
FEB_COMMON = BillingPeriod(2026, 2)  # 28 days


@pytest.mark.parametrize(
    ("period", "starts_on", "ends_on", "days"),
    [
        (NOVEMBER, date(2026, 4, 1), None, 30),
        (NOVEMBER, date(2026, 11, 11), None, 20),
        (NOVEMBER, date(2026, 11, 30), None, 1),  # bought on the last day
        (NOVEMBER, date(2026, 4, 1), date(2026, 11, 1), 1),  # ended on the first day
        (NOVEMBER, date(2026, 11, 10), date(2026, 11, 19), 10),  # within the month
        (NOVEMBER, date(2026, 11, 5), date(2026, 11, 5), 1),
        (NOVEMBER, date(2026, 4, 1), date(2026, 10, 31), 0),  # ended the month before
        (NOVEMBER, date(2026, 12, 1), None, 0),  # starts the month after
        (FEB_LEAP, date(2028, 1, 1), None, 29),
        (FEB_LEAP, date(2028, 2, 15), None, 15),
        (FEB_COMMON, date(2026, 2, 15), None, 14),
        (FEB_COMMON, date(2026, 1, 1), date(2026, 3, 31), 28),
    ],
)
def test_active_days(
    period: BillingPeriod, starts_on: date, ends_on: date | None, days: int
) -> None:
    assert active_days(period, starts_on, ends_on) == days


def test_an_end_before_the_start_is_refused() -> None:
    with pytest.raises(ValueError):
        active_days(NOVEMBER, date(2026, 11, 10), date(2026, 11, 9))


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "fee"),
    [
        (date(2026, 4, 1), None, 3000),
        (date(2026, 11, 30), None, 3000),  # one day is the month (R24)
        (date(2026, 4, 1), date(2026, 11, 1), 3000),
        (date(2026, 11, 10), date(2026, 11, 19), 3000),
        (date(2026, 4, 1), date(2026, 10, 31), 0),
        (date(2026, 12, 1), None, 0),
    ],
)
def test_full_month_charges_any_active_day_in_full(
    starts_on: date, ends_on: date | None, fee: int
) -> None:
    assert option_fee(3000, NOVEMBER, starts_on, ends_on) == fee


@pytest.mark.parametrize(
    ("monthly", "period", "starts_on", "ends_on", "rounding", "fee"),
    [
        # 3,000 × 20 / 30.
        (3000, NOVEMBER, date(2026, 11, 11), None, Rounding.DOWN, 2000),
        # The whole month is the monthly fee.
        (3000, NOVEMBER, date(2026, 4, 1), None, Rounding.DOWN, 3000),
        # 1,000 × 10 / 30 = 333.3…
        (1000, NOVEMBER, date(2026, 11, 10), date(2026, 11, 19), Rounding.DOWN, 333),
        (1000, NOVEMBER, date(2026, 11, 10), date(2026, 11, 19), Rounding.HALF_UP, 333),
        (1000, NOVEMBER, date(2026, 11, 10), date(2026, 11, 19), Rounding.UP, 334),
        # 1,000 × 15 / 29 = 517.2…
        (1000, FEB_LEAP, date(2028, 2, 15), None, Rounding.DOWN, 517),
        (1000, FEB_LEAP, date(2028, 2, 15), None, Rounding.UP, 518),
        # 1,000 × 10 / 29 = 344.8…
        (1000, FEB_LEAP, date(2028, 2, 1), date(2028, 2, 10), Rounding.DOWN, 344),
        (1000, FEB_LEAP, date(2028, 2, 1), date(2028, 2, 10), Rounding.HALF_UP, 345),
        # 1,000 × 14 / 28.
        (1000, FEB_COMMON, date(2026, 2, 15), None, Rounding.DOWN, 500),
        # One day of a 31-day month: 3,100 / 31.
        (3100, BillingPeriod(2026, 12), date(2026, 12, 31), None, Rounding.DOWN, 100),
        (1000, NOVEMBER, date(2026, 12, 1), None, Rounding.UP, 0),
    ],
)
def test_daily_proration(
    monthly: int,
    period: BillingPeriod,
    starts_on: date,
    ends_on: date | None,
    rounding: Rounding,
    fee: int,
) -> None:
    assert (
        option_fee(
            monthly, period, starts_on, ends_on, proration=Proration.DAILY, rounding=rounding
        )
        == fee
    )


def test_licences_by_count_round_once_per_line() -> None:
    # 3 licences × ¥500 for 10 of 30 days: 1,500 × 10 / 30 = 500 (per licence 166.6…).
    fee = option_fee(
        500,
        NOVEMBER,
        date(2026, 11, 21),
        None,
        quantity=3,
        proration=Proration.DAILY,
    )
    assert fee == 500
    assert option_fee(500, NOVEMBER, date(2026, 4, 1), None, quantity=3) == 1500
    assert option_fee(500, NOVEMBER, date(2026, 4, 1), None, quantity=0) == 0


def test_r12_cut_off_reaches_the_fee() -> None:
    started = date(2026, 4, 1)
    # Before 22:00 JST on the last day: ends with November, not billed in December.
    before = cancellation_effective_date(datetime(2026, 11, 30, 21, 59, 59, tzinfo=TOKYO))
    assert option_fee(3000, NOVEMBER, started, before) == 3000
    assert option_fee(3000, NOVEMBER.next(), started, before) == 0
    # At 22:00: runs to the end of December and is billed for it too.
    after = cancellation_effective_date(datetime(2026, 11, 30, 22, 0, 0, tzinfo=TOKYO))
    assert option_fee(3000, NOVEMBER, started, after) == 3000
    assert option_fee(3000, NOVEMBER.next(), started, after) == 3000
    assert option_fee(3000, NOVEMBER.next().next(), started, after) == 0


def test_floats_are_refused_in_fees() -> None:
    with pytest.raises(TypeError):
        option_fee(3000.0, NOVEMBER, date(2026, 4, 1), None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        option_fee(3000, NOVEMBER, date(2026, 4, 1), None, quantity=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        option_fee(-1, NOVEMBER, date(2026, 4, 1), None)
    with pytest.raises(ValueError):
        option_fee(1, NOVEMBER, date(2026, 4, 1), None, proration="weekly")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("peak", "blocks", "fee"),
    [
        (0, 0, 0),
        (1, 1, 100),
        (999_999_999, 1, 100),
        (GB, 1, 100),  # exactly 1,000 MB
        (GB + 1, 2, 200),  # one byte more
        (2_500_000_000, 3, 300),
        (1_073_741_824, 2, 200),  # 1 GiB is more than 1 GB
        (100 * GB, 100, 10_000),
    ],
)
def test_storage_per_started_gb(peak: int, blocks: int, fee: int) -> None:
    assert storage_blocks(peak) == blocks
    assert storage_fee(peak, 100) == fee


def test_storage_refuses_floats_and_negatives() -> None:
    with pytest.raises(TypeError):
        storage_blocks(1.5e9)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        storage_blocks(-1)
    with pytest.raises(TypeError):
        storage_fee(GB, 100.0)  # type: ignore[arg-type]
