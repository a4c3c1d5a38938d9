"""Terminals of a circle: adding a phone, its terminal type and carrier, its SIP
credentials, and removing it with everything that used it.

* A new terminal has a name, an extension in the circle's range and free (R13), a
  terminal type, a carrier when it is a mobile, and a pickup group (R16, Default
  unless chosen).
* SIP phones and softphones register with digest credentials: a user name and a
  generated secret, shown once; the database keeps HA1 = MD5(user:realm:secret)
  (RFC 2617) and its SHA-256 form (RFC 8760), what a registrar needs to check a
  REGISTER, never the secret (``docs/architecture.md``).
* Removing a terminal says first what uses it (ring groups, IVR destinations,
  conference broadcasts, monitoring and whispering licences, R5/R3/R7/R8) and then
  takes it out of each: ring groups and broadcasts lose the member, an IVR hangs up
  where it sent callers to it, its licence ticks are freed.

Services flush; the request commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.routing import parse_id
from pbx_platform.tenancy import require_circle_scope
from pbx_platform.versioning import check_edit, claim_edit
from tenants.models import (
    Circle,
    RingGroup,
    RingGroupMember,
    Unique,
    UniqueKind,
)
from tenants.options.models import ConferenceMember, ConferenceRoom, Ivr
from tenants.services.circles.common import lock_circle
from tenants.services.circles.pickup_groups import circle_pickup_group
from tenants.services.circles.uniques import SIP_TYPES, carrier_choice, terminal_type_choice
from tenants.services.credentials import generate_sip_secret, sip_ha1
from tenants.services.provisioning import default_pickup_group
from tenants.validation import Outcome, extension_problem, normalized
from tenants.validation import name_problem as display_name_problem


def sip_realm() -> str:
    """The registrar's digest realm (``PBX_SIP_REALM``; by default ``sip.<base domain>``)."""
    return current_app.config.get("SIP_REALM") or f"sip.{current_app.config['BASE_DOMAIN']}"


@dataclass(frozen=True)
class TerminalInput:
    """A terminal's form as typed."""

    extension: str
    display_name: str
    terminal_type: str
    carrier: str = ""
    pickup_group_id: str = ""  # empty: Default (R16)


@dataclass
class TerminalOutcome(Outcome):
    unique: Unique | None = None
    sip_secret: str | None = None  # shown once, never stored


def _issue_sip_credentials(unique: Unique) -> str:
    """A new secret for the unique's SIP user (the user name stays): returns it."""
    secret = generate_sip_secret()
    realm = sip_realm()
    unique.sip_user = unique.sip_user or f"pbx{unique.id:07d}"
    unique.sip_realm = realm
    unique.sip_ha1 = sip_ha1(unique.sip_user, realm, secret)
    unique.sip_ha1_sha256 = sip_ha1(unique.sip_user, realm, secret, algorithm="SHA-256")
    return secret


def create_terminal(circle: Circle, data: TerminalInput) -> TerminalOutcome:
    """Add a phone to the circle; a SIP phone or softphone gets its SIP credentials,
    whose secret is in the outcome (to show once). A refused form adds nothing."""
    require_circle_scope(circle.id)
    lock_circle(circle)
    outcome = TerminalOutcome(
        values={
            "extension": normalized(data.extension),
            "display_name": (data.display_name or "").strip(),
            "terminal_type": (data.terminal_type or "").strip(),
            "carrier": (data.carrier or "").strip(),
            "pickup_group_id": parse_id(normalized(data.pickup_group_id)),
        }
    )
    extension = outcome.values["extension"]
    if not extension:
        outcome.add("extension", _l("Enter the extension."))
    else:
        problem = extension_problem(circle, extension)
        if problem:
            outcome.add("extension", problem)
    problem = display_name_problem(outcome.values["display_name"])
    if problem:
        outcome.add("display_name", problem)
    kind = terminal_type_choice(data.terminal_type, outcome)
    carrier = carrier_choice(kind, data.carrier, outcome)
    raw_group = normalized(data.pickup_group_id)
    if raw_group:
        group_id = parse_id(raw_group)
        group = circle_pickup_group(circle, group_id) if group_id else None
        if group is None:
            outcome.add("pickup_group_id", _l("Choose one of this circle's pickup groups."))
    else:
        group = default_pickup_group(circle)
    if not outcome.ok:
        return outcome
    assert kind is not None and group is not None
    try:
        with db.session.begin_nested(), audit_action("unique.create"):
            unique = Unique(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                extension=extension,
                display_name=outcome.values["display_name"],
                kind=UniqueKind.PHONE,
                terminal_type=kind,
                carrier=carrier,
                pickup_group_id=group.id,
            )
            db.session.add(unique)
            db.session.flush()
            if kind in SIP_TYPES:
                outcome.sip_secret = _issue_sip_credentials(unique)
                db.session.flush()
    except IntegrityError:
        outcome.sip_secret = None
        outcome.add(
            "extension", _l("Extension %(ext)s is already used by another unique.", ext=extension)
        )
        return outcome
    outcome.unique = unique
    return outcome


