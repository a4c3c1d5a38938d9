"""IVR settings (R5): business hours, ring time, channels, the digit map and its
destinations, routing loops, and the prompt.

An IVR is a unique of kind ``ivr`` (its extension and display name) plus an ``Ivr``
row. Every function works on the circle it is given and nothing else: a destination,
an IVR or a unique of another circle is "not found", even when the tenant scope (a
reseller's staff see all the reseller's circles) would let it be loaded.

Routing loops. Destinations are *exits* (a unique, a ring group, a conference
room, an outside number, hang-up) or another IVR. Two rules, checked over all the
circle's IVRs with the edited one's new settings:

1. Every IVR can reach an exit through some key, its time-out or its after-hours
   destination. IVRs that only route to one another (A → B → A with nothing else)
   are refused.
2. A caller who presses nothing reaches an exit: following time-out and after-hours
   destinations from any IVR never comes back to an IVR already passed. The
   after-hours destination counts because a closed IVR forwards at once; both count
   whatever the business hours, as closing times change.

Loops through keys are allowed when rule 2 holds: "9: back to the main menu" is a
normal menu, and the caller chooses it. So A (1 → B) and B (1 → A, 2 → a unique),
both timing out to hang-up, are accepted; A and B timing out to each other are not.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jpholiday
import phonenumbers
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.japanese import TOKYO, national
from pbx_platform.versioning import check_edit, claim_edit
from tenants.models import Circle, RingGroup, Unique, UniqueKind
from tenants.options import audio
from tenants.options.models import Ivr
from tenants.services.provisioning import EXTENSION_RANGES, create_unique, extension_in_range

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
MIN_CHANNELS, MAX_CHANNELS = 1, 30
DEFAULT_HOURS: dict[str, list[str] | None] = {
    day: (["09:00", "18:00"] if day not in ("sat", "sun") else None) for day in DAYS
}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_DIGIT_FIELD = re.compile(r"^digit_(.+?)(_number)?$")


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


# --- reading ------------------------------------------------------------------------------


def circle_ivrs(circle: Circle) -> list[Ivr]:
    """The circle's IVRs by extension."""
    return list(
        db.session.scalars(
            select(Ivr)
            .join(Unique, Unique.id == Ivr.unique_id)
            .where(Ivr.circle_id == circle.id, Unique.circle_id == circle.id)
            .order_by(Unique.extension, Ivr.id)
        )
    )


def find_ivr(circle: Circle, ivr_id: int) -> Ivr | None:
    """One IVR of this circle; another circle's (even the same reseller's) is None."""
    ivr = db.session.get(Ivr, ivr_id)
    if ivr is None or ivr.circle_id != circle.id:
        return None
    return ivr


def targets(circle: Circle) -> Targets:
    uniques = db.session.scalars(
        select(Unique).where(Unique.circle_id == circle.id).order_by(Unique.extension, Unique.id)
    ).all()
    groups = db.session.scalars(
        select(RingGroup)
        .where(RingGroup.circle_id == circle.id)
        .order_by(RingGroup.extension, RingGroup.id)
    ).all()
    return Targets(
        phones={u.id: u for u in uniques if u.kind == UniqueKind.PHONE},
        conferences={u.id: u for u in uniques if u.kind == UniqueKind.CONFERENCE_ROOM},
        ivrs={ivr.unique_id: ivr for ivr in circle_ivrs(circle)},
        ring_groups={g.id: g for g in groups},
    )


def is_open(ivr: Ivr, at: datetime) -> bool:
    """Business hours in Japan time: the weekday's span (start inclusive, end exclusive),
    closed on Japanese public holidays when the IVR says so."""
    local = at.astimezone(TOKYO)
    if ivr.closed_on_holidays and jpholiday.is_holiday(local.date()):
        return False
    hours = (ivr.business_hours or {}).get(DAYS[local.weekday()])
    if not hours:
        return False
    start, end = hours
    return start <= f"{local:%H:%M}" < end


def form_values(ivr: Ivr) -> dict[str, str]:
    """The saved settings as the edit form's fields (what "cancel" returns to, R18)."""
    values = {
        "extension": ivr.unique.extension or "",
        "display_name": ivr.unique.display_name,
        "answer_after_seconds": str(ivr.answer_after_seconds),
        "channels": str(ivr.channels),
        "closed_on_holidays": "1" if ivr.closed_on_holidays else "",
    }
    for day in DAYS:
        hours = (ivr.business_hours or {}).get(day)
        values[f"hours_{day}_open"] = "1" if hours else ""
        values[f"hours_{day}_start"] = hours[0] if hours else ""
        values[f"hours_{day}_end"] = hours[1] if hours else ""
    _put_destination(values, "after_hours", ivr.after_hours or HANGUP)
    _put_destination(values, "timeout", ivr.timeout_destination or HANGUP)
    for digit, name in DIGIT_FIELDS.items():
        destination = (ivr.digit_map or {}).get(digit)
        if destination:
            _put_destination(values, f"digit_{name}", destination)
        else:
            values[f"digit_{name}"] = ""
    return values


