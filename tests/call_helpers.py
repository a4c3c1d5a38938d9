"""Calls and recordings made for tests, through the services."""

from __future__ import annotations

import itertools
import struct
from datetime import datetime, timedelta

from pbx_platform.db import db
from tenants.calls import records
from tenants.calls.models import Direction, Disposition
from tests.factories import in_circle

_ids = itertools.count(1)


def wav_bytes(size: int = 1000, fill: int = 0) -> bytes:
    """A well-formed 8 kHz mono 16-bit PCM WAV of exactly ``size`` bytes (>= 44)."""
    data = max(0, size - 44)
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + data)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
        + b"data"
        + struct.pack("<I", data)
    )
    return header + bytes([fill % 256]) * data


def add_call(
    app,
    tenant,
    started_at: datetime,
    *,
    circle_id: int | None = None,
    unique_id: int | None = None,
    direction: Direction = Direction.IN,
    disposition: Disposition = Disposition.ANSWERED,
    seconds: int = 60,
    caller: str = "+81355550000",
    called: str = "201",
    call_id: str | None = None,
) -> int:
    with in_circle(app, tenant, circle_id or tenant.circle_id) as circle:
        unique = db.session.get(records.Unique, unique_id) if unique_id else None
        answered = started_at if disposition == Disposition.ANSWERED else None
        call, _ = records.add(
            circle,
            records.CallInput(
                call_id=call_id or f"test-{next(_ids)}",
                direction=direction,
                started_at=started_at,
                answered_at=answered,
                ended_at=started_at + timedelta(seconds=seconds),
                disposition=disposition,
                unique=unique,
                caller=caller,
                called=called,
            ),
        )
        db.session.commit()
        return call.id


def add_recording(
    app, tenant, started_at: datetime, size: int = 1000, circle_id: int | None = None, **call
) -> int:
    """A call and its recording of ``size`` bytes; returns the recording's id."""
    from tenants.calls.models import CallRecord
    from tenants.options import recording

    call_id = add_call(app, tenant, started_at, circle_id=circle_id, **call)
    with in_circle(app, tenant, circle_id or tenant.circle_id) as circle:
        found, _ = recording.store(
            circle, db.session.get(CallRecord, call_id), [wav_bytes(size, fill=call_id)]
        )
        db.session.commit()
        return found.id
