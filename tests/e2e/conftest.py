"""Browser tests: a live server on its own SQLite file, and Debian's Chromium.

Playwright (pinned in pyproject.toml) drives the Chromium of Debian's ``chromium``
package; it never downloads a browser of its own. ``CHROMIUM_EXECUTABLE`` points at another
executable. Without one, the browser tests are skipped with the reason printed
(``-ra``), except under ``CI=true``, where a missing browser fails the run.

The live server does not use the per-test rolled-back transaction of
``tests/conftest.py``: the server answers from its own threads, which cannot see
that uncommitted transaction. It migrates and seeds a temporary SQLite file of its
own, also when ``TEST_DATABASE_URL`` points the rest of the suite at PostgreSQL
(row-level security is covered by the other tests; these check what a user sees).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import BaseWSGIServer, make_server

from pbx_platform import create_app
from pbx_platform.db import db
from tests.factories import World, build_world

DEFAULT_CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM = os.environ.get("CHROMIUM_EXECUTABLE", "") or DEFAULT_CHROMIUM
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    """Skip the browser tests; under CI a missing browser is a failure, not a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _transaction() -> Iterator[None]:
    """Replaces the rolled-back transaction of tests/conftest.py: the live server
    commits to its own database."""
    yield


@dataclass
class LiveServer:
    app: Flask
    world: World
    port: int

    def url(self, host: str, path: str = "/") -> str:
        """``host`` is a reseller host such as ``alpha.localhost``; Chromium resolves
        every ``*.localhost`` name to the loopback address."""
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = tmp_path_factory.mktemp("e2e") / "e2e.sqlite3"
    url = f"sqlite:///{database}"
    app = create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "e2e-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_STORAGE_URI": "memory://",
            # No mail host: the mails are files here, which the tests read.
            "MAIL_HOST": "",
            "MAIL_DIR": str(tmp_path_factory.mktemp("e2e-mail")),
            # Recordings and prompts in a temporary store, not the checkout's instance/.
            "STORAGE_DIR": str(tmp_path_factory.mktemp("e2e-recordings")),
        }
    )
    # migrations/env.py prefers MIGRATE_DATABASE_URL: make sure it names this file.
    saved = os.environ.get("MIGRATE_DATABASE_URL")
    os.environ["MIGRATE_DATABASE_URL"] = url
    try:
        with app.app_context():
            upgrade()
    finally:
        if saved is None:
            os.environ.pop("MIGRATE_DATABASE_URL", None)
        else:
            os.environ["MIGRATE_DATABASE_URL"] = saved
    with app.app_context():
        world = build_world()

    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, world=world, port=server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the run."""
    if not Path(CHROMIUM).is_file() or not os.access(CHROMIUM, os.X_OK):
        _unavailable(
            f"Chromium not found at {CHROMIUM}; "
            "install Debian's chromium package to run the browser tests"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed; pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page per test."""
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1100, "height": 800})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()
