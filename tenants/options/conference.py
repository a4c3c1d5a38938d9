"""R3 conference rooms, and the checks every virtual unique of a circle shares.

A conference room is a unique of kind ``conference_room`` (its name and extension)
with a ``ConferenceRoom`` row (incoming number, PIN, broadcast members).

R3, as the manual gives it (会議室: 最大5人(5回線)からの同時通話が可能; each room is set
up as a unique of its own): what a circle buys is conference rooms, and each room
bought is one room of 5 lines, 5 participants at once (a broadcast room: the caller
and 4 members). So a circle has at most as many rooms as it bought:

* a new room is refused once the circle has as many rooms as the units it holds that
  are not being cancelled (units whose cancellation is pending are already counted
  out, so the rooms still fit on the day it takes effect); changing or deleting an
  existing room is always possible while the option is held;
* rooms are cancelled by count through the cart (``tenants.options.cart``, R10, R11),
  and a cancellation that would leave fewer rooms than exist is refused, naming the
  rooms, as licences name the ticked uniques (R7, R8).

Creating a room and confirming a cart lock the circle's options
(``services.lock_options``), so two requests cannot each take the last room.

The name, extension and phone-number checks below are shared with outbound number
selection (R4, ``tenants.options.outbound``): both are virtual uniques of the circle.
Services flush, never commit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.versioning import check_edit, claim_edit
from tenants.labels import national
from tenants.models import Circle, CirclePhoneNumber, RingGroup, Unique, UniqueKind
from tenants.options import services
from tenants.options.models import (
    LINES_PER_CONFERENCE_ROOM,
    ConferenceMember,
    ConferenceRoom,
    OptionKind,
)
from tenants.services.provisioning import EXTENSION_RANGES, create_unique, extension_in_range

NAME_MAX = 80  # Unique.display_name
PIN_MIN, PIN_MAX = 4, 8
_ASCII_DIGITS = re.compile(r"[0-9]+")
_ID_DIGITS_MAX = 12
_TICKED = {"1", "on", "true", "y", "yes"}


@dataclass
class Outcome:
    """What a settings form would store (``values``, to show back) and field → messages;
    no errors means the change was flushed. ``unique`` is the saved virtual unique."""

    values: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)
    unique: Unique | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, name: str, message: object) -> None:
        self.errors.setdefault(name, []).append(str(message))


# -- shared by the virtual uniques (conference rooms, outbound selectors) -------------------


def normalized(raw: str | None) -> str:
    """What a Japanese user typed, NFKC-normalised (full-width ２０１ → 201) and trimmed."""
    return unicodedata.normalize("NFKC", raw or "").strip()


def parse_id(raw: str | None) -> int | None:
    text = normalized(raw)
    if not _ASCII_DIGITS.fullmatch(text) or len(text) > _ID_DIGITS_MAX:
        return None
    return int(text)


def parse_tick(raw: str | None) -> bool | None:
    """A checkbox: absent or empty is unticked, a checkbox value is ticked, else None."""
    text = normalized(raw).lower()
    if not text:
        return False
    return True if text in _TICKED else None


def check_name(outcome: Outcome, raw: str | None) -> str:
    """The unique's display name: required, plain text, at most 80 characters."""
    name = (raw or "").strip()
    outcome.values["name"] = name
    if not name:
        outcome.add("name", _l("Enter a name."))
    elif len(name) > NAME_MAX:
        outcome.add("name", _l("Use at most %(n)d characters.", n=NAME_MAX))
    elif any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        outcome.add("name", _l("Use plain text without line breaks or control characters."))
    return name


def extension_hint(circle: Circle) -> str:
    low, high = EXTENSION_RANGES[circle.extension_length]
    return str(
        _l(
            "%(n)d digits, from %(low)d to %(high)d.",
            n=circle.extension_length,
            low=low,
            high=high,
        )
    )


