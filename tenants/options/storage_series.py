"""R6 storage page: a circle's stored recording bytes per day over the last 90 days.

The daily snapshot (``RecordingStorageDay``, one row per circle and Japan-time day, the
stored bytes at the day's end) gives the past days; today is the exact counter
(``RecordingLimit.used_bytes``), which the snapshot of tonight will keep.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from tenants.models import Circle
from tenants.options import recording
from tenants.options.models import RecordingStorageDay

CHART_DAYS = 90


def stored_per_day(
    circle: Circle, today: date, days: int = CHART_DAYS
) -> list[tuple[date, int | None]]:
    """``days`` points ending today, oldest first, each the bytes stored at that day's end.

    Gaps are filled sensibly: a day without a snapshot after a known one (the job did not
    run that night) keeps the last known value, since stored bytes only change when
    recordings come or go; days before the first snapshot are ``None`` (unknown, not
    drawn) unless the circle has no snapshot at all and nothing stored, then 0."""
    require_circle_scope(circle.id)
    first = today - timedelta(days=days - 1)
    rows: dict[date, int] = {
        day: stored
        for day, stored in db.session.execute(
            select(RecordingStorageDay.day, RecordingStorageDay.stored_bytes)
            .where(RecordingStorageDay.day >= first, RecordingStorageDay.day < today)
            .order_by(RecordingStorageDay.day)
        )
    }
    # The last snapshot before the window carries into it (a quiet stretch of days).
    before = db.session.scalars(
        select(RecordingStorageDay.stored_bytes)
        .where(RecordingStorageDay.day < first)
        .order_by(RecordingStorageDay.day.desc())
        .limit(1)
    ).first()
    used = recording.usage(circle).used_bytes
    if not rows and before is None and used == 0:
        return [(first + timedelta(days=n), 0) for n in range(days)]
    points: list[tuple[date, int | None]] = []
    last_known: int | None = before
    for n in range(days - 1):
        day = first + timedelta(days=n)
        if day in rows:
            last_known = rows[day]
        points.append((day, last_known))
    points.append((today, used))
    return points
