"""Time the circle portal's unique pages at 5,000 uniques in one circle.

SQLite (a temporary file) by default. With BENCH_DATABASE_URL or TEST_DATABASE_URL set
to a PostgreSQL owner URL, the run makes a fresh database on that server, migrates it
as the owner and connects as the unprivileged application role, so row-level security
is live as in production; the database is dropped at the end.

    .venv/bin/python bench/bench_uniques.py [--uniques 5000] [--rounds 20]

Prints, for each page, the median, 95th percentile and fastest time of ``--rounds``
requests through the full Flask stack (routing, tenant scope, templates), and the
number of SQL statements the request ran.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, make_url, text

from pbx_platform import create_app, passwords
from pbx_platform.db import db
from pbx_platform.tenancy import Scope, circle_scope, platform_bypass, use_scope
from tenants.models import (
    Carrier,
    Circle,
    RingGroup,
    RingGroupMember,
    StaffKind,
    TerminalType,
    Unique,
)
from tenants.services import circles
from tenants.services import provisioning as p

HOST = "bench.localhost"
PASSWORD = "Bench#Pass2026"  # noqa: S105  (a throw-away database)
APP_ROLE = "pbx_app"


@contextmanager
def database() -> Iterator[tuple[str, str, str]]:
    """(owner URL, app URL, label) of a fresh database, removed afterwards."""
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL", "")
    if not server.startswith("postgresql"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            yield url, url, "SQLite"
        return
    name = f"pbx_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        owner = make_url(server).set(database=name)
        app_url = owner.set(username=APP_ROLE, password=None)
        yield (
            owner.render_as_string(hide_password=False),
            app_url.render_as_string(hide_password=False),
            "PostgreSQL",
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def build_app(owner_url: str, app_url: str) -> Flask:
    os.environ["MIGRATE_DATABASE_URL"] = owner_url
    app = create_app(
        {
            "TESTING": True,
            "ENV": "testing",
            "SECRET_KEY": "bench-secret",
            "SQLALCHEMY_DATABASE_URI": app_url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
    os.environ.pop("MIGRATE_DATABASE_URL", None)
    return app


def seed(app: Flask, count: int) -> dict[str, Any]:
    """One reseller, one circle with ``count`` uniques in four pickup groups, one ring group."""
    passwords.configure_hasher(time_cost=1, memory_cost=1024)
    with app.app_context():
        with platform_bypass("bench.seed"):
            reseller = p.create_reseller(slug="bench", name="Bench", base_domain="localhost")
        with use_scope(Scope(reseller.id)):
            p.create_brand(reseller, product_name="Bench Phone")
            p.create_staff(
                reseller,
                email="admin@bench.test",
                name="admin",
                password=PASSWORD,
                kind=StaffKind.RESELLER,
            )
            account = p.create_account(reseller, company_name="ベンチ株式会社")
            circle = p.create_circle(account, name="本社", login_id="bench", password=PASSWORD)
            circle.extension_length = 5
            db.session.flush()
        with circle_scope(reseller.id, account.id, circle.id):
            groups = [p.default_pickup_group(circle)]
            for name in ("Sales", "Support", "Night"):
                outcome, group = circles.add_pickup_group(circle, name)
                assert outcome.ok and group is not None
                groups.append(group)
            uniques = [
                Unique(
                    reseller_id=circle.reseller_id,
                    account_id=circle.account_id,
                    circle_id=circle.id,
                    pickup_group_id=groups[i % len(groups)].id,
                    extension=str(20000 + i),
                    display_name=f"内線{i:05d} Desk",
                    kind="phone",
                    terminal_type=TerminalType.MOBILE if i % 7 == 0 else TerminalType.SIP_PHONE,
                    carrier=Carrier.DOCOMO if i % 7 == 0 else None,
                    monitoring=i % 5 == 0,
                    whispering=i % 11 == 0,
                )
                for i in range(count)
            ]
            db.session.add_all(uniques)
            db.session.flush()
            ring_group = RingGroup(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                name="代表",
                extension="89999",
            )
            for position, unique in enumerate(uniques[:10]):
                ring_group.members.append(
                    RingGroupMember(
                        reseller_id=circle.reseller_id,
                        account_id=circle.account_id,
                        circle_id=circle.id,
                        unique_id=unique.id,
                        position=position,
                    )
                )
            db.session.add(ring_group)
            db.session.commit()
            return {"circle_id": circle.id, "unique_id": uniques[count // 2].id}


def timed(client: Any, path: str, rounds: int, engine: Any) -> tuple[list[float], int]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    samples = []
    for round_ in range(rounds + 1):  # the first request warms the caches
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        started = time.perf_counter()
        response = client.get(path, base_url=f"http://{HOST}")
        elapsed = time.perf_counter() - started
        event.remove(engine, "before_cursor_execute", count)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
        if round_:
            samples.append(elapsed)
    return samples, len(statements)


def report(label: str, samples: list[float], statements: int) -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"  {label:<44} median {statistics.median(ordered) * 1000:7.1f} ms"
        f"   p95 {p95 * 1000:7.1f} ms   min {ordered[0] * 1000:7.1f} ms"
        f"   {statements:3d} statements"
    )


def login(app: Flask, path: str, data: dict[str, str]) -> Any:
    client = app.test_client()
    response = client.post(path, data=data, base_url=f"http://{HOST}")
    if response.status_code != 302:
        raise SystemExit(f"login failed: HTTP {response.status_code}")
    client.post("/locale", data={"locale": "en", "next": "/"}, base_url=f"http://{HOST}")
    return client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uniques", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)

    with database() as (owner_url, app_url, label):
        app = build_app(owner_url, app_url)
        started = time.perf_counter()
        ids = seed(app, args.uniques)
        print(
            f"{label}: {args.uniques} uniques in one circle (seeded in "
            f"{time.perf_counter() - started:.1f} s), {args.rounds} rounds each"
        )
        with app.app_context():
            engine = db.engine
        portal = login(app, "/login", {"login_id": "bench", "password": PASSWORD})
        staff = login(app, "/staff/login", {"email": "admin@bench.test", "password": PASSWORD})
        staff_prefix = f"/staff/circles/{ids['circle_id']}"
        pages: list[tuple[str, Any, str]] = [
            ("list, page 1 (circle login)", portal, "/portal/uniques"),
            ("list, page 50 (circle login)", portal, "/portal/uniques?page=50"),
            ("list, last page (circle login)", portal, "/portal/uniques?page=100"),
            ("search: extension prefix 245", portal, "/portal/uniques?q=245"),
            ("search: name substring 内線0499", portal, "/portal/uniques?q=%E5%86%85%E7%B7%9A0499"),
            ("search: no match", portal, "/portal/uniques?q=zzz"),
            ("filter: pickup group", portal, "/portal/uniques?group=2"),
            ("list, page 1 (reseller staff)", staff, f"{staff_prefix}/uniques"),
            ("search: name substring (reseller staff)", staff, f"{staff_prefix}/uniques?q=Desk"),
            ("unique detail", portal, f"/portal/uniques/{ids['unique_id']}"),
            ("pickup groups", portal, "/portal/pickup-groups"),
            (
                "R13 confirmation 5→4 (preview of all)",
                portal,
                "/portal/settings/extension-length?length=4",
            ),
        ]
        for name, client, path in pages:
            samples, statements = timed(client, path, args.rounds, engine)
            report(name, samples, statements)
        change = _time_length_change(app, ids["circle_id"])
        print(f"  {'R13 change 5→4 with renumbering (once)':<44} {change * 1000:7.1f} ms")
        with app.app_context():
            db.engine.dispose()
    return 0


def _time_length_change(app: Flask, circle_id: int) -> float:
    """One confirmed change and renumbering of every unique, through the service."""
    with app.app_context():
        with platform_bypass("bench.lookup"):
            found = db.session.get(Circle, circle_id)
            assert found is not None
            reseller_id, account_id = found.reseller_id, found.account_id
        with circle_scope(reseller_id, account_id, circle_id):
            circle = db.session.get(Circle, circle_id)
            assert circle is not None
            started = time.perf_counter()
            plan = circles.plan_length_change(circle, 4)
            circles.change_extension_length(circle, 4, plan.token, renumber=True)
            db.session.commit()
            return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
