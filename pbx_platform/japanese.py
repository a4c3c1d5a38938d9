"""Japanese conventions in one place: Japan time, month ends, yen, dates and phone numbers.

Times are stored in UTC; business rules (month ends, the 22:00 cut-off) and what people
read are in Japan time. Money is integer yen. Phone numbers are stored in E.164 and shown
in the national format with hyphens.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from flask_babel import get_locale

from pbx_platform.validation import typed_number

TOKYO = ZoneInfo("Asia/Tokyo")


def tokyo_today(now: datetime | None = None) -> date:
    """Today's date in Japan."""
    return (now or datetime.now(UTC)).astimezone(TOKYO).date()


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def day_start(day: date) -> datetime:
    """The UTC instant a Japan-time day begins (00:00 JST is 15:00 UTC the day before)."""
    return datetime.combine(day, time.min, tzinfo=TOKYO).astimezone(UTC)


def days_span(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants of Japan-time days ``first`` to ``last``: the start of the first,
    and the start of the day after the last (exclusive; a call at 23:59:59 JST belongs
    to its day, one at 00:00:00 to the next)."""
    return day_start(first), day_start(last + timedelta(days=1))


def next_month_end(day: date) -> date:
    first_of_next = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return month_end(first_of_next)


POSTAL_CODE = re.compile(r"(\d{3})-?(\d{4})")


def postal_code(raw: str | None) -> str | None:
    """NNN-NNNN from a postal code as typed (full-width digits, 〒, any dash, spaces),
    or None when it is not 7 digits."""
    text = typed_number(raw).replace("〒", "").replace(" ", "")
    found = POSTAL_CODE.fullmatch(text)
    return f"{found.group(1)}-{found.group(2)}" if found else None


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


# The 47 prefectures, in the order of their JIS X 0401 codes (addresses, forms).
PREFECTURES = (
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
)
