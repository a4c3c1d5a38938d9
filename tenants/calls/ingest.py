"""A batch of call records from a PBX node (``POST /api/v1/calls``).

Each record is checked on its own (``tenants.calls.fields.parse_call``, the same rules
as the CSV back-fill) and kept through ``tenants.calls.records.add`` inside the scope
narrowed to its circle (R20): the valid ones are kept, the others come back with their
index and the reasons. Idempotent by call id: a record whose id the circle already has
is "known" and changes nothing, so a node may send a batch again after a time-out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pbx_platform.db import db
from pbx_platform.tenancy import circle_scope, require_circle_scope
from tenants.calls import records
from tenants.calls.fields import parse_call
from tenants.calls.models import CallSource
from tenants.models import Circle, Unique

MAX_BATCH = 1000


@dataclass(frozen=True)
class CircleKey:
    """A circle the caller may write to, by its tenant ids (found by the API's access
    rules, ``tenants.api.access``)."""

    reseller_id: int
    account_id: int
    circle_id: int


@dataclass(frozen=True)
class Rejected:
    index: int
    # invalid: the fields say why; unknown_circle; call_id_taken (another circle of the
    # reseller has the id: ids are unique per reseller).
    reason: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class BatchResult:
    new: int = 0
    known: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def circle_extensions(circle: Circle) -> dict[str, Unique]:
    """The circle's uniques by extension (what ``parse_call`` checks an extension
    against)."""
    require_circle_scope(circle.id)
    uniques = db.session.scalars(select(Unique).where(Unique.extension.is_not(None))).all()
    return {unique.extension: unique for unique in uniques if unique.extension}


def _keep(circle: Circle, call: records.CallInput) -> bool | None:
    """True: new; False: known; None: the id belongs to another circle of the reseller."""
    if records.find(circle, call.call_id) is not None:
        return False
    try:
        with db.session.begin_nested():
            records.add(circle, call, CallSource.API)
    except IntegrityError:
        return None
    return True


def ingest(
    calls: Sequence[tuple[int, Mapping[str, object]]],
    circles: Mapping[int, CircleKey],
    *,
    now: datetime,
    rejected: Sequence[Rejected] = (),
) -> BatchResult:
    """Keep each ``(index, record)`` of ``calls`` in the circle its ``circle`` field
    names. ``circles``: the circles the caller reaches, by id (any other is
    ``unknown_circle``); ``rejected``: records the caller already refused (their shape)."""
    result = BatchResult(rejected=list(rejected))
    by_circle: dict[int, list[tuple[int, Mapping[str, object]]]] = {}
    for index, values in calls:
        circle_id = values.get("circle")
        key = circles.get(circle_id) if isinstance(circle_id, int) else None
        if key is None:
            result.rejected.append(
                Rejected(
                    index,
                    "unknown_circle",
                    {"circle": str(_l("There is no such circle for this client."))},
                )
            )
            continue
        by_circle.setdefault(key.circle_id, []).append((index, values))
    for circle_id, items in by_circle.items():
        key = circles[circle_id]
        with circle_scope(key.reseller_id, key.account_id, key.circle_id):
            circle = db.session.get(Circle, circle_id)
            assert circle is not None  # the caller found it a moment ago
            extensions = circle_extensions(circle)
            for index, values in items:
                parsed = parse_call(values, extensions, now=now)
                if isinstance(parsed, dict):
                    result.rejected.append(Rejected(index, "invalid", parsed))
                    continue
                kept = _keep(circle, parsed)
                if kept is None:
                    result.rejected.append(
                        Rejected(
                            index,
                            "call_id_taken",
                            {"call_id": str(_l("Another circle already has this call ID."))},
                        )
                    )
                elif kept:
                    result.new += 1
                else:
                    result.known += 1
            db.session.flush()
    result.rejected.sort(key=lambda r: r.index)
    return result
