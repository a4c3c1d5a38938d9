"""The validators of the circle's settings: one place for extensions (R13), display
names and what a Japanese user types, for uniques, pickup groups (R16), conference
rooms (R3), outbound selectors (R4) and IVRs.

Tenant code imports its validators from here:

* ``normalized`` (NFKC, trimmed), ``name_problem``, ``has_control_characters`` and
  ``Outcome`` come from the core (``pbx_platform.validation``), which knows no tenant;
* ``extension_problem`` and ``check_extension`` are R13 for one circle: digits of the
  circle's extension length, in the range of that length, and free in the circle (no
  other unique, no ring group has it);
* ``check_name`` is the display name of a unique, room, selector or IVR.

``extension_problem(circle, extension, own_id=...)`` is what an IVR's extension check
calls (``own_id`` the IVR's unique when it is changed, None when it is created), and
``name_problem(name)`` its display name's.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from pbx_platform.validation import (
    NAME_MAX,
    Outcome,
    has_control_characters,
    name_problem,
    normalized,
)
from tenants.models import Circle, RingGroup, Unique
from tenants.services.provisioning import EXTENSION_RANGES, extension_in_range

__all__ = [
    "NAME_MAX",
    "Outcome",
    "check_extension",
    "check_name",
    "extension_hint",
    "extension_problem",
    "has_control_characters",
    "name_problem",
    "normalized",
]


def extension_hint(circle: Circle) -> str:
    """R13 for the circle's length, as a form's hint."""
    low, high = EXTENSION_RANGES[circle.extension_length]
    return str(
        _l("%(n)d digits, from %(low)d to %(high)d.", n=circle.extension_length, low=low, high=high)
    )


def extension_problem(circle: Circle, extension: str, *, own_id: int | None = None) -> Any:
    """Why ``extension`` (already normalised) cannot be an extension in the circle
    (R13), or None. ``own_id``: the unique being changed, whose own extension is free.

    Runs narrowed to the circle (``require_circle_scope``): the extensions in use are
    those the scope shows, which are this circle's."""
    require_circle_scope(circle.id)
    length = circle.extension_length
    if not extension_in_range(extension, length):
        low, high = EXTENSION_RANGES[length]
        return _l(
            "Enter an extension of %(n)d digits from %(low)d to %(high)d.",
            n=length,
            low=low,
            high=high,
        )
    taken_by = db.session.scalars(
        select(Unique.display_name)
        .where(Unique.extension == extension, Unique.id != (own_id or 0))
        .limit(1)
    ).first()
    if taken_by is not None:
        return _l("Extension %(ext)s is already used by %(name)s.", ext=extension, name=taken_by)
    group = db.session.scalars(
        select(RingGroup.name).where(RingGroup.extension == extension).limit(1)
    ).first()
    if group is not None:
        return _l(
            "Extension %(ext)s is already used by the ring group %(name)s.",
            ext=extension,
            name=group,
        )
    return None


def check_extension(
    outcome: Outcome,
    circle: Circle,
    raw: str | None,
    own_id: int | None = None,
    *,
    field: str = "extension",
    required: bool = True,
) -> str:
    """Normalise ``raw`` into ``outcome.values[field]`` and add R13's problem, if any.
    Empty is refused when ``required``, else it is no extension (returned as "")."""
    extension = normalized(raw)
    outcome.values[field] = extension
    if not extension:
        if required:
            outcome.add(field, _l("Enter an extension."))
        return extension
    problem = extension_problem(circle, extension, own_id=own_id)
    if problem is not None:
        outcome.add(field, problem)
    return extension


def check_name(
    outcome: Outcome, raw: str | None, *, field: str = "name", max_length: int = NAME_MAX
) -> str:
    """A display name, trimmed (not NFKC: full-width letters in a name are a choice),
    into ``outcome.values[field]``, with its problem, if any."""
    name = (raw or "").strip()
    outcome.values[field] = name
    problem = name_problem(name, max_length=max_length)
    if problem is not None:
        outcome.add(field, problem)
    return name
