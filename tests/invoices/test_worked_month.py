"""A worked November 2026 for one account, every figure computed by hand (R23, R24)."""

from __future__ import annotations

from datetime import date

from invoices.charges import Proration, option_fee, storage_fee
from invoices.periods import BillingPeriod, DueRule
from invoices.rating import CallToRate, DestinationClass, Rate, RateTable, summarize
from invoices.tax import RateTotal, TaxedAmount, breakdown, rate_on


def test_a_worked_month() -> None:
    period = BillingPeriod.parse("2026-11")
    percent = rate_on(period.last_day).percent
    table = RateTable(
        domestic={DestinationClass.LANDLINE: Rate(9, 180), DestinationClass.MOBILE: Rate(16, 60)},
        international={"1": Rate(9, 60)},
    )
    calls = summarize(
        [
            CallToRate("out", "+81312345678", 200),  # 2 × ¥9
            CallToRate("out", "+819012345678", 90),  # 2 × ¥16
            CallToRate("out", "+12125551234", 60),  # 1 × ¥9
        ],
        table,
    )
    assert calls.yen == 59
    amounts = [
        # IVR all month: ¥3,000.
        option_fee(3000, period, date(2026, 4, 1), None),
        # 2 monitoring licences from 16 November, prorated daily: 2,000 × 15 / 30.
        option_fee(1000, period, date(2026, 11, 16), None, quantity=2, proration=Proration.DAILY),
        # Recording storage, peak 3.2 GB: 4 × ¥50.
        storage_fee(3_200_000_000, 50),
        calls.yen,
    ]
    assert amounts == [3000, 1000, 200, 59]
    result = breakdown([TaxedAmount(a, percent) for a in amounts])
    # ¥4,259 × 10% = 425.9 → ¥425 (down, once on the subtotal).
    assert result.rates == (RateTotal(10, 4259, 425),)
    assert result.total_yen == 4684
    assert DueRule().due_date(period) == date(2027, 1, 4)
