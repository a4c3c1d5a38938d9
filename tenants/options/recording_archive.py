"""R6 recording archive: a day range of a circle's recordings as one ZIP, streamed.

The archive is built while it is sent (zipstream-ng): the rows are read in batches of
plain columns, never as a list of recordings with their bytes; each file's bytes are
read from the storage in chunks only when the archive reaches it. WAV is PCM already,
so the files are stored, not deflated, and the total size is known before the first
byte (the response carries a ``Content-Length``, browsers show the progress). ZIP64
records are written past 4 GB. What stays in memory is the central directory, about a
hundred bytes per file plus its name: the bytes of the recordings never are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from zipstream import ZipStream

from pbx_platform import storage
from pbx_platform.db import db
from pbx_platform.japanese import days_span
from pbx_platform.tenancy import require_circle_scope
from tenants.calls.models import CallRecord, Direction
from tenants.models import Circle
from tenants.options.dates import TOKYO
from tenants.options.models import Recording
from tenants.options.recording import MAX_ARCHIVE_DAYS, RecordingError

BATCH = 500  # rows per round trip while the names are listed


@dataclass(frozen=True)
class ArchiveFilter:
    """What the customer chose: Japan-time days ``first``..``last`` (both included) and,
    optionally, the uniques whose calls go in (empty: every call)."""

    first: date
    last: date
    unique_ids: frozenset[int] = frozenset()

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class Preview:
    """The numbers shown before the download: how many files and how many bytes."""

    files: int
    total_bytes: int

    @property
    def total_mb(self) -> float:
        return self.total_bytes / 1_000_000


def check_filter(chosen: ArchiveFilter) -> None:
    """R6: a day range of at most 31 days, in order."""
    if chosen.last < chosen.first:
        raise RecordingError(str(_l("The end date must not be before the start date.")))
    if chosen.days > MAX_ARCHIVE_DAYS:
        raise RecordingError(str(_l("Choose at most %(n)d days at a time.", n=MAX_ARCHIVE_DAYS)))


def _bounds(chosen: ArchiveFilter) -> tuple[datetime, datetime]:
    """The range's instants: midnight Japan time of the first day to midnight after the
    last (a call at 23:59:59 JST belongs to its day, one at 00:00:00 to the next)."""
    return days_span(chosen.first, chosen.last)


def _where(statement: Select, chosen: ArchiveFilter) -> Select:
    start, end = _bounds(chosen)
    statement = statement.where(Recording.started_at >= start, Recording.started_at < end)
    if chosen.unique_ids:
        statement = statement.where(Recording.unique_id.in_(sorted(chosen.unique_ids)))
    return statement


def preview(circle: Circle, chosen: ArchiveFilter) -> Preview:
    """The number of files and their total size for ``chosen`` (one aggregate query)."""
    require_circle_scope(circle.id)
    check_filter(chosen)
    files, total = db.session.execute(
        _where(
            select(func.count(Recording.id), func.coalesce(func.sum(Recording.size_bytes), 0)),
            chosen,
        )
    ).one()
    return Preview(files=int(files), total_bytes=int(total))


def recordings_between(circle: Circle, first: date, last: date) -> list[Recording]:
    """The recordings of Japan-time days ``first``..``last``, oldest first (for pages and
    jobs that need the rows; the archive reads plain columns in batches instead)."""
    require_circle_scope(circle.id)
    chosen = ArchiveFilter(first, last)
    check_filter(chosen)
    return list(
        db.session.scalars(
            _where(select(Recording), chosen).order_by(Recording.started_at, Recording.id)
        )
    )


def file_name(
    started_at: datetime, extension: str | None, direction: Direction, other_party: str
) -> str:
    """``20261130-143005_201_in_0312345678.wav``: Japan date and time, the extension
    (``-`` when none), the direction and the other party, safe in any file system."""
    local = started_at.astimezone(TOKYO)
    other = "".join(ch for ch in other_party if ch.isalnum() or ch in "+-") or "-"
    return f"{local:%Y%m%d-%H%M%S}_{extension or '-'}_{direction.value}_{other.lstrip('+')}.wav"


def archive_name(recording: Recording) -> str:
    """The name of one recording's file, in the archive and as a single download."""
    call = recording.call
    return file_name(recording.started_at, call.extension, call.direction, call.other_party)


class _UniqueNames:
    """Names made unique inside one archive: ``name.wav``, ``name-2.wav``, ...

    Names start with the call's second, and the rows come ordered by time, so only the
    names of the current second need remembering (constant memory)."""

    def __init__(self) -> None:
        self._second = ""
        self._seen: set[str] = set()

    def __call__(self, name: str) -> str:
        second = name[:15]
        if second != self._second:
            self._second, self._seen = second, set()
        candidate, n = name, 1
        while candidate in self._seen:
            n += 1
            candidate = f"{name[:-4]}-{n}.wav"
        self._seen.add(candidate)
        return candidate


class _StoredFile:
    """One file's bytes, read from the storage in chunks when the archive reaches it."""

    __slots__ = ("key", "store")

    def __init__(self, store: storage.Store, key: str) -> None:
        self.store = store
        self.key = key

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.store.iter_bytes(self.key, 0, None))


def _rows(
    chosen: ArchiveFilter,
) -> Iterator[tuple[str, int, datetime, str | None, Direction, str, str]]:
    """Plain columns of the chosen recordings, oldest first, fetched ``BATCH`` at a time."""
    statement = _where(
        select(
            Recording.storage_key,
            Recording.size_bytes,
            Recording.started_at,
            CallRecord.extension,
            CallRecord.direction,
            CallRecord.caller,
            CallRecord.called,
        ).join(CallRecord, CallRecord.id == Recording.call_record_id),
        chosen,
    ).order_by(Recording.started_at, Recording.id)
    for row in db.session.execute(statement.execution_options(yield_per=BATCH)):
        yield tuple(row)


def archive(circle: Circle, chosen: ArchiveFilter) -> ZipStream:
    """The chosen recordings as one sized ZIP stream (R6): iterate it to send the bytes,
    ``len()`` of it is the ``Content-Length``. The rows are listed now (in the request,
    through the circle's scope); the bytes are read while the stream is iterated."""
    require_circle_scope(circle.id)
    check_filter(chosen)
    store = storage.get_store()
    unique = _UniqueNames()
    stream = ZipStream(sized=True)
    for key, size, started_at, extension, direction, caller, called in _rows(chosen):
        other = called if direction == Direction.OUT else caller
        name = unique(file_name(started_at, extension, direction, other))
        stream.add(_StoredFile(store, key), name, size=size)
    return stream
