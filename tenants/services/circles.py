"""Circle settings (R13, R16) and the circle's directory of uniques.

* R13 extension length: 2–5 digits, each with its fixed range. A change invalidates
  every unique's extension and every ring group's settings (extension and members),
  as the manual says. The extension taken away is kept in ``Unique.previous_extension``
  so that an automatic renumbering into the new range keeps the old order. Both the
  change and the renumbering are planned first (the user sees exactly what will
  change) and applied only with the plan's token: a confirmation given on a page
  that no longer matches the circle is refused, so nothing is lost unseen.
* R16 pickup groups: half-width alphanumeric names, unique in the circle ignoring
  upper and lower case; ``Default`` can be neither renamed nor deleted; deleting a
  group moves its members to ``Default``.
* A unique's own settings: extension (in the range, free in the circle), display
  name, pickup group.

Every function takes the circle it acts on and filters by it: staff work with a
reseller- or account-wide scope, in which the scope alone would let one circle's
page reach a sibling circle's rows. Services flush; the request commits.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.security import tokens_match
from pbx_platform.versioning import check_edit, claim_edit
from tenants.models import Circle, PickupGroup, RingGroup, RingGroupMember, Unique
from tenants.services.provisioning import EXTENSION_RANGES

EXTENSION_LENGTHS = tuple(sorted(EXTENSION_RANGES))
UNIQUES_PAGE_SIZE = 50
SEARCH_MAX = 80
PICKUP_NAME_MAX = 40
DISPLAY_NAME_MAX = 80
# Row ids are 32-bit integers on every backend; a larger number is no row at all.
MAX_ID = 2**31 - 1

_DIGITS = re.compile(r"[0-9]+")
_HALF_WIDTH_ALNUM = re.compile(r"[A-Za-z0-9]+")


class CircleSettingsError(ValueError):
    """A change the rules refuse; the message is for the user."""


class StaleConfirmation(CircleSettingsError):
    """The user confirmed a plan that no longer matches the circle."""


@dataclass
class Outcome:
    """The normalised values of a form and the problems found, by field."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: Any) -> None:
        self.errors.setdefault(name, []).append(str(message))

    @property
    def ok(self) -> bool:
        return not self.errors


def normalize_digits(raw: str | None) -> str:
    """NFKC turns full-width digits (２０１) into half-width ones (201)."""
    return unicodedata.normalize("NFKC", raw or "").strip()


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char).startswith("C") for char in text)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- the directory of uniques -------------------------------------------------------


@dataclass(frozen=True)
class UniquePage:
    uniques: Sequence[Unique]
    page: int
    pages: int
    total: int
    search: str
    pickup_group: PickupGroup | None


def normalize_search(raw: str | None) -> str:
    return unicodedata.normalize("NFKC", raw or "").strip()[:SEARCH_MAX]


