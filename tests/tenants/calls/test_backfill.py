"""Staff back-fill of call records from CSV: preview (new, known, rejected by line),
then import; the same rules as the API (``tenants.calls.fields``)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
import time_machine
from flask_babel import force_locale
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.models import AuditLog
from tenants.calls import backfill
from tenants.calls.models import CallRecord, CallSource
from tenants.services.circles.unique_csv import CsvFileError
from tests.call_helpers import add_call
from tests.circle_pages import login, text
from tests.factories import in_circle
from tests.option_helpers import uniques_of

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
HEADER = "call_id,extension,direction,caller,called,started_at,answered_at,ended_at,disposition"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff(world, browser):
    return login(browser, world.a, "admin")


def base(world) -> str:
    return f"/staff/circles/{world.a.circle_id}/calls/import"


def row(call_id: str, extension: str = "", **over: str) -> str:
    values = {
        "direction": "in",
        "caller": "03-5555-0001",
        "called": extension,
        "started_at": "2026-11-19T09:00:00+09:00",
        "answered_at": "2026-11-19T09:00:05+09:00",
        "ended_at": "2026-11-19T09:03:05+09:00",
        "disposition": "answered",
    } | over
    return ",".join([call_id, extension, *(values[k] for k in backfill.fields.FIELDS[2:])])


def upload(client, world, body: bytes):
    return client.post(
        base(world),
        {"file": (io.BytesIO(body), "calls.csv")},
        token_from=base(world),
        content_type="multipart/form-data",
    )


def calls_of(app, world) -> list[CallRecord]:
    with in_circle(app, world.a, world.a.circle_id):
        return list(db.session.scalars(select(CallRecord).order_by(CallRecord.call_id)))


def confirm(client, world, preview_page: str):
    token = re.search(r'name="token" value="([^"]+)"', preview_page)
    assert token
    return client.post(f"{base(world)}/confirm", {"token": token.group(1)}, token_from=base(world))


def test_preview_counts_new_known_and_lists_rejected_rows_then_imports(app, world, staff):
    desk = uniques_of(app, world.a)["受付"]
    add_call(app, world.a, NOW, call_id="known-1")
    body = "\r\n".join(
        [
            HEADER,
            row("new-1", desk.extension or ""),
            row("known-1"),
            row("bad-1", direction="sideways"),
            row("bad-2", "999", ended_at="2026-11-19T08:00:00+09:00"),
            row("new-1"),
            "",
            "too,few",
            row("new-2", disposition="no_answer", answered_at=""),
        ]
    ).encode("utf-8-sig")
    response = upload(staff, world, body)
    assert response.status_code == 200
    page = text(response)
    assert "2 new call(s) to import" in page
    assert "1 already known (left as they are)" in page
    assert "4 rejected row(s) (not imported)" in page
    assert 'data-line="4"' in page and "Direction must be in, out or internal." in page
    assert "There is no unique with extension 999 in this circle." in page
    assert "The end is before the start." in page
    assert "The call ID is also in line 2." in page
    assert 'data-line="8"' in page and "Expected 9 columns, found 2." in page
    assert [c.call_id for c in calls_of(app, world)] == ["known-1"]  # nothing yet

    done = confirm(staff, world, page)
    assert done.status_code == 302
    kept = {c.call_id: c for c in calls_of(app, world)}
    assert set(kept) == {"known-1", "new-1", "new-2"}
    assert kept["new-1"].source == CallSource.CSV
    assert kept["new-1"].unique_id == desk.id
    assert kept["new-1"].caller == "+81355550001"
    assert kept["new-1"].talk_seconds == 180
    assert kept["known-1"].source == CallSource.API
    flashed = text(staff.get(done.headers["Location"]))
    assert "2 call(s) imported, 1 already known, 4 rejected." in flashed
    # Audited under the import's name.
    with in_circle(app, world.a, world.a.circle_id):
        actions = db.session.scalars(
            select(AuditLog.action).where(AuditLog.object_type == "call_record")
        ).all()
    assert actions.count("calls.import") == 2
    # The same confirmation again finds its staged file gone: nothing changes.
    assert confirm(staff, world, page).status_code == 409
    assert len(calls_of(app, world)) == 3


def test_a_cp932_file_is_read(app, world, staff):
    body = (HEADER + "\r\n" + row("sjis-1", called="受付") + "\r\n").encode("cp932")
    page = text(upload(staff, world, body))
    assert "1 new call(s) to import" in page
    assert confirm(staff, world, page).status_code == 302
    assert [c.called for c in calls_of(app, world)] == ["受付"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "Choose a CSV file to import."),
        (b"id,when\r\n1,2\r\n", "The first row must be the header: call_id,extension,"),
        (b"\xff\xfe\x00\x81\x00", "The file is neither UTF-8 nor Shift_JIS (CP932)"),
        ((HEADER + "\r\n").encode(), "The file has no calls to import."),
    ],
)
def test_unreadable_files_are_refused_with_a_message(app, world, staff, body, message):
    response = upload(staff, world, body)
    assert response.status_code == 422
    assert message in text(response)
    assert calls_of(app, world) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            (HEADER + "\r\n" + "\r\n".join(row(f"c{i}") for i in range(20_001))).encode(),
            "Import at most 20000 rows at once.",
        ),
        (HEADER.encode() + b"\r\n" + b"x" * (5 * 2**20), "The file is larger than 5 MB."),
    ],
)
def test_the_limits_are_refused_with_a_message(app, world, body, message):
    # Through the service: the test client leaves its spooled upload of such a body open.
    with in_circle(app, world.a, world.a.circle_id) as circle, force_locale("en"):
        with pytest.raises(CsvFileError, match=re.escape(message)):
            backfill.preview(circle, body, now=NOW)


def test_a_forged_or_foreign_token_imports_nothing(app, world, staff, browser):
    page = text(upload(staff, world, (HEADER + "\r\n" + row("n-1")).encode()))
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token
    forged = staff.post(f"{base(world)}/confirm", {"token": "forged"}, token_from=base(world))
    assert forged.status_code == 409
    # The token names circle A's first circle: on the other circle it is stale.
    other = f"/staff/circles/{world.a.other_circle_id}/calls/import"
    assert (
        staff.post(f"{other}/confirm", {"token": token.group(1)}, token_from=other).status_code
        == 409
    )
    assert calls_of(app, world) == []


def test_a_call_id_of_another_circle_of_the_reseller_is_rejected_at_import(app, world, staff):
    page = text(
        upload(staff, world, (HEADER + "\r\n" + row("dup-1") + "\r\n" + row("ok-1")).encode())
    )
    # Reported meanwhile for the other circle (the id is unique per reseller).
    add_call(app, world.a, NOW, circle_id=world.a.other_circle_id, call_id="dup-1")
    done = confirm(staff, world, page)
    assert "1 call(s) imported, 0 already known, 1 rejected." in text(
        staff.get(done.headers["Location"])
    )
    assert [c.call_id for c in calls_of(app, world)] == ["ok-1"]


def test_the_template_is_a_file_the_import_accepts(app, world, staff):
    template = staff.get(f"{base(world)}/template.csv")
    assert template.status_code == 200
    assert template.data.startswith("\ufeff".encode() + HEADER.encode())
    with in_circle(app, world.a, world.a.circle_id) as circle:
        preview = backfill.preview(circle, template.data, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert (preview.new, preview.known, preview.rejected) == (2, 0, [])


@pytest.mark.parametrize("role", ["billing", "support", "manager"])
def test_only_the_resellers_admins_import(world, browser, role):
    client = login(browser, world.a, role)
    assert client.get(base(world)).status_code == 403
    assert client.get(f"{base(world)}/template.csv").status_code == 403


def test_the_circle_login_cannot_import(world, browser):
    assert login(browser, world.a).get("/portal/calls/import").status_code == 403
