"""R6 call history: day ranges in Japan time, filters, keyset pages, the player."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from pbx_platform.paging import Cursor
from tenants.calls.models import Direction, Disposition
from tenants.options.models import OptionKind
from tests.call_helpers import add_call, add_recording
from tests.circle_pages import login, text, tree_client
from tests.option_helpers import give_option, uniques_of

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 12:00 JST


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _calls(response) -> list[str]:
    return re.findall(r'data-call="(\d+)"', response.get_data(as_text=True))


@pytest.mark.parametrize("kind", ["portal", "staff"])
def test_history_lists_the_last_seven_days_newest_first(app, world, browser, kind):
    old = add_call(app, world.a, NOW - timedelta(days=7))  # 13 Nov JST: outside
    first = add_call(app, world.a, datetime(2026, 11, 13, 15, 0, tzinfo=UTC))  # 14 Nov 00:00 JST
    last = add_call(app, world.a, NOW)
    client, base = tree_client(kind, world, browser)
    response = client.get(f"{base}/calls")
    assert response.status_code == 200
    assert _calls(response) == [str(last), str(first)]
    assert str(old) not in _calls(response)
    page = text(response)
    assert "2026-11-20 12:00 JST" in page
    assert "Call history" in page


def test_day_range_boundaries_are_japan_midnights(app, world, browser):
    before = add_call(app, world.a, datetime(2026, 11, 9, 14, 59, 59, tzinfo=UTC))  # 9 Nov 23:59
    start = add_call(app, world.a, datetime(2026, 11, 9, 15, 0, tzinfo=UTC))  # 10 Nov 00:00
    end = add_call(app, world.a, datetime(2026, 11, 10, 14, 59, 59, tzinfo=UTC))  # 10 Nov 23:59
    after = add_call(app, world.a, datetime(2026, 11, 10, 15, 0, tzinfo=UTC))  # 11 Nov 00:00
    client = login(browser, world.a)
    shown = _calls(client.get("/portal/calls?from=2026-11-10&to=2026-11-10"))
    assert shown == [str(end), str(start)]
    assert str(before) not in shown and str(after) not in shown


def test_filters_by_unique_direction_and_answered(app, world, browser):
    uniques = uniques_of(app, world.a)
    desk = uniques["受付"]
    mine = add_call(app, world.a, NOW - timedelta(hours=1), unique_id=desk.id)
    out = add_call(app, world.a, NOW - timedelta(hours=2), direction=Direction.OUT)
    missed = add_call(app, world.a, NOW - timedelta(hours=3), disposition=Disposition.NO_ANSWER)
    client = login(browser, world.a)
    assert _calls(client.get(f"/portal/calls?unique={desk.id}")) == [str(mine)]
    assert _calls(client.get("/portal/calls?direction=out")) == [str(out)]
    assert _calls(client.get("/portal/calls?answered=no")) == [str(missed)]
    assert str(missed) not in _calls(client.get("/portal/calls?answered=yes"))


def test_another_circles_calls_and_uniques_are_not_there(app, world, browser):
    other = add_call(app, world.a, NOW, circle_id=world.a.other_circle_id)
    foreign = uniques_of(app, world.b, circle_id=world.b.circle_id)["受付"].id
    client = login(browser, world.a)
    assert str(other) not in _calls(client.get("/portal/calls"))
    assert client.get(f"/portal/calls?unique={foreign}").status_code == 404
    assert client.get("/portal/calls?unique=x").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13-01", "From: enter the date as YYYY-MM-DD."),
        ("to=yesterday", "To: enter the date as YYYY-MM-DD."),
        ("from=2026-11-20&to=2026-11-01", "The end date must not be before the start date."),
        ("from=2026-01-01&to=2026-11-20", "Choose at most 92 days at a time."),
        ("direction=sideways", "Choose incoming, outgoing or internal."),
        ("answered=maybe", "Choose answered or not answered."),
    ],
)
def test_bad_filters_say_what_is_wrong(world, browser, query, message):
    client = login(browser, world.a)
    response = client.get(f"/portal/calls?{query}")
    assert response.status_code == 422
    assert message in text(response)


def test_ninety_two_days_are_allowed(world, browser):
    client = login(browser, world.a)
    assert client.get("/portal/calls?from=2026-08-21&to=2026-11-20").status_code == 200


def test_keyset_pages_follow_cursors_both_ways(app, world, browser):
    ids = [add_call(app, world.a, NOW - timedelta(minutes=m)) for m in range(120)]
    # Two calls at the same instant: the id breaks the tie, none is lost or repeated.
    ids.append(add_call(app, world.a, NOW - timedelta(minutes=119)))
    client = login(browser, world.a)
    seen: list[str] = []
    response = client.get("/portal/calls")
    pages = [_calls(response)]
    while True:
        older = re.search(r'href="([^"]+)" rel="next"', response.get_data(as_text=True))
        if not older:
            break
        response = client.get(older.group(1).replace("&amp;", "&"))
        pages.append(_calls(response))
    for page in pages:
        seen += page
    assert [len(p) for p in pages] == [50, 50, 21]
    assert len(seen) == len(set(seen)) == 121
    # Back from the last page: the middle page again.
    newer = re.search(r'href="([^"]+)" rel="prev"', response.get_data(as_text=True))
    assert newer
    assert _calls(client.get(newer.group(1).replace("&amp;", "&"))) == pages[1]


def test_a_bad_cursor_gives_the_first_page(app, world, browser):
    call = add_call(app, world.a, NOW)
    client = login(browser, world.a)
    for cursor in ("garbage", "bzEyMzQ", "x" * 500, "%00"):
        response = client.get(f"/portal/calls?cursor={cursor}")
        assert response.status_code == 200
        assert _calls(response) == [str(call)]


def test_cursor_round_trip():
    at = datetime(2026, 11, 20, 3, 4, 5, 678901, tzinfo=UTC)
    assert Cursor.decode(Cursor(at, 42).encode()) == Cursor(at, 42)
    assert Cursor.decode(Cursor(at, 42, "newer").encode()) == Cursor(at, 42, "newer")
    assert Cursor.decode("") is None


def test_rows_show_party_nationally_talk_time_and_disposition(app, world, browser):
    desk = uniques_of(app, world.a)["受付"]
    add_call(app, world.a, NOW, unique_id=desk.id, seconds=245, caller="+81355550001")
    client = login(browser, world.a)
    page = text(client.get("/portal/calls"))
    assert "03-5555-0001" in page
    assert "4:05" in page
    assert "Answered" in page and "Incoming" in page
    assert f"{desk.extension} 受付" in page


def test_a_recorded_call_has_a_player_and_a_download(app, world, browser):
    give_option(app, world.a, OptionKind.CALL_RECORDING)
    rec = add_recording(app, world.a, NOW)
    client = login(browser, world.a)
    page = client.get("/portal/calls").get_data(as_text=True)
    assert f'<audio controls preload="none" src="/portal/recording/{rec}.wav"' in page
    assert f'href="/portal/recording/{rec}.wav?download=1"' in page


def test_after_recording_ended_the_history_says_why_there_is_no_player(app, world, browser):
    give_option(app, world.a, OptionKind.CALL_RECORDING, ends_on=datetime(2026, 11, 30).date())
    rec = add_recording(app, world.a, NOW)
    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), tick=False):
        client = login(browser, world.a)
        response = client.get("/portal/calls?from=2026-11-20&to=2026-11-20")
        assert response.status_code == 200
        page = text(response)
        assert _calls(response)
        assert "Full call recording has ended: recordings can no longer be played" in page
        assert f"/portal/recording/{rec}.wav" not in page


def test_staff_see_the_import_link_only_with_the_right(world, browser):
    base = f"/staff/circles/{world.a.circle_id}"
    assert "/calls/import" in text(login(browser, world.a, "admin").get(f"{base}/calls"))
    assert "/calls/import" not in text(login(browser, world.a, "billing").get(f"{base}/calls"))
    assert "/calls/import" not in text(login(browser, world.a).get("/portal/calls"))
