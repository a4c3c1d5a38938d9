"""Upkeep of the recordings' storage (R6): the check of rows against files, the daily
snapshot of each circle's stored bytes (R6's chart, R24's monthly peak) and the purge
of recordings whose retention period after the option's end has passed.

The database rows are the truth (``pbx_platform.storage``): ``verify`` compares every
recording and IVR prompt row with the storage and reports

* missing files: a row whose file is gone. They cannot be recreated, so ``--fix``
  leaves the row as it is and reports it on every run: the row still says which call
  was recorded, with its size and SHA-256, so a file restored from a backup (which
  ``verify --hash`` can confirm) makes the row whole again; deleting the row would
  hide the loss from the customer's history and lower the counter as if the customer
  had deleted it, and a "lost" mark would need every reader to honour it. Playback of
  such a row answers "not found";
* orphaned files: a file no row refers to (a refused or replaced upload, a purge
  interrupted between its commit and the files). Only files older than an hour count,
  so an upload in flight is never touched; ``--fix`` deletes them;
* size drift (and with ``rehash`` hash drift): a file whose size (or SHA-256) is not
  the row's: a damaged file, reported, not repaired;
* counter drift: ``recording_limit.used_bytes`` not the sum of the circle's rows;
  ``--fix`` sets it to the sum, holding the counter's row lock so that a parallel
  upload or deletion is counted exactly once.
"""

from __future__ import annotations

import hashlib
import time as clock
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from celery import shared_task
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pbx_platform import storage
from pbx_platform.audit import audit_action, record
from pbx_platform.db import db
from pbx_platform.japanese import tokyo_today
from pbx_platform.tenancy import platform_bypass, require_circle_scope
from tenants.models import Circle, Reseller
from tenants.options import recording as recordings
from tenants.options.models import (
    CircleOption,
    Ivr,
    OptionKind,
    Recording,
    RecordingLimit,
    RecordingStorageDay,
)
from tenants.scoping import each_circle

GRACE = timedelta(hours=1)
KINDS = ("missing", "orphan", "size", "hash", "counter")


@dataclass
class Problem:
    kind: str  # one of KINDS
    key: str  # the storage key, or "circle <id>" for a counter
    detail: str
    fixed: bool = False


@dataclass
class Report:
    rows: int = 0
    files: int = 0
    young_orphans: int = 0  # orphans inside the hour of grace: left alone
    problems: list[Problem] = field(default_factory=list)

    def count(self, kind: str, *, fixed: bool | None = None) -> int:
        return sum(
            1 for p in self.problems if p.kind == kind and (fixed is None or p.fixed == fixed)
        )

    @property
    def remaining(self) -> int:
        return sum(1 for p in self.problems if not p.fixed)


@dataclass(frozen=True)
class _Row:
    what: str  # "recording 12" or "prompt of IVR 3"
    key: str
    size: int
    sha256: str | None


def _rows() -> Iterable[_Row]:
    for rid, key, size, sha in db.session.execute(
        select(Recording.id, Recording.storage_key, Recording.size_bytes, Recording.sha256)
        .order_by(Recording.id)
        .execution_options(yield_per=1000)
    ):
        yield _Row(f"recording {rid}", key, size, sha)
    for ivr_id, prompt_key, prompt_size, prompt_sha in db.session.execute(
        select(Ivr.id, Ivr.prompt_key, Ivr.prompt_bytes, Ivr.prompt_sha256)
        .where(Ivr.prompt_key.is_not(None))
        .order_by(Ivr.id)
    ):
        yield _Row(f"prompt of IVR {ivr_id}", prompt_key or "", prompt_size or 0, prompt_sha)


def _sha256(store: storage.Store, key: str) -> str:
    digest = hashlib.sha256()
    for chunk in store.iter_bytes(key):
        digest.update(chunk)
    return digest.hexdigest()


