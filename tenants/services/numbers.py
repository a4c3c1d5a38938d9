"""The number inventory: the platform's outside numbers, the blocks it allocates to
resellers, and the numbers a reseller assigns to its circles.

A number is one ``PhoneNumber`` row (E.164, unique). Its holder is ``reseller_id``:
the platform reseller while unallocated, then the reseller it was allocated to. Its
``circle_id`` says which circle uses it; the circle's own ``CirclePhoneNumber`` row
(what conference rooms and outbound selectors point at) refers back to it.

Assigning is one conditional UPDATE (``circle_id IS NULL`` → the circle): of two
parallel assignments of one number, PostgreSQL makes the second wait for the first's
row lock and then finds the number taken, so it changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import phonenumbers
from flask_babel import lazy_gettext as _l
from phonenumbers import PhoneNumberType
from sqlalchemy import CursorResult, func, select, update

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.japanese import national
from pbx_platform.tenancy import platform_bypass
from pbx_platform.validation import typed_number
from tenants.models import Circle, CirclePhoneNumber, NumberKind, PhoneNumber, Reseller
from tenants.options.models import ConferenceRoom, OutboundSelector

MAX_BLOCK = 1000
INPUT_MAX = 20000
PAGE_SIZE = 50

_KINDS = {
    PhoneNumberType.FIXED_LINE: NumberKind.LANDLINE,
    PhoneNumberType.VOIP: NumberKind.IP,
    PhoneNumberType.TOLL_FREE: NumberKind.FREE_DIAL,
}
_RANGE = re.compile(r"\s*(.+?)\s*(?:〜|~|\.\.|\s-\s|から)\s*(.+?)\s*")


class NumberError(ValueError):
    pass


@dataclass(frozen=True)
class Parsed:
    e164: str
    kind: NumberKind


def parse_number(raw: str) -> Parsed:
    """A Japanese number as typed (full-width digits, hyphens, +81), checked with
    ``phonenumbers`` and kept only if it is a landline (0AB-J), an IP number (050) or
    free-dial (0120, 0800); its kind is read from the number."""
    text = typed_number(raw)
    if not text or len(text) > 30:
        raise NumberError(str(_l("Enter a phone number.")))
    try:
        number = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException:
        raise NumberError(str(_l("%(number)s is not a phone number.", number=text))) from None
    kind = _KINDS.get(phonenumbers.number_type(number))
    if (
        not phonenumbers.is_valid_number(number)
        or phonenumbers.region_code_for_number(number) != "JP"
        or kind is None
    ):
        raise NumberError(
            str(
                _l(
                    "%(number)s is not a Japanese landline (0AB-J), 050 or free-dial "
                    "(0120/0800) number.",
                    number=text,
                )
            )
        )
    return Parsed(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), kind)


def parse_numbers(raw: str) -> list[Parsed]:
    """One number or one range (``03-5555-0100 〜 03-5555-0199``) per line or between
    commas; a range holds at most ``MAX_BLOCK`` numbers of one kind and length."""
    text = unicodedata.normalize("NFKC", raw or "")  # line breaks kept: one number a line
    if len(text) > INPUT_MAX:
        raise NumberError(str(_l("Enter at most %(n)d characters.", n=INPUT_MAX)))
    found: list[Parsed] = []
    for part in (p for p in re.split(r"[\n,、]+", text) if p.strip()):
        match = _RANGE.fullmatch(part)
        if match is None:
            found.append(parse_number(part))
            continue
        first, last = parse_number(match.group(1)), parse_number(match.group(2))
        if len(first.e164) != len(last.e164) or first.kind != last.kind:
            raise NumberError(
                str(_l("%(range)s: both ends must be numbers of one kind.", range=part.strip()))
            )
        low, high = int(first.e164[1:]), int(last.e164[1:])
        if high < low or high - low + 1 > MAX_BLOCK:
            raise NumberError(
                str(
                    _l(
                        "%(range)s: a range runs upwards and holds at most %(n)d numbers.",
                        range=part.strip(),
                        n=MAX_BLOCK,
                    )
                )
            )
        found.extend(parse_number(f"+{value}") for value in range(low, high + 1))
    if not found:
        raise NumberError(str(_l("Enter a phone number.")))
    unique = {p.e164: p for p in found}
    if len(unique) != len(found):
        raise NumberError(str(_l("A number is listed twice.")))
    return found


# -- the operator's side ---------------------------------------------------------------------


def _platform_id() -> int:
    return db.session.scalars(select(Reseller.id).where(Reseller.is_platform.is_(True))).one()


def add_numbers(numbers: Sequence[Parsed]) -> int:
    """Add numbers to the platform's stock (unallocated); refused whole if any of them
    is in the inventory already."""
    with platform_bypass("console.numbers_add"), audit_action("number.add"):
        existing = db.session.scalars(
            select(PhoneNumber.e164).where(PhoneNumber.e164.in_([n.e164 for n in numbers]))
        ).all()
        if existing:
            raise NumberError(
                str(_l("%(number)s is in the inventory already.", number=national(min(existing))))
            )
        platform = _platform_id()
        for number in numbers:
            db.session.add(PhoneNumber(reseller_id=platform, e164=number.e164, kind=number.kind))
        db.session.flush()
    return len(numbers)


def _block(first: str, last: str) -> tuple[str, str]:
    low, high = parse_number(first), parse_number(last or first)
    if len(low.e164) != len(high.e164) or high.e164 < low.e164:
        raise NumberError(str(_l("Enter a block from a lower to a higher number of one length.")))
    return low.e164, high.e164


def _rowcount(result: Any) -> int:
    return cast("CursorResult[Any]", result).rowcount


def allocate(reseller_id: int, first: str, last: str) -> int:
    """Allocate the platform's free numbers from ``first`` to ``last`` to a reseller."""
    low, high = _block(first, last)
    with platform_bypass("console.numbers_allocate"), audit_action("number.allocate"):
        target = db.session.get(Reseller, reseller_id)
        if target is None or target.is_platform:
            raise NumberError(str(_l("Choose a reseller.")))
        moved = _rowcount(
            db.session.execute(
                update(PhoneNumber)
                .where(
                    PhoneNumber.reseller_id == _platform_id(),
                    PhoneNumber.circle_id.is_(None),
                    PhoneNumber.e164.between(low, high),
                    func.length(PhoneNumber.e164) == len(low),
                )
                .values(reseller_id=target.id)
                .execution_options(synchronize_session=False)
            )
        )
    if not moved:
        raise NumberError(str(_l("The platform holds no free number in that block.")))
    return moved


