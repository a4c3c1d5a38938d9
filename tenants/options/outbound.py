"""R4 outbound number selection: selector uniques and the caller number each presents.

A selector is a unique of kind ``outbound_selector`` with its own extension and an
``OutboundSelector`` row naming one of the circle's numbers: the number the called
party sees. It is never a terminal: it has no terminal type, and a request to give
it one is refused (the database's check constraint refuses it as well). Usable while
the circle holds the outbound selection option. Its name and extension are checked by
``tenants.validation``, its number and the save of its unique are the virtual uniques'
(``tenants.options.virtual``), as for conference rooms.

The services read the circle's rows through the tenant scope alone and call
``tenancy.require_circle_scope`` first (see ``tenants.options.conference``). Services
flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from tenants.options.models import OptionKind, OutboundSelector
from tenants.options.virtual import check_identity, check_number, delete_unique, save_unique
from tenants.validation import Outcome

# The fields that would make a unique a terminal (R4: a selector cannot be one).
TERMINAL_FIELDS = ("terminal_type", "carrier")


@dataclass
class SelectorEntry:
    """A selector unique and its row (None until the first save of a selector unique
    that was made without one)."""

    unique: Unique
    selector: OutboundSelector | None

    @property
    def id(self) -> int:
        return self.unique.id

    @property
    def phone_number(self) -> CirclePhoneNumber | None:
        return self.selector.phone_number if self.selector else None


@dataclass
class SelectorInput:
    """A selector form as typed. ``terminal`` holds whatever was sent for the terminal
    fields: a selector form has none, so anything there is a forged request."""

    name: str = ""
    extension: str = ""
    phone_number_id: str = ""
    terminal: str = ""


def _selector_query() -> Any:
    return (
        select(Unique, OutboundSelector)
        .outerjoin(OutboundSelector, OutboundSelector.unique_id == Unique.id)
        .where(Unique.kind == UniqueKind.OUTBOUND_SELECTOR)
        .options(selectinload(OutboundSelector.phone_number))
    )


def selectors(circle: Circle) -> list[SelectorEntry]:
    require_circle_scope(circle.id)
    rows = db.session.execute(_selector_query().order_by(Unique.extension, Unique.id)).all()
    return [SelectorEntry(unique, selector) for unique, selector in rows]


def find_selector(circle: Circle, unique_id: int) -> SelectorEntry | None:
    """The circle's selector by its unique's id; another circle's is not found."""
    require_circle_scope(circle.id)
    row = db.session.execute(_selector_query().where(Unique.id == unique_id)).first()
    return SelectorEntry(row[0], row[1]) if row else None


def selector_values(entry: SelectorEntry | None) -> dict[str, Any]:
    """The saved state of a selector as its form shows it (R18 cancel returns to this)."""
    if entry is None:
        return {"name": "", "extension": "", "phone_number_id": ""}
    number = entry.phone_number
    return {
        "name": entry.unique.display_name,
        "extension": entry.unique.extension or "",
        "phone_number_id": str(number.id) if number else "",
    }


def _check_caller_number(
    outcome: Outcome, raw: str, entry: SelectorEntry | None
) -> CirclePhoneNumber | None:
    """Required: one of the circle's numbers that no other selector presents."""
    return check_number(
        outcome,
        raw,
        holder=OutboundSelector,
        own_id=entry.id if entry else None,
        missing=_l("Choose the number the called party sees."),
        not_ours=_l("Choose one of this circle's numbers."),
        taken=lambda name, number: _l(
            "The selector %(name)s already presents %(number)s: one selector per number is enough.",
            name=name,
            number=number,
        ),
    )


def save_selector(
    circle: Circle,
    entry: SelectorEntry | None,
    data: SelectorInput,
    today: date,
    *,
    version: int | None = None,
) -> Outcome:
    """R4: create (``entry`` None) or change a selector: name, extension (R13 range, free
    in the circle) and the caller number (required, one of the circle's numbers, one
    selector per number). A request to make it a terminal is refused.

    Everything is checked before anything is assigned. Raises ``services.OptionNotContracted``
    when the circle does not hold R4. ``version``: as for ``conference.save_room``.
    """
    require_circle_scope(circle.id)
    services.require_contracted(circle, OptionKind.OUTBOUND_SELECTION, today)
    if entry is not None and version is not None:
        check_edit(entry.unique, version)
    outcome = Outcome(values=selector_values(entry))
    if data.terminal.strip():
        outcome.add(
            "terminal", _l("An outbound number selector cannot be registered as a terminal.")
        )
    name, extension = check_identity(
        outcome, circle, data.name, data.extension, entry.id if entry else None
    )
    number = _check_caller_number(outcome, data.phone_number_id, entry)
    if not outcome.ok or number is None:
        return outcome

    with audit_action("outbound_selector.create" if entry is None else "outbound_selector.update"):
        unique = save_unique(
            circle,
            entry.unique if entry else None,
            UniqueKind.OUTBOUND_SELECTOR,
            name,
            extension,
            version,
        )
        if entry is None:
            entry = SelectorEntry(unique, None)
        unique.terminal_type, unique.carrier = None, None
        selector = entry.selector
        if selector is None:
            selector = OutboundSelector(unique_id=unique.id, phone_number_id=number.id)
            db.session.add(selector)
            entry.selector = selector
        selector.phone_number = number
        db.session.flush()
    outcome.saved = unique
    return outcome


def delete_selector(circle: Circle, entry: SelectorEntry, today: date) -> None:
    """Remove the selector and its unique (its extension becomes free)."""
    require_circle_scope(circle.id)
    services.require_contracted(circle, OptionKind.OUTBOUND_SELECTION, today)
    delete_unique(entry.unique, entry.selector, "outbound_selector.delete")