def check_extension(outcome: Outcome, circle: Circle, raw: str | None, own_id: int | None) -> str:
    """R13: digits of the circle's extension length, in its range, and free in the
    circle (no other unique, no ring group has it)."""
    extension = normalized(raw)
    outcome.values["extension"] = extension
    length = circle.extension_length
    if not extension:
        outcome.add("extension", _l("Enter an extension."))
        return extension
    if not _ASCII_DIGITS.fullmatch(extension) or not extension_in_range(extension, length):
        low, high = EXTENSION_RANGES[length]
        outcome.add(
            "extension",
            _l(
                "Enter an extension of %(n)d digits from %(low)d to %(high)d.",
                n=length,
                low=low,
                high=high,
            ),
        )
        return extension
    taken_by = db.session.scalars(
        select(Unique.display_name).where(
            Unique.circle_id == circle.id,
            Unique.extension == extension,
            Unique.id != (own_id or 0),
        )
    ).first()
    if taken_by is not None:
        outcome.add(
            "extension",
            _l("Extension %(ext)s is already used by %(name)s.", ext=extension, name=taken_by),
        )
        return extension
    group = db.session.scalars(
        select(RingGroup.name).where(
            RingGroup.circle_id == circle.id, RingGroup.extension == extension
        )
    ).first()
    if group is not None:
        outcome.add(
            "extension",
            _l(
                "Extension %(ext)s is already used by the ring group %(name)s.",
                ext=extension,
                name=group,
            ),
        )
    return extension


def circle_numbers(circle: Circle) -> Sequence[CirclePhoneNumber]:
    return db.session.scalars(
        select(CirclePhoneNumber)
        .where(CirclePhoneNumber.circle_id == circle.id)
        .order_by(CirclePhoneNumber.id)
    ).all()


def circle_number(circle: Circle, raw: str | None) -> CirclePhoneNumber | None:
    """One of this circle's numbers by id, or None (another circle's id is not there)."""
    number_id = parse_id(raw)
    if number_id is None:
        return None
    return db.session.scalars(
        select(CirclePhoneNumber).where(
            CirclePhoneNumber.id == number_id, CirclePhoneNumber.circle_id == circle.id
        )
    ).first()


def new_virtual_unique(circle: Circle, kind: UniqueKind, name: str, extension: str) -> Unique:
    """A virtual unique is never a terminal (the database refuses a terminal type too)."""
    return create_unique(circle, extension=extension, display_name=name, kind=kind)


# -- conference rooms -----------------------------------------------------------------------


@dataclass
class RoomEntry:
    """A room unique and its settings row (None until the first save of a room unique
    that was made without one)."""

    unique: Unique
    room: ConferenceRoom | None

    @property
    def id(self) -> int:
        return self.unique.id

    @property
    def has_pin(self) -> bool:
        return bool(self.room and self.room.entry_password)

    @property
    def broadcast(self) -> bool:
        return bool(self.room and self.room.broadcast)

    @property
    def phone_number(self) -> CirclePhoneNumber | None:
        return self.room.phone_number if self.room else None

    @property
    def member_ids(self) -> set[int]:
        return {m.unique_id for m in self.room.members} if self.room else set()


@dataclass
class RoomInput:
    """A room form as typed: every field a string, as a browser (or a forger) sends it."""

    name: str = ""
    extension: str = ""
    phone_number_id: str = ""
    new_pin: str = ""
    clear_pin: str = ""
    broadcast: str = ""
    member_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RoomCount:
    """R3: the rooms a circle has, and how many it may have (one per room bought)."""

    rooms: int
    allowed: int

    @property
    def full(self) -> bool:
        return self.rooms >= self.allowed


def room_count(circle: Circle, today: date) -> RoomCount:
    """Rooms against the units held today and not being cancelled (R3, R12)."""
    holding = services.holding(circle, OptionKind.CONFERENCE_ROOM, today)
    return RoomCount(len(services.room_uniques(circle)), holding.cancellable_quantity)


def _check_room_count(outcome: Outcome, circle: Circle, today: date) -> None:
    """R3: one room per room bought; the circle's options are locked first, so two
    requests cannot both take the last one."""
    services.lock_options(circle)
    count = room_count(circle, today)
    if count.full:
        outcome.add(
            "rooms",
            _l(
                "This circle has %(rooms)d conference room(s) and may have %(n)d (one per "
                "room bought and not being cancelled). Buy another room on the options page, "
                "or delete one, to add a new room.",
                rooms=count.rooms,
                n=count.allowed,
            ),
        )


