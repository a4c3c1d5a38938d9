"""The billing period and the due date (R24, R23).

A billing period is a calendar month in Japan time: the 1st to the last day (R24). Its
UTC instants bound the queries of the monthly run (``starts_at <= t < ends_at``). The
due date follows a rule (by default the end of the following month) and moves past
weekends, Japanese public holidays (jpholiday) and the banks' New Year closing
(31 December to 3 January) to the next business day: a bank transfer cannot arrive on
a day the banks are closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import jpholiday
from flask_babel import lazy_gettext as _l

from pbx_platform.japanese import TOKYO, day_start, days_span, month_end
from pbx_platform.validation import normalized

FIRST_YEAR = 2000
LAST_YEAR = 2099
PERIOD = re.compile(r"(\d{4})-(\d{1,2})")


class PeriodError(ValueError):
    """Bad text for a period; ``str()`` is the message in the user's language."""


@dataclass(frozen=True, order=True)
class BillingPeriod:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not FIRST_YEAR <= self.year <= LAST_YEAR:
            raise PeriodError(
                str(
                    _l(
                        "The year must be between %(first)d and %(last)d.",
                        first=FIRST_YEAR,
                        last=LAST_YEAR,
                    )
                )
            )
        if not 1 <= self.month <= 12:
            raise PeriodError(str(_l("The month must be between 01 and 12.")))

    @classmethod
    def parse(cls, raw: str | None) -> BillingPeriod:
        """``2026-11`` (full-width digits and spaces allowed) → the period; a
        ``PeriodError`` with a message for anything else."""
        text = normalized(raw)
        found = PERIOD.fullmatch(text)
        if found is None:
            raise PeriodError(str(_l("Enter the billing period as YYYY-MM, e.g. 2026-11.")))
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> BillingPeriod:
        """The period a Japan-time day belongs to."""
        return cls(day.year, day.month)

    @classmethod
    def at(cls, moment: datetime) -> BillingPeriod:
        """The period an instant belongs to, by its day in Japan."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        return cls.of(moment.astimezone(TOKYO).date())

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return month_end(self.first_day)

    @property
    def days(self) -> int:
        return self.last_day.day

    @property
    def starts_at(self) -> datetime:
        """00:00 Japan time on the 1st, in UTC (15:00 UTC the day before)."""
        return day_start(self.first_day)

    @property
    def ends_at(self) -> datetime:
        """00:00 Japan time on the next month's 1st, in UTC: the end, exclusive."""
        return days_span(self.first_day, self.last_day)[1]

    def next(self) -> BillingPeriod:
        return BillingPeriod(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> BillingPeriod:
        if self.month == 1:
            return BillingPeriod(self.year - 1, 12)
        return BillingPeriod(self.year, self.month - 1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and (day.year, day.month) == (self.year, self.month)


def is_bank_holiday(day: date) -> bool:
    """The banks' year-end and New Year closing (銀行の休日): 31 December to 3 January."""
    return (day.month, day.day) in {(12, 31), (1, 1), (1, 2), (1, 3)}


def is_business_day(day: date) -> bool:
    """Monday to Friday, not a public holiday (振替休日 and 国民の休日 included), not a
    bank holiday."""
    return day.weekday() < 5 and not jpholiday.is_holiday(day) and not is_bank_holiday(day)


def next_business_day(day: date) -> date:
    """``day`` itself when it is a business day, else the first one after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class DueRule:
    """Due ``months_after`` the period's month, on ``day`` (None: the month's last
    day; a day past the month's end is its last day), then the next business day.

    The default, the end of the following month (翌月末払い), is the usual term."""

    months_after: int = 1
    day: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.months_after, bool) or not isinstance(self.months_after, int):
            raise TypeError("months_after must be an int")
        if not 0 <= self.months_after <= 12:
            raise ValueError("months_after must be between 0 and 12")
        if self.day is not None and (isinstance(self.day, bool) or not 1 <= self.day <= 31):
            raise ValueError("day must be between 1 and 31 or None")

    def nominal(self, period: BillingPeriod) -> date:
        """The day the rule names, before moving past closed days."""
        target = period
        for _ in range(self.months_after):
            target = target.next()
        day = target.days if self.day is None else min(self.day, target.days)
        return date(target.year, target.month, day)

    def due_date(self, period: BillingPeriod) -> date:
        return next_business_day(self.nominal(period))
