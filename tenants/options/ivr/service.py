"""The circle's IVRs: reading, validating an edit, creating, saving and deleting (R5).

Every function works on the circle it is given through the tenant scope alone: it
first asserts that the work runs narrowed to that circle (``require_circle_scope``),
then queries without naming the circle, so another circle's IVR, unique or ring group
is simply not there. Requests are narrowed by the circle login and by
``/staff/circles/<id>/...`` (``tenants.views.circle_admin``); work outside a request
enters ``tenancy.circle_scope(reseller_id, account_id, circle_id)``. Under a wider
scope (a reseller's staff, an account) the functions refuse (``TenantScopeError``)
rather than see the reseller's other circles.

Services flush; the request commits.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from pbx_platform.versioning import check_edit, claim_edit
from tenants.models import Circle, RingGroup, Unique, UniqueKind
from tenants.options.ivr import graph
from tenants.options.ivr.destinations import Targets, parse_destination
from tenants.options.ivr.identity import extension_and_name_problems
from tenants.options.ivr.settings import (
    DEFAULT_HOURS,
    DIGIT_FIELDS,
    DIGITS,
    HANGUP,
    MAX_ANSWER_SECONDS,
    MAX_CHANNELS,
    MIN_CHANNELS,
    DestinationChoice,
    IvrError,
    IvrInput,
    IvrSettings,
    business_hours,
    clean,
    unknown_keys_problem,
    whole_number,
)
from tenants.options.models import Ivr
from tenants.services.provisioning import create_unique

# --- reading ------------------------------------------------------------------------------


def circle_ivrs(circle: Circle) -> list[Ivr]:
    """The circle's IVRs by extension."""
    require_circle_scope(circle.id)
    return list(
        db.session.scalars(
            select(Ivr).join(Unique, Unique.id == Ivr.unique_id).order_by(Unique.extension, Ivr.id)
        )
    )


def find_ivr(circle: Circle, ivr_id: int) -> Ivr | None:
    """One IVR of this circle; another circle's (even the same reseller's) is None."""
    require_circle_scope(circle.id)
    # A query rather than ``session.get``: an IVR already in the session (loaded under
    # a wider scope) is returned only if the scope's criteria still match its row.
    return db.session.scalars(select(Ivr).where(Ivr.id == ivr_id)).one_or_none()


def targets(circle: Circle) -> Targets:
    """What the circle's destinations can point at."""
    require_circle_scope(circle.id)
    uniques = db.session.scalars(select(Unique).order_by(Unique.extension, Unique.id)).all()
    groups = db.session.scalars(select(RingGroup).order_by(RingGroup.extension, RingGroup.id))
    return Targets(
        phones={u.id: u for u in uniques if u.kind == UniqueKind.PHONE},
        conferences={u.id: u for u in uniques if u.kind == UniqueKind.CONFERENCE_ROOM},
        ivrs={ivr.unique_id: ivr for ivr in circle_ivrs(circle)},
        ring_groups={g.id: g for g in groups},
    )


# --- validating an edit -------------------------------------------------------------------


def settings_from_input(circle: Circle, ivr: Ivr, data: IvrInput) -> IvrSettings:
    """Validate an edit as typed (full-width accepted, NFKC). Raises ``IvrError`` with
    every problem found, by form field; destinations must be the circle's own."""
    extension, display_name = clean(data.extension), clean(data.display_name)
    errors = extension_and_name_problems(
        circle, extension, display_name, exclude_unique_id=ivr.unique_id
    )
    hours = business_hours(data.hours, errors)
    answer, problem = whole_number(data.answer_after_seconds, 0, MAX_ANSWER_SECONDS)
    if problem:
        errors["answer_after_seconds"] = problem
    channels, problem = whole_number(data.channels, MIN_CHANNELS, MAX_CHANNELS)
    if problem:
        errors["channels"] = problem

    known = targets(circle)

    def destination(
        name: str, chosen: DestinationChoice, *, optional: bool
    ) -> dict[str, Any] | None:
        try:
            return parse_destination(known, chosen, optional=optional)
        except IvrError as exc:
            errors[name] = exc.errors["destination"]
            return None

    after_hours = destination("after_hours", data.after_hours, optional=False)
    timeout = destination("timeout", data.timeout, optional=False)
    digit_map: dict[str, dict[str, Any]] = {}
    for digit in DIGITS:
        chosen = data.digits.get(digit)
        found = destination(_digit_field(digit), chosen, optional=True) if chosen else None
        if found is not None:
            digit_map[digit] = found
    problem = unknown_keys_problem(data.unknown_keys)
    if problem:
        errors["digits"] = problem
    if errors:
        raise IvrError(errors)
    assert answer is not None and channels is not None
    assert after_hours is not None and timeout is not None
    return IvrSettings(
        extension=extension,
        display_name=display_name,
        business_hours=hours,
        closed_on_holidays=data.closed_on_holidays,
        after_hours=after_hours,
        answer_after_seconds=answer,
        channels=channels,
        digit_map=digit_map,
        timeout_destination=timeout,
    )


def _digit_field(digit: str) -> str:
    """The form field a key's problem is reported under ("digit_1", "digit_star")."""
    return f"digit_{DIGIT_FIELDS[digit]}"


def routing_problem(circle: Circle, ivr: Ivr, settings: IvrSettings) -> Any:
    """The loop rules (``graph``) over the circle's IVRs, ``ivr`` taking ``settings``."""
    return graph.routing_problem(circle_ivrs(circle), ivr, settings)


def referring_ivrs(circle: Circle, ivr: Ivr) -> list[Ivr]:
    """Other IVRs of the circle that route to ``ivr``."""
    return graph.referring(circle_ivrs(circle), ivr)


# --- changes ------------------------------------------------------------------------------


def create_ivr(circle: Circle, extension_raw: str, display_name_raw: str) -> Ivr:
    """A new IVR unique with safe defaults: open weekdays 09:00–18:00, hang up after
    hours and on time-out (so it can never start a loop)."""
    extension, display_name = clean(extension_raw), clean(display_name_raw)
    errors = extension_and_name_problems(circle, extension, display_name, exclude_unique_id=None)
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
    require_circle_scope(circle.id)
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
