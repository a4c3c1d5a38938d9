"""The call history at a million calls in one circle, on PostgreSQL, through the service.

Needs PostgreSQL: BENCH_DATABASE_URL (or TEST_DATABASE_URL) set to an owner URL. The run
makes a fresh database (``bench_uniques.database``) with one circle of 50 uniques,
inserts ``--calls`` calls into it (one INSERT … SELECT over generate_series as the
owner, spread evenly over the last year: about 2,700 a day at a million), plus a
tenth as many in a second circle, runs ANALYZE, then times
``tenants.calls.history.call_page`` as the app role (row-level security on, the scope
narrowed to the circle, as a request does; the circle loaded beforehand, as a request
has it), ``--rounds`` times each:

* the first page and the 100th page (following the cursors) of the default filter (the
  last 7 days), and of the longest range a query may ask (92 days);
* a filtered first page (direction "out"), and one by unique.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_call_history.py [--calls 1000000] [--rounds 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_uniques

from pbx_platform.db import db
from pbx_platform.japanese import tokyo_today
from pbx_platform.paging import Cursor, index_order
from pbx_platform.tenancy import TRUSTED, circle_scope, platform_bypass
from tenants.calls import history
from tenants.calls.models import Direction
from tenants.models import Circle

YEAR_SECONDS = 365 * 24 * 3600
BULK = """
INSERT INTO call_record (reseller_id, account_id, circle_id, call_id, unique_id, extension,
    direction, caller, called, started_at, answered_at, ended_at, talk_seconds,
    disposition, source, created_at)
SELECT c.reseller_id, c.account_id, c.id, :prefix || g, u.id, u.extension,
    (ARRAY['in','out','internal'])[1 + g % 3], '+8135555' || lpad((g % 10000)::text, 4, '0'),
    '201', :now - (g * :step * interval '1 second'),
    CASE WHEN g % 4 <> 0 THEN :now - (g * :step * interval '1 second') + interval '5 s' END,
    :now - (g * :step * interval '1 second') + interval '65 seconds',
    CASE WHEN g % 4 <> 0 THEN 60 ELSE 0 END,
    CASE WHEN g % 4 <> 0 THEN 'answered' ELSE (ARRAY['no_answer','busy','failed'])[1 + g % 3] END,
    'api', :now
