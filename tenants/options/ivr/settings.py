"""The settings of one IVR (R5), typed: what an edit brings in (``IvrInput``, every
field as typed), what is stored (``IvrSettings``), and the rules between the two that
need no database: business hours, ring time, channels, the keys of the keypad.

The rules that read the circle (the extension and the name: ``identity``; that a
destination is the circle's own: ``destinations``) are checked by
``service.settings_from_input``, which calls ``build_settings`` with their findings so
that every problem is reported at once.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jpholiday
from flask_babel import lazy_gettext as _l

from pbx_platform.japanese import TOKYO
from pbx_platform.validation import normalized
from tenants.models import UniqueKind
from tenants.options.models import Ivr

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = {
    "mon": _l("Monday"),
    "tue": _l("Tuesday"),
    "wed": _l("Wednesday"),
    "thu": _l("Thursday"),
    "fri": _l("Friday"),
    "sat": _l("Saturday"),
    "sun": _l("Sunday"),
}
# Keypad order; the form names * and # "star" and "hash".
DIGITS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")
DIGIT_FIELDS = {digit: {"*": "star", "#": "hash"}.get(digit, digit) for digit in DIGITS}
MAX_ANSWER_SECONDS = 60
MIN_CHANNELS = 1
MAX_CHANNELS = 30
DEFAULT_HOURS: dict[str, list[str] | None] = {
    day: (["09:00", "18:00"] if day not in ("sat", "sun") else None) for day in DAYS
}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


class DestinationType(enum.StrEnum):
    UNIQUE = "unique"
    RING_GROUP = "ring_group"
    CONFERENCE = "conference"
    IVR = "ivr"
    OUTSIDE = "outside"
    HANGUP = "hangup"


HANGUP: dict[str, Any] = {"type": DestinationType.HANGUP.value}
# The destinations that point at a unique of the circle, and the kind it must be.
UNIQUE_KINDS = {
    DestinationType.UNIQUE: UniqueKind.PHONE,
    DestinationType.CONFERENCE: UniqueKind.CONFERENCE_ROOM,
    DestinationType.IVR: UniqueKind.IVR,
}


class IvrError(Exception):
    """Refused input: ``errors`` maps a form field (or "routing") to its message."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        super().__init__("; ".join(str(e) for e in errors.values()))
        self.errors = {key: str(message) for key, message in errors.items()}


@dataclass(frozen=True)
class DestinationChoice:
    """One destination as chosen: ``choice`` is a menu value ("unique:12",
    "ring_group:3", "conference:7", "ivr:9", "outside", "hangup", or "" for none) and
    ``number`` the outside number as typed (used with "outside")."""

    choice: str = ""
    number: str = ""


@dataclass(frozen=True)
class DayHours:
    """One weekday as typed: open or not, and its times ("09:00", full-width too)."""

    open: bool = False
    start: str = ""
    end: str = ""


@dataclass(frozen=True)
class IvrInput:
    """An IVR's settings as a person typed them (strings; full-width accepted, NFKC).

    ``digits`` maps a key of the keypad ("1"…"9", "0", "*", "#") to its choice; keys
    left out have no destination. ``unknown_keys`` names keys that were sent but are
    not on the keypad (a forged form), which are refused."""

    extension: str = ""
    display_name: str = ""
    hours: Mapping[str, DayHours] = field(default_factory=dict)
    closed_on_holidays: bool = False
    answer_after_seconds: str = ""
    channels: str = ""
    after_hours: DestinationChoice = field(default_factory=DestinationChoice)
    timeout: DestinationChoice = field(default_factory=DestinationChoice)
    digits: Mapping[str, DestinationChoice] = field(default_factory=dict)
    unknown_keys: tuple[str, ...] = ()


@dataclass
class IvrSettings:
    """Validated settings of one IVR, as stored."""

    extension: str
    display_name: str
    business_hours: dict[str, list[str] | None]
    closed_on_holidays: bool
    after_hours: dict[str, Any]
    answer_after_seconds: int
    channels: int
    digit_map: dict[str, dict[str, Any]] = field(default_factory=dict)
    timeout_destination: dict[str, Any] = field(default_factory=lambda: dict(HANGUP))


def clean(text: str | None) -> str:
    """Input as typed → NFKC (full-width digits and colons become ASCII), trimmed."""
    return normalized(text)


def is_open(ivr: Ivr | IvrSettings, at: datetime) -> bool:
    """Business hours in Japan time (R5): the weekday's span (start inclusive, end
    exclusive), closed on Japanese public holidays when the IVR says so."""
    local = at.astimezone(TOKYO)
    if ivr.closed_on_holidays and jpholiday.is_holiday(local.date()):
        return False
    hours = (ivr.business_hours or {}).get(DAYS[local.weekday()])
    if not hours:
        return False
    start, end = hours
    return start <= f"{local:%H:%M}" < end


def business_hours(
    hours: Mapping[str, DayHours], errors: dict[str, Any]
) -> dict[str, list[str] | None]:
    """Each weekday's [start, end] ("24:00" may end a day) or None when closed; a bad
    day's problem goes into ``errors`` under ``hours_<day>``."""
    result: dict[str, list[str] | None] = {}
    for day in DAYS:
        result[day] = None
        typed = hours.get(day)
        if typed is None or not typed.open:
            continue
        start = _time(clean(typed.start), allow_24=False)
        end = _time(clean(typed.end), allow_24=True)
        if start is None or end is None:
            errors[f"hours_{day}"] = _l("Enter the times as HH:MM (for example 09:00).")
        elif start >= end:
            errors[f"hours_{day}"] = _l("The opening time must be before the closing time.")
        else:
            result[day] = [start, end]
    return result


def whole_number(text: str, low: int, high: int) -> tuple[int | None, Any]:
    """A whole number from ``low`` to ``high`` (typed; full-width digits accepted)."""
    text = clean(text)
    if not text.isdigit() or len(text) > 9:
        return None, _l("Enter a whole number.")
    value = int(text)
    if not low <= value <= high:
        return None, _l("Enter a number from %(min)d to %(max)d.", min=low, max=high)
    return value, None


def unknown_keys_problem(keys: tuple[str, ...]) -> Any:
    """Only the keypad's keys (0–9, *, #) can be assigned a destination."""
    if not keys:
        return None
    return _l("Unknown key “%(key)s”: only 0–9, * and # can be assigned.", key=keys[-1])


def _time(text: str, *, allow_24: bool) -> str | None:
    match = _TIME.match(text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if allow_24 and (hour, minute) == (24, 0):
        return "24:00"
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"
