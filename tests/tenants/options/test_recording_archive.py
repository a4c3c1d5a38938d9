"""R6 recording archive: the preview, the streamed ZIP, its day range in Japan time, the
uniques filter, the circle's own recordings only, refused once recording has ended."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
import zipstream
from sqlalchemy import select

from pbx_platform import storage
from pbx_platform.db import db
from tenants.calls.models import Direction
from tenants.options import recording_archive
from tenants.options.models import OptionKind, Recording
from tenants.options.recording_archive import ArchiveFilter, file_name
from tests.call_helpers import add_recording
from tests.circle_pages import pin_locale, text
from tests.factories import PASSWORD, in_circle
from tests.option_helpers import give_option, uniques_of

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 12:00 JST
JST_2359 = datetime(2026, 11, 18, 14, 59, 59, tzinfo=UTC)  # 18 Nov 23:59:59 JST
JST_0000 = datetime(2026, 11, 18, 15, 0, 0, tzinfo=UTC)  # 19 Nov 00:00:00 JST
NOT_CONTRACTED = "Full call recording is not contracted for this circle."


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client(clock, world, browser):
    c = pin_locale(browser(world.a.host))
    assert c.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    return c


@pytest.fixture
def recorded(app, world, clock):
    give_option(app, world.a, OptionKind.CALL_RECORDING)


def stored_bytes(app, tenant, recording_ids):
    """What the storage holds for each recording, by its name in the archive."""
    with in_circle(app, tenant):
        rows = db.session.scalars(select(Recording).where(Recording.id.in_(recording_ids))).all()
        store = storage.get_store()
        return {
            recording_archive.archive_name(r): b"".join(store.iter_bytes(r.storage_key))
            for r in rows
        }


def unzip(response):
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    return {info.filename: archive.read(info) for info in archive.infolist()}, archive


def test_the_archive_holds_every_file_byte_for_byte(app, world, recorded, client):
    ids = [
        add_recording(app, world.a, NOW - timedelta(hours=n), size=3_000 + 517 * n)
        for n in range(5)
    ]
    response = client.get("/portal/recording/archive.zip?from=2026-11-20&to=2026-11-20")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Length"] == str(len(response.data))
    assert 'filename="recordings-20261120-20261120.zip"' in response.headers["Content-Disposition"]
    files, archive = unzip(response)
    assert files == stored_bytes(app, world.a, ids)
    # Stored, not deflated: WAV is PCM already.
    assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


def test_the_day_range_is_in_japan_time(app, world, recorded, client):
    late = add_recording(app, world.a, JST_2359)
    early = add_recording(app, world.a, JST_0000)
    day_18, _ = unzip(client.get("/portal/recording/archive.zip?from=2026-11-18&to=2026-11-18"))
    day_19, _ = unzip(client.get("/portal/recording/archive.zip?from=2026-11-19&to=2026-11-19"))
    assert list(day_18) == list(stored_bytes(app, world.a, [late]))
    assert next(iter(day_18)).startswith("20261118-235959_")
    assert list(day_19) == list(stored_bytes(app, world.a, [early]))
    assert next(iter(day_19)).startswith("20261119-000000_")
    both, _ = unzip(client.get("/portal/recording/archive.zip?from=2026-11-18&to=2026-11-19"))
    assert len(both) == 2


def test_at_most_31_days(app, world, recorded, client):
    add_recording(app, world.a, NOW)
    # 21 Oct .. 20 Nov is 31 days; 20 Oct .. 20 Nov is 32.
    assert (
        client.get("/portal/recording/archive.zip?from=2026-10-21&to=2026-11-20").status_code == 200
    )
    for url in (
        "/portal/recording/archive.zip?from=2026-10-20&to=2026-11-20",
        "/portal/recording/archive?from=2026-10-20&to=2026-11-20",
    ):
        response = client.get(url)
        assert response.status_code == 422
        assert "Choose at most 31 days at a time." in text(response)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-11-20&to=2026-11-01", "The end date must not be before the start date."),
        ("from=x&to=y", "Enter the dates as YYYY-MM-DD."),
        ("", "Enter the dates as YYYY-MM-DD."),
        ("from=2026-11-20&to=2026-11-20&unique=abc", "do not belong to this circle"),
    ],
)
def test_bad_filters_are_explained(app, world, recorded, client, query, message):
    for path in ("/portal/recording/archive", "/portal/recording/archive.zip"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422
        assert message in text(response)


def test_the_uniques_filter(app, world, recorded, client):
    uniques = uniques_of(app, world.a)
    desk, mobile = uniques["受付"].id, uniques["携帯"].id
    at_desk = add_recording(app, world.a, NOW, unique_id=desk)
    add_recording(app, world.a, NOW - timedelta(minutes=5), unique_id=mobile)
    add_recording(app, world.a, NOW - timedelta(minutes=9))  # no unique
    response = client.get(
        f"/portal/recording/archive.zip?from=2026-11-20&to=2026-11-20&unique={desk}"
    )
    files, _ = unzip(response)
    assert files == stored_bytes(app, world.a, [at_desk])
    both = client.get(
        f"/portal/recording/archive?from=2026-11-20&to=2026-11-20&unique={desk}&unique={mobile}"
    )
    assert "2 files" in text(both)
    assert "3 files" in text(client.get("/portal/recording/archive?from=2026-11-20&to=2026-11-20"))


def test_another_circles_recordings_are_never_included(app, world, recorded, client):
    give_option(app, world.a, OptionKind.CALL_RECORDING, circle_id=world.a.other_circle_id)
    give_option(app, world.b, OptionKind.CALL_RECORDING)
    own = add_recording(app, world.a, NOW)
    add_recording(app, world.a, NOW, circle_id=world.a.other_circle_id)
    add_recording(app, world.b, NOW)
    foreign_unique = uniques_of(app, world.b, circle_id=world.b.circle_id)["受付"].id
    files, _ = unzip(client.get("/portal/recording/archive.zip?from=2026-11-20&to=2026-11-20"))
    assert files == stored_bytes(app, world.a, [own])
    # A unique of another tenant filters nothing in: no file, never its files.
    response = client.get(
        f"/portal/recording/archive.zip?from=2026-11-20&to=2026-11-20&unique={foreign_unique}"
    )
    assert response.status_code == 404
    assert "No recordings in that period." in text(response)


def test_the_preview_counts_files_and_megabytes(app, world, recorded, client):
    add_recording(app, world.a, NOW, size=1_200_000)
    add_recording(app, world.a, NOW - timedelta(days=1), size=300_000)
    add_recording(app, world.a, NOW - timedelta(days=3), size=999)  # outside the range
    response = client.get("/portal/recording/archive?from=2026-11-19&to=2026-11-20")
    assert response.status_code == 200
    page = text(response)
    assert "2 files, 1.5 MB" in page
    assert "/portal/recording/archive.zip?from=2026-11-19&amp;to=2026-11-20" in response.text
    empty = text(client.get("/portal/recording/archive?from=2026-11-01&to=2026-11-02"))
    assert "No recordings in that period." in empty
    assert "archive.zip" not in empty


def test_staff_on_the_circle_download_the_archive(app, world, recorded, browser):
    own = add_recording(app, world.a, NOW)
    staff = pin_locale(browser(world.a.host))
    staff.login_staff(world.a.staff["support"], PASSWORD)
    base = f"/staff/circles/{world.a.circle_id}/recording"
    assert "1 file" in text(staff.get(f"{base}/archive?from=2026-11-20&to=2026-11-20"))
    files, _ = unzip(staff.get(f"{base}/archive.zip?from=2026-11-20&to=2026-11-20"))
    assert files == stored_bytes(app, world.a, [own])


def test_the_archive_is_refused_once_recording_has_ended(app, world, browser):
    give_option(app, world.a, OptionKind.CALL_RECORDING, ends_on=date(2026, 11, 30))
    with time_machine.travel(NOW, tick=False):
        add_recording(app, world.a, NOW)
    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), tick=False):
        c = pin_locale(browser(world.a.host))
        c.login_circle(world.a.circle_login, PASSWORD)
        for url in (
            "/portal/recording/archive?from=2026-11-20&to=2026-11-20",
            "/portal/recording/archive.zip?from=2026-11-20&to=2026-11-20",
        ):
            response = c.get(url)
            assert response.status_code == 409
            assert NOT_CONTRACTED in text(response)
        page = text(c.get("/portal/recording"))
        assert (
            "Full call recording ended on 2026-11-30: recordings can no longer be played "
            "or downloaded." in page
        )
        assert "archive.zip" not in page and "Count the files" not in page


def test_names_that_collide_are_made_unique(app, world, recorded, client):
    same = {"caller": "+81355550000", "direction": Direction.IN}
    ids = [add_recording(app, world.a, NOW, **same) for _ in range(3)]
    files, _ = unzip(client.get("/portal/recording/archive.zip?from=2026-11-20&to=2026-11-20"))
    base = "20261120-120000_-_in_81355550000"
    assert sorted(files) == [f"{base}-2.wav", f"{base}-3.wav", f"{base}.wav"]
    with in_circle(app, world.a):
        rows = db.session.scalars(select(Recording).where(Recording.id.in_(ids))).all()
        stored = [b"".join(storage.get_store().iter_bytes(r.storage_key)) for r in rows]
    assert sorted(files.values()) == sorted(stored)


def test_file_name_tells_day_time_extension_and_other_party():
    started = datetime(2026, 11, 30, 5, 30, 5, tzinfo=UTC)  # 14:30:05 JST
    assert file_name(started, "201", Direction.OUT, "+81312345678") == (
        "20261130-143005_201_out_81312345678.wav"
    )
    assert file_name(started, None, Direction.IN, "") == "20261130-143005_-_in_-.wav"
    assert (
        file_name(started, "3", Direction.IN, "../etc/passwd")
        == "20261130-143005_3_in_etcpasswd.wav"
    )


class FakeStore:
    """A store whose files are generated, so a large archive needs no disk."""

    def __init__(self, sizes: dict[str, int]) -> None:
        self.sizes = sizes

    def iter_bytes(self, key, start=0, end=None):
        left = self.sizes[key]
        while left:
            chunk = min(left, 1 << 20)
            left -= chunk
            yield bytes([len(key) % 256]) * chunk


def test_zip64_records_past_the_limit(monkeypatch):
    """ZIP64 past 4 GB, without writing 4 GB: the limit lowered to 1 MB makes zipstream
    write the same ZIP64 records it writes past 4 GB; the archive still reads back."""
    monkeypatch.setattr(zipstream.ng, "ZIP64_LIMIT", 1_000_000)
    sizes = {"a": 1_500_000, "bb": 700_000, "ccc": 2_100_000}
    store = FakeStore(sizes)
    stream = zipstream.ZipStream(sized=True)
    for key, size in sizes.items():
        stream.add(recording_archive._StoredFile(store, key), f"{key}.wav", size=size)
    expected = len(stream)
    body = b"".join(stream)
    assert len(body) == expected
    assert b"PK\x06\x06" in body  # the ZIP64 end of central directory
    archive = zipfile.ZipFile(io.BytesIO(body))
    for key, size in sizes.items():
        assert archive.read(f"{key}.wav") == bytes([len(key) % 256]) * size


def test_the_length_of_a_6_gb_archive_is_known_before_it_is_built():
    """The real limit: a 6 GB archive announces its length (with ZIP64 records) from
    the sizes alone, without reading a byte of it."""
    store = FakeStore({})
    stream = zipstream.ZipStream(sized=True)
    for n in range(3):
        stream.add(recording_archive._StoredFile(store, str(n)), f"{n}.wav", size=2_000_000_000)
    assert len(stream) > 6_000_000_000


def test_the_service_streams_without_loading_the_files(app, world, recorded, clock, monkeypatch):
    """The archive lists the rows first and reads each file only when the stream reaches
    it: building the stream reads no byte of any recording."""
    add_recording(app, world.a, NOW)
    add_recording(app, world.a, NOW - timedelta(minutes=1))
    reads: list[str] = []
    with in_circle(app, world.a) as circle:
        real = storage.get_store()

        class Counting:
            def iter_bytes(self, key, start=0, end=None):
                reads.append(key)
                return real.iter_bytes(key, start, end)

        monkeypatch.setattr(storage, "get_store", lambda: Counting())
        stream = recording_archive.archive(
            circle, ArchiveFilter(date(2026, 11, 20), date(2026, 11, 20))
        )
        assert reads == []
        seen = [len(reads) for _ in stream]
    # One file at a time: the second is opened only after the first was sent.
    assert seen[0] == 0 and 1 in seen and seen[-1] == 2
    assert seen.index(2) > seen.index(1)


def test_the_scope_and_the_session_hold_while_the_body_streams(
    app, world, recorded, client, monkeypatch
):
    """The body is read after the view returned: inside the request's context still
    (``stream_with_context``), narrowed to the circle, with a usable session; the
    scope is reset only once the last byte is sent."""
    from flask import has_request_context

    from pbx_platform import tenancy
    from tenants.models import Circle

    add_recording(app, world.a, NOW)
    seen = []
    real_iter = recording_archive._StoredFile.__iter__

    def watching(self):
        scope = tenancy.current_scope()
        circle = db.session.scalars(select(Circle)).one()  # the scope alone filters
        seen.append((has_request_context(), scope.circle_id, circle.id))
        return real_iter(self)

    monkeypatch.setattr(recording_archive._StoredFile, "__iter__", watching)
    response = client.get("/portal/recording/archive.zip?from=2026-11-20&to=2026-11-20")
    assert seen == []  # nothing read before the body is
    assert len(response.data) == int(response.headers["Content-Length"])
    assert seen == [(True, world.a.circle_id, world.a.circle_id)]
    assert tenancy.current_scope() is None  # reset at the request's end
