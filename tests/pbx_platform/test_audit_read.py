"""The audit trail as people read it (pbx_platform.audit_read): sentences in the reader's
language with the fields that changed, Japan-time day filters, paging and CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import insert

from pbx_platform.audit_read import AuditFilter, describe
from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import use_scope
from tests.circle_pages import pin_locale, text
from tests.factories import PASSWORD, Tenant, World

# 2026-03-31 15:30 UTC is 2026-04-01 00:30 in Japan: the first minutes of a Japan day.
JUST_AFTER_MIDNIGHT_JST = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)
# The test rows' weeks (the world's own rows are written today).
SPRING = "start=2026-03-01&end=2026-04-30"


def _row(tenant: Tenant, **values: Any) -> dict[str, Any]:
    row = {
        "reseller_id": tenant.reseller_id,
        "account_id": tenant.account_id,
        "circle_id": tenant.circle_id,
        "actor_kind": "reseller",
        "actor_id": None,
        "actor_label": tenant.staff["admin"],
        "action": "circle.update",
        "object_type": "circle",
        "object_id": tenant.circle_id,
        "before": {"password_policy": "none"},
        "after": {"password_policy": "warn"},
        "created_at": JUST_AFTER_MIDNIGHT_JST,
    }
    return row | values


def _insert(app: Flask, tenant: Tenant, rows: list[dict[str, Any]]) -> None:
    with app.app_context(), use_scope(tenant.scope):
        db.session.execute(insert(AuditLog), rows)
        db.session.commit()


@pytest.fixture
def trail(app: Flask, world: World) -> World:
    """In A: a policy change by A's admin, a unique created by the system a day earlier;
    in B: a change of B's own."""
    a = world.a
    _insert(
        app,
        a,
        [
            _row(a),
            _row(
                a,
                actor_kind="system",
                actor_label="system",
                action="unique_entry.create",
                object_type="unique_entry",
                object_id=a.unique_id,
                before=None,
                after={"display_name": "受付", "extension": "201", "monitoring": False},
                created_at=JUST_AFTER_MIDNIGHT_JST - timedelta(days=1),
            ),
        ],
    )
    _insert(app, world.b, [_row(world.b, action="circle.update", actor_label="bravo-admin")])
    return world


def _admin(browser: Any, tenant: Tenant, locale: str) -> Any:
    client = pin_locale(browser(tenant.host), locale)
    assert client.login_staff(tenant.staff["admin"], PASSWORD).status_code == 302
    return client


def _sentences(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", found).strip()
        for found in re.findall(r'<p class="sentence">(.*?)</p>', html, re.S)
    ]


def test_a_change_reads_as_a_sentence_in_english(app: Flask, trail: World, browser: Any) -> None:
    a = trail.a
    page = text(_admin(browser, a, "en").get("/staff/audit?action=circle.update&" + SPRING))
    assert _sentences(page) == [f"{a.staff['admin']} (staff) changed circle #{a.circle_id}"]
    assert '<td>password policy</td><td class="old">None</td><td class="new">Warn</td>' in page
    assert "2026-04-01 00:30 JST" in page
    assert f'href="/staff/circles/{a.circle_id}"' in page


def test_a_change_reads_as_a_sentence_in_japanese(app: Flask, trail: World, browser: Any) -> None:
    a = trail.a
    page = text(_admin(browser, a, "ja").get("/staff/audit?" + SPRING))
    assert _sentences(page) == [
        f"{a.staff['admin']}（スタッフ）がサークル #{a.circle_id}を変更しました",
        "システムがユニーク「受付」を作成しました",
    ]
    assert (
        '<td>パスワードポリシー</td><td class="old">設定なし</td><td class="new">警告</td>' in page
    )
    assert '<td>モニタリング</td><td class="old">—</td><td class="new">いいえ</td>' in page
    assert "2026年4月1日 00:30" in page


