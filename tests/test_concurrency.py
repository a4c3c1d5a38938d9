"""Races between parallel requests, on PostgreSQL with real parallel connections.

Each test here commits its data (the usual rolled-back test transaction cannot be
seen by other connections), drives the app from threads, each with its own client
and its own database connection as the app role, and empties the database afterwards.
On SQLite (one writer at a time, no row locks) they skip, saying why.

* R11 cart: one open cart per owner and target, additions are atomic.
* The audit trail: a row records exactly what its own statement changed.
* Settings forms: of parallel saves from forms opened at one version, one wins.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import scoped_session, sessionmaker

from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import use_scope
from tenants.models import Circle, Unique, UniqueKind
from tenants.options.models import Cart, CartLine, CartStatus, CircleOption, OptionKind
from tenants.services import provisioning
from tests.conftest import CSRF_TOKEN, PortalClient
from tests.factories import PASSWORD, World, build_world
from themes.models import Theme

pytestmark = pytest.mark.postgres

PARALLEL = 20


@contextmanager
def committed_world(
    app: Flask, database_urls: tuple[str, str], *, skip_reason: str
) -> Iterator[World]:
    """A world committed through the app's own engine (as the app role), visible to
    every connection; the database is emptied again afterwards (as the owner). Skips
    with ``skip_reason`` on SQLite."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip(skip_reason)
    rolled_back = db.session
    db.session = scoped_session(sessionmaker(bind=engine), scopefunc=rolled_back.registry.scopefunc)
    try:
        with app.app_context():
            world = build_world()
            db.session.remove()
        yield world
    finally:
        with app.app_context():
            db.session.remove()
        db.session = rolled_back
        _empty_database(database_urls[0])


@pytest.fixture
def committed(app: Flask, database_urls: tuple[str, str]) -> Iterator[World]:
    with committed_world(
        app,
        database_urls,
        skip_reason="races need parallel connections to PostgreSQL (TEST_DATABASE_URL)",
    ) as world:
        yield world


def _empty_database(owner_url: str) -> None:
    owner = create_engine(owner_url)
    with owner.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                # The schema's own state stays: its version and the RLS signing key.
                "AND tablename NOT IN ('alembic_version', 'rls_scope_key')"
            )
        ).scalars()
        conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    owner.dispose()


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once, each in its own thread (its own app context, session and
    connection), released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def client_of(app: Flask, host: str) -> PortalClient:
    client = PortalClient(app.test_client(), host)
    assert client.post("/locale", {"locale": "en", "next": "/"}).status_code == 302
    return client


def circle_login(app: Flask, world: World) -> PortalClient:
    client = client_of(app, world.a.host)
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    return client


def staff_login(app: Flask, world: World, role: str = "admin") -> PortalClient:
    client = client_of(app, world.a.host)
    assert client.login_staff(world.a.staff[role], PASSWORD).status_code == 302
    return client


