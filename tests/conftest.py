"""Test harness: one migrated database per run, one rolled-back transaction per test.

SQLite by default; with TEST_DATABASE_URL=postgresql://owner@host/any the run makes a
fresh database on that server, migrates it as the owner, and the app connects as
the unprivileged application role, so row-level security is live in every test.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import Connection, NestedTransaction, RootTransaction, create_engine, make_url, text
from sqlalchemy.orm import scoped_session, sessionmaker

from pbx_platform import create_app, passwords
from pbx_platform.db import db
from pbx_platform.extensions import limiter
from tests.factories import World, build_world
from tests.mail_server import SmtpServer

# Hashing at OWASP's cost makes each factory login ~50 ms; the suite hashes with a
# cheap argon2id instead (test_passwords checks the production parameters).
passwords.configure_hasher(time_cost=1, memory_cost=1024)

CSRF_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
EDIT_VERSION = re.compile(r'name="edit_version" value="(\d+)"')
APP_ROLE = "pbx_app"
T = TypeVar("T")


def _postgres_urls(owner_url: str) -> tuple[str, str, str]:
    """Create a fresh database; return (owner url, app url, name)."""
    url = make_url(owner_url)
    name = f"pbx_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    owner = url.set(database=name)
    app = owner.set(username=APP_ROLE, password=None)
    return (
        owner.render_as_string(hide_password=False),
        app.render_as_string(hide_password=False),
        name,
    )


def _drop_postgres(owner_url: str, name: str) -> None:
    admin = create_engine(
        make_url(owner_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_urls() -> Iterator[tuple[str, str]]:
    owner_url = os.environ.get("TEST_DATABASE_URL", "")
    if owner_url.startswith("postgresql"):
        owner, app_url, name = _postgres_urls(owner_url)
        yield owner, app_url
        _drop_postgres(owner_url, name)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'test.sqlite3'}"
            yield url, url


@pytest.fixture(scope="session")
def app(
    database_urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    owner_url, app_url = database_urls
    os.environ["MIGRATE_DATABASE_URL"] = owner_url
    app = create_app(
        {
            "TESTING": True,
            "ENV": "testing",
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": app_url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "WTF_CSRF_ENABLED": True,
            # Mails of tests that do not read them (no ``mailbox``) land here.
            "MAIL_DIR": str(tmp_path_factory.mktemp("mail")),
            "STORAGE_DIR": str(tmp_path_factory.mktemp("recordings")),
        }
    )
    with app.app_context():
        upgrade()
    os.environ.pop("MIGRATE_DATABASE_URL", None)
    yield app
    with app.app_context():
        db.engine.dispose()


class SharedDatabase:
    """A connection whose transaction lasts a whole module (``shared_database``).

    What ``build`` makes is written inside that transaction, once; each test of the
    module then runs in a savepoint of it and is rolled back to the savepoint, so the
    tests share what was built and none sees another's changes. At the module's end
    the transaction is rolled back, and the next module starts from the migrated,
    empty database like every other test."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        with app.app_context():
            self.connection = db.engine.connect()
        self.transaction = self.connection.begin()

    def build(self, make: Callable[[], T]) -> T:
        """``make()`` in an application context whose session writes into the module's
        transaction (its commits are savepoint releases). Return plain values (ids), not
        ORM objects: every test has its own session."""
        with self.app.app_context(), _session_on(self.connection):
            return make()

    def close(self) -> None:
        self.transaction.rollback()
        self.connection.close()


@contextmanager
def _session_on(connection: Connection) -> Iterator[None]:
    """Inside an application context: ``db.session`` works on ``connection``, its
    commits releasing savepoints inside the transaction already begun there."""
    original = db.session
    db.session = _session_bound_to(connection, original)
    try:
        yield
    finally:
        db.session.remove()
        db.session = original


def _session_bound_to(connection: Connection, original: Any) -> Any:
    return scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=original.registry.scopefunc,
    )


