"""R6 on PostgreSQL with real parallel connections: the storage limit and the byte
counter under parallel uploads and deletions (the check and the counter are one
conditional UPDATE, ``recording._add_bytes``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

from pbx_platform.db import db
from pbx_platform.tenancy import platform_bypass
from tenants.calls.models import CallRecord
from tenants.options import recording
from tenants.options.models import OptionKind, Recording, RecordingLimit
from tests.call_helpers import add_call, add_recording, wav_bytes
from tests.factories import World, in_circle
from tests.option_helpers import give_option
from tests.test_concurrency import committed, in_parallel  # noqa: F401  (fixture)

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
LIMIT = 1000 * recording.MB  # 1 GB
SIZE = 2000
PARALLEL = 12


def _counter_and_sum(app: Flask, circle_id: int) -> tuple[int, int, int]:
    with app.app_context(), platform_bypass("test"):
        used = db.session.scalar(
            select(RecordingLimit.used_bytes).where(RecordingLimit.circle_id == circle_id)
        )
        total, count = db.session.execute(
            select(func.coalesce(func.sum(Recording.size_bytes), 0), func.count()).where(
                Recording.circle_id == circle_id
            )
        ).one()
        return int(used), int(total), int(count)


def _upload(app: Flask, world: World, call_id: int, fill: int) -> Callable[[], str]:
    def run() -> str:
        with in_circle(app, world.a) as circle:
            call = db.session.get(CallRecord, call_id)
            try:
                recording.store(circle, call, [wav_bytes(SIZE, fill=fill)])
            except recording.UploadRefused as exc:
                db.session.rollback()
                return exc.code
            db.session.commit()
            return "stored"

    return run


def _fill_to(app: Flask, world: World, free: int) -> None:
    """A circle of 1 GB with ``free`` bytes left: one large (legacy) row and its count."""
    call_id = add_call(app, world.a, NOW)
    with in_circle(app, world.a) as circle:
        recording.set_limit(circle, 1, NOW.date())
        big = LIMIT - free
        db.session.add(
            Recording(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                call_record_id=call_id,
                started_at=NOW,
                size_bytes=big,
                sha256="0" * 64,
                storage_key=f"recordings/{circle.id}/00/00/{'0' * 64}",
            )
        )
        assert recording._add_bytes(circle, big)
        db.session.commit()


def test_parallel_uploads_stop_exactly_at_the_limit(app: Flask, committed: World) -> None:  # noqa: F811
    world = committed
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    _fill_to(app, world, free=5 * SIZE + SIZE // 2)  # room for five, not six
    calls = [add_call(app, world.a, NOW) for _ in range(PARALLEL)]

    results = in_parallel([_upload(app, world, cid, n) for n, cid in enumerate(calls)])

    assert sorted(results) == ["storage_limit"] * (PARALLEL - 5) + ["stored"] * 5
    used, total, count = _counter_and_sum(app, world.a.circle_id)
    assert used == total == LIMIT - SIZE // 2
    assert count == 1 + 5


def test_parallel_deletions_and_uploads_keep_the_counter_exact(
    app: Flask,
    committed: World,  # noqa: F811
) -> None:
    world = committed
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    existing = [add_recording(app, world.a, NOW, size=SIZE + n) for n in range(PARALLEL)]
    calls = [add_call(app, world.a, NOW) for _ in range(PARALLEL)]

    def delete(recording_id: int) -> Callable[[], str]:
        def run() -> str:
            with in_circle(app, world.a) as circle:
                recording.delete(circle, db.session.get(Recording, recording_id))
                db.session.commit()
                return "deleted"

        return run

    work = [delete(rid) for rid in existing[::2]]
    work += [_upload(app, world, cid, 100 + n) for n, cid in enumerate(calls)]
    results = in_parallel(work)

    assert sorted(set(results)) == ["deleted", "stored"]
    used, total, count = _counter_and_sum(app, world.a.circle_id)
    assert used == total
    assert count == PARALLEL - len(existing[::2]) + PARALLEL