def _put_destination(values: dict[str, str], name: str, destination: Mapping[str, Any]) -> None:
    kind = destination.get("type")
    values[f"{name}_number"] = ""
    if kind == DestinationType.OUTSIDE:
        values[name] = str(kind)
        values[f"{name}_number"] = national(str(destination.get("number", "")))
    elif kind == DestinationType.HANGUP:
        values[name] = str(kind)
    else:
        values[name] = f"{kind}:{destination.get('id')}"


# --- parsing the form ---------------------------------------------------------------------


def settings_from_form(circle: Circle, ivr: Ivr, data: Mapping[str, str]) -> IvrSettings:
    """Validate the edit form (strings as typed; full-width accepted, NFKC). Raises
    ``IvrError`` with every problem found; destinations must be the circle's own."""
    errors: dict[str, Any] = {}
    known = targets(circle)

    def text(name: str) -> str:
        return unicodedata.normalize("NFKC", str(data.get(name) or "")).strip()

    extension = text("extension")
    problem = extension_problem(circle, extension, exclude_unique_id=ivr.unique_id)
    if problem:
        errors["extension"] = problem
    display_name = text("display_name")
    problem = name_problem(display_name)
    if problem:
        errors["display_name"] = problem

    hours: dict[str, list[str] | None] = {}
    for day in DAYS:
        hours[day] = None
        if not data.get(f"hours_{day}_open"):
            continue
        start = _time(text(f"hours_{day}_start"), allow_24=False)
        end = _time(text(f"hours_{day}_end"), allow_24=True)
        if start is None or end is None:
            errors[f"hours_{day}"] = _l("Enter the times as HH:MM (for example 09:00).")
        elif start >= end:
            errors[f"hours_{day}"] = _l("The opening time must be before the closing time.")
        else:
            hours[day] = [start, end]

    answer, problem = _whole_number(text("answer_after_seconds"), 0, MAX_ANSWER_SECONDS)
    if problem:
        errors["answer_after_seconds"] = problem
    channels, problem = _whole_number(text("channels"), MIN_CHANNELS, MAX_CHANNELS)
    if problem:
        errors["channels"] = problem

    def destination(name: str, *, optional: bool) -> dict[str, Any] | None:
        try:
            return parse_destination(known, text(name), text(f"{name}_number"), optional=optional)
        except IvrError as exc:
            errors[name] = exc.errors["destination"]
            return None

    after_hours = destination("after_hours", optional=False)
    timeout = destination("timeout", optional=False)
    digit_map: dict[str, dict[str, Any]] = {}
    for digit, name in DIGIT_FIELDS.items():
        chosen = destination(f"digit_{name}", optional=True)
        if chosen is not None:
            digit_map[digit] = chosen
    field_names = set(DIGIT_FIELDS.values())
    for key in data:
        match = _DIGIT_FIELD.match(key)
        if match and match.group(1) not in field_names:
            errors["digits"] = _l(
                "Unknown key “%(key)s”: only 0–9, * and # can be assigned.", key=match.group(1)
            )
    if errors:
        raise IvrError(errors)
    assert answer is not None and channels is not None
    assert after_hours is not None and timeout is not None
    return IvrSettings(
        extension=extension,
        display_name=display_name,
        business_hours=hours,
        closed_on_holidays=bool(data.get("closed_on_holidays")),
        after_hours=after_hours,
        answer_after_seconds=answer,
        channels=channels,
        digit_map=digit_map,
        timeout_destination=timeout,
    )


def parse_destination(
    known: Targets, choice: str, number: str, *, optional: bool
) -> dict[str, Any] | None:
    """A menu choice ("unique:12", "ring_group:3", "outside", "hangup", "" for none) → a
    destination. Ids must be in ``known`` (the circle's own); anything else is refused."""

    def refuse(message: Any) -> IvrError:
        return IvrError({"destination": message})

    if not choice:
        if optional:
            return None
        raise refuse(_l("Choose a destination."))
    if choice == DestinationType.HANGUP:
        return dict(HANGUP)
    if choice == DestinationType.OUTSIDE:
        return {"type": DestinationType.OUTSIDE.value, "number": outside_number(number)}
    kind_text, _, id_text = choice.partition(":")
    if kind_text not in set(DestinationType) or not id_text.isdigit() or len(id_text) > 12:
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
    text = unicodedata.normalize("NFKC", raw or "").strip()
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


