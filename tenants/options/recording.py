"""R6 full call recording: storage, per-unique refusal, downloads, the 100 GB limit."""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from pbx_platform.versioning import check_edit, claim_edit
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
    require_circle_scope(circle.id)
    used = db.session.scalar(select(func.coalesce(func.sum(Recording.size_bytes), 0)))
    row = _limit_row(circle)
    return Usage(used_bytes=int(used or 0), limit_gb=row.limit_gb if row else DEFAULT_LIMIT_GB)


def downloads_allowed(circle: Circle, today: date) -> bool:
    """R6: recordings can be downloaded only while the option is contracted (a pending
    cancellation included); once it has ended, downloads are refused."""
    return services.is_contracted(circle, OptionKind.CALL_RECORDING, today)


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


def store(
    circle: Circle,
    *,
    started_at: datetime,
    wav: bytes,
    unique: Unique | None = None,
    duration_seconds: int = 0,
    direction: str = "in",
    remote_number: str = "",
) -> Recording:
    """Keep one recording; refused while the option is not held
    (``services.OptionNotContracted``) or past the limit (R6)."""
    services.require_contracted(
        circle, OptionKind.CALL_RECORDING, started_at.astimezone(TOKYO).date()
    )
    if unique is not None and unique.recording_refused:
        raise RecordingError(str(_l("This unique refuses recording.")))
    current = usage(circle)
    if current.used_bytes + len(wav) > current.limit_bytes:
        raise RecordingError(
            str(
                _l(
                    "The recording storage limit of %(gb)d GB is reached. "
                    "Please contact your reseller.",
                    gb=current.limit_gb,
                )
            )
        )
    recording = Recording(
        reseller_id=circle.reseller_id,
        account_id=circle.account_id,
        circle_id=circle.id,
        unique_id=unique.id if unique else None,
        started_at=started_at,
        duration_seconds=duration_seconds,
        direction=direction,
        remote_number=remote_number,
        size_bytes=len(wav),
        wav=wav,
    )
    db.session.add(recording)
    db.session.flush()
    return recording


def recordings_between(circle: Circle, first: date, last: date) -> Sequence[Recording]:
    if last < first:
        raise RecordingError(str(_l("The end date must not be before the start date.")))
    if (last - first).days + 1 > MAX_ARCHIVE_DAYS:
        raise RecordingError(str(_l("Choose at most %(n)d days at a time.", n=MAX_ARCHIVE_DAYS)))
    start = datetime.combine(first, time.min, tzinfo=TOKYO)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=TOKYO)
    require_circle_scope(circle.id)
    return db.session.scalars(
        select(Recording)
        .where(
            Recording.started_at >= start,
            Recording.started_at < end,
        )
        .order_by(Recording.started_at)
    ).all()


def archive_name(recording: Recording) -> str:
    local = recording.started_at.astimezone(TOKYO)
    return f"{local:%Y%m%d-%H%M%S}-{recording.direction}-{recording.id}.wav"


def zip_archive(recordings: Sequence[Recording]) -> bytes:
    """The day range as one ZIP (WAV is already compact PCM; stored, not deflated)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for recording in recordings:
            archive.writestr(archive_name(recording), recording.wav)
    return buffer.getvalue()
