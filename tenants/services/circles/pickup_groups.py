"""R16 pickup groups: half-width alphanumeric names, unique in the circle ignoring upper
and lower case; ``Default`` can be neither renamed nor deleted; deleting a group moves
its members to ``Default``.

Services flush; the request commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from pbx_platform.versioning import check_edit, claim_edit
from tenants.models import Circle, PickupGroup, Unique
from tenants.services.circles.common import (
    HALF_WIDTH_ALNUM,
    MAX_ID,
    PICKUP_NAME_MAX,
    CircleSettingsError,
)
from tenants.validation import Outcome, name_problem, normalized

# --- R16 pickup groups ----------------------------------------------------------------


@dataclass(frozen=True)
class PickupGroupRow:
    group: PickupGroup
    members: int


def circle_pickup_group(circle: Circle, group_id: int) -> PickupGroup | None:
    if not 0 < group_id <= MAX_ID:
        return None
    require_circle_scope(circle.id)
    return db.session.scalars(select(PickupGroup).where(PickupGroup.id == group_id)).one_or_none()


def _sorted_groups(groups: Iterable[PickupGroup]) -> list[PickupGroup]:
    return sorted(groups, key=lambda group: (not group.is_default, group.name_key, group.id))


def pickup_group_choices(circle: Circle) -> list[PickupGroup]:
    """The circle's pickup groups, ``Default`` first, then by name."""
    require_circle_scope(circle.id)
    return _sorted_groups(db.session.scalars(select(PickupGroup)).all())


def pickup_groups(circle: Circle) -> list[PickupGroupRow]:
    """The circle's pickup groups with how many uniques each holds."""
    require_circle_scope(circle.id)
    counts: dict[int, int] = {
        group_id: count
        for group_id, count in db.session.execute(
            select(Unique.pickup_group_id, func.count(Unique.id)).group_by(Unique.pickup_group_id)
        )
    }
    return [
        PickupGroupRow(group=group, members=counts.get(group.id, 0))
        for group in pickup_group_choices(circle)
    ]


def pickup_group_members(circle: Circle, group: PickupGroup) -> int:
    require_circle_scope(circle.id)
    return (
        db.session.scalar(select(func.count(Unique.id)).where(Unique.pickup_group_id == group.id))
        or 0
    )


def normalize_pickup_name(raw: str | None) -> str:
    """NFKC: full-width letters and digits typed by a person become half-width."""
    return normalized(raw)


def pickup_name_problem(circle: Circle, name: str, *, group_id: int | None = None) -> Any:
    """R16: half-width letters and digits, 1–40 of them, unique in the circle
    ignoring case (``Sales`` and ``sales`` would be the same group to a person)."""
    problem = name_problem(name, max_length=PICKUP_NAME_MAX)
    if problem is not None:
        return problem
    if not HALF_WIDTH_ALNUM.fullmatch(name):
        return _l("Use half-width letters and digits only (A–Z, a–z, 0–9), without spaces.")
    require_circle_scope(circle.id)
    clash = select(PickupGroup.name).where(PickupGroup.name_key == name.lower())
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
    require_circle_scope(circle.id)
    default = db.session.scalars(
        select(PickupGroup).where(PickupGroup.name == PickupGroup.DEFAULT_NAME)
    ).one()
    members = db.session.scalars(select(Unique).where(Unique.pickup_group_id == group.id)).all()
    with audit_action("pickup_group.delete"):
        for unique in members:
            unique.pickup_group = default
            unique.edit_version = (unique.edit_version or 0) + 1
        # The members leave before the group goes: the foreign key never dangles.
        db.session.flush()
        db.session.delete(group)
        db.session.flush()
    return len(members)
