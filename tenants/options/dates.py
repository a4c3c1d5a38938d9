"""Business dates of options, computed in Japan time (DESIGN: times in UTC, rules in JST)."""

from __future__ import annotations

from datetime import date, datetime, time

from pbx_platform.japanese import TOKYO, month_end, next_month_end, tokyo_today

__all__ = ["TOKYO", "cancellation_effective_date", "tokyo_today"]

CUT_OFF = time(22, 0)


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