def extension_problem(circle: Circle, extension: str, *, exclude_unique_id: int | None) -> Any:
    """R13's range for the circle's length, and not used by a unique or a ring group."""
    if not extension_in_range(extension, circle.extension_length):
        low, high = EXTENSION_RANGES[circle.extension_length]
        return _l("Enter an extension from %(low)d to %(high)d.", low=low, high=high)
    taken = db.session.scalar(
        select(Unique.id).where(
            Unique.circle_id == circle.id,
            Unique.extension == extension,
            Unique.id != (exclude_unique_id or 0),
        )
    ) or db.session.scalar(
        select(RingGroup.id).where(
            RingGroup.circle_id == circle.id, RingGroup.extension == extension
        )
    )
    if taken:
        return _l("Extension %(ext)s is already in use in this circle.", ext=extension)
    return None


def name_problem(name: str) -> Any:
    if not name:
        return _l("Enter a name.")
    if len(name) > 80:
        return _l("The name is longer than %(n)d characters.", n=80)
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        return _l("The name cannot contain control characters.")
    return None


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


def _whole_number(text: str, low: int, high: int) -> tuple[int | None, Any]:
    if not text.isdigit() or len(text) > 9:
        return None, _l("Enter a whole number.")
    value = int(text)
    if not low <= value <= high:
        return None, _l("Enter a number from %(min)d to %(max)d.", min=low, max=high)
    return value, None


# --- routing loops ------------------------------------------------------------------------


@dataclass(frozen=True)
class Routes:
    """One IVR's outgoing routes: IVR unique ids, and whether any route is an exit."""

    chosen: frozenset[int]  # through keys, time-out and after-hours
    silent: frozenset[int]  # through time-out and after-hours only
    exits: bool  # some route (key, time-out, after-hours) leaves the IVRs


def routes_of(settings: IvrSettings | Ivr, ivr_unique_ids: frozenset[int]) -> Routes:
    digit_map = settings.digit_map or {}
    silent_list = [settings.timeout_destination or HANGUP, settings.after_hours or HANGUP]
    every = [*digit_map.values(), *silent_list]

    def ivr_targets(destinations: list[Any]) -> frozenset[int]:
        return frozenset(
            d["id"] for d in destinations
            if d.get("type") == DestinationType.IVR and d.get("id") in ivr_unique_ids
        )  # fmt: skip

    # A destination naming an IVR that no longer exists cannot loop.
    exits = any(
        d.get("type") != DestinationType.IVR or d.get("id") not in ivr_unique_ids for d in every
    )
    return Routes(chosen=ivr_targets(every), silent=ivr_targets(silent_list), exits=exits)


def trapped(graph: Mapping[int, Routes]) -> list[int]:
    """Rule 1: IVRs from which no route reaches an exit."""
    reaching = {node for node, routes in graph.items() if routes.exits}
    changed = True
    while changed:
        changed = False
        for node, routes in graph.items():
            if node not in reaching and routes.chosen & reaching:
                reaching.add(node)
                changed = True
    return sorted(set(graph) - reaching)


def silent_cycle(graph: Mapping[int, Routes]) -> list[int]:
    """Rule 2: a cycle through time-out and after-hours routes ([a, b, a]), or []."""
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    path: list[int] = []

    def visit(node: int) -> list[int]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node].silent):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return []


def routing_problem(circle: Circle, ivr: Ivr, settings: IvrSettings) -> Any:
    """The loop rules over the circle's IVRs, ``ivr`` taking its new ``settings``."""
    ivrs = {other.unique_id: other for other in circle_ivrs(circle)}
    ivrs[ivr.unique_id] = ivr
    ids = frozenset(ivrs)
    graph = {
        unique_id: routes_of(settings if unique_id == ivr.unique_id else other, ids)
        for unique_id, other in ivrs.items()
    }

    def names(unique_ids: list[int]) -> str:
        return " → ".join(
            settings.extension if u == ivr.unique_id else (ivrs[u].unique.extension or "—")
            for u in unique_ids
        )

    stuck = trapped(graph)
    if stuck:
        return _l(
            "Routing loop: IVRs %(ivrs)s only route to one another and never reach an "
            "extension, a number or hang-up. Send a key, the time-out or the after-hours "
            "destination out of the loop.",
            ivrs=names(stuck).replace(" → ", ", "),
        )
    cycle = silent_cycle(graph)
    if cycle:
        return _l(
            "Routing loop: a caller who presses no key would go round %(path)s forever. "
            "Send the time-out or the after-hours destination of one of them out of the loop.",
            path=names(cycle),
        )
    return None


# --- changes ------------------------------------------------------------------------------