@pytest.fixture(scope="module")
def shared_database(app: Flask) -> Iterator[SharedDatabase]:
    """One transaction for the module, for fixtures that build once per module
    (``shared_database.build(build_world)``); ``_transaction`` nests each test in it."""
    shared = SharedDatabase(app)
    try:
        yield shared
    finally:
        shared.close()


@pytest.fixture(autouse=True)
def _transaction(app: Flask, request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test runs inside one transaction that is rolled back at its end; the
    app's commits become savepoint releases. In a module that uses
    ``shared_database`` the test's transaction is a savepoint of the module's."""
    shared: SharedDatabase | None = None
    if "shared_database" in request.fixturenames:
        shared = request.getfixturevalue("shared_database")
    # No app context stays pushed during the test: each request pushes its own, as in
    # production, so nothing in ``g`` leaks from one request to the next.
    outer: RootTransaction | NestedTransaction
    with app.app_context():
        if shared is None:
            connection = db.engine.connect()
            outer = connection.begin()
        else:
            connection = shared.connection
            outer = connection.begin_nested()
        original = db.session
        db.session = _session_bound_to(connection, original)
        limiter.reset()
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
            outer.rollback()
            if shared is None:
                connection.close()
            db.session = original


@pytest.fixture
def world(app: Flask) -> World:
    """Two resellers (A and B) with accounts, circles, uniques and staff of every role."""
    with app.app_context():
        return build_world()


class PortalClient:
    """A browser on one host: keeps cookies, fetches CSRF tokens like a user's form would."""

    def __init__(self, client: FlaskClient, host: str) -> None:
        self.client = client
        self.base_url = f"http://{host}"

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, base_url=self.base_url, **kwargs)

    def token(self, path: str = "/healthz") -> str:
        """A CSRF token as a form on one of the host's pages carries it."""
        return self.hidden_fields(path)[0]

    def hidden_fields(self, path: str) -> tuple[str, str | None]:
        """(CSRF token, the ``edit_version`` of the page's settings form or None), as a
        form on one of the host's pages carries them; the version only from ``path``."""
        for page in (path, "/login", "/staff/login", "/console/login"):
            html = self.get(page).get_data(as_text=True)
            found = CSRF_TOKEN.search(html)
            if found:
                version = EDIT_VERSION.search(html) if page == path else None
                return found.group(1), version.group(1) if version else None
        raise AssertionError("no page offered a CSRF token")

    def post(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        csrf: bool = True,
        token_from: str | None = None,
        **kwargs: Any,
    ) -> Any:
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            # What a browser submits: the form's hidden fields as the page rendered them.
            data["csrf_token"], version = self.hidden_fields(token_from or path)
            if version is not None:
                data.setdefault("edit_version", version)
        return self.client.post(path, base_url=self.base_url, data=data, **kwargs)

    def login_circle(self, login_id: str, password: str) -> Any:
        return self.post("/login", {"login_id": login_id, "password": password})

    def login_staff(self, email: str, password: str) -> Any:
        return self.post("/staff/login", {"email": email, "password": password})

    def login_console(self, email: str, password: str) -> Any:
        return self.post("/console/login", {"email": email, "password": password})


@pytest.fixture
def browser(app: Flask) -> Any:
    """``browser("a.localhost")`` → a PortalClient with its own cookie jar."""

    def make(host: str) -> PortalClient:
        return PortalClient(app.test_client(), host)

    return make


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(app: Flask, smtp_server: SmtpServer) -> Iterator[SmtpServer]:
    """The app sends through a real SMTP server on loopback (aiosmtpd) for this test;
    ``mailbox.messages`` is what it received."""
    saved = {key: app.config[key] for key in ("MAIL_HOST", "MAIL_PORT", "MAIL_SECURITY")}
    app.config.update(MAIL_HOST="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_SECURITY="none")
    smtp_server.clear()
    try:
        yield smtp_server
    finally:
        app.config.update(saved)