def regenerate_sip_secret(unique: Unique, *, version: int | None = None) -> str:
    """A new SIP secret for a SIP phone or softphone (the old one stops working);
    returns it to show once. A stale page raises ``StaleEdit``."""
    if unique.kind != UniqueKind.PHONE or unique.terminal_type not in SIP_TYPES:
        raise ValueError("not a SIP terminal")
    if version is not None:
        check_edit(unique, version)
    with audit_action("unique.sip_secret"):
        if version is not None:
            claim_edit(unique, version)
        secret = _issue_sip_credentials(unique)
        db.session.flush()
    return secret


# --- removing a terminal ------------------------------------------------------------------


@dataclass
class RemovalPlan:
    """What uses the terminal, and so what its removal changes."""

    ring_groups: list[str] = field(default_factory=list)
    ivrs: list[str] = field(default_factory=list)
    broadcasts: list[str] = field(default_factory=list)
    licences: list[str] = field(default_factory=list)

    @property
    def used(self) -> bool:
        return bool(self.ring_groups or self.ivrs or self.broadcasts or self.licences)


def _points_to(destination: Any, unique_id: int) -> bool:
    return (
        isinstance(destination, dict)
        and destination.get("type") in ("unique", "conference", "ivr")
        and destination.get("id") == unique_id
    )


def _ivrs_using(circle: Circle, unique: Unique) -> list[Ivr]:
    ivrs = db.session.scalars(select(Ivr).options(selectinload(Ivr.unique))).all()
    return [
        ivr
        for ivr in ivrs
        if any(_points_to(d, unique.id) for d in (ivr.digit_map or {}).values())
        or _points_to(ivr.timeout_destination, unique.id)
        or _points_to(ivr.after_hours, unique.id)
    ]


def removal_plan(circle: Circle, unique: Unique) -> RemovalPlan:
    require_circle_scope(circle.id)
    plan = RemovalPlan()
    plan.ring_groups = list(
        db.session.scalars(
            select(RingGroup.name)
            .join(RingGroupMember, RingGroupMember.ring_group_id == RingGroup.id)
            .where(RingGroupMember.unique_id == unique.id)
            .order_by(RingGroup.name)
        ).all()
    )
    plan.ivrs = [ivr.unique.display_name for ivr in _ivrs_using(circle, unique)]
    plan.broadcasts = list(
        db.session.scalars(
            select(Unique.display_name)
            .join(ConferenceRoom, ConferenceRoom.unique_id == Unique.id)
            .join(ConferenceMember, ConferenceMember.room_id == ConferenceRoom.id)
            .where(ConferenceMember.unique_id == unique.id)
            .order_by(Unique.display_name)
        ).all()
    )
    if unique.monitoring:
        plan.licences.append(str(_l("Monitoring")))
    if unique.whispering:
        plan.licences.append(str(_l("Whispering")))
    return plan


HANGUP = {"type": "hangup"}


def remove_terminal(circle: Circle, unique: Unique, *, version: int | None = None) -> RemovalPlan:
    """Remove a phone and take it out of everything that used it (see the module); the
    plan returned is what was changed. Recordings of its calls stay (R6). A stale
    confirmation (``version``) raises ``StaleEdit`` and removes nothing."""
    require_circle_scope(circle.id)
    if unique.circle_id != circle.id or unique.kind != UniqueKind.PHONE:
        raise ValueError("not a terminal of this circle")
    if version is not None:
        check_edit(unique, version)
    plan = removal_plan(circle, unique)
    with audit_action("unique.delete"):
        if version is not None:
            claim_edit(unique, version)
        for member in db.session.scalars(
            select(RingGroupMember).where(RingGroupMember.unique_id == unique.id)
        ):
            db.session.delete(member)
        for broadcast in db.session.scalars(
            select(ConferenceMember).where(ConferenceMember.unique_id == unique.id)
        ):
            db.session.delete(broadcast)
        for ivr in _ivrs_using(circle, unique):

            def replaced(destination: Any) -> Any:
                return dict(HANGUP) if _points_to(destination, unique.id) else destination

            ivr.digit_map = {key: replaced(value) for key, value in (ivr.digit_map or {}).items()}
            ivr.timeout_destination = replaced(ivr.timeout_destination)
            ivr.after_hours = replaced(ivr.after_hours)
        db.session.flush()
        db.session.delete(unique)
        db.session.flush()
    return plan
