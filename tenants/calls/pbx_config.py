"""What a PBX node needs to run one circle (``GET /api/v1/circles/<id>/config``),
assembled from the circle's own services, each reading through the scope narrowed to
the circle (R20).

The answer is plain JSON-ready data; ``etag`` hashes its canonical form (sorted keys, no
spaces), so a node polling with ``If-None-Match`` learns "unchanged" without a body.
SIP credentials are the stored HA1 digests (RFC 2617 MD5 and RFC 8760 SHA-256), never a
secret: the platform does not keep SIP secrets. A conference room's PIN is given, since
the PBX compares what a caller keys in (R3)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from tenants.models import Circle, CirclePhoneNumber, RingGroupMember, Unique
from tenants.options import conference, outbound, services
from tenants.options.ivr import service as ivr_service
from tenants.options.models import OptionKind
from tenants.services.circles.pickup_groups import pickup_groups
from tenants.services.circles.ring_groups import ring_groups


def _unique(unique: Unique) -> dict[str, Any]:
    sip = None
    if unique.sip_user:
        sip = {
            "user": unique.sip_user,
            "realm": unique.sip_realm or "",
            "ha1": unique.sip_ha1 or "",
            "ha1_sha256": unique.sip_ha1_sha256 or "",
        }
    return {
        "id": unique.id,
        "extension": unique.extension,
        "display_name": unique.display_name,
        "kind": unique.kind.value,
        "terminal_type": unique.terminal_type.value if unique.terminal_type else None,
        "carrier": unique.carrier.value if unique.carrier else None,
        "pickup_group_id": unique.pickup_group_id,
        "recording_refused": unique.recording_refused,
        "monitoring": unique.monitoring,
        "whispering": unique.whispering,
        "sip": sip,
    }


def _number(number: CirclePhoneNumber | None) -> str | None:
    return number.e164 if number is not None else None


def circle_config(circle: Circle, today: date, prompt_url: Callable[[int], str]) -> dict[str, Any]:
    """R3–R8, R16: the circle's PBX configuration. ``prompt_url(ivr_id)``: where the node
    fetches an IVR's prompt."""
    require_circle_scope(circle.id)
    uniques = db.session.scalars(select(Unique).order_by(Unique.extension, Unique.id)).all()
    members: dict[int, list[int]] = {}
    for member in db.session.scalars(
        select(RingGroupMember).order_by(RingGroupMember.ring_group_id, RingGroupMember.position)
    ):
        members.setdefault(member.ring_group_id, []).append(member.unique_id)
    pickup: dict[int, list[int]] = {}
    for unique in uniques:
        pickup.setdefault(unique.pickup_group_id, []).append(unique.id)
    contracted = {
        kind: services.is_contracted(circle, kind, today)
        for kind in (OptionKind.CALL_RECORDING, OptionKind.MONITORING, OptionKind.WHISPERING)
    }
    return {
        "circle": {
            "id": circle.id,
            "name": circle.name,
            "extension_length": circle.extension_length,
        },
        "uniques": [_unique(unique) for unique in uniques],
        "ring_groups": [
            {
                "id": row.group.id,
                "name": row.group.name,
                "extension": row.group.extension,
                "ring_time_seconds": row.group.ring_time_seconds,
                "members": members.get(row.group.id, []),
            }
            for row in ring_groups(circle)
        ],
        "pickup_groups": [
            {"id": row.group.id, "name": row.group.name, "members": pickup.get(row.group.id, [])}
            for row in pickup_groups(circle)
        ],
        "conference_rooms": [
            {
                "unique_id": entry.unique.id,
                "extension": entry.unique.extension,
                "name": entry.unique.display_name,
                "phone_number": _number(entry.phone_number),
                "pin": entry.room.entry_password if entry.room else None,
                "broadcast": entry.broadcast,
                "members": sorted(entry.member_ids),
            }
            for entry in conference.rooms(circle)
        ],
        "ivrs": [
            {
                "id": ivr.id,
                "unique_id": ivr.unique_id,
                "extension": ivr.unique.extension,
                "name": ivr.unique.display_name,
                "answer_after_seconds": ivr.answer_after_seconds,
                "channels": ivr.channels,
                "business_hours": ivr.business_hours or {},
                "closed_on_holidays": ivr.closed_on_holidays,
                "after_hours": ivr.after_hours or {},
                "digit_map": ivr.digit_map or {},
                "timeout_destination": ivr.timeout_destination or {},
                "prompt": (
                    {
                        "url": prompt_url(ivr.id),
                        "sha256": ivr.prompt_sha256,
                        "bytes": ivr.prompt_bytes,
                    }
                    if ivr.prompt_key
                    else None
                ),
            }
            for ivr in ivr_service.circle_ivrs(circle)
        ],
        "outbound": {
            "numbers": [
                {"e164": number.e164, "label": number.label}
                for number in sorted(circle.phone_numbers, key=lambda n: (n.e164, n.id))
            ],
            "selectors": [
                {
                    "unique_id": entry.unique.id,
                    "extension": entry.unique.extension,
                    "name": entry.unique.display_name,
                    "number": _number(entry.phone_number),
                }
                for entry in outbound.selectors(circle)
            ],
        },
        "recording": {
            "contracted": contracted[OptionKind.CALL_RECORDING],
            "refused_unique_ids": [u.id for u in uniques if u.recording_refused],
        },
        "monitoring": {
            "contracted": contracted[OptionKind.MONITORING],
            "unique_ids": [u.id for u in services.ticked_uniques(circle, OptionKind.MONITORING)],
        },
        "whispering": {
            "contracted": contracted[OptionKind.WHISPERING],
            "unique_ids": [u.id for u in services.ticked_uniques(circle, OptionKind.WHISPERING)],
        },
    }


def canonical(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def etag(document: Any) -> str:
    """A strong ETag (RFC 9110 §8.8.3): the SHA-256 of the canonical JSON."""
    return hashlib.sha256(canonical(document)).hexdigest()
