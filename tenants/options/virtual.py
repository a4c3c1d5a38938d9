"""What the virtual uniques of a circle share: conference rooms (R3) and outbound number
selectors (R4) are uniques of their own kind (never a terminal) with a settings row
that names one of the circle's numbers, each number held by one row at most.

The name and extension are checked by ``tenants.validation``; the number, the form's
ticks and ids, and the save of the unique itself are here, so that a room and a
selector do it the same way. Their forms share ``_virtual_unique.html``.

These functions read the circle's rows through the tenant scope alone: the caller (a
room's or a selector's service) has called ``tenancy.require_circle_scope`` first.
Their rows are created without tenant ids: the circle scope stamps them on flush
(``tenancy``), and refuses any other. Services flush, never commit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from pbx_platform.versioning import claim_edit
from tenants.labels import national
from tenants.models import Circle, CirclePhoneNumber, Unique, UniqueKind
from tenants.services.provisioning import create_unique
from tenants.validation import NAME_MAX, Outcome, check_extension, check_name, normalized

__all__ = [
    "NAME_MAX",
    "check_identity",
    "check_number",
    "circle_number",
    "circle_numbers",
    "delete_unique",
    "parse_id",
    "parse_tick",
    "save_unique",
]

_ASCII_DIGITS = re.compile(r"[0-9]+")
_ID_DIGITS_MAX = 12
_TICKED = {"1", "on", "true", "y", "yes"}


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


def circle_numbers(circle: Circle) -> Sequence[CirclePhoneNumber]:
    """The circle's numbers, for a room's or a selector's form."""
    require_circle_scope(circle.id)
    return db.session.scalars(select(CirclePhoneNumber).order_by(CirclePhoneNumber.id)).all()


def circle_number(raw: str | None) -> CirclePhoneNumber | None:
    """One of the scope's circle's numbers by id, or None (another circle's id is not
    there)."""
    number_id = parse_id(raw)
    if number_id is None:
        return None
    return db.session.scalars(
        select(CirclePhoneNumber).where(CirclePhoneNumber.id == number_id)
    ).first()


def check_identity(
    outcome: Outcome, circle: Circle, name: str | None, extension: str | None, own_id: int | None
) -> tuple[str, str]:
    """The virtual unique's name and extension (R13, required, free in the circle)."""
    return check_name(outcome, name), check_extension(outcome, circle, extension, own_id)


def check_number(
    outcome: Outcome,
    raw: str,
    *,
    holder: type[Any],
    own_id: int | None,
    missing: Any | None,
    not_ours: Any,
    taken: Callable[[str, str], Any],
) -> CirclePhoneNumber | None:
    """One of the circle's numbers for the settings row ``holder`` (a number is held by
    one row of that kind at most). ``missing``: the message when none is chosen, or
    None when none is allowed; ``taken(holder's name, national number)``: the message
    when another unique holds it already."""
    text = normalized(raw)
    outcome.values["phone_number_id"] = text
    if not text:
        if missing is not None:
            outcome.add("phone_number_id", missing)
        return None
    number = circle_number(text)
    if number is None:
        outcome.add("phone_number_id", not_ours)
        return None
    other = db.session.execute(
        select(Unique.display_name)
        .join(holder, holder.unique_id == Unique.id)
        .where(holder.phone_number_id == number.id, Unique.id != (own_id or 0))
    ).scalar()
    if other is not None:
        outcome.add("phone_number_id", taken(other, national(number.e164)))
    return number


def save_unique(
    circle: Circle,
    unique: Unique | None,
    kind: UniqueKind,
    name: str,
    extension: str,
    version: int | None,
) -> Unique:
    """Inside the caller's ``audit_action``: claim the form's version of an existing
    unique (``pbx_platform.versioning``), or make the new one (a virtual unique is never
    a terminal: the database refuses a terminal type too); then set its name and
    extension."""
    if unique is not None and version is not None:
        claim_edit(unique, version)
    if unique is None:
        unique = create_unique(circle, extension=extension, display_name=name, kind=kind)
    unique.display_name, unique.extension = name, extension
    return unique


def delete_unique(unique: Unique, row: Any | None, action: str) -> None:
    """Remove a virtual unique and its settings row (its extension and number become
    free), audited as ``action``."""
    with audit_action(action):
        if row is not None:
            db.session.delete(row)
        db.session.delete(unique)
        db.session.flush()
