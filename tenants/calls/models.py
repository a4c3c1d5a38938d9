"""One call as a PBX node reported it (call history, R6 "6. 通話履歴")."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pbx_platform.db import CircleOwned, Model, str_enum, utcnow


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"
    INTERNAL = "internal"


class Disposition(enum.StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"


class CallSource(enum.StrEnum):
    API = "api"  # POST /api/v1/calls
    CSV = "csv"  # staff back-fill
    LEGACY = "legacy"  # a recording kept before call records existed (migration 0012)


class CallRecord(CircleOwned, Model):
    """``call_id`` is the PBX's own id, unique within a reseller: a repeated report of
    the same id is the same call (idempotent ingestion). ``caller``/``called`` are E.164
    where they are numbers, else the extension or name as reported. Times are UTC;
    ``started_at`` is the key of the history's keyset paging (with ``id``)."""

    __tablename__ = "call_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(100))
    unique_id: Mapped[int | None] = mapped_column(
        ForeignKey("unique_entry.id", ondelete="SET NULL")
    )
    # The extension as reported, kept when the unique is later deleted.
    extension: Mapped[str | None] = mapped_column(String(10))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, "call_direction", 10))
    caller: Mapped[str] = mapped_column(String(32), default="")
    called: Mapped[str] = mapped_column(String(32), default="")
    started_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime]
    # Seconds from answer to end (0 when not answered): what call rating bills.
    talk_seconds: Mapped[int] = mapped_column(Integer, default=0)
    disposition: Mapped[Disposition] = mapped_column(str_enum(Disposition, "call_disposition", 10))
    source: Mapped[CallSource] = mapped_column(
        str_enum(CallSource, "call_source", 10), default=CallSource.API
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("reseller_id", "call_id"),
        # The history's keyset order, narrowed to one circle; filters by unique use the
        # second.
        Index("ix_call_record_circle_started", "circle_id", "started_at", "id"),
        Index("ix_call_record_unique_started", "circle_id", "unique_id", "started_at", "id"),
    )

    @property
    def other_party(self) -> str:
        return self.called if self.direction == Direction.OUT else self.caller
