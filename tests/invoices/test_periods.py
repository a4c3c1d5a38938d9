"""R24's billing period (Japan time) and the due date past weekends and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask_babel import force_locale

from invoices.periods import (
    BillingPeriod,
    DueRule,
    PeriodError,
    is_business_day,
    next_business_day,
)


def test_parse_reads_year_and_month() -> None:
    assert BillingPeriod.parse("2026-11") == BillingPeriod(2026, 11)
    assert BillingPeriod.parse(" 2026-1 ") == BillingPeriod(2026, 1)
    # Typed with a Japanese IME in full-width mode.
    assert BillingPeriod.parse("２０２６－１１") == BillingPeriod(2026, 11)
    assert str(BillingPeriod(2026, 1)) == "2026-01"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter the billing period as YYYY-MM, e.g. 2026-11."),
        (None, "Enter the billing period as YYYY-MM, e.g. 2026-11."),
        ("2026/11", "Enter the billing period as YYYY-MM, e.g. 2026-11."),
        ("11-2026", "Enter the billing period as YYYY-MM, e.g. 2026-11."),
        ("2026-11-01", "Enter the billing period as YYYY-MM, e.g. 2026-11."),
        ("november", "Enter the billing period as YYYY-MM, e.g. 2026-11."),
        ("2026-13", "The month must be between 01 and 12."),
        ("2026-00", "The month must be between 01 and 12."),
        ("1999-12", "The year must be between 2000 and 2099."),
    ],
)
def test_parse_refuses_bad_text_with_a_message(app: Flask, raw: str | None, message: str) -> None:
    with app.test_request_context(), force_locale("en"), pytest.raises(PeriodError) as error:
        BillingPeriod.parse(raw)
    assert str(error.value) == message


def test_parse_message_in_japanese(app: Flask) -> None:
    with app.test_request_context(), force_locale("ja"):
        with pytest.raises(PeriodError) as error:
            BillingPeriod.parse("2026/11")
        assert str(error.value) == "請求期間は 2026-11 のように YYYY-MM で入力してください。"
        with pytest.raises(PeriodError) as error:
            BillingPeriod.parse("2026-13")
        assert str(error.value) == "月は 01 から 12 の間で入力してください。"


def test_days_of_a_period() -> None:
    november = BillingPeriod(2026, 11)
    assert (november.first_day, november.last_day, november.days) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
        30,
    )
    assert BillingPeriod(2028, 2).last_day == date(2028, 2, 29)  # leap year
    assert BillingPeriod(2026, 2).last_day == date(2026, 2, 28)
    assert date(2026, 11, 30) in november
    assert date(2026, 12, 1) not in november


def test_utc_instants_are_midnight_in_tokyo() -> None:
    november = BillingPeriod(2026, 11)
    assert november.starts_at == datetime(2026, 10, 31, 15, 0, tzinfo=UTC)
    assert november.ends_at == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert BillingPeriod(2026, 12).ends_at == datetime(2026, 12, 31, 15, 0, tzinfo=UTC)
    assert BillingPeriod(2099, 12).ends_at == datetime(2099, 12, 31, 15, 0, tzinfo=UTC)


def test_an_instant_belongs_to_its_day_in_japan() -> None:
    # 14:59:59 UTC on 30 November is 23:59:59 JST: still November.
    assert BillingPeriod.at(datetime(2026, 11, 30, 14, 59, 59, tzinfo=UTC)) == BillingPeriod(
        2026, 11
    )
    assert BillingPeriod.at(datetime(2026, 11, 30, 15, 0, tzinfo=UTC)) == BillingPeriod(2026, 12)
    with pytest.raises(ValueError):
        BillingPeriod.at(datetime(2026, 11, 30, 15, 0))


def test_next_and_previous_cross_the_year() -> None:
    assert BillingPeriod(2026, 12).next() == BillingPeriod(2027, 1)
    assert BillingPeriod(2027, 1).previous() == BillingPeriod(2026, 12)
    assert BillingPeriod(2026, 11) < BillingPeriod(2026, 12) < BillingPeriod(2027, 1)


def test_business_days() -> None:
    assert is_business_day(date(2026, 11, 30))  # Monday
    assert not is_business_day(date(2026, 11, 28))  # Saturday
    assert not is_business_day(date(2026, 11, 23))  # 勤労感謝の日, a Monday
    assert not is_business_day(date(2026, 12, 31))  # the banks' year-end closing
    assert not is_business_day(date(2027, 1, 1))  # 元日
    # Golden Week 2026: 3 May is a Sunday, so 6 May is its substitute holiday.
    assert next_business_day(date(2026, 5, 2)) == date(2026, 5, 7)


@pytest.mark.parametrize(
    ("period", "rule", "due"),
    [
        # The end of the following month, a Monday: as it is.
        (BillingPeriod(2026, 10), DueRule(), date(2026, 11, 30)),
        # 31 Dec (bank closing), 1 Jan (元日), 2–3 Jan (weekend) → Monday 4 Jan.
        (BillingPeriod(2026, 11), DueRule(), date(2027, 1, 4)),
        # 31 Jan 2027 is a Sunday.
        (BillingPeriod(2026, 12), DueRule(), date(2027, 2, 1)),
        # The 23rd of the next month: 勤労感謝の日 (Monday) → Tuesday.
        (BillingPeriod(2026, 10), DueRule(day=23), date(2026, 11, 24)),
        # The 31st in February is its last day, 28 Feb 2027, a Sunday.
        (BillingPeriod(2027, 1), DueRule(day=31), date(2027, 3, 1)),
        # 3 May 2026 and the Golden Week holidays after it.
        (BillingPeriod(2026, 4), DueRule(day=3), date(2026, 5, 7)),
        # The end of the period's own month; two months on.
        (BillingPeriod(2026, 11), DueRule(months_after=0), date(2026, 11, 30)),
        (BillingPeriod(2026, 11), DueRule(months_after=2), date(2027, 2, 1)),
    ],
)
def test_due_dates(period: BillingPeriod, rule: DueRule, due: date) -> None:
    assert rule.due_date(period) == due


def test_the_nominal_day_before_moving() -> None:
    assert DueRule().nominal(BillingPeriod(2026, 11)) == date(2026, 12, 31)


@pytest.mark.parametrize(
    "kwargs", [{"months_after": -1}, {"months_after": 13}, {"day": 0}, {"day": 32}]
)
def test_bad_due_rules_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        DueRule(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        DueRule(months_after=1.0)  # type: ignore[arg-type]
