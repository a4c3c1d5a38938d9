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

The name and extension are checked by ``tenants.validation``; the incoming number and
the save of the room's unique are the virtual uniques' (``tenants.options.virtual``),
shared with outbound number selection (R4, ``tenants.options.outbound``).

The services read the circle's rows through the tenant scope alone and call
``tenancy.require_circle_scope`` first: requests are narrowed to the circle (circle
logins, staff on ``/staff/circles/<id>/``); work outside a request enters
``tenancy.circle_scope``. Services flush, never commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from pbx_platform.versioning import check_edit
from tenants.models import Circle, CirclePhoneNumber, Unique, UniqueKind
from tenants.options import services
from tenants.options.models import (
    LINES_PER_CONFERENCE_ROOM,
    ConferenceMember,
    ConferenceRoom,
    OptionKind,
)
from tenants.options.virtual import (
    NAME_MAX,
    check_identity,
    check_number,
    circle_numbers,
    delete_unique,
    parse_id,
    parse_tick,
    save_unique,
)
from tenants.validation import Outcome, extension_hint, normalized

__all__ = [
    "NAME_MAX",
    "PIN_MAX",
    "PIN_MIN",
    "Outcome",
    "RoomCount",
    "RoomEntry",
    "RoomInput",
    "circle_numbers",
    "delete_room",
    "extension_hint",
    "find_room",
    "member_candidates",
    "room_count",
    "room_values",
    "rooms",
    "save_room",
]

PIN_MIN, PIN_MAX = 4, 8
_ASCII_DIGITS = re.compile(r"[0-9]+")


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
    require_circle_scope(circle.id)
    rows = db.session.execute(_room_query().order_by(Unique.extension, Unique.id)).all()
    return [RoomEntry(unique, room) for unique, room in rows]


def find_room(circle: Circle, unique_id: int) -> RoomEntry | None:
    """The circle's room by its unique's id; another circle's room is not found."""
    require_circle_scope(circle.id)
    row = db.session.execute(_room_query().where(Unique.id == unique_id)).first()
    return RoomEntry(row[0], row[1]) if row else None


def member_candidates(circle: Circle) -> Sequence[Unique]:
    """R3 broadcast: the circle's phones, which a broadcast room may ring."""
    require_circle_scope(circle.id)
    return db.session.scalars(
        select(Unique).where(Unique.kind == UniqueKind.PHONE).order_by(Unique.extension, Unique.id)
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
    outcome: Outcome, raw: str, entry: RoomEntry | None
) -> CirclePhoneNumber | None:
    """None, or one of the circle's numbers that leads to no other room."""
    return check_number(
        outcome,
        raw,
        holder=ConferenceRoom,
        own_id=entry.id if entry else None,
        missing=None,
        not_ours=_l("Choose one of this circle's numbers, or none."),
        taken=lambda name, number: _l(
            "Calls to %(number)s already go to the room %(name)s: a number can lead "
            "to one conference room only.",
            number=number,
            name=name,
        ),
    )


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
    require_circle_scope(circle.id)
    services.require_contracted(circle, OptionKind.CONFERENCE_ROOM, today)
    if entry is not None and version is not None:
        check_edit(entry.unique, version)
    outcome = Outcome(values=room_values(entry))
    if entry is None:
        _check_room_count(outcome, circle, today)
    own_id = entry.id if entry else None
    name, extension = check_identity(outcome, circle, data.name, data.extension, own_id)
    number = _check_incoming_number(outcome, data.phone_number_id, entry)
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
        unique = save_unique(
            circle,
            entry.unique if entry else None,
            UniqueKind.CONFERENCE_ROOM,
            name,
            extension,
            version,
        )
        if entry is None:
            entry = RoomEntry(unique, None)
        room = entry.room
        if room is None:
            room = ConferenceRoom(unique_id=unique.id)
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
            room.members.append(ConferenceMember(unique_id=unique_id))
        db.session.flush()
    outcome.saved = unique
    return outcome


def delete_room(circle: Circle, entry: RoomEntry, today: date) -> None:
    """Remove the room and its unique (its extension becomes free)."""
    require_circle_scope(circle.id)
    services.require_contracted(circle, OptionKind.CONFERENCE_ROOM, today)
    delete_unique(entry.unique, entry.room, "conference.delete")