def form_token(client: PortalClient, path: str) -> str:
    found = CSRF_TOKEN.search(client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def read(app: Flask, world: World, query: Any) -> list[Any]:
    with app.app_context(), use_scope(world.a.scope):
        return list(db.session.execute(query).all())


# -- R11: the cart ----------------------------------------------------------------------------


def test_parallel_additions_of_one_licence_end_as_one_cart_holding_all_of_them(
    app: Flask, committed: World
) -> None:
    world = committed
    clients = [circle_login(app, world) for _ in range(PARALLEL)]
    tokens = [form_token(client, "/portal/options") for client in clients]

    def add(client: PortalClient, token: str) -> Callable[[], int]:
        form = {"action": "buy", "count_monitoring": "1", "csrf_token": token}
        return lambda: client.post("/portal/options/cart", form).status_code

    statuses = in_parallel([add(c, t) for c, t in zip(clients, tokens, strict=True)])

    assert statuses == [302] * PARALLEL
    carts = read(
        app, world, select(Cart.id, Cart.status).where(Cart.circle_id == world.a.circle_id)
    )
    assert [status for _, status in carts] == [CartStatus.OPEN]
    lines = read(
        app, world, select(CartLine.kind, CartLine.quantity).where(CartLine.cart_id == carts[0][0])
    )
    assert lines == [(OptionKind.MONITORING, PARALLEL)]


def test_parallel_confirmations_of_one_cart_apply_it_once_with_one_audit_entry_each(
    app: Flask, committed: World
) -> None:
    world = committed
    first = circle_login(app, world)
    assert first.post("/portal/options/cart", {"action": "buy", "tick_ivr": "1"}).status_code == 302
    page = first.get("/portal/cart").get_data(as_text=True)
    cart_id = re.search(r'name="cart_id" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    clients = [first, *(circle_login(app, world) for _ in range(PARALLEL - 1))]
    tokens = [form_token(client, "/portal/cart") for client in clients]

    def confirm(client: PortalClient, token: str) -> Callable[[], int]:
        form = {"cart_id": cart_id, "csrf_token": token}
        return lambda: client.post("/portal/cart/confirm", form).status_code

    in_parallel([confirm(c, t) for c, t in zip(clients, tokens, strict=True)])

    held = read(
        app,
        world,
        select(CircleOption.kind).where(
            CircleOption.circle_id == world.a.circle_id, CircleOption.kind == OptionKind.IVR
        ),
    )
    assert held == [(OptionKind.IVR,)]
    version = read(app, world, select(Circle.options_version).where(Circle.id == world.a.circle_id))
    assert version == [(1,)]
    audited = read(
        app,
        world,
        select(AuditLog.object_type, func.count())
        .where(AuditLog.action == "cart.confirm")
        .group_by(AuditLog.object_type),
    )
    # What one confirmation changes: the circle's options version, the new option, the cart.
    assert dict(audited) == {"circle": 1, "circle_option": 1, "cart": 1}


def test_a_confirmation_that_loses_the_race_records_nothing_under_its_user(
    app: Flask, committed: World
) -> None:
    """Two logins, each with a cart opened at the same options version: one confirms,
    the other is stale. The loser's request changed nothing, so it records nothing —
    not the winner's version change re-read after its own UPDATE matched no row."""
    world = committed
    base = f"/staff/circles/{world.a.circle_id}"
    circle = circle_login(app, world)
    admins = [staff_login(app, world) for _ in range(PARALLEL // 2)]
    assert (
        circle.post("/portal/options/cart", {"action": "buy", "tick_ivr": "1"}).status_code == 302
    )
    assert (
        admins[0].post(f"{base}/options/cart", {"action": "buy", "tick_call_recording": "1"})
    ).status_code == 302
    ids = {}
    for client, path in ((circle, "/portal/cart"), (admins[0], f"{base}/cart")):
        page = client.get(path).get_data(as_text=True)
        ids[path] = re.search(r'name="cart_id" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    calls = []
    for client in admins:
        form = {"cart_id": ids[f"{base}/cart"], "csrf_token": form_token(client, f"{base}/cart")}
        calls.append(lambda c=client, f=form: c.post(f"{base}/cart/confirm", f).status_code)
    circles = [circle, *(circle_login(app, world) for _ in range(PARALLEL // 2 - 1))]
    for client in circles:
        form = {"cart_id": ids["/portal/cart"], "csrf_token": form_token(client, "/portal/cart")}
        calls.append(lambda c=client, f=form: c.post("/portal/cart/confirm", f).status_code)

    in_parallel(calls)

    kinds = read(
        app, world, select(CircleOption.kind).where(CircleOption.circle_id == world.a.circle_id)
    )
    assert len(kinds) == 1 and kinds[0][0] in {OptionKind.IVR, OptionKind.CALL_RECORDING}
    rows = read(
        app,
        world,
        select(AuditLog.actor_kind, AuditLog.object_type, AuditLog.before, AuditLog.after).where(
            AuditLog.action == "cart.confirm", AuditLog.object_type == "circle"
        ),
    )
    assert len(rows) == 1
    winner = "circle" if kinds[0][0] == OptionKind.IVR else "reseller"
    assert rows[0] == (winner, "circle", {"options_version": 0}, {"options_version": 1})


# -- settings forms: the theme ------------------------------------------------------------------


THEME = {
    "product_name": "Alpha Phone",
    "primary_color": "#1f4e8c",
    "accent_color": "#e8f0fb",
    "support_phone": "",
    "support_email": "help@alpha.test",
    "footer_text": "",
}


def test_parallel_theme_saves_from_one_opened_form_keep_exactly_one(
    app: Flask, committed: World
) -> None:
    world = committed
    clients = [staff_login(app, world) for _ in range(PARALLEL // 2)]
    forms = []
    for number, client in enumerate(clients):
        page = client.get("/staff/theme").get_data(as_text=True)
        version = re.search(r'name="edit_version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
        token = CSRF_TOKEN.search(page).group(1)  # type: ignore[union-attr]
        forms.append(
            {
                **THEME,
                "footer_text": f"saved by {number}",
                "edit_version": version,
                "csrf_token": token,
            }
        )

    def save(client: PortalClient, form: dict[str, str]) -> Callable[[], str]:
        return lambda: client.post("/staff/theme", form, follow_redirects=True).get_data(
            as_text=True
        )

    pages = in_parallel([save(c, f) for c, f in zip(clients, forms, strict=True)])

    saved = [page for page in pages if "The branding has been saved." in page]
    stale = [
        page for page in pages if "Someone else changed this page after you opened it." in page
    ]
    assert (len(saved), len(stale)) == (1, len(clients) - 1)
    ((footer, version),) = read(
        app,
        world,
        select(Theme.footer_text, Theme.edit_version).where(
            Theme.reseller_id == world.a.reseller_id
        ),
    )
    assert version == 1
    winner = footer.removeprefix("saved by ")
    assert f'value="saved by {winner}"' in saved[0]
    assert all(f'value="saved by {winner}"' in page for page in stale)  # the current values
    updates = read(app, world, select(func.count()).where(AuditLog.action == "theme.update"))
    assert updates == [(1,)]


def test_parallel_saves_of_the_recording_ticks_from_one_opened_page_keep_exactly_one(
    app: Flask, committed: World
) -> None:
    """A page that edits a set of rows (a refusal tick per phone) locks on its owner,
    the circle: of parallel saves, one set of ticks is kept whole, never a mix."""
    world = committed
    with app.app_context(), use_scope(world.a.scope):
        circle = db.session.get(Circle, world.a.circle_id)
        assert circle is not None
        provisioning.add_circle_option(
            circle, OptionKind.CALL_RECORDING, quantity=1, starts_on=date(2026, 1, 1)
        )
        phones = list(
            db.session.scalars(
                select(Unique.id).where(
                    Unique.circle_id == circle.id, Unique.kind == UniqueKind.PHONE
                )
            )
        )
        db.session.commit()
    clients = [circle_login(app, world) for _ in range(PARALLEL // 2)]
    forms = []
    for number, client in enumerate(clients):
        page = client.get("/portal/recording").get_data(as_text=True)
        version = re.search(r'name="edit_version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
        token = CSRF_TOKEN.search(page).group(1)  # type: ignore[union-attr]
        ticked = [str(phones[number % len(phones)])]
        forms.append({"refuse": ticked, "edit_version": version, "csrf_token": token})

    def save(client: PortalClient, form: dict[str, Any]) -> Callable[[], str]:
        return lambda: client.post("/portal/recording", form, follow_redirects=True).get_data(
            as_text=True
        )

    pages = in_parallel([save(c, f) for c, f in zip(clients, forms, strict=True)])

    saved = [page for page in pages if "The recording settings have been saved." in page]
    assert len(saved) == 1
    assert sum("Someone else changed this page" in page for page in pages) == len(clients) - 1
    refused = read(
        app,
        world,
        select(Unique.id).where(
            Unique.circle_id == world.a.circle_id, Unique.recording_refused.is_(True)
        ),
    )
    assert len(refused) == 1
    version = read(
        app, world, select(Circle.recording_edit_version).where(Circle.id == world.a.circle_id)
    )
    assert version == [(1,)]
