"""Monthly fees and recording storage for one billing period (R24).

- An option is charged for every month in which it was active on any day: the full
  monthly fee (``Proration.FULL_MONTH``, the rule of R24), or, when the reseller's
  price book says so, ``Proration.DAILY``: the monthly fee × active days / days in the
  month, rounded as the book says (down by default). A cancellation effective at the
  end of month M (R12) ends the option on M's last day, so it is charged for M and
  not for M+1.
- Recording storage is charged per started 1 GB (1,000 MB = 10⁹ bytes, not GiB) of the
  month's peak of the daily snapshots, × the price per GB.
"""

from __future__ import annotations

import enum
from datetime import date

from invoices.amounts import Rounding, divide, whole
from invoices.periods import BillingPeriod

GB = 1_000_000_000


class Proration(enum.StrEnum):
    FULL_MONTH = "full_month"
    DAILY = "daily"


def active_days(period: BillingPeriod, starts_on: date, ends_on: date | None) -> int:
    """The days of ``period`` on which an option held from ``starts_on`` to ``ends_on``
    (both inclusive, None: open) is active; 0 when they do not meet."""
    if ends_on is not None and ends_on < starts_on:
        raise ValueError("ends_on is before starts_on")
    first = max(starts_on, period.first_day)
    last = period.last_day if ends_on is None else min(ends_on, period.last_day)
    return max((last - first).days + 1, 0)


def option_fee(
    monthly_fee_yen: int,
    period: BillingPeriod,
    starts_on: date,
    ends_on: date | None,
    *,
    quantity: int = 1,
    proration: Proration = Proration.FULL_MONTH,
    rounding: Rounding = Rounding.DOWN,
) -> int:
    """The fee in yen of ``quantity`` units (licences, rooms) for ``period``.

    Daily proration rounds the whole line once (fee × quantity × days / month days)."""
    whole(monthly_fee_yen, "monthly_fee_yen")
    whole(quantity, "quantity")
    days = active_days(period, starts_on, ends_on)
    if days == 0:
        return 0
    full = monthly_fee_yen * quantity
    if Proration(proration) == Proration.FULL_MONTH:
        return full
    return divide(full * days, period.days, Rounding(rounding))


def storage_blocks(peak_bytes: int) -> int:
    """Started gigabytes (10⁹ bytes) of the month's peak: 0 → 0, 10⁹ → 1, 10⁹+1 → 2."""
    whole(peak_bytes, "peak_bytes")
    return divide(peak_bytes, GB, Rounding.UP)


def storage_fee(peak_bytes: int, price_per_gb_yen: int) -> int:
    whole(price_per_gb_yen, "price_per_gb_yen")
    return storage_blocks(peak_bytes) * price_per_gb_yen
