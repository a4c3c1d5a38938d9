"""R13 extension length: 2–5 digits, each with its fixed range. A change invalidates every
unique's extension and every ring group's settings (extension and members), as the
manual says. The extension taken away is kept in ``Unique.previous_extension`` so that
an automatic renumbering into the new range keeps the old order. Both the change and
the renumbering are planned first (the user sees exactly what will change) and applied
only with the plan's token: a confirmation given on a page that no longer matches the
circle is refused, so nothing is lost unseen.

Services flush; the request commits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.security import tokens_match
from pbx_platform.tenancy import require_circle_scope
from tenants.models import Circle, RingGroup, RingGroupMember, Unique
from tenants.services.circles.common import DIGITS, CircleSettingsError, StaleConfirmation
from tenants.services.provisioning import EXTENSION_RANGES

# --- R13 extension length and renumbering ---------------------------------------------


@dataclass(frozen=True)
class RenumberRow:
    unique_id: int
    display_name: str
    old: str | None
    new: str


@dataclass(frozen=True)
class ClearedRingGroup:
    name: str
    extension: str | None
    members: int


@dataclass(frozen=True)
class LengthChangePlan:
    """What an R13 change would do, shown for confirmation before anything changes."""

    old_length: int
    new_length: int
    low: int
    high: int
    losing: int  # uniques whose extension becomes invalid
    without_extension: int  # uniques that have none already
    ring_groups: list[ClearedRingGroup]
    renumbering: list[RenumberRow]  # the automatic renumbering offered with the change
    renumber_problem: str | None
    token: str


@dataclass(frozen=True)
class LengthChangeResult:
    losing: int
    renumbered: int
    ring_groups: list[str]
    waiting: int  # uniques left without an extension


@dataclass(frozen=True)
class RenumberPlan:
    """Numbers in the current range for the uniques that have no extension."""

    length: int
    low: int
    high: int
    rows: list[RenumberRow]
    problem: str | None
    token: str


@dataclass(frozen=True)
class _State:
    """What an R13 plan depends on; its digest is the confirmation token."""

    circle_id: int
    length: int
    uniques: list[Any]  # (id, display_name, extension, previous_extension) by id
    ring_groups: list[Any]  # (id, name, extension) by id
    members: list[Any]  # (ring_group_id, unique_id)

    @classmethod
    def load(cls, circle: Circle) -> _State:
        require_circle_scope(circle.id)
        uniques = db.session.execute(
            select(
                Unique.id, Unique.display_name, Unique.extension, Unique.previous_extension
            ).order_by(Unique.id)
        ).all()
        ring_groups = db.session.execute(
            select(RingGroup.id, RingGroup.name, RingGroup.extension).order_by(RingGroup.id)
        ).all()
        members = db.session.execute(
            select(RingGroupMember.ring_group_id, RingGroupMember.unique_id).order_by(
                RingGroupMember.ring_group_id, RingGroupMember.unique_id
            )
        ).all()
        return cls(
            circle.id, circle.extension_length, list(uniques), list(ring_groups), list(members)
        )

    def token(self, purpose: str) -> str:
        digest = hashlib.sha256(f"{purpose}|{self.circle_id}|{self.length}".encode())
        for unique in self.uniques:
            digest.update(f"|u{unique.id}:{unique.extension}:{unique.previous_extension}".encode())
        for group in self.ring_groups:
            digest.update(f"|r{group.id}:{group.extension}".encode())
        for member in self.members:
            digest.update(f"|m{member.ring_group_id}:{member.unique_id}".encode())
        return digest.hexdigest()[:40]


def extension_range(length: int) -> tuple[int, int]:
    return EXTENSION_RANGES[length]


def _number(text: str | None) -> int | None:
    return int(text) if text and DIGITS.fullmatch(text) else None


def _old_order(number: str | None, unique_id: int) -> tuple[bool, int, int]:
    value = _number(number)
    return (value is None, value or 0, unique_id)


def _assign(
    waiting: list[Any], length: int, taken: set[int], *, old: Any
) -> tuple[list[RenumberRow], str | None]:
    """Give ``waiting`` (already in the order to keep) the lowest free numbers of the
    range, in order; or say why the range is too small."""
    low, high = EXTENSION_RANGES[length]
    free = (high - low + 1) - len({n for n in taken if low <= n <= high})
    if len(waiting) > free:
        return [], str(
            _l(
                "The %(length)d-digit range (%(low)d–%(high)d) has room for %(free)d more "
                "extensions, but %(needed)d uniques need one. Automatic renumbering is not "
                "possible: choose a longer extension length, or set the extensions one by one.",
                length=length,
                low=low,
                high=high,
                free=free,
                needed=len(waiting),
            )
        )
    rows = []
    candidate = low
    for unique in waiting:
        while candidate in taken:
            candidate += 1
        rows.append(RenumberRow(unique.id, unique.display_name, old(unique), str(candidate)))
        candidate += 1
    return rows, None


def _check_length(circle: Circle, new_length: int) -> None:
    if new_length not in EXTENSION_RANGES:
        raise CircleSettingsError(str(_l("Choose an extension length from 2 to 5 digits.")))
    if new_length == circle.extension_length:
        raise CircleSettingsError(
            str(_l("The extension length is already %(n)d digits.", n=new_length))
        )


def plan_length_change(circle: Circle, new_length: int) -> LengthChangePlan:
    """R13: what changing the extension length to ``new_length`` invalidates — every
    unique's extension and every ring group's extension and members — and the
    automatic renumbering offered with it (old order kept, from the start of the new
    range)."""
    _check_length(circle, new_length)
    state = _State.load(circle)
    members: dict[int, int] = {}
    for member in state.members:
        members[member.ring_group_id] = members.get(member.ring_group_id, 0) + 1
    cleared = [
        ClearedRingGroup(group.name, group.extension, members.get(group.id, 0))
        for group in state.ring_groups
        if group.extension is not None or members.get(group.id)
    ]
    ordered = sorted(
        state.uniques,
        key=lambda u: _old_order(u.extension or u.previous_extension, u.id),
    )
    rows, problem = _assign(
        ordered, new_length, set(), old=lambda u: u.extension or u.previous_extension
    )
    low, high = EXTENSION_RANGES[new_length]
    losing = sum(1 for unique in state.uniques if unique.extension is not None)
    return LengthChangePlan(
        old_length=circle.extension_length,
        new_length=new_length,
        low=low,
        high=high,
        losing=losing,
        without_extension=len(state.uniques) - losing,
        ring_groups=cleared,
        renumbering=rows,
        renumber_problem=problem,
        token=state.token(f"length:{new_length}"),
    )


def _lock(circle: Circle) -> None:
    """Serialise R13 changes of one circle (PostgreSQL; SQLite writes one at a time),
    and re-read it: the length may have changed since the request loaded it."""
    db.session.scalars(
        select(Circle)
        .where(Circle.id == circle.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


_STALE = _l(
    "The circle's extensions or ring groups changed after this page was opened. "
    "Nothing was changed: please review the changes again."
)


def change_extension_length(
    circle: Circle, new_length: int, token: str, *, renumber: bool
) -> LengthChangeResult:
    """R13: apply a length change the user confirmed with ``plan.token``.

    Every unique's extension becomes invalid (kept as ``previous_extension``) and
    every ring group loses its extension and members; with ``renumber`` the uniques
    get the new numbers the plan showed, in one step.
    """
    _lock(circle)
    plan = plan_length_change(circle, new_length)
    if not tokens_match(plan.token, token):
        raise StaleConfirmation(str(_STALE))
    if renumber and plan.renumber_problem:
        raise CircleSettingsError(plan.renumber_problem)
    new_numbers = {row.unique_id: row.new for row in plan.renumbering} if renumber else {}
    require_circle_scope(circle.id)
    uniques = db.session.scalars(select(Unique)).all()
    ring_groups = db.session.scalars(
        select(RingGroup).options(selectinload(RingGroup.members))
    ).all()
    with audit_action("circle.extension_length"):
        for unique in uniques:
            if unique.extension is not None:
                unique.previous_extension = unique.extension
            unique.extension = new_numbers.get(unique.id)
            # A unique's settings form opened before now shows another extension.
            unique.edit_version = (unique.edit_version or 0) + 1
        for group in ring_groups:
            group.extension = None
            # Deleted one by one, not as orphans: the audit hook sees explicit deletes only.
            for member in list(group.members):
                db.session.delete(member)
            group.members.clear()
        circle.extension_length = new_length
        db.session.flush()
    return LengthChangeResult(
        losing=plan.losing,
        renumbered=len(new_numbers),
        ring_groups=[group.name for group in plan.ring_groups],
        waiting=len(uniques) - len(new_numbers),
    )


def plan_renumber(circle: Circle) -> RenumberPlan:
    """After an R13 change: numbers in the new range for the uniques without an
    extension, in their old order (previous extension, then creation), skipping the
    numbers already in use by uniques and ring groups."""
    state = _State.load(circle)
    waiting = sorted(
        (unique for unique in state.uniques if unique.extension is None),
        key=lambda u: _old_order(u.previous_extension, u.id),
    )
    taken = {
        number
        for number in (
            *(_number(u.extension) for u in state.uniques),
            *(_number(g.extension) for g in state.ring_groups),
        )
        if number is not None
    }
    rows, problem = _assign(
        waiting, circle.extension_length, taken, old=lambda u: u.previous_extension
    )
    low, high = EXTENSION_RANGES[circle.extension_length]
    return RenumberPlan(
        length=circle.extension_length,
        low=low,
        high=high,
        rows=rows,
        problem=problem,
        token=state.token("renumber"),
    )


def apply_renumber(circle: Circle, token: str) -> int:
    """Apply the renumbering the user saw in ``plan_renumber``; returns how many
    uniques got an extension."""
    _lock(circle)
    plan = plan_renumber(circle)
    if not plan.rows and not plan.problem:
        raise CircleSettingsError(str(_l("Every unique already has an extension.")))
    if not tokens_match(plan.token, token):
        raise StaleConfirmation(str(_STALE))
    if plan.problem:
        raise CircleSettingsError(plan.problem)
    new_numbers = {row.unique_id: row.new for row in plan.rows}
    require_circle_scope(circle.id)
    uniques = db.session.scalars(select(Unique).where(Unique.extension.is_(None))).all()
    with audit_action("circle.renumber"):
        for unique in uniques:
            unique.extension = new_numbers.get(unique.id)
            unique.edit_version = (unique.edit_version or 0) + 1
        db.session.flush()
    return len(new_numbers)


def uniques_without_extension(circle: Circle) -> int:
    require_circle_scope(circle.id)
    return db.session.scalar(select(func.count(Unique.id)).where(Unique.extension.is_(None))) or 0
