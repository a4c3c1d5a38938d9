"""The main pages as their users see them: at 1366 and 390 px wide, every page is
screenshotted, checked with axe-core (no serious or critical violation) and must not
be wider than the window (the layout holds on a phone; wide tables scroll inside
their own box).

Screenshots go to ``$SCREENSHOT_DIR`` (default ``test-output/screenshots``); ``make
screenshots`` copies the ones that the README shows into ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pbx_platform.db import db
from tenants.calls.models import Direction, Disposition
from tenants.options.models import OptionKind
from tenants.services import provisioning
from tests.call_helpers import add_call, add_recording
from tests.e2e.conftest import LiveServer
from tests.factories import in_circle
from tests.option_helpers import give_option, uniques_of

WIDTHS = (1366, 390)
SERIOUS = {"serious", "critical"}
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", "test-output/screenshots"))


@dataclass(frozen=True)
class Visit:
    name: str  # the screenshot's file name, without the width
    path: str


def _login(page: Any, server: LiveServer, who: str) -> str:
    """Log ``who`` in (``operator``, a staff role of tenant A, or ``circle``) and return
    the host that its pages live on."""
    world = server.world
    if who == "operator":
        host = "localhost"
        page.goto(server.url(host, "/console/login"))
        form = page.locator("main form[action='/console/login']")
        form.locator("#email").fill(world.operator_email)
    elif who == "circle":
        host = world.a.host
        page.goto(server.url(host, "/login"))
        form = page.locator("main form[action='/login']")
        # The other circle: the forced-change test gives the first one a new password.
        form.locator("#login_id").fill(world.a.other_circle_login)
    else:
        host = world.a.host
        page.goto(server.url(host, "/staff/login"))
        form = page.locator("main form[action='/staff/login']")
        form.locator("#email").fill(world.a.staff[who])
    form.locator("#password").fill(world.password)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert not re.search(r"/login$", page.url), f"{who} could not log in ({page.url})"
    return host


def _visits(server: LiveServer, who: str) -> list[Visit]:
    a = server.world.a
    if who == "operator":
        return [
            Visit("console-home", "/console/"),
            Visit("console-accounts", "/console/accounts"),
            Visit("console-reseller", f"/console/resellers/{a.reseller_id}"),
            Visit("console-audit", "/console/audit"),
            Visit("console-api-clients", "/console/api-clients"),
            Visit("console-api-client-new", "/console/api-clients/new"),
        ]
    if who == "circle":
        return [
            Visit("circle-home", "/portal/"),
            Visit("circle-uniques", "/portal/uniques"),
            Visit("circle-options", "/portal/options"),
            Visit("circle-settings", "/portal/settings"),
            Visit("circle-sessions", "/portal/sessions"),
        ]
    return [
        Visit("staff-home", "/staff/"),
        Visit("staff-account", f"/staff/accounts/{a.account_id}"),
        Visit("staff-account-options", f"/staff/accounts/{a.account_id}/options"),
        Visit("staff-circle", f"/staff/circles/{a.circle_id}"),
        Visit("staff-circle-uniques", f"/staff/circles/{a.circle_id}/uniques"),
        Visit("staff-circle-new", f"/staff/accounts/{a.account_id}/circles/new"),
        Visit("staff-circle-password-reset", f"/staff/circles/{a.circle_id}/password-reset"),
        Visit("staff-circle-ring-groups", f"/staff/circles/{a.circle_id}/ring-groups"),
        Visit(
            "staff-circle-ring-group", f"/staff/circles/{a.circle_id}/ring-groups/{a.ring_group_id}"
        ),
        Visit("staff-circle-unique-new", f"/staff/circles/{a.circle_id}/uniques/new"),
        Visit(
            "staff-circle-unique-delete",
            f"/staff/circles/{a.circle_id}/uniques/{a.unique_id}/delete",
        ),
        Visit("staff-circle-import", f"/staff/circles/{a.circle_id}/uniques/import"),
        Visit("staff-audit", "/staff/audit"),
        Visit("staff-customers", "/staff/customers"),
        Visit("staff-customer-new", "/staff/customers/new"),
        Visit("staff-customer-edit", f"/staff/accounts/{a.account_id}/edit"),
        Visit("staff-customer-terminate", f"/staff/accounts/{a.account_id}/terminate"),
        Visit("staff-recording-retention", "/staff/recording-retention"),
    ]


def _login_pages(server: LiveServer) -> list[tuple[str, str, str]]:
    host = server.world.a.host
    return [
        ("login-circle", host, "/login"),
        ("login-staff", host, "/staff/login"),
        ("login-console", "localhost", "/console/login"),
    ]


@pytest.fixture
def wide_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _axe() -> Any:
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:  # pragma: no cover - a dev dependency
        pytest.fail("axe-playwright-python is not installed; pip install -e '.[dev]'")
    return Axe()


def _check(page: Any, axe: Any, name: str, width: int) -> list[str]:
    """Screenshot the page and return what is wrong with it."""
    problems: list[str] = []
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}-{width}.png"), full_page=True)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 1:
        problems.append(f"{name} at {width} px is {overflow} px wider than the window")
    results = axe.run(page)
    for violation in results.response["violations"]:
        if violation.get("impact") in SERIOUS:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            problems.append(
                f"{name} at {width} px: {violation['id']} ({violation['impact']}): "
                f"{violation['help']} — {targets}"
            )
    return problems


@pytest.mark.browser
@pytest.mark.parametrize("who", ["operator", "admin", "circle"])
def test_main_pages_hold_at_desktop_and_phone_width(
    wide_page: Any, live_server: LiveServer, who: str
) -> None:
    page, axe = wide_page, _axe()
    errors: list[str] = []
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.url} → {response.status}") if response.status >= 500 else None
        ),
    )
    host = _login(page, live_server, who)
    problems: list[str] = []
    for visit in _visits(live_server, who):
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(live_server.url(host, visit.path))
            assert response is not None and response.status == 200, (visit, response)
            problems += _check(page, axe, visit.name, width)
    assert errors == []
    assert problems == []


@pytest.mark.browser
def test_login_pages_hold_at_desktop_and_phone_width(
    wide_page: Any, live_server: LiveServer
) -> None:
    page, axe = wide_page, _axe()
    problems: list[str] = []
    for name, host, path in _login_pages(live_server):
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(live_server.url(host, path))
            assert response is not None and response.status == 200, (name, response)
            problems += _check(page, axe, name, width)
    assert problems == []


@pytest.mark.browser
def test_the_api_client_secret_page_holds_at_desktop_and_phone_width(
    wide_page: Any, live_server: LiveServer
) -> None:
    """The page that shows a new API client's secret (once): registered through the form,
    then the list with the client on it."""
    page, axe = wide_page, _axe()
    host = _login(page, live_server, "operator")
    problems: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server.url(host, "/console/api-clients/new"))
        page.locator("#name").fill(f"pbx-tokyo-{width}")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert page.locator("#client-secret").count() == 1
        problems += _check(page, axe, "console-api-client-created", width)
        page.goto(live_server.url(host, "/console/api-clients"))
        problems += _check(page, axe, "console-api-clients-listed", width)


def _recording_states(server: LiveServer) -> None:
    """R6 as a busy circle has it: circle A with a week of recordings, 60 days of
    snapshots and its storage at 92 %; A's other circle (the circle login's) at its
    limit."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from pbx_platform.db import db
    from pbx_platform.japanese import tokyo_today
    from tenants.options.models import OptionKind, RecordingLimit, RecordingStorageDay
    from tests.call_helpers import add_recording
    from tests.factories import in_circle
    from tests.option_helpers import give_option

    app, a = server.app, server.world.a
    now = datetime.now(UTC)
    today = tokyo_today()
    for circle_id, used in ((a.circle_id, 92_000_000_000), (a.other_circle_id, 1_000_000_000)):
        give_option(app, a, OptionKind.CALL_RECORDING, circle_id=circle_id)
        for n in range(12):
            add_recording(
                app, a, now - timedelta(hours=7 * n), size=40_000 + 999 * n, circle_id=circle_id
            )
        with in_circle(app, a, circle_id) as circle:
            for n in range(1, 61):
                db.session.add(
                    RecordingStorageDay(
                        reseller_id=circle.reseller_id,
                        account_id=circle.account_id,
                        circle_id=circle.id,
                        day=today - timedelta(days=n),
                        stored_bytes=max(0, used - n * used // 70),
                    )
                )
            row = db.session.scalars(select(RecordingLimit)).one()
            row.used_bytes = used
            if circle_id == a.other_circle_id:
                row.limit_gb = 1
            db.session.commit()


@pytest.mark.browser
def test_recording_pages_hold_at_desktop_and_phone_width(
    wide_page: Any, live_server: LiveServer
) -> None:
    """R6 recording page: storage with the chart near the limit, the archive preview, a
    circle at its limit, and once recording has ended."""
    from datetime import timedelta

    from pbx_platform.db import db
    from pbx_platform.japanese import tokyo_today
    from tenants.options.models import CircleOption, OptionKind
    from tests.factories import in_circle

    _recording_states(live_server)
    a, today = live_server.world.a, tokyo_today()
    week = f"from={(today - timedelta(days=6)).isoformat()}&to={today.isoformat()}"
    page, axe = wide_page, _axe()
    problems: list[str] = []

    def visit(host: str, name: str, path: str, status: int = 200) -> None:
        nonlocal problems
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(live_server.url(host, path))
            assert response is not None and response.status == status, (name, response)
            problems += _check(page, axe, name, width)

    host = _login(page, live_server, "admin")
    base = f"/staff/circles/{a.circle_id}/recording"
    visit(host, "staff-circle-recording", base)
    assert page.locator("svg.chart title").text_content() == "録音の保存容量（日別）"
    assert page.locator(".usage .warning").is_visible()
    visit(host, "staff-circle-recording-preview", f"{base}/archive?{week}")
    assert "12件" in page.locator(".archive-preview").inner_text()
    page.context.clear_cookies()

    host = _login(page, live_server, "circle")
    visit(host, "circle-recording-at-limit", "/portal/recording")
    assert "ご契約の販売店" in page.locator(".usage .warning").inner_text()
    with in_circle(live_server.app, a, a.other_circle_id):
        option = db.session.query(CircleOption).filter_by(kind=OptionKind.CALL_RECORDING).one()
        option.starts_on, option.ends_on = today - timedelta(days=60), today - timedelta(days=1)
        db.session.commit()
    visit(host, "circle-recording-ended", "/portal/recording")
    visit(host, "circle-recording-ended-archive", f"/portal/recording/archive?{week}", 409)
    _recording_states_undone(live_server)
    assert problems == []


def _recording_states_undone(server: LiveServer) -> None:
    """The live server's database is shared by the pages tests: the circle login's
    circle gets its limit of 100 GB and its exact counter back."""
    from sqlalchemy import func, select

    from pbx_platform.db import db
    from tenants.options.models import Recording, RecordingLimit
    from tests.factories import in_circle

    a = server.world.a
    with in_circle(server.app, a, a.other_circle_id):
        row = db.session.scalars(select(RecordingLimit)).one()
        row.limit_gb = 100
        row.used_bytes = db.session.scalar(select(func.coalesce(func.sum(Recording.size_bytes), 0)))
        db.session.commit()


def _calls_with_recordings(server: LiveServer) -> int:
    """Sixty calls of the last days in the circle the circle login uses (every
    direction and result, some of no unique), the answered ones of today recorded; the
    circle holds full call recording. Returns the circle's id."""
    world, app = server.world, server.app
    circle_id = world.a.other_circle_id
    give_option(
        app, world.a, OptionKind.CALL_RECORDING, circle_id=circle_id, starts_on=date(2026, 1, 1)
    )
    phones = [u.id for u in uniques_of(app, world.a, circle_id=circle_id).values()]
    if not phones:
        with in_circle(app, world.a, circle_id) as circle:
            for extension, name in (("201", "受付"), ("202", "営業部 田中"), ("203", "サポート")):
                phones.append(
                    provisioning.create_unique(circle, extension=extension, display_name=name).id
                )
            db.session.commit()
    now = datetime.now(UTC).replace(microsecond=0)
    directions = [Direction.IN, Direction.OUT, Direction.INTERNAL]
    results = [Disposition.ANSWERED, Disposition.ANSWERED, Disposition.NO_ANSWER, Disposition.BUSY]
    parties = ["+81355550001", "+819012345678", "+81612345678", "anonymous"]
    for i in range(60):
        call = {
            "circle_id": circle_id,
            "unique_id": phones[i % len(phones)] if i % 5 else None,
            "direction": directions[i % 3],
            "disposition": results[i % 4],
            "seconds": 30 + 37 * i,
            "caller": parties[i % 4],
            "called": parties[(i + 1) % 4],
        }
        started = now - timedelta(minutes=23 * i + 5)
        if i < 12 and results[i % 4] == Disposition.ANSWERED:
            add_recording(app, world.a, started, size=16_000 * 5 + 44, **call)
        else:
            add_call(app, world.a, started, **call)
    return circle_id


@pytest.mark.browser
def test_call_pages_hold_at_desktop_and_phone_width(
    wide_page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    """The call history (both portals), its player, the back-fill form and its preview."""
    page, axe = wide_page, _axe()
    circle_id = _calls_with_recordings(live_server)
    problems: list[str] = []

    def look(name: str, path: str | None = None) -> None:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            if path is not None:
                response = page.goto(live_server.url(host, path))
                assert response is not None and response.status == 200, (name, response)
            problems.extend(_check(page, axe, name, width))

    host = _login(page, live_server, "circle")
    look("circle-calls", "/portal/calls")
    # The player streams with ranges: its metadata loads and it seeks.
    audio = page.locator("table.calls audio").first
    duration = audio.evaluate(
        "a => new Promise(done => { a.addEventListener('loadedmetadata', () => done(a.duration));"
        " a.load(); })"
    )
    # 8 kHz mono 16-bit after a 44-byte header: the length the file's size gives.
    size = audio.evaluate(
        "a => fetch(a.src, {headers: {Range: 'bytes=0-0'}})"
        ".then(r => Number(r.headers.get('Content-Range').split('/')[1]))"
    )
    assert duration > 1 and abs(duration - (size - 44) / 16_000) < 0.1
    status = audio.evaluate(
        "a => fetch(a.src, {headers: {Range: 'bytes=100-199'}}).then(r => r.status)"
    )
    assert status == 206

    page.context.clear_cookies()
    host = _login(page, live_server, "admin")
    look("staff-circle-calls", f"/staff/circles/{circle_id}/calls")
    look("staff-circle-call-import", f"/staff/circles/{circle_id}/calls/import")
    upload = tmp_path / "calls.csv"
    header = "call_id,extension,direction,caller,called,started_at,answered_at,ended_at,disposition"
    rows = [
        "bf-1,,in,03-5555-0001,,2026-11-02T09:00:00+09:00,2026-11-02T09:00:04+09:00,"
        "2026-11-02T09:05:00+09:00,answered",
        "bf-2,,out,,090-1234-5678,2026-11-02T10:00:00+09:00,,2026-11-02T10:00:30+09:00,no_answer",
        "bf-3,,sideways,03-5555-0001,,2026-11-02T11:00:00+09:00,,2026-11-02T11:00:30+09:00,busy",
        "bf-4,999,in,03-5555-0001,,yesterday,,2026-11-02T11:00:30+09:00,answered",
    ]
    upload.write_bytes("\r\n".join([header, *rows]).encode("cp932"))
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(live_server.url(host, f"/staff/circles/{circle_id}/calls/import"))
    page.locator("#file").set_input_files(str(upload))
    page.locator("main form[enctype] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#count-new").inner_text().startswith("新規")
    look("staff-circle-call-import-preview")
    assert problems == []