FROM generate_series(1, :n) g
JOIN circle c ON c.id = :circle
LEFT JOIN (
    SELECT id, extension, row_number() OVER (ORDER BY id) - 1 AS slot, count(*) OVER () AS n
    FROM unique_entry WHERE circle_id = :circle AND extension IS NOT NULL
) u ON u.slot = g % u.n AND g % 7 <> 0
"""


def load(owner_url: str, circle_id: int, other_circle_id: int | None, calls: int) -> float:
    started = time.perf_counter()
    owner = create_engine(owner_url)
    now = datetime.now(UTC)
    with owner.begin() as conn:
        batches = [("b-", circle_id, calls)]
        if other_circle_id:
            batches.append(("o-", other_circle_id, calls // 10))
        for prefix, circle, n in batches:
            conn.execute(
                text(BULK),
                {"prefix": prefix, "circle": circle, "n": n, "now": now, "step": YEAR_SECONDS / n},
            )
    with owner.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE call_record"))
    owner.dispose()
    return time.perf_counter() - started


@dataclass
class Timing:
    wall: list[float]
    cpu: list[float]
    sql_ms: float  # the calls statement's execution time on the server (EXPLAIN ANALYZE)
    plan: str


def timed(circle: Circle, wanted: history.CallFilter, page_number: int, rounds: int) -> Timing:
    """Seconds to fetch page ``page_number`` (its cursor found once beforehand)."""
    cursor: Cursor | None = None
    for _ in range(page_number - 1):
        page = history.call_page(circle, wanted, cursor)
        cursor = Cursor.decode(page.older)
        assert cursor is not None, "the filter has fewer pages"
    wall, cpu = [], []
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM call_record" in statement:
            sent.append((statement, parameters))

    for round_ in range(rounds + 3):  # the first runs warm the caches
        # Nothing of the last round kept (the rows are read and built again), but the
        # circle itself, which a request has loaded before its view runs.
        for obj in list(db.session):
            if obj is not circle:
                db.session.expunge(obj)
        if round_ == 0:
            event.listen(db.engine, "before_cursor_execute", capture)
        started, started_cpu = time.perf_counter(), time.process_time()
        page = history.call_page(circle, wanted, cursor)
        elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        if round_ == 0:
            event.remove(db.engine, "before_cursor_execute", capture)
        assert len(page.items) == 50
        if round_ >= 3:
            wall.append(elapsed)
            cpu.append(elapsed_cpu)
    statement, parameters = sent[0]
    with index_order():
        lines = list(
            db.session.connection()
            .exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters, execution_options=TRUSTED
            )
            .scalars()
        )
    sql_ms = float(lines[-1].split(":")[1].split()[0])
    scan = next((line.strip() for line in lines if "Scan" in line), "")
    return Timing(wall, cpu, sql_ms, scan.split("  (")[0].lstrip("-> "))


def _ms(values: list[float], quantile: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(quantile * (len(ordered) - 1)))] * 1000


def report(label: str, timing: Timing) -> str:
    return (
        f"| {label} | {statistics.median(timing.wall) * 1000:.1f} | {_ms(timing.wall, 0.95):.1f}"
        f" | {statistics.median(timing.cpu) * 1000:.1f} | {timing.sql_ms:.2f} | {timing.plan} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--explain", action="store_true", help="print the 100th page's plan")
    args = parser.parse_args(argv)
    with bench_uniques.database() as (owner_url, app_url, label):
        if label != "PostgreSQL":
            raise SystemExit("set BENCH_DATABASE_URL to a PostgreSQL owner URL")
        app = bench_uniques.build_app(owner_url, app_url)
        seeded = bench_uniques.seed(app, 50)
        circle_id = seeded["circle_id"]
        with app.app_context(), platform_bypass("bench.lookup"):
            found = db.session.get(Circle, circle_id)
            assert found is not None
            reseller_id, account_id = found.reseller_id, found.account_id
        seconds = load(owner_url, circle_id, None, args.calls)
        print(f"{args.calls:,} calls in one circle loaded and analysed in {seconds:.1f} s\n")
        today = tokyo_today()
        week = history.CallFilter.default(today)
        quarter = history.CallFilter(first=today - timedelta(days=history.MAX_DAYS - 1), last=today)
        rows = [
            "| Page | Median ms | p95 ms | CPU ms (median) | SQL ms (server) | Plan |",
            "|---|---:|---:|---:|---:|---|",
        ]
        with app.app_context(), circle_scope(reseller_id, account_id, circle_id):
            circle = db.session.get(Circle, circle_id)
            assert circle is not None
            unique_id = next(u.id for u in history.filter_uniques(circle))
            cases: list[tuple[str, history.CallFilter, int]] = [
                ("first page, last 7 days", week, 1),
                ("100th page, last 7 days", week, 100),
                ("first page, 92 days", quarter, 1),
                ("100th page, 92 days", quarter, 100),
                ("first page, direction out, 7 days", _with(week, direction=Direction.OUT), 1),
                (
                    "100th page, direction out, 92 days",
                    _with(quarter, direction=Direction.OUT),
                    100,
                ),
                ("first page, one unique, 7 days", _with(week, unique_id=unique_id), 1),
                ("first page, not answered, 92 days", _with(quarter, answered=False), 1),
            ]
            for name, wanted, number in cases:
                rows.append(report(name, timed(circle, wanted, number, args.rounds)))
        print("\n".join(rows))
    return 0


def _with(wanted: history.CallFilter, **changes: Any) -> history.CallFilter:
    values = {**wanted.__dict__, **changes}
    return history.CallFilter(**values)


if __name__ == "__main__":
    raise SystemExit(main())
