"""One recording played (ranges, so the player seeks) and downloaded (R6)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from tenants.options.models import OptionKind
from tests.call_helpers import add_recording, wav_bytes
from tests.circle_pages import login, text
from tests.option_helpers import give_option

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
SIZE = 5000


@pytest.fixture
def served(app, world, browser):
    with time_machine.travel(NOW, tick=False):
        give_option(app, world.a, OptionKind.CALL_RECORDING)
        rec = add_recording(app, world.a, NOW, size=SIZE, caller="+81355550001")
        client = login(browser, world.a)
        yield client, f"/portal/recording/{rec}.wav", rec


def test_full_get_streams_the_whole_file_inline(served):
    client, url, _ = served
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Length"] == str(SIZE)
    assert response.mimetype == "audio/wav"
    assert response.headers["Content-Disposition"].startswith("inline; ")
    assert response.data[:4] == b"RIFF" and len(response.data) == SIZE
    # Streamed from the storage, not built in memory.
    lazy = client.get(url, buffered=False)
    assert lazy.is_streamed
    lazy.close()


def test_download_is_an_attachment_named_by_date_extension_and_party(served):
    client, url, _ = served
    response = client.get(f"{url}?download=1")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="20261120-120000_-_in_81355550001.wav"'
    )


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        ("bytes=0-99", 0, 100),  # the first bytes
        ("bytes=1000-1999", 1000, 2000),  # the middle
        ("bytes=-100", SIZE - 100, SIZE),  # a suffix
        ("bytes=4000-", 4000, SIZE),  # open-ended
        ("bytes=4990-99999", 4990, SIZE),  # past the end: up to the end
    ],
)
def test_ranges_answer_206_with_exactly_those_bytes(served, header, start, stop):
    client, url, _ = served
    whole = client.get(url).data
    response = client.get(url, headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{SIZE}"
    assert response.headers["Content-Length"] == str(stop - start)
    assert response.data == whole[start:stop]


@pytest.mark.parametrize("header", ["bytes=5000-", "bytes=9000-9999"])
def test_an_unsatisfiable_range_is_416(served, header):
    client, url, _ = served
    response = client.get(url, headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{SIZE}"


def test_a_malformed_or_multiple_range_gets_the_whole_file(served):
    client, url, _ = served
    for header in ("bytes=abc", "bytes=0-1,5-9", "lines=1-2"):
        response = client.get(url, headers={"Range": header})
        assert response.status_code == 200
        assert len(response.data) == SIZE


def test_if_range_with_another_etag_gets_the_whole_file(served):
    client, url, _ = served
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag}).status_code == 206
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status_code == 200


def test_staff_play_it_on_the_circle(app, world, browser, served):
    _, _, rec = served
    with time_machine.travel(NOW, tick=False):
        staff = login(browser, world.a, "support")
        url = f"/staff/circles/{world.a.circle_id}/recording/{rec}.wav"
        assert staff.get(url, headers={"Range": "bytes=0-3"}).data == b"RIFF"


def test_another_circles_recording_is_404(app, world, browser):
    with time_machine.travel(NOW, tick=False):
        give_option(app, world.a, OptionKind.CALL_RECORDING)
        give_option(app, world.a, OptionKind.CALL_RECORDING, circle_id=world.a.other_circle_id)
        other = add_recording(app, world.a, NOW, circle_id=world.a.other_circle_id)
        client = login(browser, world.a)
        assert client.get(f"/portal/recording/{other}.wav").status_code == 404
        assert client.get("/portal/recording/99999999999.wav").status_code == 404


def test_refused_once_recording_has_ended(app, world, browser):
    with time_machine.travel(NOW, tick=False):
        give_option(app, world.a, OptionKind.CALL_RECORDING, ends_on=date(2026, 11, 30))
        rec = add_recording(app, world.a, NOW)
    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), tick=False):
        client = login(browser, world.a)
        for headers in ({}, {"Range": "bytes=0-9"}):
            response = client.get(f"/portal/recording/{rec}.wav?download=1", headers=headers)
            assert response.status_code == 409
            assert "Full call recording is not contracted for this circle." in text(response)


def test_a_non_ascii_name_gets_filename_star():
    from tenants.views.circle_calls import _disposition

    value = _disposition("attachment", "20261120-120000_201_in_受付.wav")
    assert value == (
        'attachment; filename="20261120-120000_201_in___.wav"; '
        "filename*=UTF-8''20261120-120000_201_in_%E5%8F%97%E4%BB%98.wav"
    )
    assert wav_bytes(44)[:4] == b"RIFF"