def _room_query() -> Any:
    return (
        select(Unique, ConferenceRoom)
        .outerjoin(ConferenceRoom, ConferenceRoom.unique_id == Unique.id)
        .where(Unique.kind == UniqueKind.CONFERENCE_ROOM)
        .options(selectinload(ConferenceRoom.members), selectinload(ConferenceRoom.phone_number))
    )


def rooms(circle: Circle) -> list[RoomEntry]:
    rows = db.session.execute(
        _room_query().where(Unique.circle_id == circle.id).order_by(Unique.extension, Unique.id)
    ).all()
    return [RoomEntry(unique, room) for unique, room in rows]


def find_room(circle: Circle, unique_id: int) -> RoomEntry | None:
    """The circle's room by its unique's id; another circle's room is not found."""
    row = db.session.execute(
        _room_query().where(Unique.circle_id == circle.id, Unique.id == unique_id)
    ).first()
    return RoomEntry(row[0], row[1]) if row else None


def member_candidates(circle: Circle) -> Sequence[Unique]:
    """R3 broadcast: the circle's phones, which a broadcast room may ring."""
    return db.session.scalars(
        select(Unique)
        .where(Unique.circle_id == circle.id, Unique.kind == UniqueKind.PHONE)
        .order_by(Unique.extension, Unique.id)
    ).all()


def room_values(entry: RoomEntry | None) -> dict[str, Any]:
    """The saved state of a room as its form shows it (R18 cancel returns to this)."""
    if entry is None:
        return {
            "name": "",
            "extension": "",
            "phone_number_id": "",
            "broadcast": False,
            "member_ids": set(),
            "clear_pin": False,
        }
    number = entry.phone_number
    return {
        "name": entry.unique.display_name,
        "extension": entry.unique.extension or "",
        "phone_number_id": str(number.id) if number else "",
        "broadcast": entry.broadcast,
        "member_ids": entry.member_ids,
        "clear_pin": False,
    }


def _check_incoming_number(
    outcome: Outcome, circle: Circle, raw: str, entry: RoomEntry | None
) -> CirclePhoneNumber | None:
    text = normalized(raw)
    outcome.values["phone_number_id"] = text
    if not text:
        return None
    number = circle_number(circle, text)
    if number is None:
        outcome.add("phone_number_id", _l("Choose one of this circle's numbers, or none."))
        return None
    other = db.session.execute(
        select(Unique.display_name)
        .join(ConferenceRoom, ConferenceRoom.unique_id == Unique.id)
        .where(
            ConferenceRoom.circle_id == circle.id,
            ConferenceRoom.phone_number_id == number.id,
            Unique.id != (entry.id if entry else 0),
        )
    ).scalar()
    if other is not None:
        outcome.add(
            "phone_number_id",
            _l(
                "Calls to %(number)s already go to the room %(name)s: a number can lead "
                "to one conference room only.",
                number=national(number.e164),
                name=other,
            ),
        )
    return number


def _check_pin(outcome: Outcome, data: RoomInput) -> tuple[bool, str | None]:
    """(change?, new value). Empty keeps the saved PIN; the PIN is never shown back."""
    pin = normalized(data.new_pin)
    clear = parse_tick(data.clear_pin)
    outcome.values["clear_pin"] = bool(clear)
    if clear is None:
        outcome.add("clear_pin", _l("Tick the box or leave it empty."))
        return False, None
    if pin and clear:
        outcome.add("new_pin", _l("Either enter a new PIN or remove the PIN, not both."))
        return False, None
    if clear:
        return True, None
    if not pin:
        return False, None
    if not _ASCII_DIGITS.fullmatch(pin) or not PIN_MIN <= len(pin) <= PIN_MAX:
        outcome.add(
            "new_pin", _l("The PIN must be %(min)d to %(max)d digits.", min=PIN_MIN, max=PIN_MAX)
        )
        return False, None
    return True, pin