def verify(*, fix: bool = False, rehash: bool = False, now: float | None = None) -> Report:
    """Compare every recording and prompt row with the storage (see the module's text).

    An operator's check across all tenants: the rows are read under the platform
    bypass; counters are corrected narrowed to each circle. ``fix`` deletes old
    orphans and corrects counters; the caller commits."""
    store = storage.get_store()
    report = Report()
    now = clock.time() if now is None else now
    # One listing gives every file's size and time: no request per file (S3).
    files = {entry.key: entry for entry in store.listing()}
    report.files = len(files)
    referenced: set[str] = set()
    with platform_bypass("recordings.verify"):
        for row in _rows():
            report.rows += 1
            referenced.add(row.key)
            if row.key not in files:
                report.problems.append(Problem("missing", row.key, row.what))
                continue
            size = files[row.key].size
            if size != row.size:
                report.problems.append(
                    Problem("size", row.key, f"{row.what}: {size} bytes, row says {row.size}")
                )
            elif rehash and row.sha256 and _sha256(store, row.key) != row.sha256:
                report.problems.append(Problem("hash", row.key, f"{row.what}: SHA-256 differs"))
        counted = dict(
            db.session.execute(select(RecordingLimit.circle_id, RecordingLimit.used_bytes)).all()
        )
        sums = dict(
            db.session.execute(
                select(Recording.circle_id, func.sum(Recording.size_bytes)).group_by(
                    Recording.circle_id
                )
            ).all()
        )
        drifting = [
            cid
            for cid in sorted(counted.keys() | sums.keys())
            if int(counted.get(cid) or 0) != int(sums.get(cid) or 0)
        ]
        circles = db.session.scalars(select(Circle).where(Circle.id.in_(drifting))).all()
    for key in sorted(files.keys() - referenced):
        if now - files[key].modified_at < GRACE.total_seconds():
            report.young_orphans += 1
            continue
        problem = Problem("orphan", key, "no row refers to it")
        if fix and not _referenced_now(key):
            store.delete(key)
            problem.fixed = True
        report.problems.append(problem)
    for circle in each_circle(circles):
        before, after = _recount(circle, fix=fix)
        if before != after or not fix:
            report.problems.append(
                Problem(
                    "counter",
                    f"circle {circle.id}",
                    f"counter {before} bytes, recordings {after} bytes",
                    fixed=fix,
                )
            )
        db.session.flush()
    return report


def _referenced_now(key: str) -> bool:
    """Asked again just before a deletion: a row committed since the scan keeps it."""
    with platform_bypass("recordings.verify"):
        return bool(
            db.session.scalar(
                select(func.count()).select_from(Recording).where(Recording.storage_key == key)
            )
            or db.session.scalar(select(func.count()).select_from(Ivr).where(Ivr.prompt_key == key))
        )


def _recount(circle: Circle, *, fix: bool) -> tuple[int, int]:
    """(counter, sum of the rows) for one circle; with ``fix`` the counter becomes the
    sum. The counter's row is locked first: an upload or a deletion changes it in the
    same transaction as its row, so once the lock is held every committed row is seen
    and no uncommitted one is counted."""
    require_circle_scope(circle.id)
    limit = db.session.scalars(select(RecordingLimit).with_for_update()).first()
    total = int(db.session.scalar(select(func.coalesce(func.sum(Recording.size_bytes), 0))) or 0)
    if limit is None:
        return 0, total
    before = int(limit.used_bytes)
    if fix and before != total:
        with audit_action("recording.recount"):
            limit.used_bytes = total
            db.session.flush()
    return before, total


# -- the daily snapshot ------------------------------------------------------------------


def _metered_circles() -> Sequence[Circle]:
    """Every circle that has a storage counter (it held recording once)."""
    with platform_bypass("recordings.snapshot"):
        return db.session.scalars(
            select(Circle)
            .join(RecordingLimit, RecordingLimit.circle_id == Circle.id)
            .order_by(Circle.id)
        ).all()


def snapshot_circle(circle: Circle, day: date) -> int:
    """Write the circle's counter as its stored bytes of ``day`` (a Japan day); again on
    the same day overwrites (upsert on circle and day). Returns the bytes."""
    require_circle_scope(circle.id)
    used = recordings.usage(circle).used_bytes
    row = db.session.scalars(
        select(RecordingStorageDay).where(RecordingStorageDay.day == day)
    ).first()
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    RecordingStorageDay(
                        reseller_id=circle.reseller_id,
                        account_id=circle.account_id,
                        circle_id=circle.id,
                        day=day,
                        stored_bytes=used,
                    )
                )
            return used
        except IntegrityError:  # a parallel run wrote it first; overwrite below
            row = db.session.scalars(
                select(RecordingStorageDay).where(RecordingStorageDay.day == day)
            ).one()
    row.stored_bytes = used
    db.session.flush()
    return used


