"""Where an IVR sends a caller (R5): the circle's own extensions, ring groups,
conference rooms and IVRs, an outside number, or hang-up.

``Targets`` is what the circle's destinations can point at, loaded once per request
(``service.targets``); a destination whose id is not among them is refused, whatever
the tenant scope would let a query load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers
from flask_babel import lazy_gettext as _l

from pbx_platform.japanese import national
from tenants.models import RingGroup, Unique
from tenants.options.ivr.settings import HANGUP, DestinationChoice, DestinationType, IvrError, clean
from tenants.options.models import Ivr

_ID_DIGITS_MAX = 12


@dataclass
class Targets:
    """What the circle's destinations can point at, loaded once per request."""

    phones: dict[int, Unique]
    conferences: dict[int, Unique]
    ivrs: dict[int, Ivr]  # by the IVR's unique id
    ring_groups: dict[int, RingGroup]

    def label(self, destination: Mapping[str, Any]) -> str:
        kind, target = destination.get("type"), destination.get("id")
        if kind == DestinationType.HANGUP:
            return str(_l("Hang up"))
        if kind == DestinationType.OUTSIDE:
            return str(_l("Outside number %(n)s", n=national(str(destination.get("number")))))
        found: Any = None
        if kind == DestinationType.UNIQUE:
            found = self.phones.get(target)  # type: ignore[arg-type]
        elif kind == DestinationType.CONFERENCE:
            found = self.conferences.get(target)  # type: ignore[arg-type]
        elif kind == DestinationType.IVR:
            ivr = self.ivrs.get(target)  # type: ignore[arg-type]
            found = ivr.unique if ivr else None
        elif kind == DestinationType.RING_GROUP:
            found = self.ring_groups.get(target)  # type: ignore[arg-type]
        if found is None:
            return str(_l("(no longer exists)"))
        name = getattr(found, "display_name", None) or getattr(found, "name", "")
        return f"{found.extension or '—'} {name}"

    def choices(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """(group label, [(form value, label)]) for the destination menus."""

        def entries(kind: DestinationType, ids: Iterable[int]) -> list[tuple[str, str]]:
            return [(f"{kind.value}:{i}", self.label({"type": kind.value, "id": i})) for i in ids]

        return [
            (str(_l("Extensions")), entries(DestinationType.UNIQUE, self.phones)),
            (str(_l("Ring groups")), entries(DestinationType.RING_GROUP, self.ring_groups)),
            (str(_l("Conference rooms")), entries(DestinationType.CONFERENCE, self.conferences)),
            (str(_l("IVRs")), entries(DestinationType.IVR, self.ivrs)),
            (
                str(_l("Other")),
                [("outside", str(_l("Outside number (enter it)"))), ("hangup", str(_l("Hang up")))],
            ),
        ]


def parse_destination(
    known: Targets, chosen: DestinationChoice, *, optional: bool
) -> dict[str, Any] | None:
    """A menu choice ("unique:12", "ring_group:3", "outside", "hangup", "" for none) → a
    destination. Ids must be in ``known`` (the circle's own); anything else is refused
    (``IvrError`` under "destination")."""

    def refuse(message: Any) -> IvrError:
        return IvrError({"destination": message})

    choice = clean(chosen.choice)
    if not choice:
        if optional:
            return None
        raise refuse(_l("Choose a destination."))
    if choice == DestinationType.HANGUP:
        return dict(HANGUP)
    if choice == DestinationType.OUTSIDE:
        return {"type": DestinationType.OUTSIDE.value, "number": outside_number(chosen.number)}
    kind_text, _, id_text = choice.partition(":")
    if (
        kind_text not in set(DestinationType)
        or not id_text.isdigit()
        or len(id_text) > _ID_DIGITS_MAX
    ):
        raise refuse(_l("Choose a destination from the list."))
    kind, target = DestinationType(kind_text), int(id_text)
    pools: dict[DestinationType, Mapping[int, Any]] = {
        DestinationType.UNIQUE: known.phones,
        DestinationType.CONFERENCE: known.conferences,
        DestinationType.IVR: known.ivrs,
        DestinationType.RING_GROUP: known.ring_groups,
    }
    pool = pools.get(kind, {})
    if target not in pool:
        raise refuse(_l("This destination does not exist in this circle."))
    return {"type": kind.value, "id": target}


def outside_number(raw: str) -> str:
    """An outside number typed in any Japanese format → E.164 (region JP)."""
    text = clean(raw)
    message = _l("Enter a valid phone number, for example 03-1234-5678.")
    if not text or len(text) > 30:
        raise IvrError({"destination": message})
    try:
        parsed = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException as exc:
        raise IvrError({"destination": message}) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise IvrError({"destination": message})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