def create_ivr(circle: Circle, extension_raw: str, display_name_raw: str) -> Ivr:
    """A new IVR unique with safe defaults: open weekdays 09:00–18:00, hang up after
    hours and on time-out (so it can never start a loop)."""
    extension = unicodedata.normalize("NFKC", extension_raw or "").strip()
    display_name = unicodedata.normalize("NFKC", display_name_raw or "").strip()
    errors = {}
    problem = extension_problem(circle, extension, exclude_unique_id=None)
    if problem:
        errors["extension"] = problem
    problem = name_problem(display_name)
    if problem:
        errors["display_name"] = problem
    if errors:
        raise IvrError(errors)
    with audit_action("ivr.create"):
        unique = create_unique(
            circle, extension=extension, display_name=display_name, kind=UniqueKind.IVR
        )
        ivr = Ivr(
            reseller_id=circle.reseller_id,
            account_id=circle.account_id,
            circle_id=circle.id,
            unique_id=unique.id,
            business_hours=dict(DEFAULT_HOURS),
            closed_on_holidays=False,
            after_hours=dict(HANGUP),
            answer_after_seconds=0,
            channels=2,
            digit_map={},
            timeout_destination=dict(HANGUP),
        )
        ivr.unique = unique
        db.session.add(ivr)
        db.session.flush()
    return ivr


def update_ivr(
    circle: Circle, ivr: Ivr, settings: IvrSettings, *, version: int | None = None
) -> None:
    """Save the settings (R18 "save changes"), refusing routing loops.

    ``version``: the ``edit_version`` of the IVR's unique the form was opened at (its
    extension and name are the unique's, which its own page edits too); a stale form
    raises ``StaleEdit`` and changes nothing (``pbx_platform.versioning``)."""
    if version is not None:
        check_edit(ivr.unique, version)
    problem = routing_problem(circle, ivr, settings)
    if problem:
        raise IvrError({"routing": problem})
    with audit_action("ivr.update"):
        if version is not None:
            claim_edit(ivr.unique, version)
        ivr.unique.extension = settings.extension
        ivr.unique.display_name = settings.display_name
        ivr.business_hours = dict(settings.business_hours)
        ivr.closed_on_holidays = settings.closed_on_holidays
        ivr.after_hours = dict(settings.after_hours)
        ivr.answer_after_seconds = settings.answer_after_seconds
        ivr.channels = settings.channels
        ivr.digit_map = {digit: dict(d) for digit, d in settings.digit_map.items()}
        ivr.timeout_destination = dict(settings.timeout_destination)
        db.session.flush()


def referring_ivrs(circle: Circle, ivr: Ivr) -> list[Ivr]:
    """Other IVRs of the circle that route to ``ivr``."""
    result = []
    for other in circle_ivrs(circle):
        if other.id == ivr.id:
            continue
        destinations = [*(other.digit_map or {}).values(), other.after_hours,
                        other.timeout_destination]  # fmt: skip
        if any(
            (d or {}).get("type") == DestinationType.IVR and (d or {}).get("id") == ivr.unique_id
            for d in destinations
        ):
            result.append(other)
    return result


def delete_ivr(circle: Circle, ivr: Ivr) -> None:
    """Delete the IVR and its unique; refused while another IVR routes to it."""
    users = referring_ivrs(circle, ivr)
    if users:
        raise IvrError(
            {
                "delete": _l(
                    "IVR %(ext)s is a destination of IVR %(users)s. Change those first.",
                    ext=ivr.unique.extension or "—",
                    users=", ".join(u.unique.extension or "—" for u in users),
                )
            }
        )
    with audit_action("ivr.delete"):
        unique = ivr.unique
        db.session.delete(ivr)
        db.session.flush()
        db.session.delete(unique)
        db.session.flush()


def upload_prompt(ivr: Ivr, data: bytes) -> None:
    """A prompt from an uploaded file, checked by content and converted (R5)."""
    try:
        wav = audio.to_telephony_wav(data)
    except audio.AudioError as exc:
        raise IvrError({"prompt": str(exc)}) from exc
    with audit_action("ivr.prompt"):
        ivr.prompt_wav = wav
        ivr.prompt_source = "upload"
        ivr.prompt_text = None
        db.session.flush()


def speak_prompt(ivr: Ivr, raw_text: str) -> None:
    """A prompt spoken from text by the installed speech engine (R5)."""
    text = audio.normalize_speech_text(raw_text)
    try:
        wav = audio.synthesize(text)
    except audio.AudioError as exc:
        raise IvrError({"speech_text": str(exc)}) from exc
    with audit_action("ivr.prompt"):
        ivr.prompt_wav = wav
        ivr.prompt_source = "speech"
        ivr.prompt_text = text
        db.session.flush()


def remove_prompt(ivr: Ivr) -> None:
    with audit_action("ivr.prompt"):
        ivr.prompt_wav = None
        ivr.prompt_source = None
        ivr.prompt_text = None
        db.session.flush()
