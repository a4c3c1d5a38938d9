"""Throughput and SQL statements per request of the hottest paths, in-process.

Runs the Flask test client (no network, no server) against a fresh SQLite
database migrated to head and loaded with the demo data, and measures:

* the circle portal's home page (``GET /portal/`` as ``sakura-1-1``),
* the reseller staff dashboard (``GET /staff/`` as ``admin@sakura.example``),
* the circle login (``POST /login``), whose cost is the argon2id verification
  at the production parameters (also timed on its own).

Requests/s and latencies are wall-clock, single-threaded; CPU ms per request
(``time.process_time``) is the figure to compare when the machine is busy.

CSRF and rate limits are switched off so that every request does the work a
real one does and none is refused. Usage, from the repository root::

    .venv/bin/python bench/bench_login_and_pages.py [--requests 300] [--logins 30]

The output is Markdown, ready for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event

from pbx_platform import create_app, passwords
from pbx_platform.db import db
from tenants import demo

HOST = "http://sakura.localhost"
CIRCLE_LOGIN = {"login_id": "sakura-1-1", "password": demo.DEMO_PASSWORD}
STAFF_LOGIN = {"email": "admin@sakura.example", "password": demo.DEMO_PASSWORD}


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    cpu_seconds: float
    latencies_ms: list[float]
    statements: list[int]

    def row(self) -> str:
        statements = sorted(set(self.statements))
        shown = str(statements[0]) if len(statements) == 1 else f"{statements[0]}–{statements[-1]}"
        p95 = statistics.quantiles(self.latencies_ms, n=20)[-1]
        return (
            f"| {self.name} | {self.requests / self.seconds:,.0f} "
            f"| {statistics.median(self.latencies_ms):.1f} | {p95:.1f} "
            f"| {self.cpu_seconds * 1000 / self.requests:.1f} | {shown} |"
        )


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1


def build_app(directory: str) -> Flask:
    os.environ.pop("MIGRATE_DATABASE_URL", None)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(directory) / 'bench.sqlite3'}",
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        demo.load(app.config["BASE_DOMAIN"], app.config["CONSOLE_HOST"])
        db.session.commit()
    return app


def logged_in(app: Flask, path: str, form: dict[str, str]) -> FlaskClient:
    client = app.test_client()
    response = client.post(path, base_url=HOST, data=form)
    assert response.status_code == 302, f"login at {path} failed: {response.status_code}"
    return client


def measure(
    name: str, counter: StatementCounter, count: int, request: Callable[[], Any], status: int
) -> Result:
    for _ in range(min(5, count)):  # warm the caches (templates, statements)
        request()
    latencies, statements = [], []
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(count):
        counter.count = 0
        begin = time.perf_counter()
        response = request()
        latencies.append((time.perf_counter() - begin) * 1000)
        statements.append(counter.count)
        assert response.status_code == status, f"{name}: {response.status_code}"
    return Result(
        name,
        count,
        time.perf_counter() - started,
        time.process_time() - cpu_started,
        latencies,
        statements,
    )


def argon2_verify_ms(rounds: int) -> float:
    hashed = passwords.hash_password(demo.DEMO_PASSWORD)
    started = time.perf_counter()
    for _ in range(rounds):
        assert passwords.verify_password(hashed, demo.DEMO_PASSWORD)
    return (time.perf_counter() - started) * 1000 / rounds


def machine() -> list[str]:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="page requests per path")
    parser.add_argument("--logins", type=int, default=30, help="login POSTs")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        app = build_app(directory)
        counter = StatementCounter()
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", counter)

        circle = logged_in(app, "/login", CIRCLE_LOGIN)
        staff = logged_in(app, "/staff/login", STAFF_LOGIN)
        results = [
            measure(
                "Circle portal home `GET /portal/`",
                counter,
                args.requests,
                lambda: circle.get("/portal/", base_url=HOST),
                200,
            ),
            measure(
                "Staff dashboard `GET /staff/`",
                counter,
                args.requests,
                lambda: staff.get("/staff/", base_url=HOST),
                200,
            ),
            measure(
                "Circle login `POST /login`",
                counter,
                args.logins,
                lambda: app.test_client().post("/login", base_url=HOST, data=CIRCLE_LOGIN),
                302,
            ),
        ]
        with app.app_context():
            db.engine.dispose()

    verify_ms = argon2_verify_ms(max(5, args.logins // 2))
    print("Machine:\n")
    print("\n".join(machine()))
    print()
    print("| Path | Requests/s | Median ms | p95 ms | CPU ms/request | SQL statements/request |")
    print("|---|---:|---:|---:|---:|---:|")
    for result in results:
        print(result.row())
    print()
    print(
        f"argon2id verification alone (m={passwords.HASH_PARAMETERS['memory_cost']} KiB, "
        f"t={passwords.HASH_PARAMETERS['time_cost']}, p=1): {verify_ms:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
