"""Japanese conventions in one place: Japan time, month ends, yen, dates and phone numbers.

Times are stored in UTC; business rules (month ends, the 22:00 cut-off) and what people
read are in Japan time. Money is integer yen. Phone numbers are stored in E.164 and shown
in the national format with hyphens.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import phonenumbers
from flask_babel import get_locale

TOKYO = ZoneInfo("Asia/Tokyo")


def tokyo_today(now: datetime | None = None) -> date:
    """Today's date in Japan."""
    return (now or datetime.now(UTC)).astimezone(TOKYO).date()


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def next_month_end(day: date) -> date:
    first_of_next = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return month_end(first_of_next)


def national(e164: str) -> str:
    """E.164 → the national format with hyphens (03-5555-0001); anything else as it is."""
    try:
        number = phonenumbers.parse(e164, "JP")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _japanese() -> bool:
    return str(get_locale()) == "ja"


def jdate(value: date | None) -> str:
    """2026年11月27日 in Japanese, 2026-11-27 otherwise."""
    if value is None:
        return ""
    if _japanese():
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def jdatetime(value: datetime | None) -> str:
    """A UTC time shown in Japan time: 2026年11月27日 09:30 (2026-11-27 09:30 JST)."""
    if value is None:
        return ""
    local = value.astimezone(TOKYO)
    if _japanese():
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M} JST"


def yen(amount: int) -> str:
    """Integer yen as ¥1,234 (1,234円 in Japanese)."""
    if _japanese():
        return f"{amount:,}円"
    return f"¥{amount:,}"
