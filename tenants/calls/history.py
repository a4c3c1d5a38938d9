"""Call history (R6 "6. 通話履歴"): a circle's calls, newest first, filtered by day range
(Japan time), unique, direction and answered or not, with each call's recording.

Paged by keyset on ``(started_at, id)`` (``pbx_platform.paging.keyset_page``), on the
indexes ``(circle_id, started_at, id)`` and ``(circle_id, unique_id, started_at, id)``,
so a page costs the same at the first and at the 100th page of a million calls. A day
range is at most ``MAX_DAYS`` long: the query stays on a bounded part of the index and
the user gets a clear message past it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from pbx_platform.db import db
from pbx_platform.japanese import days_span
from pbx_platform.paging import DEFAULT_PER_PAGE, Cursor, KeysetPage, keyset_page, keyset_statement
from pbx_platform.tenancy import require_circle_scope
from tenants.calls.models import CallRecord, Direction, Disposition
from tenants.models import Circle, Unique
from tenants.options.models import Recording

MAX_DAYS = 92
MAX_ID = 2**31 - 1
DEFAULT_DAYS = 7

DIRECTION_LABELS = {
    Direction.IN: _l("Incoming"),
    Direction.OUT: _l("Outgoing"),
    Direction.INTERNAL: _l("Internal"),
}
DISPOSITION_LABELS = {
    Disposition.ANSWERED: _l("Answered"),
    Disposition.NO_ANSWER: _l("Not answered"),
    Disposition.BUSY: _l("Busy"),
    Disposition.FAILED: _l("Failed"),
}


class HistoryError(ValueError):
    """A filter the history cannot run; the message is for the user."""


class UnknownUnique(HistoryError):
    """The filter names a unique that is not this circle's (the pages answer 404, as for
    any other tenant's object)."""


@dataclass(frozen=True)
class CallFilter:
    """What the history is asked for: days ``first``..``last`` (Japan dates, both
    included), optionally one unique, one direction, answered (True) or not (False)."""

    first: date
    last: date
    unique_id: int | None = None
    direction: Direction | None = None
    answered: bool | None = None

    @classmethod
    def default(cls, today: date) -> CallFilter:
        """The last ``DEFAULT_DAYS`` days, today included."""
        return cls(first=today - timedelta(days=DEFAULT_DAYS - 1), last=today)


@dataclass(frozen=True)
class HistoryRow:
    call: CallRecord
    unique: Unique | None
    recording: Recording | None

    @property
    def direction_label(self) -> str:
        return str(DIRECTION_LABELS[self.call.direction])

    @property
    def disposition_label(self) -> str:
        return str(DISPOSITION_LABELS[self.call.disposition])

    @property
    def talk_time(self) -> str:
        """``4:05``, ``1:02:03`` past an hour; ``0:00`` for a call not answered."""
        minutes, seconds = divmod(self.call.talk_seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def check_filter(circle: Circle, wanted: CallFilter) -> None:
    """The filter's rules: an ordered range of at most ``MAX_DAYS`` days and a unique of
    this circle (else ``HistoryError``)."""
    require_circle_scope(circle.id)
    if wanted.last < wanted.first:
        raise HistoryError(str(_l("The end date must not be before the start date.")))
    if (wanted.last - wanted.first).days + 1 > MAX_DAYS:
        raise HistoryError(str(_l("Choose at most %(n)d days at a time.", n=MAX_DAYS)))
    if wanted.unique_id is not None and (
        not 0 < wanted.unique_id <= MAX_ID
        or db.session.scalars(select(Unique.id).where(Unique.id == wanted.unique_id)).first()
        is None
    ):
        raise UnknownUnique(str(_l("Choose a unique of this circle.")))


def _query(wanted: CallFilter) -> Select[Any]:
    start, end = days_span(wanted.first, wanted.last)
    query = select(CallRecord).where(CallRecord.started_at >= start, CallRecord.started_at < end)
    if wanted.unique_id is not None:
        query = query.where(CallRecord.unique_id == wanted.unique_id)
    if wanted.direction is not None:
        query = query.where(CallRecord.direction == wanted.direction)
    if wanted.answered is True:
        query = query.where(CallRecord.disposition == Disposition.ANSWERED)
    elif wanted.answered is False:
        query = query.where(CallRecord.disposition != Disposition.ANSWERED)
    return query


def page_statement(
    circle: Circle,
    wanted: CallFilter,
    cursor: Cursor | None = None,
    per_page: int = DEFAULT_PER_PAGE,
) -> Select[Any]:
    """The exact statement of a history page (for EXPLAIN in the tests); the tenant
    scope adds the circle when it runs."""
    require_circle_scope(circle.id)
    return keyset_statement(_query(wanted), CallRecord.started_at, CallRecord.id, cursor, per_page)


def call_page(
    circle: Circle,
    wanted: CallFilter,
    cursor: Cursor | None = None,
    *,
    per_page: int = DEFAULT_PER_PAGE,
) -> KeysetPage[HistoryRow]:
    """One page of the circle's calls, newest first, with each call's unique and
    recording (three queries whatever the page: the calls, their uniques, their
    recordings). Raises ``HistoryError`` for a filter ``check_filter`` refuses."""
    check_filter(circle, wanted)
    page = keyset_page(
        _query(wanted), CallRecord.started_at, CallRecord.id, cursor, per_page=per_page
    )
    calls: Sequence[CallRecord] = page.items
    unique_ids = {c.unique_id for c in calls if c.unique_id is not None}
    uniques = (
        {u.id: u for u in db.session.scalars(select(Unique).where(Unique.id.in_(unique_ids)))}
        if unique_ids
        else {}
    )
    call_ids = [c.id for c in calls]
    recordings = (
        {
            r.call_record_id: r
            for r in db.session.scalars(
                select(Recording).where(Recording.call_record_id.in_(call_ids))
            )
        }
        if call_ids
        else {}
    )
    rows = [
        HistoryRow(
            call=c,
            unique=uniques.get(c.unique_id) if c.unique_id is not None else None,
            recording=recordings.get(c.id),
        )
        for c in calls
    ]
    return KeysetPage(items=rows, older=page.older, newer=page.newer, per_page=page.per_page)


def filter_uniques(circle: Circle) -> Sequence[Unique]:
    """The uniques the filter offers: every unique with an extension, by extension."""
    require_circle_scope(circle.id)
    return db.session.scalars(
        select(Unique).where(Unique.extension.is_not(None)).order_by(Unique.extension, Unique.id)
    ).all()


def circle_recording(circle: Circle, recording_id: int) -> Recording | None:
    """One of the circle's recordings (None for another circle's: the scope hides it)."""
    if not 0 < recording_id <= MAX_ID:
        return None
    require_circle_scope(circle.id)
    return db.session.scalars(select(Recording).where(Recording.id == recording_id)).first()