def _check_members(
    outcome: Outcome, circle: Circle, raw_ids: Iterable[str], broadcast: bool, limit: int
) -> set[int]:
    allowed = {u.id for u in member_candidates(circle)}
    wanted: set[int] = set()
    foreign = False
    for raw in raw_ids:
        unique_id = parse_id(raw)
        if unique_id is None or unique_id not in allowed:
            foreign = True
        else:
            wanted.add(unique_id)
    outcome.values["member_ids"] = wanted
    if foreign:
        outcome.add("member_ids", _l("Tick members among this circle's phones only."))
        return wanted
    if broadcast and not wanted:
        outcome.add("member_ids", _l("Tick at least one phone for the broadcast room to ring."))
    elif broadcast and len(wanted) > limit - 1:
        outcome.add(
            "member_ids",
            _l(
                "A room has %(lines)d lines: a broadcast room can ring at most %(n)d members "
                "(the caller takes one line). Untick some.",
                lines=limit,
                n=limit - 1,
            ),
        )
    return wanted


def save_room(
    circle: Circle,
    entry: RoomEntry | None,
    data: RoomInput,
    today: date,
    *,
    version: int | None = None,
) -> Outcome:
    """R3: create (``entry`` None) or change a room: name; incoming number (one of the
    circle's, or none; a number leads to one room only); extension (R13 range, free in
    the circle); PIN (4–8 digits, empty keeps it); broadcast mode and its members (the
    circle's phones, no more than the lines allow besides the caller).

    Everything is checked before anything is assigned: a refused change leaves the
    room as it was. A new room needs a room bought and not yet used (see the module's
    docstring). Raises ``services.OptionNotContracted`` when the circle does not hold R3.
    ``version``: the ``edit_version`` of the room's unique the form was opened at; a
    stale form raises ``StaleEdit`` and changes nothing (``pbx_platform.versioning``).
    """
    services.require_contracted(circle, OptionKind.CONFERENCE_ROOM, today)
    if entry is not None and version is not None:
        check_edit(entry.unique, version)
    outcome = Outcome(values=room_values(entry))
    if entry is None:
        _check_room_count(outcome, circle, today)
    own_id = entry.id if entry else None
    name = check_name(outcome, data.name)
    extension = check_extension(outcome, circle, data.extension, own_id)
    number = _check_incoming_number(outcome, circle, data.phone_number_id, entry)
    change_pin, pin = _check_pin(outcome, data)
    broadcast = parse_tick(data.broadcast)
    outcome.values["broadcast"] = bool(broadcast)
    if broadcast is None:
        outcome.add("broadcast", _l("Tick the box or leave it empty."))
    members = _check_members(
        outcome, circle, data.member_ids, bool(broadcast), LINES_PER_CONFERENCE_ROOM
    )
    if not outcome.ok:
        return outcome

    with audit_action("conference.create" if entry is None else "conference.update"):
        if entry is not None and version is not None:
            claim_edit(entry.unique, version)
        if entry is None:
            unique = new_virtual_unique(circle, UniqueKind.CONFERENCE_ROOM, name, extension)
            entry = RoomEntry(unique, None)
        unique = entry.unique
        unique.display_name, unique.extension = name, extension
        room = entry.room
        if room is None:
            room = ConferenceRoom(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                unique_id=unique.id,
            )
            db.session.add(room)
            entry.room = room
        room.phone_number = number
        room.broadcast = bool(broadcast)
        if change_pin:
            room.entry_password = pin
        current = {m.unique_id: m for m in room.members}
        for unique_id, member in current.items():
            if unique_id not in members:
                room.members.remove(member)
        for unique_id in sorted(members - current.keys()):
            room.members.append(
                ConferenceMember(
                    reseller_id=circle.reseller_id,
                    account_id=circle.account_id,
                    circle_id=circle.id,
                    unique_id=unique_id,
                )
            )
        db.session.flush()
    outcome.unique = unique
    return outcome


def delete_room(circle: Circle, entry: RoomEntry, today: date) -> None:
    """Remove the room and its unique (its extension becomes free)."""
    services.require_contracted(circle, OptionKind.CONFERENCE_ROOM, today)
    with audit_action("conference.delete"):
        if entry.room is not None:
            db.session.delete(entry.room)
        db.session.delete(entry.unique)
        db.session.flush()
