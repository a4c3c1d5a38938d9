"""Call rating (R24): the destination class of a called number, its rate, the charge.

A call is charged per started billing unit of its destination class's rate:
``ceil(talk_seconds / unit_seconds) × price_yen``; 60 s at a 60 s unit is one unit,
61 s is two. A call that was not answered (0 talk seconds) costs nothing.

Destination classes follow the Japanese numbering plan, prefixes first:

- free-dial 0120 / 0800 (rated zero whatever the table says),
- mobile 070 / 080 / 090, IP 050,
- landline 0AB-J (a 9-digit national number that the numbering plan knows as fixed),
- international by the country prefix: the longest prefix of the rate table that the
  number starts with (``1`` for +1, ``44`` for +44, ``1808`` before ``1``),
- not rated: internal calls, incoming calls, extensions and names ("201",
  "anonymous"),
- unclassified: a number that is none of these (0570 navi-dial, 0990, a malformed
  or too short number, an international number without a rate). The monthly run
  lists these for review instead of billing a guess.

Called numbers are E.164 as ``tenants.calls.fields.party`` stores them; a national
``0…`` number is read as Japanese.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import phonenumbers

from invoices.amounts import Rounding, divide, whole
from tenants.calls.models import Direction

JAPAN = "81"


class DestinationClass(enum.StrEnum):
    LANDLINE = "landline"
    MOBILE = "mobile"
    IP = "ip"
    FREE_DIAL = "free_dial"
    INTERNATIONAL = "international"
    UNCLASSIFIED = "unclassified"
    NOT_RATED = "not_rated"


DOMESTIC = (
    DestinationClass.LANDLINE,
    DestinationClass.MOBILE,
    DestinationClass.IP,
    DestinationClass.FREE_DIAL,
)


@dataclass(frozen=True)
class Destination:
    """The class of a called number; for an international one, its digits after ``+``
    (``country_digits``) to be matched against the table's prefixes."""

    kind: DestinationClass
    country_digits: str = ""


def _digits_of(called: str) -> str | None:
    """E.164 digits without ``+`` for a phone number, None for anything else."""
    text = called.strip().replace("-", "").replace(" ", "")
    if text.startswith("+"):
        body = text[1:]
    elif text.startswith("0") and len(text) >= 10:
        body = JAPAN + text[1:]
    else:
        return None
    return body if body.isdigit() else ""


def _japanese(national_number: str) -> DestinationClass:
    """The class of a Japanese national significant number (without the leading 0)."""
    n = national_number
    if (n.startswith("120") and len(n) == 9) or (n.startswith("800") and len(n) == 10):
        return DestinationClass.FREE_DIAL
    if n[:2] in {"70", "80", "90"} and len(n) == 10:
        return DestinationClass.MOBILE
    if n.startswith("50") and len(n) == 10:
        return DestinationClass.IP
    if len(n) == 9 and n[0] != "0":
        # The prefixes above are the rule; the numbering plan's metadata tells a real
        # 0AB-J area code from the service numbers (0570, 0180, 0990, ...).
        parsed = phonenumbers.parse("+" + JAPAN + n)
        if phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in {
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        }:
            return DestinationClass.LANDLINE
    return DestinationClass.UNCLASSIFIED


def classify(called: str) -> Destination:
    """The destination class of a called party as stored (E.164 or a name)."""
    digits = _digits_of(called or "")
    if digits is None:
        return Destination(DestinationClass.NOT_RATED)
    if len(digits) < 8 or len(digits) > 15:
        return Destination(DestinationClass.UNCLASSIFIED)
    if digits.startswith(JAPAN):
        return Destination(_japanese(digits[len(JAPAN) :]))
    return Destination(DestinationClass.INTERNATIONAL, digits)


