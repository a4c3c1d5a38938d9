"""R12: the effective date of a cancellation, computed in Japan time."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from tenants.options.dates import cancellation_effective_date

JST = timezone(timedelta(hours=9))


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)


@pytest.mark.parametrize(
    ("last_day", "this_end", "next_end"),
    [
        (date(2027, 2, 28), date(2027, 2, 28), date(2027, 3, 31)),  # 28-day month
        (date(2028, 2, 29), date(2028, 2, 29), date(2028, 3, 31)),  # 29-day month (leap year)
        (date(2026, 11, 30), date(2026, 11, 30), date(2026, 12, 31)),  # 30-day month
        (date(2027, 1, 31), date(2027, 1, 31), date(2027, 2, 28)),  # 31-day month
        (date(2026, 12, 31), date(2026, 12, 31), date(2027, 1, 31)),  # December 31st
        (date(2027, 8, 31), date(2027, 8, 31), date(2027, 9, 30)),  # into a 30-day month
    ],
)
def test_cut_off_at_2200_on_the_last_day(last_day, this_end, next_end):
    y, m, d = last_day.year, last_day.month, last_day.day
    assert cancellation_effective_date(jst(y, m, d, 21, 59, 59)) == this_end
    assert cancellation_effective_date(jst(y, m, d, 21, 59, 59, 999999)) == this_end
    assert cancellation_effective_date(jst(y, m, d, 22, 0, 0)) == next_end
    assert cancellation_effective_date(jst(y, m, d, 23, 59, 59)) == next_end


def test_any_earlier_day_ends_this_month():
    assert cancellation_effective_date(jst(2026, 11, 1, 0, 0)) == date(2026, 11, 30)
    assert cancellation_effective_date(jst(2026, 11, 29, 23, 59)) == date(2026, 11, 30)


def test_first_moment_of_next_month_ends_that_month():
    assert cancellation_effective_date(jst(2026, 12, 1, 0, 0)) == date(2026, 12, 31)


def test_utc_time_is_judged_in_japan_time():
    # 13:00 UTC on 30 Nov is 22:00 JST on 30 Nov: past the cut-off.
    assert cancellation_effective_date(datetime(2026, 11, 30, 13, 0, tzinfo=UTC)) == date(
        2026, 12, 31
    )
    # 12:59:59 UTC is 21:59:59 JST: still this month.
    assert cancellation_effective_date(datetime(2026, 11, 30, 12, 59, 59, tzinfo=UTC)) == date(
        2026, 11, 30
    )
    # 15:00 UTC on 30 Nov is already 1 Dec 00:00 JST (the UTC date still says November).
    assert cancellation_effective_date(datetime(2026, 11, 30, 15, 0, tzinfo=UTC)) == date(
        2026, 12, 31
    )
    # 31 Dec 13:00 UTC = 31 Dec 22:00 JST → end of January; 31 Dec 12:00 UTC → December.
    assert cancellation_effective_date(datetime(2026, 12, 31, 13, 0, tzinfo=UTC)) == date(
        2027, 1, 31
    )
    assert cancellation_effective_date(datetime(2026, 12, 31, 12, 0, tzinfo=UTC)) == date(
        2026, 12, 31
    )


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        cancellation_effective_date(datetime(2026, 11, 30, 22, 0))