def unique_page(
    circle: Circle,
    *,
    search: str = "",
    page: int = 1,
    pickup_group: PickupGroup | None = None,
    page_size: int = UNIQUES_PAGE_SIZE,
) -> UniquePage:
    """One page of the circle's uniques, by extension (unset ones last), with their
    pickup groups: two statements whatever the number of uniques.

    ``search`` matches an extension prefix (when it is all digits) or a substring
    of the name, ignoring case; LIKE wildcards in it are taken literally.
    """
    search = normalize_search(search)
    conditions: list[Any] = [Unique.circle_id == circle.id]
    if search:
        pattern = _escape_like(search)
        matches: ColumnElement[bool] = Unique.display_name.ilike(f"%{pattern}%", escape="\\")
        if _DIGITS.fullmatch(search):
            matches = or_(Unique.extension.like(f"{pattern}%", escape="\\"), matches)
        conditions.append(matches)
    if pickup_group is not None:
        conditions.append(Unique.pickup_group_id == pickup_group.id)
    total = db.session.scalar(select(func.count(Unique.id)).where(*conditions)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    uniques = db.session.scalars(
        select(Unique)
        .where(*conditions)
        .options(joinedload(Unique.pickup_group, innerjoin=True))
        .order_by(
            Unique.extension.asc().nulls_last(),
            Unique.previous_extension.asc().nulls_last(),
            Unique.id,
        )
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return UniquePage(
        uniques=uniques,
        page=page,
        pages=pages,
        total=total,
        search=search,
        pickup_group=pickup_group,
    )


def circle_unique(circle: Circle, unique_id: int) -> Unique | None:
    """The circle's unique with this id, or None (another circle's unique is not there)."""
    if not 0 < unique_id <= MAX_ID:
        return None
    return db.session.scalars(
        select(Unique)
        .where(Unique.id == unique_id, Unique.circle_id == circle.id)
        .options(joinedload(Unique.pickup_group, innerjoin=True))
    ).one_or_none()


def extension_problem(circle: Circle, extension: str, *, unique_id: int | None = None) -> Any:
    """Why ``extension`` cannot be a unique's extension in the circle (R13), or None:
    it must have the circle's length, lie in its range, and be free in the circle
    (no other unique and no ring group uses it)."""
    length = circle.extension_length
    low, high = EXTENSION_RANGES[length]
    if not (
        _DIGITS.fullmatch(extension) and len(extension) == length and low <= int(extension) <= high
    ):
        return _l(
            "Enter an extension of %(length)d digits from %(low)d to %(high)d.",
            length=length,
            low=low,
            high=high,
        )
    other_unique = select(Unique.id).where(
        Unique.circle_id == circle.id, Unique.extension == extension
    )
    if unique_id is not None:
        other_unique = other_unique.where(Unique.id != unique_id)
    if db.session.scalar(other_unique.limit(1)) is not None:
        return _l("Extension %(ext)s is already used by another unique.", ext=extension)
    ring_group = db.session.scalar(
        select(RingGroup.name)
        .where(RingGroup.circle_id == circle.id, RingGroup.extension == extension)
        .limit(1)
    )
    if ring_group is not None:
        return _l(
            "Extension %(ext)s is already used by the ring group %(name)s.",
            ext=extension,
            name=ring_group,
        )
    return None


def display_name_problem(name: str) -> Any:
    if not name:
        return _l("Enter a name.")
    if len(name) > DISPLAY_NAME_MAX:
        return _l("Use at most %(n)d characters.", n=DISPLAY_NAME_MAX)
    if _has_control_characters(name):
        return _l("Use plain text without line breaks or control characters.")
    return None


def update_unique(
    circle: Circle,
    unique: Unique,
    *,
    extension: str | None,
    display_name: str | None,
    pickup_group_id: int | None,
    version: int | None = None,
) -> Outcome:
    """A unique's own settings: its extension (R13 range, free in the circle; empty
    leaves it without one), its display name, its pickup group (R16).

    Everything is checked before anything is assigned: a refused change leaves the
    unique exactly as it was. ``version``: the ``edit_version`` the form was opened
    at; a stale form raises ``StaleEdit`` (``pbx_platform.versioning``).
    """
    if unique.circle_id != circle.id:
        raise CircleSettingsError(str(_l("This unique is not in this circle.")))
    if version is not None:
        check_edit(unique, version)
    outcome = Outcome(
        values={
            "extension": normalize_digits(extension),
            "display_name": (display_name or "").strip(),
            "pickup_group_id": pickup_group_id,
        }
    )
    new_extension = outcome.values["extension"] or None
    if new_extension is not None and new_extension != unique.extension:
        problem = extension_problem(circle, new_extension, unique_id=unique.id)
        if problem:
            outcome.add("extension", problem)
    problem = display_name_problem(outcome.values["display_name"])
    if problem:
        outcome.add("display_name", problem)
    group = circle_pickup_group(circle, pickup_group_id) if pickup_group_id else None
    if group is None:
        outcome.add("pickup_group_id", _l("Choose one of this circle's pickup groups."))
    if not outcome.ok:
        return outcome
    assert group is not None
    try:
        with db.session.begin_nested(), audit_action("unique.update"):
            if version is not None:
                claim_edit(unique, version)
            unique.extension = new_extension
            unique.display_name = outcome.values["display_name"]
            unique.pickup_group = group
            db.session.flush()
    except IntegrityError:
        # Another user took the extension between the check and the save.
        db.session.refresh(unique)
        outcome.add(
            "extension",
            _l("Extension %(ext)s is already used by another unique.", ext=new_extension),
        )
    return outcome


# --- R16 pickup groups ----------------------------------------------------------------


@dataclass(frozen=True)
class PickupGroupRow:
    group: PickupGroup
    members: int


def circle_pickup_group(circle: Circle, group_id: int) -> PickupGroup | None:
    if not 0 < group_id <= MAX_ID:
        return None
    return db.session.scalars(
        select(PickupGroup).where(PickupGroup.id == group_id, PickupGroup.circle_id == circle.id)
    ).one_or_none()


def _sorted_groups(groups: Iterable[PickupGroup]) -> list[PickupGroup]:
    return sorted(groups, key=lambda group: (not group.is_default, group.name_key, group.id))


def pickup_group_choices(circle: Circle) -> list[PickupGroup]:
    """The circle's pickup groups, ``Default`` first, then by name."""
    return _sorted_groups(
        db.session.scalars(select(PickupGroup).where(PickupGroup.circle_id == circle.id)).all()
    )


def pickup_groups(circle: Circle) -> list[PickupGroupRow]:
    """The circle's pickup groups with how many uniques each holds."""
    counts: dict[int, int] = {
        group_id: count
        for group_id, count in db.session.execute(
            select(Unique.pickup_group_id, func.count(Unique.id))
            .where(Unique.circle_id == circle.id)
            .group_by(Unique.pickup_group_id)
        )
    }
    return [
        PickupGroupRow(group=group, members=counts.get(group.id, 0))
        for group in pickup_group_choices(circle)
    ]


def pickup_group_members(circle: Circle, group: PickupGroup) -> int:
    return (
        db.session.scalar(
            select(func.count(Unique.id)).where(
                Unique.circle_id == circle.id, Unique.pickup_group_id == group.id
            )
        )
        or 0
    )


def normalize_pickup_name(raw: str | None) -> str:
    """NFKC: full-width letters and digits typed by a person become half-width."""
    return unicodedata.normalize("NFKC", raw or "").strip()


def pickup_name_problem(circle: Circle, name: str, *, group_id: int | None = None) -> Any:
    """R16: half-width letters and digits, 1–40 of them, unique in the circle
    ignoring case (``Sales`` and ``sales`` would be the same group to a person)."""
    if not name:
        return _l("Enter a name.")
    if len(name) > PICKUP_NAME_MAX:
        return _l("Use at most %(n)d characters.", n=PICKUP_NAME_MAX)
    if not _HALF_WIDTH_ALNUM.fullmatch(name):
        return _l("Use half-width letters and digits only (A–Z, a–z, 0–9), without spaces.")
    clash = select(PickupGroup.name).where(
        PickupGroup.circle_id == circle.id, PickupGroup.name_key == name.lower()
    )
    if group_id is not None:
        clash = clash.where(PickupGroup.id != group_id)
    existing = db.session.scalar(clash.limit(1))
    if existing is not None:
        return _taken(existing)
    return None


def _taken(name: str) -> Any:
    return _l(
        "The pickup group %(name)s already exists in this circle "
        "(names are compared ignoring upper and lower case).",
        name=name,
    )


def add_pickup_group(circle: Circle, raw_name: str | None) -> tuple[Outcome, PickupGroup | None]:
    """R16: add a pickup group by name."""
    name = normalize_pickup_name(raw_name)
    outcome = Outcome(values={"name": name})
    problem = pickup_name_problem(circle, name)
    if problem:
        outcome.add("name", problem)
        return outcome, None
    group = PickupGroup(
        reseller_id=circle.reseller_id, account_id=circle.account_id, circle_id=circle.id, name=name
    )
    try:
        with db.session.begin_nested(), audit_action("pickup_group.create"):
            db.session.add(group)
            db.session.flush()
    except IntegrityError:
        # Another user added the same name between the check and the save.
        outcome.add("name", _taken(name))
        return outcome, None
    return outcome, group


def rename_pickup_group(
    circle: Circle, group: PickupGroup, raw_name: str | None, *, version: int | None = None
) -> Outcome:
    """R16: rename a pickup group; ``Default`` keeps its name. ``version``: as for
    ``update_unique``."""
    if group.circle_id != circle.id:
        raise CircleSettingsError(str(_l("This pickup group is not in this circle.")))
    name = normalize_pickup_name(raw_name)
    outcome = Outcome(values={"name": name})
    if group.is_default:
        outcome.add("name", _l("The group Default cannot be renamed."))
        return outcome
    if version is not None:
        check_edit(group, version)
    problem = pickup_name_problem(circle, name, group_id=group.id)
    if problem:
        outcome.add("name", problem)
        return outcome
    if name != group.name:
        try:
            with db.session.begin_nested(), audit_action("pickup_group.rename"):
                if version is not None:
                    claim_edit(group, version)
                group.name = name
                db.session.flush()
        except IntegrityError:
            db.session.refresh(group)
            outcome.add("name", _taken(name))
    return outcome


def delete_pickup_group(circle: Circle, group: PickupGroup) -> int:
    """R16: delete a pickup group; its members fall back to ``Default``, which itself
    cannot be deleted. Returns how many uniques moved."""
    if group.circle_id != circle.id:
        raise CircleSettingsError(str(_l("This pickup group is not in this circle.")))
    if group.is_default:
        raise CircleSettingsError(str(_l("The group Default cannot be deleted.")))
    default = db.session.scalars(
        select(PickupGroup).where(
            PickupGroup.circle_id == circle.id, PickupGroup.name == PickupGroup.DEFAULT_NAME
        )
    ).one()
    members = db.session.scalars(
        select(Unique).where(Unique.circle_id == circle.id, Unique.pickup_group_id == group.id)
    ).all()
    with audit_action("pickup_group.delete"):
        for unique in members:
            unique.pickup_group = default
            unique.edit_version = (unique.edit_version or 0) + 1
        # The members leave before the group goes: the foreign key never dangles.
        db.session.flush()
        db.session.delete(group)
        db.session.flush()
    return len(members)


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
        uniques = db.session.execute(
            select(Unique.id, Unique.display_name, Unique.extension, Unique.previous_extension)
            .where(Unique.circle_id == circle.id)
            .order_by(Unique.id)
        ).all()
        ring_groups = db.session.execute(
            select(RingGroup.id, RingGroup.name, RingGroup.extension)
            .where(RingGroup.circle_id == circle.id)
            .order_by(RingGroup.id)
        ).all()
        members = db.session.execute(
            select(RingGroupMember.ring_group_id, RingGroupMember.unique_id)
            .where(RingGroupMember.circle_id == circle.id)
            .order_by(RingGroupMember.ring_group_id, RingGroupMember.unique_id)
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
    return int(text) if text and _DIGITS.fullmatch(text) else None


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
    uniques = db.session.scalars(select(Unique).where(Unique.circle_id == circle.id)).all()
    ring_groups = db.session.scalars(
        select(RingGroup)
        .where(RingGroup.circle_id == circle.id)
        .options(selectinload(RingGroup.members))
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
    uniques = db.session.scalars(
        select(Unique).where(Unique.circle_id == circle.id, Unique.extension.is_(None))
    ).all()
    with audit_action("circle.renumber"):
        for unique in uniques:
            unique.extension = new_numbers.get(unique.id)
            unique.edit_version = (unique.edit_version or 0) + 1
        db.session.flush()
    return len(new_numbers)


def uniques_without_extension(circle: Circle) -> int:
    return (
        db.session.scalar(
            select(func.count(Unique.id)).where(
                Unique.circle_id == circle.id, Unique.extension.is_(None)
            )
        )
        or 0
    )