@dataclass(frozen=True)
class Rate:
    """``price_yen`` (tax-exclusive) per started ``unit_seconds`` of talk."""

    price_yen: int
    unit_seconds: int = 60

    def __post_init__(self) -> None:
        whole(self.price_yen, "price_yen")
        whole(self.unit_seconds, "unit_seconds", minimum=1)

    def units(self, talk_seconds: int) -> int:
        """Started billing units: ceil(talk_seconds / unit_seconds); 0 s is 0."""
        whole(talk_seconds, "talk_seconds")
        return -(-talk_seconds // self.unit_seconds)

    def charge(self, talk_seconds: int) -> int:
        return self.units(talk_seconds) * self.price_yen


FREE = Rate(0, 60)


@dataclass(frozen=True)
class RateTable:
    """A price book's call rates: one per domestic class, international ones by
    country prefix (digits without ``+``). Free-dial is always ``FREE``."""

    domestic: Mapping[DestinationClass, Rate] = field(default_factory=dict)
    international: Mapping[str, Rate] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kind in self.domestic:
            if kind not in DOMESTIC:
                raise ValueError(f"{kind} is not a domestic destination class")
        for prefix in self.international:
            if not prefix.isdigit() or prefix.startswith(JAPAN):
                raise ValueError(f"{prefix!r} is not a country prefix")

    def rate_for(self, destination: Destination) -> tuple[str, Rate] | None:
        """(the matched prefix, "" when domestic; the rate), or None when unpriced."""
        if destination.kind == DestinationClass.FREE_DIAL:
            return "", FREE
        if destination.kind == DestinationClass.INTERNATIONAL:
            digits = destination.country_digits
            matches = [p for p in self.international if digits.startswith(p)]
            if not matches:
                return None
            prefix = max(matches, key=len)
            return prefix, self.international[prefix]
        rate = self.domestic.get(destination.kind)
        return None if rate is None else ("", rate)


class CallLike(Protocol):
    @property
    def direction(self) -> str: ...
    @property
    def called(self) -> str: ...
    @property
    def talk_seconds(self) -> int: ...
    @property
    def call_id(self) -> str: ...


@dataclass(frozen=True)
class CallToRate:
    """What rating needs of a call record (``tenants.calls.models.CallRecord``)."""

    direction: str
    called: str
    talk_seconds: int
    call_id: str = ""

    def __post_init__(self) -> None:
        whole(self.talk_seconds, "talk_seconds")

    @classmethod
    def of(cls, record: CallLike) -> CallToRate:
        """The plain value of a ``CallRecord`` (or a row with the same attributes)."""
        return cls(str(record.direction), record.called, record.talk_seconds, record.call_id)


@dataclass(frozen=True)
class RatedCall:
    """One call with its class, the prefix and rate it matched (None when unpriced),
    its started units and its charge in yen: one row of the per-call appendix."""

    call: CallToRate
    kind: DestinationClass
    prefix: str
    rate: Rate | None
    units: int
    yen: int

    @property
    def billable(self) -> bool:
        return self.rate is not None and self.units > 0


def rate_call(call: CallToRate, table: RateTable) -> RatedCall:
    """Outgoing calls only are charged; internal and incoming ones are not rated."""
    if call.direction != Direction.OUT:
        return RatedCall(call, DestinationClass.NOT_RATED, "", None, 0, 0)
    destination = classify(call.called)
    found = table.rate_for(destination)
    if found is None:
        kind = destination.kind
        if kind == DestinationClass.INTERNATIONAL:
            kind = DestinationClass.UNCLASSIFIED
        return RatedCall(call, kind, "", None, 0, 0)
    prefix, rate = found
    units = rate.units(call.talk_seconds)
    return RatedCall(call, destination.kind, prefix, rate, units, units * rate.price_yen)


@dataclass
class SummaryLine:
    """The calls of one class (and, for international calls, one country prefix) at
    one rate: how many, their started units, the seconds and minutes those bill, yen.

    Only answered calls with talk time count; billed minutes are the billed seconds
    in started minutes (exact for 60 s and 180 s units)."""

    kind: DestinationClass
    prefix: str
    rate: Rate
    count: int = 0
    units: int = 0
    yen: int = 0

    @property
    def billed_seconds(self) -> int:
        return self.units * self.rate.unit_seconds

    @property
    def billed_minutes(self) -> int:
        return divide(self.billed_seconds, 60, Rounding.UP)


@dataclass
class CallSummary:
    lines: list[SummaryLine]
    # Outgoing calls with talk time that no rate covers: for review, not billed.
    unpriced: list[RatedCall]

    @property
    def yen(self) -> int:
        return sum(line.yen for line in self.lines)


ORDER = {kind: i for i, kind in enumerate(DestinationClass)}


def summarize(calls: Iterable[CallToRate], table: RateTable) -> CallSummary:
    """Rates every call; one line per (class, prefix, rate), in the order of the
    classes and then of the prefixes."""
    lines: dict[tuple[DestinationClass, str, Rate], SummaryLine] = {}
    unpriced: list[RatedCall] = []
    for call in calls:
        rated = rate_call(call, table)
        if rated.rate is None:
            if rated.kind != DestinationClass.NOT_RATED and call.talk_seconds > 0:
                unpriced.append(rated)
            continue
        if rated.units == 0:
            continue
        key = (rated.kind, rated.prefix, rated.rate)
        line = lines.get(key)
        if line is None:
            line = lines[key] = SummaryLine(rated.kind, rated.prefix, rated.rate)
        line.count += 1
        line.units += rated.units
        line.yen += rated.yen
    ordered = sorted(lines.values(), key=lambda x: (ORDER[x.kind], x.prefix, x.rate.unit_seconds))
    return CallSummary(ordered, unpriced)
