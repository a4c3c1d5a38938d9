"""Ring groups (同時呼出): several of the circle's phones rung at once, in the order
given, for a ring time in seconds. An R13 extension length change clears every ring
group's extension and members (``extension_length``); these pages set them up again.

Services flush; the request commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import attributes, selectinload

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from pbx_platform.versioning import check_edit, claim_edit
from tenants.models import RingGroup, RingGroupMember, Unique, UniqueKind
from tenants.options.models import Ivr
from tenants.services.circles.common import DIGITS, MAX_ID, CircleSettingsError, lock_circle
from tenants.validation import Outcome, extension_problem, normalized
from tenants.validation import name_problem as display_name_problem

# A ring group rings its members at once; more than this is a broadcast, not a group.
MEMBERS_MAX = 20
POSITION_MAX = 99


@dataclass(frozen=True)
class MemberChoice:
    """One ticked member as the form sent it: the unique's id and its place in the
    ring order (both as typed; the service normalises and checks them)."""

    unique_id: str
    position: str = ""


@dataclass(frozen=True)
class RingGroupInput:
    name: str
    extension: str
    ring_time: str
    members: Sequence[MemberChoice] = field(default_factory=tuple)


@dataclass(frozen=True)
class RingGroupRow:
    group: RingGroup
    members: int


@dataclass
class RingGroupOutcome(Outcome):
    group: RingGroup | None = None


@dataclass(frozen=True)
class IvrUse:
    """An IVR that routes a key (or its time-out / after-hours) to a ring group."""

    ivr_name: str
    ivr_extension: str | None
    places: list[str]


def ring_groups(circle: Any) -> list[RingGroupRow]:
    """The circle's ring groups by extension (cleared ones last), with member counts:
    two statements."""
    require_circle_scope(circle.id)
    groups = db.session.scalars(
        select(RingGroup).order_by(RingGroup.extension.asc().nulls_last(), RingGroup.id)
    ).all()
    counts = dict(
        db.session.execute(
            select(RingGroupMember.ring_group_id, func.count(RingGroupMember.id)).group_by(
                RingGroupMember.ring_group_id
            )
        ).all()
    )
    return [RingGroupRow(group, int(counts.get(group.id, 0))) for group in groups]


def circle_ring_group(circle: Any, group_id: int) -> RingGroup | None:
    """The circle's ring group with this id and its members, or None."""
    require_circle_scope(circle.id)
    if not 0 < group_id <= MAX_ID:
        return None
    return db.session.scalars(
        select(RingGroup)
        .where(RingGroup.id == group_id)
        .options(selectinload(RingGroup.members).joinedload(RingGroupMember.unique))
    ).one_or_none()


def member_candidates(circle: Any) -> list[Unique]:
    """The phones a ring group may ring (virtual uniques are not terminals)."""
    require_circle_scope(circle.id)
    return list(
        db.session.scalars(
            select(Unique)
            .where(Unique.kind == UniqueKind.PHONE)
            .order_by(Unique.extension.asc().nulls_last(), Unique.id)
        ).all()
    )


def ring_group_values(group: RingGroup | None) -> dict[str, Any]:
    """What the form shows for a group (or a new one)."""
    if group is None:
        return {
            "name": "",
            "extension": "",
            "ring_time": str(RingGroup.RING_TIME_DEFAULT),
            "member_ids": [],
            "positions": {},
        }
    ordered = [member.unique_id for member in group.members]
    return {
        "name": group.name,
        "extension": group.extension or "",
        "ring_time": str(group.ring_time_seconds),
        "member_ids": ordered,
        "positions": {unique_id: str(index + 1) for index, unique_id in enumerate(ordered)},
    }


def _ring_time(raw: str, outcome: Outcome) -> int | None:
    text = normalized(raw)
    low, high = RingGroup.RING_TIME_MIN, RingGroup.RING_TIME_MAX
    if DIGITS.fullmatch(text) and len(text) <= 4 and low <= int(text) <= high:
        return int(text)
    outcome.add(
        "ring_time", _l("Enter a ring time from %(low)d to %(high)d seconds.", low=low, high=high)
    )
    return None


def _members(circle: Any, choices: Sequence[MemberChoice], outcome: Outcome) -> list[int]:
    """The ticked members in ring order: by the position typed (1 first), ties in the
    order the form listed them. Every id must be one of this circle's phones."""
    picked: list[tuple[int, int, int]] = []
    seen: set[int] = set()
    bad_position = False
    for index, choice in enumerate(choices):
        raw_id = normalized(choice.unique_id)
        if not (DIGITS.fullmatch(raw_id) and len(raw_id) <= 10 and 0 < int(raw_id) <= MAX_ID):
            outcome.add("member_ids", _l("Choose members among this circle's phones."))
            return []
        unique_id = int(raw_id)
        if unique_id in seen:
            continue
        seen.add(unique_id)
        position_text = normalized(choice.position)
        if not position_text:
            position = POSITION_MAX + 1
        elif (
            DIGITS.fullmatch(position_text)
            and len(position_text) <= 3
            and 1 <= int(position_text) <= POSITION_MAX
        ):
            position = int(position_text)
        else:
            bad_position = True
            continue
        picked.append((position, index, unique_id))
    if bad_position:
        outcome.add(
            "member_ids",
            _l("Enter each member's order as a number from 1 to %(n)d.", n=POSITION_MAX),
        )
    if len(seen) > MEMBERS_MAX:
        outcome.add("member_ids", _l("A ring group rings at most %(n)d members.", n=MEMBERS_MAX))
    if seen:
        known = set(
            db.session.scalars(
                select(Unique.id).where(
                    Unique.kind == UniqueKind.PHONE,
                    Unique.id.in_(seen),
                )
            ).all()
        )
        if known != seen:
            outcome.add("member_ids", _l("Choose members among this circle's phones."))
    return [unique_id for _, _, unique_id in sorted(picked)]


