"""The call history stays on its indexes (issue 8: a million calls in one circle): on
PostgreSQL with tens of thousands of calls, analysed, the exact statements of the first
and of a later page, with each filter, are planned without a sequential scan of
``call_record``.

The statements are the ones the service sends (captured from the connection, with the
tenant scope's criteria and the row-level security of the app role in effect), not a
hand-written copy of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, text

from pbx_platform.db import db
from pbx_platform.paging import Cursor, index_order
from pbx_platform.tenancy import TRUSTED
from tenants.calls import history
from tenants.calls.models import Direction
from tests.factories import World, in_circle
from tests.test_concurrency import committed_world

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)
IN_CIRCLE = 50_000
ELSEWHERE = 20_000

# Calls spread over the last 120 days before NOW, every direction and disposition, about
# one in three of no unique (an IVR's), the others on the circle's uniques in turn.
BULK = """
INSERT INTO call_record (reseller_id, account_id, circle_id, call_id, unique_id, extension,
    direction, caller, called, started_at, answered_at, ended_at, talk_seconds,
    disposition, source, created_at)
SELECT c.reseller_id, c.account_id, c.id, :prefix || g, u.id, u.extension,
    (ARRAY['in','out','internal'])[1 + g % 3], '+8135555' || lpad((g % 10000)::text, 4, '0'),
    '201', :now - (g * interval '207 seconds'),
    CASE WHEN g % 4 <> 0 THEN :now - (g * interval '207 seconds') + interval '5 seconds' END,
    :now - (g * interval '207 seconds') + interval '65 seconds',
    CASE WHEN g % 4 <> 0 THEN 60 ELSE 0 END,
    CASE WHEN g % 4 <> 0 THEN 'answered'
         ELSE (ARRAY['no_answer','busy','failed'])[1 + (g / 4) % 3] END,
    'api', :now
FROM generate_series(1, :n) g
JOIN circle c ON c.id = :circle
LEFT JOIN LATERAL (
    SELECT id, extension FROM unique_entry
    WHERE circle_id = c.id AND extension IS NOT NULL AND g % 3 <> 0
    ORDER BY id OFFSET g % 5 LIMIT 1
) u ON true
"""


@pytest.fixture(scope="module")
def loaded(app: Flask, database_urls: tuple[str, str]) -> Iterator[World]:
    """A committed world with 50,000 calls in circle A and 20,000 in each of two other
    circles, analysed; emptied again afterwards."""
    with committed_world(
        app, database_urls, skip_reason="query plans are PostgreSQL's (TEST_DATABASE_URL)"
    ) as world:
        owner = create_engine(database_urls[0])
        with owner.begin() as conn:
            for prefix, circle, n in (
                ("a-", world.a.circle_id, IN_CIRCLE),
                ("o-", world.a.other_circle_id, ELSEWHERE),
                ("b-", world.b.circle_id, ELSEWHERE),
            ):
                conn.execute(text(BULK), {"prefix": prefix, "circle": circle, "n": n, "now": NOW})
        with owner.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("ANALYZE call_record")
            )
        owner.dispose()
        yield world


def _plans(app: Flask, world: World, wanted: history.CallFilter, pages: int) -> list[str]:
    """EXPLAIN of the calls' statement of each of the first ``pages`` pages, following
    the cursors as the page's links do."""
    plans: list[str] = []
    with in_circle(app, world.a) as circle:
        connection = db.session.connection()
        sent: list[tuple[str, Any]] = []

        def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if "FROM call_record" in statement:
                sent.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            cursor: Cursor | None = None
            for _ in range(pages):
                page = history.call_page(circle, wanted, cursor)
                assert len(page.items) == 50, "the filter must leave several pages"
                cursor = Cursor.decode(page.older)
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        assert len(sent) == pages
        for statement, parameters in sent:
            # The same SQL again, as EXPLAIN, planned as the service plans it (the core's
            # marker lets driver SQL through; row-level security still narrows it).
            with index_order():
                rows = connection.exec_driver_sql(
                    "EXPLAIN " + statement, parameters, execution_options=TRUSTED
                ).scalars()
                plans.append("\n".join(rows))
    return plans


FILTERS = {
    "none": {},
    "unique": {"unique": True},
    "direction": {"direction": Direction.OUT},
    "answered": {"answered": True},
    "not answered": {"answered": False},
    "all": {"unique": True, "direction": Direction.OUT, "answered": True},
    "92 days": {"first": date(2026, 8, 21)},
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_no_page_scans_the_calls_table(app, loaded, name):
    options = dict(FILTERS[name])
    if options.pop("unique", False):
        with in_circle(app, loaded.a) as circle:
            options["unique_id"] = next(u.id for u in history.filter_uniques(circle) if u.extension)
    first = options.pop("first", date(2026, 11, 1))
    wanted = history.CallFilter(first=first, last=TODAY, **options)
    plans = _plans(app, loaded, wanted, pages=5)
    for number, plan in enumerate(plans, start=1):
        assert "Seq Scan on call_record" not in plan, f"page {number}:\n{plan}"
        # Walked in the index's order and stopped after the page: no sort of the range.
        assert "Index Scan Backward using ix_call_record_" in plan, f"page {number}:\n{plan}"
        assert "Sort" not in plan, f"page {number}:\n{plan}"


def test_the_plan_check_sees_a_sequential_scan(app, loaded):
    """The check above can fail: a query no index serves is a Seq Scan, even inside
    ``index_order`` (which only makes the other plans look dearer)."""
    with in_circle(app, loaded.a), index_order():
        plan = "\n".join(
            db.session.connection()
            .exec_driver_sql(
                "EXPLAIN SELECT * FROM call_record WHERE talk_seconds = 60",
                execution_options=TRUSTED,
            )
            .scalars()
        )
    assert "Seq Scan on call_record" in plan


def test_the_planner_settings_are_put_back_after_a_page(app, loaded):
    """``index_order`` changes the planner for the page's statement only: the rest of
    the request plans as usual."""
    with in_circle(app, loaded.a) as circle:
        settings = "SELECT current_setting('enable_seqscan'), current_setting('enable_sort')"
        connection = db.session.connection()
        before = connection.exec_driver_sql(settings, execution_options=TRUSTED).one()
        history.call_page(circle, history.CallFilter.default(TODAY))
        after = connection.exec_driver_sql(settings, execution_options=TRUSTED).one()
    assert tuple(before) == tuple(after) == ("on", "on")
