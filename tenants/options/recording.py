"""R6 full call recording: storage, per-unique refusal, downloads, the 100 GB limit.

The archive of a day range lives in ``tenants.options.recording_archive``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, cast, select, update
from sqlalchemy.exc import IntegrityError

from pbx_platform import storage
from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from pbx_platform.versioning import check_edit, claim_edit
from tenants.calls.models import CallRecord
from tenants.models import Circle, Unique, UniqueKind
from tenants.options import services
from tenants.options.dates import TOKYO
from tenants.options.models import OptionKind, Recording, RecordingLimit

MB = 1_000_000
BLOCK_MB = 1_000  # billed per started 1 GB (1,000 MB)
DEFAULT_LIMIT_GB = 100
MAX_ARCHIVE_DAYS = 31
MAX_LIMIT_GB = 10_000
RECORDING_VERSION = "recording_edit_version"


class RecordingError(ValueError):
    pass


@dataclass(frozen=True)
class Usage:
    used_bytes: int
    limit_gb: int

    @property
    def used_mb(self) -> float:
        return self.used_bytes / MB

    @property
    def started_blocks(self) -> int:
        """Billed 1 GB blocks: every started 1,000 MB counts."""
        return math.ceil(self.used_bytes / (BLOCK_MB * MB)) if self.used_bytes else 0

    @property
    def limit_bytes(self) -> int:
        return self.limit_gb * 1000 * MB

    @property
    def at_limit(self) -> bool:
        return self.used_bytes >= self.limit_bytes

    @property
    def percent(self) -> int:
        return (
            min(100, round(100 * self.used_bytes / self.limit_bytes)) if self.limit_bytes else 100
        )


def _limit_row(circle: Circle) -> RecordingLimit | None:
    require_circle_scope(circle.id)
    return db.session.scalars(select(RecordingLimit)).first()


def usage(circle: Circle) -> Usage:
    """The exact counter (``RecordingLimit.used_bytes``), kept with the rows."""
    row = _limit_row(circle)
    if row is None:
        return Usage(used_bytes=0, limit_gb=DEFAULT_LIMIT_GB)
    return Usage(used_bytes=row.used_bytes, limit_gb=row.limit_gb)


def downloads_allowed(circle: Circle, today: date) -> bool:
    """R6: recordings can be downloaded only while the option is contracted (a pending
    cancellation included); once it has ended, downloads are refused."""
    return services.is_contracted(circle, OptionKind.CALL_RECORDING, today)


def ended_on(circle: Circle, today: date) -> date | None:
    """The day full call recording ended, when the circle had it and holds it no more
    (R6: from then on, recordings can no longer be downloaded); ``None`` otherwise."""
    if services.is_contracted(circle, OptionKind.CALL_RECORDING, today):
        return None
    ends = [
        option.ends_on
        for option in services.circle_options(circle)
        if option.kind == OptionKind.CALL_RECORDING
        and option.ends_on is not None
        and option.ends_on < today
    ]
    return max(ends, default=None)


def require_downloads(circle: Circle, today: date) -> None:
    """R6: ``services.OptionNotContracted`` once recording has ended."""
    services.require_contracted(circle, OptionKind.CALL_RECORDING, today)


def phone_uniques(circle: Circle) -> Sequence[Unique]:
    """The terminals whose calls are recorded (rooms and IVRs record through them)."""
    require_circle_scope(circle.id)
    return db.session.scalars(
        select(Unique).where(Unique.kind == UniqueKind.PHONE).order_by(Unique.extension, Unique.id)
    ).all()


def save_refusals(
    circle: Circle, refused_ids: Iterable[int], today: date, *, version: int | None = None
) -> None:
    """R6: a ticked unique's calls are not recorded. Ids outside the circle are refused;
    so is a circle that does not hold the option today (``services.OptionNotContracted``).

    ``version``: the circle's ``recording_edit_version`` the page was opened at (the
    page edits a tick on every phone, so the circle holds its version); a stale page
    raises ``StaleEdit`` and changes nothing (``pbx_platform.versioning``)."""
    services.require_contracted(circle, OptionKind.CALL_RECORDING, today)
    if version is not None:
        check_edit(circle, version, RECORDING_VERSION)
    uniques = {u.id: u for u in phone_uniques(circle)}
    wanted = set(refused_ids)
    foreign = wanted - uniques.keys()
    if foreign:
        raise RecordingError(str(_l("Some of the selected uniques do not belong to this circle.")))
    with audit_action("recording.refusals"):
        if version is not None:
            claim_edit(circle, version, RECORDING_VERSION)
        for unique_id, unique in uniques.items():
            unique.recording_refused = unique_id in wanted
        db.session.flush()


def set_limit(circle: Circle, limit_gb: int, today: date) -> None:
    """R6: staff raise (or lower) the storage limit after the customer contacted them.

    Only for a circle that holds full call recording today (a pending cancellation
    included): without the option there is no storage to limit, and
    ``services.OptionNotContracted`` is raised with nothing changed."""
    services.require_contracted(circle, OptionKind.CALL_RECORDING, today)
    if not 1 <= limit_gb <= MAX_LIMIT_GB:
        raise RecordingError(
            str(_l("Enter a number from %(min)d to %(max)d.", min=1, max=MAX_LIMIT_GB))
        )
    row = _limit_row(circle)
    with audit_action("recording.limit"):
        if row is None:
            row = RecordingLimit(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                limit_gb=limit_gb,
            )
            db.session.add(row)
        row.limit_gb = limit_gb
        db.session.flush()


class UploadRefused(RecordingError):
    """An upload that cannot be kept; ``code`` names the reason for machine clients."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


WAV_HEADER = 44