def test_describe_names_a_row_by_its_title_field(app: Flask, world: World) -> None:
    entry = AuditLog(**_row(world.a, action="ring_group.delete", object_type="ring_group"))
    entry.before, entry.after = {"name": "代表", "extension": "400"}, None
    with app.test_request_context("/staff/audit"), force_locale("en"):
        reading = describe(entry)
        assert reading.sentence == f"{world.a.staff['admin']} (staff) deleted ring group “代表”"
        # A deleted object has no page to link to.
        assert reading.link is None
        assert [(c.field, c.old, c.new) for c in reading.changes] == [
            ("name", "代表", "—"),
            ("extension", "400", "—"),
        ]


def test_an_unregistered_action_still_reads(app: Flask, world: World) -> None:
    entry = AuditLog(**_row(world.a, action="bulk.import", object_type="thing", object_id=7))
    with app.test_request_context("/staff/audit"), force_locale("en"):
        assert describe(entry).sentence == (
            f"{world.a.staff['admin']} (staff): bulk.import on thing #7"
        )


def test_the_day_filter_takes_japan_time_days(app: Flask, trail: World, browser: Any) -> None:
    """00:30 on 1 April in Japan is 31 March in UTC: it is a 1 April change."""
    client = _admin(browser, trail.a, "en")
    on_first = text(client.get("/staff/audit?start=2026-04-01&end=2026-04-01"))
    assert len(_sentences(on_first)) == 1 and "changed circle" in on_first
    on_last = text(client.get("/staff/audit?start=2026-03-31&end=2026-03-31"))
    assert _sentences(on_last) == ["system created unique “受付”"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=system", ["system created unique “受付”"]),
        ("object_type=unique_entry", ["system created unique “受付”"]),
        ("action=unique_entry.create", ["system created unique “受付”"]),
        ("object_type=circle&object_id={circle}", ["{admin} (staff) changed circle #{circle}"]),
        ("object_id={bravo_circle}", []),
    ],
)
def test_filters_by_actor_object_and_action(
    app: Flask, trail: World, browser: Any, query: str, expected: list[str]
) -> None:
    a = trail.a
    values = {"circle": a.circle_id, "admin": a.staff["admin"], "bravo_circle": trail.b.circle_id}
    page = text(_admin(browser, a, "en").get(f"/staff/audit?{SPRING}&" + query.format(**values)))
    assert _sentences(page) == [line.format(**values) for line in expected]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-13-01&end=2026-04-30", "Enter the date as YYYY-MM-DD."),
        ("object_id=１２&" + SPRING, "The object number must be a whole number."),
        ("start=2026-04-02&end=2026-04-01", "The first day must not be after the last day."),
    ],
)
def test_a_bad_filter_is_named_and_left_out(
    app: Flask, trail: World, browser: Any, query: str, message: str
) -> None:
    response = _admin(browser, trail.a, "en").get("/staff/audit?" + query)
    assert response.status_code == 200
    page = text(response)
    assert message in page
    # The trail is shown without the value that did not parse.
    assert "audit-entry" in page


def test_filter_values_are_bounded() -> None:
    criteria = AuditFilter.from_args({"actor": "x" * 5000, "object_id": "9" * 40})
    assert criteria.actor == "x" * 200
    assert criteria.object_id is None


def test_the_trail_pages_on_the_server(app: Flask, world: World, browser: Any) -> None:
    a = world.a
    rows = [
        _row(a, action=f"bulk.step{n:03d}", created_at=JUST_AFTER_MIDNIGHT_JST + timedelta(n))
        for n in range(120)
    ]
    _insert(app, a, rows)
    client = _admin(browser, a, "en")
    base = "/staff/audit?actor=" + a.staff["admin"]
    first = text(client.get(base))
    assert len(_sentences(first)) == 50
    assert "<span>1 / 3</span>" in first
    assert "<code>bulk.step119 ·" in first and "<code>bulk.step069 ·" not in first
    third = text(client.get(base + "&page=3"))
    assert len(_sentences(third)) == 20 and "<code>bulk.step000 ·" in third
    assert "<span>3 / 3</span>" in third
    # A bad page or order is the first page, never an error.
    for bad in ("page=abc", "page=0", "page=99999999", "page=4", "sort=actor_label", "dir=up"):
        response = client.get(f"{base}&{bad}")
        assert response.status_code == 200, bad
        assert "<span>1 / 3</span>" in text(response), bad


