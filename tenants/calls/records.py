"""Call records: kept once per call id (a repeated report changes nothing).

Parsing and checking what a PBX node or a CSV file says is the callers' work (the API
and the back-fill turn it into a ``CallInput``); this module keeps what was checked,
narrowed to the call's circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from tenants.calls.models import CallRecord, CallSource, Direction, Disposition
from tenants.models import Circle, Unique


@dataclass(frozen=True)
class CallInput:
    call_id: str
    direction: Direction
    started_at: datetime
    ended_at: datetime
    disposition: Disposition
    answered_at: datetime | None = None
    unique: Unique | None = None
    extension: str | None = None
    caller: str = ""
    called: str = ""


def find(circle: Circle, call_id: str) -> CallRecord | None:
    require_circle_scope(circle.id)
    return db.session.scalars(select(CallRecord).where(CallRecord.call_id == call_id)).first()


def add(
    circle: Circle, call: CallInput, source: CallSource = CallSource.API
) -> tuple[CallRecord, bool]:
    """Keep ``call`` unless its id is already known; returns the row and whether it is
    new. ``talk_seconds`` runs from the answer to the end."""
    existing = find(circle, call.call_id)
    if existing is not None:
        return existing, False
    talk = (
        max(0, int((call.ended_at - call.answered_at).total_seconds()))
        if call.answered_at is not None
        else 0
    )
    record = CallRecord(
        reseller_id=circle.reseller_id,
        account_id=circle.account_id,
        circle_id=circle.id,
        call_id=call.call_id,
        unique_id=call.unique.id if call.unique else None,
        extension=call.unique.extension if call.unique else call.extension,
        direction=call.direction,
        caller=call.caller,
        called=call.called,
        started_at=call.started_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        talk_seconds=talk,
        disposition=call.disposition,
        source=source,
    )
    db.session.add(record)
    db.session.flush()
    return record, True