def _checked_wav(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Pass the chunks through, refusing what is not a RIFF/WAVE file by its header and
    a body shorter or longer than its RIFF size says (a truncated upload)."""
    head = b""
    declared: int | None = None
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if declared is None:
            head += chunk
            if len(head) < 12:
                continue
            if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                raise UploadRefused("not_wav", str(_l("The file is not a WAV audio file.")))
            declared = int.from_bytes(head[4:8], "little") + 8
            head = b""
        yield chunk
    if declared is None:
        raise UploadRefused("not_wav", str(_l("The file is not a WAV audio file.")))
    if total != declared:
        raise UploadRefused(
            "truncated",
            str(_l("The WAV file is incomplete: its header announces %(n)d bytes.", n=declared)),
        )


def _wav_seconds(store: storage.Store, key: str) -> int:
    """Seconds of audio from the header's byte rate (bytes 28-31) and the size."""
    header = b"".join(store.iter_bytes(key, 0, WAV_HEADER))
    byte_rate = int.from_bytes(header[28:32], "little") if len(header) >= 32 else 0
    size = store.size(key)
    return round(max(0, size - WAV_HEADER) / byte_rate) if byte_rate else 0


def _refusal_for(circle: Circle, call: CallRecord) -> UploadRefused | None:
    day = call.started_at.astimezone(TOKYO).date()
    if not services.is_contracted(circle, OptionKind.CALL_RECORDING, day):
        return UploadRefused(
            "no_recording_option",
            str(_l("This circle does not have full call recording.")),
            403,
        )
    unique = db.session.get(Unique, call.unique_id) if call.unique_id else None
    if unique is not None and unique.recording_refused:
        return UploadRefused("recording_refused", str(_l("This unique refuses recording.")), 403)
    return None


def _add_bytes(circle: Circle, size: int) -> bool:
    """Count ``size`` more bytes if the circle stays within its limit: one conditional
    UPDATE, so parallel uploads cannot pass the limit together (R6)."""
    require_circle_scope(circle.id)
    if _limit_row(circle) is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    RecordingLimit(
                        reseller_id=circle.reseller_id,
                        account_id=circle.account_id,
                        circle_id=circle.id,
                        limit_gb=DEFAULT_LIMIT_GB,
                        used_bytes=0,
                    )
                )
        except IntegrityError:
            pass  # a parallel upload made the row first
    result = db.session.execute(
        update(RecordingLimit)
        .where(
            # BIGINT: INTEGER GB × 10⁹ overflows PostgreSQL's INTEGER past 2 GB.
            RecordingLimit.used_bytes + size
            <= cast(RecordingLimit.limit_gb, BigInteger) * (1000 * MB),
        )
        .values(used_bytes=RecordingLimit.used_bytes + size)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def namespace(circle: Circle) -> str:
    """A circle's recordings are kept under their own folder of the storage."""
    return f"recordings/{circle.id}"


def store(
    circle: Circle, call: CallRecord, chunks: Iterable[bytes], *, max_bytes: int | None = None
) -> tuple[Recording, bool]:
    """Keep the recording of ``call``, streamed from ``chunks`` into the storage.

    Returns the recording and whether it is new: the same bytes again are the same
    recording (idempotent); other bytes for a call that has one are refused
    (``UploadRefused("conflict", status=409)``). Refused too: a circle without the
    option on the call's day, a unique that refuses recording (R6), a body that is not
    a WAV or is truncated, and a circle at its storage limit. The byte counter and the
    row change in the caller's transaction; a refused body's file is left to the
    storage sweep (see ``delete``)."""
    require_circle_scope(circle.id)
    refusal = _refusal_for(circle, call)
    if refusal is not None:
        raise refusal
    store_ = storage.get_store()
    try:
        stored = store_.put(namespace(circle), _checked_wav(chunks), max_bytes=max_bytes)
    except storage.TooLarge as exc:
        raise UploadRefused(
            "too_large", str(_l("The file is larger than a recording may be.")), 413
        ) from exc
    existing = db.session.scalars(
        select(Recording).where(Recording.call_record_id == call.id)
    ).first()
    if existing is not None:
        if existing.sha256 == stored.sha256:
            return existing, False
        raise UploadRefused(
            "conflict", str(_l("This call already has a different recording.")), 409
        )
    if not _add_bytes(circle, stored.size):
        current = usage(circle)
        raise UploadRefused(
            "storage_limit",
            str(
                _l(
                    "The recording storage limit of %(gb)d GB is reached. "
                    "Please contact your reseller.",
                    gb=current.limit_gb,
                )
            ),
            403,
        )
    recording = Recording(
        reseller_id=circle.reseller_id,
        account_id=circle.account_id,
        circle_id=circle.id,
        call_record_id=call.id,
        unique_id=call.unique_id,
        started_at=call.started_at,
        duration_seconds=_wav_seconds(store_, stored.key),
        size_bytes=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
    )
    db.session.add(recording)
    db.session.flush()
    return recording, True


def delete(circle: Circle, recording: Recording) -> None:
    """Remove one recording: its bytes leave the counter in the same transaction.

    Files are never deleted inside a transaction (a rollback would leave a row without
    its file): a file that no row holds any more is an orphan, and the storage sweep
    (``pbx recordings verify --fix``) removes orphans older than an hour."""
    require_circle_scope(circle.id)
    db.session.execute(
        update(RecordingLimit)
        .values(used_bytes=RecordingLimit.used_bytes - recording.size_bytes)
        .execution_options(synchronize_session="fetch")
    )
    db.session.delete(recording)
    db.session.flush()


def iter_wav(recording: Recording, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    return storage.get_store().iter_bytes(recording.storage_key, start, end)