def _csv(response: Any) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_csv_holds_the_filtered_rows(app: Flask, trail: World, browser: Any) -> None:
    a = trail.a
    response = _admin(browser, a, "en").get("/staff/audit.csv?object_type=circle&" + SPRING)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert rows == [
        [
            "When (Japan time)",
            "Who",
            "Action",
            "Object",
            "Object number",
            "What happened",
            "Changes",
        ],
        [
            "2026-04-01 00:30:00",
            a.staff["admin"],
            "circle.update",
            "circle",
            str(a.circle_id),
            f"{a.staff['admin']} (staff) changed circle #{a.circle_id}",
            "password policy: None → Warn",
        ],
    ]


def test_the_csv_is_in_the_readers_language(app: Flask, trail: World, browser: Any) -> None:
    rows = _csv(_admin(browser, trail.a, "ja").get("/staff/audit.csv?actor=system&" + SPRING))
    assert rows[0][0] == "日時（日本時間）"
    assert rows[1][5] == "システムがユニーク「受付」を作成しました"


def test_the_csv_of_another_tenants_object_is_empty(app: Flask, trail: World, browser: Any) -> None:
    client = _admin(browser, trail.a, "en")
    rows = _csv(client.get(f"/staff/audit.csv?object_id={trail.b.circle_id}&actor=bravo-admin"))
    assert len(rows) == 1
    assert "bravo-admin" not in client.get("/staff/audit.csv").get_data(as_text=True)


def test_a_csv_cell_is_never_a_formula(app: Flask, world: World, browser: Any) -> None:
    _insert(app, world.a, [_row(world.a, actor_label="=HYPERLINK(1)")])
    rows = _csv(_admin(browser, world.a, "en").get("/staff/audit.csv?object_type=circle&" + SPRING))
    assert rows[1][1] == "'=HYPERLINK(1)"


def test_the_console_exports_every_resellers_rows(trail: World, browser: Any) -> None:
    console = pin_locale(browser("localhost"), "en")
    assert console.login_console(trail.operator_email, PASSWORD).status_code == 302
    rows = _csv(console.get("/console/audit.csv?action=circle.update"))
    assert {row[1] for row in rows[1:]} == {trail.a.staff["admin"], "bravo-admin"}
    page = text(console.get("/console/audit?action=circle.update"))
    # No portal page on the console: the sentence is not a link there.
    assert "/staff/circles/" not in page


def test_an_imported_call_reads_by_its_call_id(app: Flask, world: World) -> None:
    entry = AuditLog(
        **_row(world.a, action="calls.import", object_type="call_record", object_id=12)
    )
    entry.before, entry.after = None, {"call_id": "node1-0001", "direction": "in"}
    with app.test_request_context("/staff/audit"), force_locale("en"):
        reading = describe(entry)
        assert reading.sentence == (
            f"{world.a.staff['admin']} (staff) imported a call from CSV: call “node1-0001”"
        )
        assert [(c.field, c.new) for c in reading.changes] == [
            ("call ID", "node1-0001"),
            ("direction", "Incoming"),
        ]
    with app.test_request_context("/staff/audit"), force_locale("ja"):
        reading = describe(entry)
        assert reading.sentence == (
            f"{world.a.staff['admin']}（スタッフ）がCSVから通話を取り込みました：通話「node1-0001」"
        )
        assert [(c.field, c.new) for c in reading.changes][1] == ("方向", "着信")