def take_back(reseller_id: int, first: str, last: str) -> int:
    """Return a reseller's numbers from ``first`` to ``last`` that no circle uses to
    the platform; numbers on a circle stay where they are."""
    low, high = _block(first, last)
    with platform_bypass("console.numbers_take_back"), audit_action("number.take_back"):
        platform = _platform_id()
        if reseller_id == platform:
            raise NumberError(str(_l("Choose a reseller.")))
        moved = _rowcount(
            db.session.execute(
                update(PhoneNumber)
                .where(
                    PhoneNumber.reseller_id == reseller_id,
                    PhoneNumber.circle_id.is_(None),
                    PhoneNumber.e164.between(low, high),
                    func.length(PhoneNumber.e164) == len(low),
                )
                .values(reseller_id=platform)
                .execution_options(synchronize_session=False)
            )
        )
    if not moved:
        raise NumberError(str(_l("That reseller has no unassigned number in that block.")))
    return moved


@dataclass(frozen=True)
class InventoryRow:
    number: PhoneNumber
    holder: str
    circle: str


@dataclass(frozen=True)
class InventoryPage:
    rows: Sequence[InventoryRow]
    page: int
    pages: int
    total: int


def inventory_page(holder_id: int | None = None, page: int = 1) -> InventoryPage:
    with platform_bypass("console.numbers"):
        statement = (
            select(PhoneNumber, Reseller.name, Circle.name)
            .join(Reseller, Reseller.id == PhoneNumber.reseller_id)
            .outerjoin(Circle, Circle.id == PhoneNumber.circle_id)
        )
        if holder_id is not None:
            statement = statement.where(PhoneNumber.reseller_id == holder_id)
        total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        rows = db.session.execute(
            statement.order_by(PhoneNumber.e164).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        ).all()
    return InventoryPage(
        rows=[InventoryRow(n, holder, circle or "") for n, holder, circle in rows],
        page=page,
        pages=pages,
        total=total,
    )