def default_snapshot_day() -> date:
    """The Japan day that ended last: the job runs just after midnight JST."""
    return tokyo_today() - timedelta(days=1)


def snapshot(day: date | None = None) -> int:
    """Every metered circle's stored bytes for ``day``; returns how many circles."""
    day = day or default_snapshot_day()
    count = 0
    for circle in each_circle(_metered_circles()):
        snapshot_circle(circle, day)
        count += 1
    return count


def monthly_peak(circle: Circle, year: int, month: int) -> int:
    """The most bytes the circle stored on one day of the month (R24 bills the peak);
    0 for a month without snapshots."""
    require_circle_scope(circle.id)
    first = date(year, month, 1)
    last = date(year + month // 12, month % 12 + 1, 1)
    peak = db.session.scalar(
        select(func.max(RecordingStorageDay.stored_bytes)).where(
            RecordingStorageDay.day >= first, RecordingStorageDay.day < last
        )
    )
    return int(peak or 0)


# -- retention ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Purged:
    circle_id: int
    recordings: int
    bytes: int
    files: int


def recording_ended_on(circle: Circle, today: date) -> date | None:
    """The last day of the circle's recording option when it has ended by ``today``
    (and no later one is contracted or due); ``None`` while it is held or coming."""
    require_circle_scope(circle.id)
    options = db.session.scalars(
        select(CircleOption).where(CircleOption.kind == OptionKind.CALL_RECORDING)
    ).all()
    if not options or any(o.ends_on is None or o.ends_on >= today for o in options):
        return None
    return max(o.ends_on for o in options if o.ends_on is not None)


def purge_due(circle: Circle, today: date) -> bool:
    """R6: the files are kept for the reseller's retention days after the option's end."""
    ended = recording_ended_on(circle, today)
    if ended is None:
        return False
    reseller = db.session.get(Reseller, circle.reseller_id)
    days = reseller.recording_retention_days if reseller is not None else 90
    return (today - ended).days > days


def purge_circle(circle: Circle, today: date) -> Purged | None:
    """Delete the circle's recordings when their retention has passed: the rows first
    (through ``recording.delete``, which lowers the counter), committed, then their
    files (a file another row of the circle still refers to stays). One audit entry
    per circle and run says how many and how many bytes (``recording.purge``)."""
    if not purge_due(circle, today):
        return None
    rows = db.session.scalars(select(Recording).order_by(Recording.id)).all()
    if not rows:
        return None
    keys = {row.storage_key for row in rows}
    total = sum(row.size_bytes for row in rows)
    limit = db.session.scalars(select(RecordingLimit)).first()
    with audit_action("recording.purge"):
        for row in rows:
            recordings.delete(circle, row)
        if limit is not None:
            record(
                limit,
                "recording.purge",
                before={"recordings": len(rows), "bytes": total},
                after={"recordings": 0, "bytes": 0},
            )
    db.session.commit()
    still = set(
        db.session.scalars(select(Recording.storage_key).where(Recording.storage_key.in_(keys)))
    )
    store = storage.get_store()
    for key in sorted(keys - still):
        store.delete(key)
    return Purged(circle.id, len(rows), total, len(keys - still))


def purge(today: date | None = None) -> list[Purged]:
    """Every circle whose retention has passed; each circle is committed on its own
    (its files go only after its rows are gone for good), so an interrupted run keeps
    what it did and the next run, or the sweep's orphan check, finishes the rest."""
    today = today or tokyo_today()
    with platform_bypass("recordings.purge"):
        candidates = db.session.scalars(
            select(Circle)
            .where(Circle.id.in_(select(Recording.circle_id).distinct()))
            .order_by(Circle.id)
        ).all()
    done = []
    for circle in each_circle(candidates):
        result = purge_circle(circle, today)
        if result is not None:
            done.append(result)
    return done


# -- jobs ---------------------------------------------------------------------------------


@shared_task(name="tenants.recordings.snapshot")
def snapshot_job(day: str | None = None) -> int:
    return snapshot(date.fromisoformat(day) if day else None)


@shared_task(name="tenants.recordings.purge")
def purge_job() -> int:
    return len(purge())
