"""Business dates of options, computed in Japan time (DESIGN: times in UTC, rules in JST)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
CUT_OFF = time(22, 0)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def next_month_end(day: date) -> date:
    first_of_next = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return month_end(first_of_next)


def tokyo_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(TOKYO).date()


def cancellation_effective_date(requested_at: datetime) -> date:
    """R12: requested before 22:00 (Japan time) on the month's last day → the option ends
    at the end of that month; at or after 22:00 on the last day → the end of the next."""
    if requested_at.tzinfo is None:
        raise ValueError("requested_at must be timezone-aware")
    local = requested_at.astimezone(TOKYO)
    today = local.date()
    if today == month_end(today) and local.time() >= CUT_OFF:
        return next_month_end(today)
    return month_end(today)