def save_ring_group(
    circle: Any, group: RingGroup | None, data: RingGroupInput, *, version: int | None = None
) -> RingGroupOutcome:
    """Create (``group`` None) or change a ring group: name, extension (R13 range, free
    in the circle), ring time (5–120 s), members in order (this circle's phones only).

    Everything is checked before anything is written: a refused save changes nothing.
    A stale form (``version`` not the group's) raises ``StaleEdit``.
    """
    require_circle_scope(circle.id)
    if group is not None:
        if group.circle_id != circle.id:
            raise CircleSettingsError(str(_l("This ring group is not in this circle.")))
        if version is not None:
            check_edit(group, version)
    lock_circle(circle)
    outcome = RingGroupOutcome(
        values={
            "name": (data.name or "").strip(),
            "extension": normalized(data.extension),
            "ring_time": normalized(data.ring_time),
            "member_ids": [],
            "positions": {},
        }
    )
    problem = display_name_problem(outcome.values["name"])
    if problem:
        outcome.add("name", problem)
    extension = outcome.values["extension"]
    if not extension:
        outcome.add("extension", _l("Enter the ring group's extension."))
    elif group is None or extension != group.extension:
        problem = extension_problem(circle, extension)
        if problem:
            outcome.add("extension", problem)
    ring_time = _ring_time(data.ring_time, outcome)
    members = _members(circle, data.members, outcome)
    outcome.values["member_ids"] = members
    outcome.values["positions"] = {
        unique_id: str(index + 1) for index, unique_id in enumerate(members)
    }
    if not outcome.ok:
        return outcome
    assert ring_time is not None
    try:
        with (
            db.session.begin_nested(),
            audit_action("ring_group.create" if group is None else "ring_group.update"),
        ):
            if group is None:
                group = RingGroup(
                    reseller_id=circle.reseller_id,
                    account_id=circle.account_id,
                    circle_id=circle.id,
                    name=outcome.values["name"],
                    extension=extension,
                    ring_time_seconds=ring_time,
                )
                db.session.add(group)
            else:
                if version is not None:
                    claim_edit(group, version)
                group.name = outcome.values["name"]
                group.extension = extension
                group.ring_time_seconds = ring_time
                # Members are replaced as a whole: the old rows go first, so the
                # (group, unique) key never meets itself.
                group.members.clear()
                db.session.flush()
            for position, unique_id in enumerate(members):
                group.members.append(
                    RingGroupMember(
                        reseller_id=circle.reseller_id,
                        account_id=circle.account_id,
                        circle_id=circle.id,
                        unique_id=unique_id,
                        position=position,
                    )
                )
            db.session.flush()
    except IntegrityError:
        # A parallel save took the extension between the check and the flush.
        if group is not None and attributes.instance_state(group).key is not None:
            db.session.refresh(group)
        outcome.add(
            "extension", _l("Extension %(ext)s is already used by another unique.", ext=extension)
        )
        return outcome
    outcome.group = group
    return outcome


def _ivr_places(ivr: Ivr, group_id: int) -> list[str]:
    def points_here(destination: Any) -> bool:
        return (
            isinstance(destination, dict)
            and destination.get("type") == "ring_group"
            and destination.get("id") == group_id
        )

    places = [
        str(_l("key %(key)s", key=key))
        for key, destination in sorted((ivr.digit_map or {}).items())
        if points_here(destination)
    ]
    if points_here(ivr.timeout_destination):
        places.append(str(_l("no key pressed")))
    if points_here(ivr.after_hours):
        places.append(str(_l("after hours")))
    return places


def _ivrs_of(circle: Any) -> list[Ivr]:
    return list(db.session.scalars(select(Ivr).options(selectinload(Ivr.unique))).all())


def ring_group_uses(circle: Any, group: RingGroup) -> list[IvrUse]:
    """The IVRs (R5) that send callers to this ring group, and where in each."""
    require_circle_scope(circle.id)
    uses = []
    for ivr in _ivrs_of(circle):
        places = _ivr_places(ivr, group.id)
        if places:
            uses.append(IvrUse(ivr.unique.display_name, ivr.unique.extension, places))
    return uses


HANGUP = {"type": "hangup"}


def delete_ring_group(circle: Any, group: RingGroup) -> list[IvrUse]:
    """Delete a ring group with its members; an IVR that sent callers to it hangs up
    there instead (its page shows that destination, to be chosen again)."""
    require_circle_scope(circle.id)
    if group.circle_id != circle.id:
        raise CircleSettingsError(str(_l("This ring group is not in this circle.")))
    uses = ring_group_uses(circle, group)
    with audit_action("ring_group.delete"):
        for ivr in _ivrs_of(circle):
            if not _ivr_places(ivr, group.id):
                continue

            def replaced(destination: Any) -> Any:
                if (
                    isinstance(destination, dict)
                    and destination.get("type") == "ring_group"
                    and destination.get("id") == group.id
                ):
                    return dict(HANGUP)
                return destination

            ivr.digit_map = {key: replaced(value) for key, value in (ivr.digit_map or {}).items()}
            ivr.timeout_destination = replaced(ivr.timeout_destination)
            ivr.after_hours = replaced(ivr.after_hours)
        db.session.delete(group)
        db.session.flush()
    return uses


def ring_groups_to_set_up(circle: Any) -> int:
    """How many ring groups an R13 length change left without an extension."""
    require_circle_scope(circle.id)
    return int(
        db.session.scalar(select(func.count(RingGroup.id)).where(RingGroup.extension.is_(None)))
        or 0
    )
