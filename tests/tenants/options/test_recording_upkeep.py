"""R6 storage upkeep: ``pbx recordings verify [--fix]`` (missing and orphaned files,
size, hash and counter drift), the daily snapshot and its monthly peak (R24), and the
purge after the retention period."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from pbx_platform import storage
from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import platform_bypass
from tenants.models import Reseller
from tenants.options import recording
from tenants.options import recording_upkeep as upkeep
from tenants.options.models import OptionKind, Recording, RecordingLimit, RecordingStorageDay
from tests.call_helpers import add_recording, wav_bytes
from tests.circle_pages import pin_locale, text
from tests.factories import PASSWORD, in_circle
from tests.option_helpers import give_option
from tests.pbx_platform.test_storage import make_s3, s3_endpoint  # noqa: F401  (fixture)

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 12:00 JST


@pytest.fixture
def store(app, tmp_path):
    """A storage of the test's own, so that other tests' files are not orphans here."""
    saved = app.extensions.get("pbx_storage")
    app.extensions["pbx_storage"] = own = storage.FileStore(tmp_path / "store")
    yield own
    if saved is None:
        app.extensions.pop("pbx_storage", None)
    else:
        app.extensions["pbx_storage"] = saved


def _age(store: storage.FileStore, key: str, hours: float) -> None:
    moment = time.time() - hours * 3600
    os.utime(store._path(key), (moment, moment))


def _row(app, recording_id: int) -> Recording | None:
    with app.app_context(), platform_bypass("test"):
        row = db.session.get(Recording, recording_id)
        if row is not None:
            db.session.expunge(row)
        return row


def _used(app, circle_id: int) -> int:
    with app.app_context(), platform_bypass("test"):
        return db.session.scalar(
            select(RecordingLimit.used_bytes).where(RecordingLimit.circle_id == circle_id)
        )


def _verify(app, **kwargs) -> upkeep.Report:
    with app.app_context():
        report = upkeep.verify(**kwargs)
        db.session.commit()
        return report


@pytest.fixture
def recorded(app, world, store):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    return [add_recording(app, world.a, NOW, size=size) for size in (1000, 2000)]


def test_a_clean_storage_has_no_problems(app, recorded):
    report = _verify(app, rehash=True)
    assert (report.rows, report.files, report.problems) == (2, 2, [])


def test_a_missing_file_is_reported_and_its_row_kept(app, store, recorded):
    key = _row(app, recorded[0]).storage_key
    store.delete(key)
    report = _verify(app, fix=True)
    assert [(p.kind, p.key, p.fixed) for p in report.problems] == [("missing", key, False)]
    assert report.remaining == 1
    assert _row(app, recorded[0]) is not None  # kept: a restored file makes it whole


def test_old_orphans_are_deleted_young_ones_left(app, store, recorded):
    old = store.put("recordings/999", [b"refused upload"]).key
    young = store.put("recordings/999", [b"upload in flight"]).key
    _age(store, old, 2)
    report = _verify(app)
    assert [(p.kind, p.key, p.fixed) for p in report.problems] == [("orphan", old, False)]
    assert report.young_orphans == 1 and store.exists(old)
    report = _verify(app, fix=True)
    assert [(p.kind, p.fixed) for p in report.problems] == [("orphan", True)]
    assert report.remaining == 0
    assert not store.exists(old) and store.exists(young)
    assert _verify(app).problems == []


def test_an_orphan_that_a_row_took_meanwhile_stays(app, store, recorded, monkeypatch):
    old = store.put("recordings/999", [b"taken"]).key
    _age(store, old, 2)
    monkeypatch.setattr(upkeep, "_referenced_now", lambda key: True)
    report = _verify(app, fix=True)
    assert [(p.kind, p.fixed) for p in report.problems] == [("orphan", False)]
    assert store.exists(old)


def test_size_and_hash_drift(app, store, recorded):
    first, second = (_row(app, rid) for rid in recorded)
    store._path(first.storage_key).write_bytes(b"short")
    body = bytearray(store._path(second.storage_key).read_bytes())
    body[-1] ^= 0xFF  # same size, other bytes
    store._path(second.storage_key).write_bytes(bytes(body))
    assert [p.kind for p in _verify(app).problems] == ["size"]
    report = _verify(app, rehash=True, fix=True)
    assert sorted(p.kind for p in report.problems) == ["hash", "size"]
    assert report.remaining == 2  # a damaged file is not repaired


def test_counter_drift_is_corrected(app, world, recorded):
    with app.app_context(), platform_bypass("test"):
        db.session.execute(
            update(RecordingLimit)
            .where(RecordingLimit.circle_id == world.a.circle_id)
            .values(used_bytes=12345)
        )
        db.session.commit()
    report = _verify(app)
    assert [(p.kind, p.fixed) for p in report.problems] == [("counter", False)]
    assert "counter 12345 bytes, recordings 3000 bytes" in report.problems[0].detail
    report = _verify(app, fix=True)
    assert [(p.kind, p.fixed) for p in report.problems] == [("counter", True)]
    assert _used(app, world.a.circle_id) == 3000
    assert _verify(app).problems == []


def test_the_command_prints_a_summary_and_fails_while_problems_remain(app, store, recorded):
    store.delete(_row(app, recorded[0]).storage_key)
    orphan = store.put("recordings/999", [b"orphan"]).key
    _age(store, orphan, 2)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["recordings", "verify", "--fix"])
    assert result.exit_code == 1, result.output
    assert "Checked 2 rows and 2 files." in result.output
    lines = result.output.splitlines()
    assert "missing files          1       0       1" in lines
    assert "orphaned files         1       1       0" in lines
    assert "counter drift          0       0       0" in lines
    assert not store.exists(orphan)


def test_the_command_succeeds_on_a_clean_storage(app, recorded):
    result = app.test_cli_runner().invoke(args=["recordings", "verify", "--hash"])
    assert result.exit_code == 0, result.output
    assert "Checked 2 rows and 2 files." in result.output


# -- the daily snapshot and the monthly peak (R6 chart, R24) ---------------------------


def _days(app, circle_id: int) -> list[tuple[date, int]]:
    with app.app_context(), platform_bypass("test"):
        return [
            (row.day, row.stored_bytes)
            for row in db.session.scalars(
                select(RecordingStorageDay)
                .where(RecordingStorageDay.circle_id == circle_id)
                .order_by(RecordingStorageDay.day)
            )
        ]


def test_the_snapshot_is_one_row_per_circle_and_day(app, world, recorded):
    with app.app_context():
        assert upkeep.snapshot(date(2026, 11, 19)) == 1
        db.session.commit()
    assert _days(app, world.a.circle_id) == [(date(2026, 11, 19), 3000)]
    add_recording(app, world.a, NOW, size=500)
    result = app.test_cli_runner().invoke(args=["recordings", "snapshot", "--day", "2026-11-19"])
    assert result.exit_code == 0, result.output
    assert "for 2026-11-19" in result.output
    assert _days(app, world.a.circle_id) == [(date(2026, 11, 19), 3500)]


def test_the_snapshot_defaults_to_the_japan_day_that_just_ended(app, world, recorded):
    # 00:05 JST on 21 November is 15:05 UTC on the 20th.
    with time_machine.travel(datetime(2026, 11, 20, 15, 5, tzinfo=UTC), tick=False):
        with app.app_context():
            app.extensions["celery"].tasks["tenants.recordings.snapshot"].delay()
    assert _days(app, world.a.circle_id) == [(date(2026, 11, 20), 3000)]


def test_monthly_peak_is_the_largest_day_of_the_month(app, world, recorded):
    with app.app_context(), platform_bypass("test"):
        for day, size in (
            (date(2026, 10, 31), 9000),
            (date(2026, 11, 1), 100),
            (date(2026, 11, 15), 700),
            (date(2026, 11, 30), 300),
            (date(2026, 12, 1), 8000),
        ):
            db.session.add(
                RecordingStorageDay(
                    reseller_id=world.a.reseller_id,
                    account_id=world.a.account_id,
                    circle_id=world.a.circle_id,
                    day=day,
                    stored_bytes=size,
                )
            )
        db.session.commit()
    with in_circle(app, world.a) as circle:
        assert upkeep.monthly_peak(circle, 2026, 11) == 700
        assert upkeep.monthly_peak(circle, 2026, 12) == 8000
        assert upkeep.monthly_peak(circle, 2027, 1) == 0
    with in_circle(app, world.a, world.a.other_circle_id) as other:
        assert upkeep.monthly_peak(other, 2026, 11) == 0


def test_beat_runs_the_snapshot_after_midnight_and_the_purge_daily(app):
    schedule = app.extensions["celery"].conf.beat_schedule
    snapshot = schedule["recordings-snapshot"]
    assert snapshot["task"] == "tenants.recordings.snapshot"
    assert (snapshot["schedule"].hour, snapshot["schedule"].minute) == ({0}, {5})
    assert schedule["recordings-purge"]["task"] == "tenants.recordings.purge"
    assert app.extensions["celery"].conf.timezone == "Asia/Tokyo"


# -- retention (R6) -----------------------------------------------------------------------

ENDED = date(2026, 8, 31)


@pytest.fixture
def ended(app, world, store):
    """Recording from January to 31 August; two recordings and their files."""
    give_option(app, world.a, OptionKind.CALL_RECORDING, ends_on=ENDED)
    started = datetime(2026, 8, 1, 3, 0, tzinfo=UTC)
    with time_machine.travel(started, tick=False):
        return [add_recording(app, world.a, started, size=size) for size in (1000, 2000)]


def _purge(app, today: date):
    with app.app_context():
        done = upkeep.purge(today)
        db.session.commit()
        return done


def test_files_are_kept_for_the_retention_period_and_downloads_refused(
    app, world, store, ended, browser
):
    keys = [_row(app, rid).storage_key for rid in ended]
    assert _purge(app, ENDED + timedelta(days=90)) == []
    assert all(store.exists(key) for key in keys)
    with time_machine.travel(datetime(2026, 11, 29, 3, 0, tzinfo=UTC), tick=False):
        c = pin_locale(browser(world.a.host))
        c.login_circle(world.a.circle_login, PASSWORD)
        response = c.get(f"/portal/recording/{ended[0]}.wav")
        assert response.status_code == 409
        assert "Full call recording is not contracted for this circle." in text(response)


def test_the_purge_deletes_rows_counter_and_files_after_retention(app, world, store, ended):
    keys = [_row(app, rid).storage_key for rid in ended]
    done = _purge(app, ENDED + timedelta(days=91))
    assert done == [upkeep.Purged(world.a.circle_id, 2, 3000, 2)]
    assert [_row(app, rid) for rid in ended] == [None, None]
    assert _used(app, world.a.circle_id) == 0
    assert not any(store.exists(key) for key in keys)
    with app.app_context(), platform_bypass("test"):
        entries = db.session.scalars(
            select(AuditLog).where(
                AuditLog.action == "recording.purge", AuditLog.object_type == "recording_limit"
            )
        ).all()
    # One summary per circle and run (the rows' own deletions are under the same name).
    summaries = [(e.circle_id, e.before) for e in entries if "recordings" in (e.before or {})]
    assert summaries == [(world.a.circle_id, {"recordings": 2, "bytes": 3000})]
    assert _purge(app, ENDED + timedelta(days=92)) == []  # nothing left to do


def test_the_purge_sentence_reads_in_the_audit_trail(app, world, store, ended):
    from flask_babel import force_locale

    from pbx_platform.audit_read import describe

    _purge(app, ENDED + timedelta(days=91))
    with app.test_request_context(), platform_bypass("test"):
        entry = next(
            e
            for e in db.session.scalars(
                select(AuditLog).where(AuditLog.action == "recording.purge")
            )
            if "recordings" in (e.before or {})
        )
        with force_locale("en"):
            reading = describe(entry)
    assert reading.sentence.startswith(
        "system deleted the recordings past their retention period: recording limit #"
    )
    assert ("bytes", "3000", "0") in [(c.field, c.old, c.new) for c in reading.changes]


def test_the_resellers_retention_days_apply(app, world, store, ended):
    with app.app_context(), platform_bypass("test"):
        db.session.get(Reseller, world.a.reseller_id).recording_retention_days = 10
        db.session.commit()
    assert _purge(app, ENDED + timedelta(days=10)) == []
    assert [p.recordings for p in _purge(app, ENDED + timedelta(days=11))] == [2]


def test_a_circle_that_holds_recording_again_keeps_its_files(app, world, store, ended):
    give_option(app, world.a, OptionKind.CALL_RECORDING, starts_on=date(2026, 11, 1))
    assert _purge(app, date(2027, 6, 1)) == []
    assert all(_row(app, rid) is not None for rid in ended)


def test_the_purge_command(app, world, store, ended):
    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), tick=False):
        result = app.test_cli_runner().invoke(args=["recordings", "purge"])
    assert result.exit_code == 0, result.output
    assert f"circle {world.a.circle_id}: 2 recordings, 3000 bytes, 2 files deleted" in result.output


# -- the S3 backend in the app ------------------------------------------------------------


def test_the_app_on_s3_stores_serves_and_checks_a_recording(
    app,
    world,
    s3_endpoint,  # noqa: F811
    browser,
):
    """PBX_STORAGE=s3 end to end: the upload lands in the bucket, the portal serves it
    (whole and as a range), and the check sees the bucket."""
    s3 = make_s3(s3_endpoint, prefix="app")
    saved = app.extensions.get("pbx_storage")
    app.extensions["pbx_storage"] = s3
    try:
        give_option(app, world.a, OptionKind.CALL_RECORDING)
        with time_machine.travel(NOW, tick=False):
            rid = add_recording(app, world.a, NOW, size=5000)
            row = _row(app, rid)
            assert list(s3.keys()) == [row.storage_key]
            with in_circle(app, world.a):
                found = db.session.get(Recording, rid)
                body = b"".join(recording.iter_wav(found))
                assert hashlib.sha256(body).hexdigest() == row.sha256 and len(body) == 5000
                assert b"".join(recording.iter_wav(found, 40, 44)) == body[40:44]
            c = browser(world.a.host)
            c.login_circle(world.a.circle_login, PASSWORD)
            response = c.get(f"/portal/recording/{rid}.wav")
            assert response.status_code == 200 and response.get_data() == body
        assert _verify(app, rehash=True).problems == []
    finally:
        app.extensions["pbx_storage"] = saved


def test_prompts_are_checked_too(app, world, store):
    """An IVR prompt's file is a row's file like a recording's: gone, it is missing;
    replaced, the old one becomes an orphan once it is an hour old."""
    from tenants.options.ivr import prompts, service

    give_option(app, world.a, OptionKind.IVR)
    with in_circle(app, world.a) as circle:
        ivr = service.create_ivr(circle, "310", "Main menu")
        prompts.upload_prompt(ivr, wav_bytes(8044, fill=1))
        first = ivr.prompt_key
        prompts.upload_prompt(ivr, wav_bytes(16044, fill=2))
        second, ivr_id = ivr.prompt_key, ivr.id
        db.session.commit()
    _age(store, first, 2)
    store.delete(second)
    report = _verify(app, fix=True)
    assert sorted((p.kind, p.key, p.detail, p.fixed) for p in report.problems) == [
        ("missing", second, f"prompt of IVR {ivr_id}", False),
        ("orphan", first, "no row refers to it", True),
    ]
