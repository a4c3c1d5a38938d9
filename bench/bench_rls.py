"""The cost per statement of row-level security on the signed scope claim.

Needs PostgreSQL: BENCH_DATABASE_URL (or TEST_DATABASE_URL) set to an owner URL. The run
makes a fresh database with one circle of ``--uniques`` uniques (bench_uniques.seed),
then times the same statements, ``--rounds`` times each, on one connection:

* as the app role with a valid claim for the circle (policies at three levels, the
  claim's HMAC checked by ``app_scope_level()`` in each initplan, one per level);
* as the owner, a superuser, to whom row-level security does not apply (the baseline);
* ``SELECT app_scope_level(1)`` alone: one verification of the claim.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_rls.py [--uniques 5000] [--rounds 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_uniques

from pbx_platform import rls

STATEMENTS = {
    "primary-key lookup of one unique": "SELECT id FROM unique_entry WHERE id = %(unique)s",
    "count of the circle's uniques": (
        "SELECT count(*) FROM unique_entry WHERE circle_id = %(circle)s"
    ),
    "first page of the unique list (50)": (
        "SELECT id, extension FROM unique_entry WHERE circle_id = %(circle)s "
        "ORDER BY extension LIMIT 50"
    ),
}


def plain_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def time_statement(
    conn: psycopg.Connection[Any], sql: str, params: dict[str, Any], rounds: int
) -> float:
    """Median microseconds of one statement (prepared by the server after a few runs)."""
    samples = []
    for round_ in range(rounds + 20):
        started = time.perf_counter()
        conn.execute(sql, params).fetchall()
        if round_ >= 20:
            samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uniques", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--explain", action="store_true", help="print each statement's plan")
    args = parser.parse_args()
    with bench_uniques.database() as (owner_url, app_url, label):
        if label != "PostgreSQL":
            raise SystemExit("set BENCH_DATABASE_URL to a PostgreSQL owner URL")
        app = bench_uniques.build_app(owner_url, app_url)
        seeded = bench_uniques.seed(app, args.uniques)
        key = rls.derive_key(app.config["SECRET_KEY"])
        params = {"circle": seeded["circle_id"], "unique": seeded["unique_id"]}
        with psycopg.connect(plain_url(owner_url)) as owner:
            circle = owner.execute(
                "SELECT reseller_id, account_id FROM circle WHERE id = %(circle)s", params
            ).fetchone()
        assert circle is not None
        reseller_id, account_id = circle
        with (
            psycopg.connect(plain_url(app_url), autocommit=True) as app_conn,
            psycopg.connect(plain_url(owner_url), autocommit=True) as owner,
        ):
            pid = app_conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            claim = rls.sign_claim(
                key,
                reseller_id=reseller_id,
                account_id=account_id,
                circle_id=seeded["circle_id"],
                bypass=False,
                backend_pid=pid,
            )
            app_conn.execute("SELECT set_config('app.scope', %(c)s, false)", {"c": claim})
            visible = app_conn.execute(STATEMENTS["count of the circle's uniques"], params)
            assert visible.fetchone() == (args.uniques,), "the claim does not open the circle"
            print(
                f"PostgreSQL, one circle of {args.uniques:,} uniques, "
                f"median of {args.rounds:,} runs per statement (µs)\n"
            )
            print(f"  {'statement':<40} {'app role, RLS':>14} {'owner, no RLS':>14} {'cost':>8}")
            for name, sql in STATEMENTS.items():
                with_rls = time_statement(app_conn, sql, params, args.rounds)
                without = time_statement(owner, sql, params, args.rounds)
                print(f"  {name:<40} {with_rls:14.0f} {without:14.0f} {with_rls - without:8.0f}")
            verify = time_statement(app_conn, "SELECT app_scope_level(1)", {}, args.rounds)
            baseline = time_statement(app_conn, "SELECT 1", {}, args.rounds)
            print(f"\n  SELECT app_scope_level(1) {verify:.0f} µs, SELECT 1 {baseline:.0f} µs")
            if args.explain:
                for name, sql in STATEMENTS.items():
                    print(f"\n  EXPLAIN ANALYZE, {name}:")
                    for (line,) in app_conn.execute(f"EXPLAIN ANALYZE {sql}", params):
                        print(f"    {line}")


if __name__ == "__main__":
    main()