# -- the reseller's side: a circle's numbers (scope narrowed to the circle) -------------------


def free_numbers() -> list[PhoneNumber]:
    """The numbers of the caller's reseller that no circle uses (the scope holds the
    reseller; numbers are the reseller's rows, not the circle's)."""
    return list(
        db.session.scalars(
            select(PhoneNumber).where(PhoneNumber.circle_id.is_(None)).order_by(PhoneNumber.e164)
        )
    )


def assign(circle: Circle, number_ids: Sequence[int]) -> list[CirclePhoneNumber]:
    """Give the circle numbers from its reseller's pool. A number not in the pool (of
    another reseller, or unknown) or already on a circle refuses the whole request."""
    if not number_ids:
        raise NumberError(str(_l("Choose at least one number.")))
    added: list[CirclePhoneNumber] = []
    with audit_action("number.assign"):
        for number_id in dict.fromkeys(number_ids):
            number = db.session.get(PhoneNumber, number_id)
            if number is None:
                raise NumberError(str(_l("That number is not in your pool.")))
            taken = _rowcount(
                db.session.execute(
                    update(PhoneNumber)
                    .where(PhoneNumber.id == number.id, PhoneNumber.circle_id.is_(None))
                    .values(circle_id=circle.id)
                    .execution_options(synchronize_session=False)
                )
            )
            if taken != 1:
                raise NumberError(
                    str(_l("%(number)s is already used by a circle.", number=national(number.e164)))
                )
            row = CirclePhoneNumber(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                e164=number.e164,
                phone_number_id=number.id,
            )
            db.session.add(row)
            added.append(row)
        db.session.flush()
    return added


def circle_number(circle: Circle, circle_number_id: int) -> CirclePhoneNumber | None:
    row = db.session.get(CirclePhoneNumber, circle_number_id)
    # Kept by hand: the number's id comes from the URL, and the page that asks may be
    # the reseller's (numbers are a reseller-level pool); this keeps it to the circle.
    return row if row is not None and row.circle_id == circle.id else None


def release(circle: Circle, circle_number_id: int) -> str:
    """Take a number off the circle, back into the reseller's pool; refused while a
    conference room or an outbound selector of the circle uses it."""
    row = db.session.get(CirclePhoneNumber, circle_number_id)
    if row is None or row.circle_id != circle.id:
        raise LookupError(circle_number_id)
    shown = national(row.e164)
    room = db.session.scalars(
        select(ConferenceRoom).where(ConferenceRoom.phone_number_id == row.id)
    ).first()
    selector = db.session.scalars(
        select(OutboundSelector).where(OutboundSelector.phone_number_id == row.id)
    ).first()
    if room is not None or selector is not None:
        raise NumberError(
            str(
                _l(
                    "%(number)s is used by a conference room or an outbound selector of "
                    "this circle. Change that first.",
                    number=shown,
                )
            )
        )
    with audit_action("number.release"):
        number_id = row.phone_number_id
        db.session.delete(row)
        db.session.flush()
        if number_id is not None:
            # Kept by hand: the inventory is the reseller's (not narrowed by circle), so
            # the release names the circle that held the number.
            db.session.execute(
                update(PhoneNumber)
                .where(PhoneNumber.id == number_id, PhoneNumber.circle_id == circle.id)
                .values(circle_id=None)
                .execution_options(synchronize_session=False)
            )
    return shown


def reseller_choices(*, include_platform: bool = False) -> list[tuple[int, str]]:
    """(id, name) of every reseller (but the platform, unless asked), for the forms."""
    with platform_bypass("console.numbers"):
        statement = select(Reseller.id, Reseller.name).order_by(
            Reseller.is_platform.desc(), Reseller.name
        )
        if not include_platform:
            statement = statement.where(Reseller.is_platform.is_(False))
        rows = db.session.execute(statement).all()
    return [(row.id, row.name) for row in rows]
