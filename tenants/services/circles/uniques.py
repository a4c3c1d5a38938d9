"""The circle's directory of uniques: the list with paging and search, and a unique's own
settings (extension in the range and free in the circle, display name, pickup group).

Services flush; the request commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from pbx_platform.versioning import check_edit, claim_edit
from tenants.models import Carrier, Circle, PickupGroup, TerminalType, Unique, UniqueKind
from tenants.services.circles.common import (
    DIGITS,
    MAX_ID,
    SEARCH_MAX,
    UNIQUES_PAGE_SIZE,
    CircleSettingsError,
    escape_like,
)
from tenants.services.circles.pickup_groups import circle_pickup_group
from tenants.validation import Outcome, check_extension, check_name, normalized

SIP_TYPES = frozenset({TerminalType.SIP_PHONE, TerminalType.SOFTPHONE})
# R8: whispering cannot target PHS terminals or au (KDDI) mobiles.
NO_WHISPERING_TYPES = frozenset({TerminalType.PHS})
NO_WHISPERING_CARRIERS = frozenset({Carrier.AU})

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
    return normalized(raw)[:SEARCH_MAX]


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
    require_circle_scope(circle.id)
    search = normalize_search(search)
    conditions: list[Any] = []
    if search:
        pattern = escape_like(search)
        matches: ColumnElement[bool] = Unique.display_name.ilike(f"%{pattern}%", escape="\\")
        if DIGITS.fullmatch(search):
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
    require_circle_scope(circle.id)
    return db.session.scalars(
        select(Unique)
        .where(Unique.id == unique_id)
        .options(joinedload(Unique.pickup_group, innerjoin=True))
    ).one_or_none()


# --- terminal type and carrier (phones only) ------------------------------------------


def terminal_type_choice(raw: str, outcome: Outcome) -> TerminalType | None:
    try:
        return TerminalType((raw or "").strip())
    except ValueError:
        outcome.add("terminal_type", _l("Choose one of the offered terminal types."))
        return None


def carrier_choice(kind: TerminalType | None, raw: str, outcome: Outcome) -> Carrier | None:
    text = (raw or "").strip()
    if kind != TerminalType.MOBILE:
        return None
    try:
        return Carrier(text)
    except ValueError:
        outcome.add("carrier", _l("Choose the mobile's carrier."))
        return None


def change_terminal_type(
    unique: Unique, terminal_type: str, carrier: str, outcome: Outcome
) -> tuple[TerminalType, Carrier | None] | None:
    """Check a phone's new terminal type and carrier (R8 keeps whispering off PHS and au);
    returns them, or None with the problems in ``outcome``."""
    kind = terminal_type_choice(terminal_type, outcome)
    chosen = carrier_choice(kind, carrier, outcome)
    if kind is None or "carrier" in outcome.errors:
        return None
    if unique.whispering and (kind in NO_WHISPERING_TYPES or chosen in NO_WHISPERING_CARRIERS):
        outcome.add(
            "terminal_type",
            _l(
                "Whispering cannot target PHS terminals or au mobiles: untick whispering "
                "for this unique first."
            ),
        )
        return None
    return kind, chosen


def apply_terminal_type(unique: Unique, kind: TerminalType, carrier: Carrier | None) -> None:
    """Set a checked terminal type; leaving SIP drops the SIP credentials."""
    unique.terminal_type = kind
    unique.carrier = carrier
    if kind not in SIP_TYPES:
        clear_sip_credentials(unique)


def clear_sip_credentials(unique: Unique) -> None:
    unique.sip_user = unique.sip_realm = unique.sip_ha1 = unique.sip_ha1_sha256 = None


def update_unique(
    circle: Circle,
    unique: Unique,
    *,
    extension: str | None,
    display_name: str | None,
    pickup_group_id: int | None,
    terminal_type: str | None = None,
    carrier: str | None = None,
    version: int | None = None,
) -> Outcome:
    """A unique's own settings: its extension (R13 range, free in the circle; empty
    leaves it without one), its display name, its pickup group (R16), and for a phone
    its terminal type and carrier when given (leaving SIP drops the SIP credentials).

    Everything is checked before anything is assigned: a refused change leaves the
    unique exactly as it was. ``version``: the ``edit_version`` the form was opened
    at; a stale form raises ``StaleEdit`` (``pbx_platform.versioning``).
    """
    if unique.circle_id != circle.id:
        raise CircleSettingsError(str(_l("This unique is not in this circle.")))
    if version is not None:
        check_edit(unique, version)
    outcome = Outcome(values={"pickup_group_id": pickup_group_id})
    if normalized(extension) == (unique.extension or ""):
        # An unchanged extension is the unique's own: not checked again.
        outcome.values["extension"] = normalized(extension)
    else:
        check_extension(outcome, circle, extension, unique.id, required=False)
    new_extension = outcome.values["extension"] or None
    check_name(outcome, display_name, field="display_name")
    group = circle_pickup_group(circle, pickup_group_id) if pickup_group_id else None
    if group is None:
        outcome.add("pickup_group_id", _l("Choose one of this circle's pickup groups."))
    # A phone's terminal type and carrier (R8 keeps whispering off PHS and au).
    terminal = None
    if terminal_type is not None and unique.kind == UniqueKind.PHONE:
        outcome.values["terminal_type"] = terminal_type.strip()
        outcome.values["carrier"] = (carrier or "").strip()
        terminal = change_terminal_type(unique, terminal_type, carrier or "", outcome)
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
            if terminal is not None:
                apply_terminal_type(unique, *terminal)
            db.session.flush()
    except IntegrityError:
        # Another user took the extension between the check and the save.
        db.session.refresh(unique)
        outcome.add(
            "extension",
            _l("Extension %(ext)s is already used by another unique.", ext=new_extension),
        )
    return outcome
