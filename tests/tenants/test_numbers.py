"""The number inventory: the operator's stock and blocks, a circle's numbers from its
reseller's pool (a number on at most one circle), and the migration of old rows."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from pbx_platform.db import db
from pbx_platform.tenancy import Scope, platform_bypass, use_scope
from tenants.models import Circle, CirclePhoneNumber, NumberKind, PhoneNumber, UniqueKind
from tenants.options.models import OutboundSelector
from tenants.services import numbers
from tenants.services import provisioning as p
from tests.test_concurrency import committed, form_token, in_parallel, staff_login  # noqa: F401


@pytest.mark.parametrize(
    ("typed", "e164", "kind"),
    [
        ("03-5555-0001", "+81355550001", NumberKind.LANDLINE),
        ("０３－５５５５－０００１", "+81355550001", NumberKind.LANDLINE),  # full-width
        ("06ー6123ー4567", "+81661234567", NumberKind.LANDLINE),  # long-vowel mark as hyphen
        ("050-3333-0001", "+815033330001", NumberKind.IP),
        ("0120-123-456", "+81120123456", NumberKind.FREE_DIAL),
        ("0800-123-4567", "+818001234567", NumberKind.FREE_DIAL),
        ("+81 3 5555 0001", "+81355550001", NumberKind.LANDLINE),
    ],
)
def test_kinds_are_read_from_the_number(app, typed, e164, kind):
    with app.test_request_context():
        assert numbers.parse_number(typed) == numbers.Parsed(e164, kind)


@pytest.mark.parametrize("bad", ["090-1234-5678", "03-555", "+1 212 555 0100", "abc", "1" * 31])
def test_mobiles_foreign_and_broken_numbers_are_refused(app, bad):
    with app.test_request_context(), force_locale("en"), pytest.raises(numbers.NumberError):
        numbers.parse_number(bad)


def test_mobile_numbers_say_which_kinds_are_held(app):
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(numbers.NumberError) as refused:
            numbers.parse_number("090-1234-5678")
    assert str(refused.value) == (
        "090-1234-5678 is not a Japanese landline (0AB-J), 050 or free-dial (0120/0800) number."
    )


def test_ranges_and_lists_expand(app):
    with app.test_request_context():
        parsed = numbers.parse_numbers("03-5555-0100 〜 03-5555-0102\n050-3333-0001, 0120-123-456")
    assert [p.e164 for p in parsed] == [
        "+81355550100",
        "+81355550101",
        "+81355550102",
        "+815033330001",
        "+81120123456",
    ]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("03-5555-0102 〜 03-5555-0100", "a range runs upwards and holds at most 1000 numbers."),
        ("03-5555-0000 〜 03-5555-2000", "a range runs upwards and holds at most 1000 numbers."),
        ("03-5555-0100 〜 050-3333-0001", "both ends must be numbers of one kind."),
        ("03-5555-0100\n０３－５５５５－０１００", "A number is listed twice."),
    ],
)
def test_bad_ranges_are_refused(app, typed, message):
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(numbers.NumberError) as refused:
            numbers.parse_numbers(typed)
    assert str(refused.value).endswith(message)


@pytest.fixture
def console(world, browser):
    client = browser("localhost")
    client.post("/locale", {"locale": "en", "next": "/"})
    client.login_console(world.operator_email, world.password)
    return client


@pytest.fixture
def admin(world, browser):
    client = browser(world.a.host)
    client.post("/locale", {"locale": "en", "next": "/"})
    client.login_staff(world.a.staff["admin"], world.password)
    return client


def _holders(app):
    with app.app_context(), platform_bypass("test"):
        return dict(db.session.execute(select(PhoneNumber.e164, PhoneNumber.reseller_id)).all())


def _stock(console, app, world):
    added = console.post("/console/numbers/add", {"numbers": "03-5555-0100 〜 03-5555-0109"})
    assert added.status_code == 302
    allocated = console.post(
        "/console/numbers/allocate",
        {"reseller_id": world.a.reseller_id, "first": "03-5555-0100", "last": "03-5555-0104"},
    )
    assert allocated.status_code == 302


def test_operator_adds_allocates_and_takes_back(app, world, console):
    _stock(console, app, world)
    holders = _holders(app)
    assert [holders[f"+8135555010{n}"] for n in range(10)] == [world.a.reseller_id] * 5 + [
        world.platform_reseller_id
    ] * 5
    page = console.get("/console/numbers").get_data(as_text=True)
    assert "03-5555-0100" in page and "Landline (0AB-J)" in page
    # Filtered by holder: the platform's stock alone.
    stock = console.get(f"/console/numbers?holder={world.platform_reseller_id}").get_data(
        as_text=True
    )
    assert "<td>03-5555-0105</td>" in stock and "<td>03-5555-0100</td>" not in stock
    again = console.post("/console/numbers/add", {"numbers": "03-5555-0105"})
    assert again.status_code == 422
    assert "03-5555-0105 is in the inventory already." in again.get_data(as_text=True)
    back = console.post(
        "/console/numbers/take-back",
        {"reseller_id": world.a.reseller_id, "first": "03-5555-0103", "last": "03-5555-0104"},
    )
    assert back.status_code == 302
    assert _holders(app)["+81355550104"] == world.platform_reseller_id


def test_allocating_to_the_platform_or_garbage_is_refused(app, world, console):
    _stock(console, app, world)
    for form in (
        {"reseller_id": world.platform_reseller_id, "first": "03-5555-0105", "last": ""},
        {"reseller_id": "１", "first": "03-5555-0105", "last": ""},
        {"reseller_id": world.b.reseller_id, "first": "03-5555-0100", "last": "03-5555-0104"},
    ):
        response = console.post("/console/numbers/allocate", form)
        assert response.status_code == 422
    assert _holders(app)["+81355550100"] == world.a.reseller_id


def test_staff_assign_and_release_a_circle_number(app, world, console, admin):
    _stock(console, app, world)
    path = f"/staff/circles/{world.a.circle_id}/numbers"
    with app.app_context(), use_scope(Scope(world.a.reseller_id)):
        free = db.session.scalars(
            select(PhoneNumber.id).where(PhoneNumber.e164 == "+81355550101")
        ).one()
    page = admin.get(path).get_data(as_text=True)
    assert "03-5555-0101" in page and "03-5555-0105" not in page  # not in A's pool
    assert admin.post(f"{path}/assign", {"phone_number_id": str(free)}).status_code == 302
    with app.app_context(), platform_bypass("test"):
        number = db.session.get(PhoneNumber, free)
        row = db.session.scalars(
            select(CirclePhoneNumber).where(CirclePhoneNumber.phone_number_id == free)
        ).one()
        assert (number.circle_id, row.circle_id, row.e164) == (
            world.a.circle_id,
            world.a.circle_id,
            "+81355550101",
        )
        row_id = row.id
    # The same number for A's other circle: refused, nothing changes.
    other = f"/staff/circles/{world.a.other_circle_id}/numbers/assign"
    refused = admin.post(other, {"phone_number_id": str(free)})
    assert refused.status_code == 409
    assert "03-5555-0101 is already used by a circle." in refused.get_data(as_text=True)
    # Taking back a number on a circle moves nothing.
    console.post(
        "/console/numbers/take-back",
        {"reseller_id": world.a.reseller_id, "first": "03-5555-0101", "last": "03-5555-0101"},
    )
    assert _holders(app)["+81355550101"] == world.a.reseller_id
    assert admin.post(f"{path}/{row_id}/release", {}).status_code == 302
    with app.app_context(), platform_bypass("test"):
        assert db.session.get(PhoneNumber, free).circle_id is None
        assert db.session.get(CirclePhoneNumber, row_id) is None


def test_a_foreign_number_id_in_the_form_assigns_nothing(app, world, console, admin, browser):
    _stock(console, app, world)
    console.post(
        "/console/numbers/allocate",
        {"reseller_id": world.b.reseller_id, "first": "03-5555-0105", "last": "03-5555-0105"},
    )
    with app.app_context(), platform_bypass("test"):
        mine, theirs = (
            db.session.scalars(select(PhoneNumber.id).where(PhoneNumber.e164 == e)).one()
            for e in ("+81355550100", "+81355550105")
        )
    path = f"/staff/circles/{world.a.circle_id}/numbers/assign"
    response = admin.post(path, {"phone_number_id": [str(mine), str(theirs)]})
    assert response.status_code == 409
    assert "That number is not in your pool." in response.get_data(as_text=True)
    assert admin.post(path, {"phone_number_id": "１２"}).status_code == 422
    with app.app_context(), platform_bypass("test"):
        # All or nothing: A's own number of the same form is not assigned either.
        assigned = db.session.scalar(
            select(func.count()).select_from(PhoneNumber).where(PhoneNumber.circle_id.is_not(None))
        )
    assert assigned == 0


def test_a_number_used_by_a_selector_is_not_released(app, world, admin):
    # The factory's circle number, which a selector of the circle presents.
    with app.app_context(), use_scope(world.a.circle_scope):
        circle = db.session.get(Circle, world.a.circle_id)
        number = circle.phone_numbers[0]
        unique = p.create_unique(
            circle, extension="350", display_name="sel", kind=UniqueKind.OUTBOUND_SELECTOR
        )
        db.session.add(
            OutboundSelector(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                unique_id=unique.id,
                phone_number_id=number.id,
            )
        )
        db.session.commit()
        number_id = number.id
    path = f"/staff/circles/{world.a.circle_id}/numbers/{number_id}/release"
    response = admin.post(path, {})
    assert response.status_code == 409
    assert "is used by a conference room or an outbound selector" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["billing", "support", "manager"])
def test_only_the_reseller_admin_manages_circle_numbers(world, browser, role):
    client = browser(world.a.host)
    client.login_staff(world.a.staff[role], world.password)
    assert client.get(f"/staff/circles/{world.a.circle_id}/numbers").status_code == 403


# -- races (PostgreSQL) ------------------------------------------------------------------------


def test_parallel_assignments_of_one_number_give_it_to_one_circle(app, committed):  # noqa: F811
    """R20 aside, the inventory rule: of parallel requests assigning one free number to
    different circles, exactly one succeeds; the others change nothing."""
    world = committed
    with app.app_context(), platform_bypass("test"):
        number = PhoneNumber(
            reseller_id=world.a.reseller_id, e164="+81355559999", kind=NumberKind.LANDLINE
        )
        db.session.add(number)
        db.session.commit()
        number_id = number.id
    circles = [world.a.circle_id, world.a.other_circle_id] * 4
    clients = [staff_login(app, world) for _ in circles]
    tokens = [
        form_token(c, f"/staff/circles/{cid}/numbers")
        for c, cid in zip(clients, circles, strict=True)
    ]

    def assign(client, circle_id, token):
        return lambda: (
            client.post(
                f"/staff/circles/{circle_id}/numbers/assign",
                {"phone_number_id": str(number_id), "csrf_token": token},
                csrf=False,
            ).status_code
        )

    statuses = in_parallel([assign(*args) for args in zip(clients, circles, tokens, strict=True)])
    assert sorted(statuses) == [302] + [409] * (len(circles) - 1)
    with app.app_context(), platform_bypass("test"):
        rows = db.session.scalars(
            select(CirclePhoneNumber.circle_id).where(
                CirclePhoneNumber.phone_number_id == number_id
            )
        ).all()
        owner = db.session.get(PhoneNumber, number_id).circle_id
    assert len(rows) == 1 and rows[0] == owner


# -- the migration (0009) ---------------------------------------------------------------------


def test_existing_circle_numbers_move_into_the_inventory(tmp_path):
    """Circle numbers from before the inventory (here: the demo's, after a downgrade to
    0007) become inventory numbers of the circle's reseller on that circle; no row of
    ``circle_phone_number`` is lost. SQLite, through the ``pbx`` command."""
    import os
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    database = tmp_path / "migrate.sqlite3"
    env = {
        **os.environ,
        "PBX_ENV": "development",
        "PBX_SECRET_KEY": "migration-test",
        "DATABASE_URL": f"sqlite:///{database}",
    }
    env.pop("MIGRATE_DATABASE_URL", None)
    pbx = str(Path(sys.executable).with_name("pbx"))

    def run(*args: str) -> None:
        subprocess.run([pbx, *args], env=env, check=True, capture_output=True)

    def query(sql: str) -> list[tuple]:
        with sqlite3.connect(database) as connection:
            return connection.execute(sql).fetchall()

    run("db", "upgrade")
    run("demo", "load")
    before = query("SELECT id, circle_id, e164 FROM circle_phone_number ORDER BY id")
    run("db", "downgrade", "0007")
    assert query("SELECT id, circle_id, e164 FROM circle_phone_number ORDER BY id") == before
    run("db", "upgrade")
    after = query(
        "SELECT c.id, c.circle_id, c.e164 FROM circle_phone_number c JOIN phone_number p "
        "ON p.id = c.phone_number_id AND p.circle_id = c.circle_id AND p.e164 = c.e164 "
        "AND p.reseller_id = c.reseller_id ORDER BY c.id"
    )
    assert after == before and len(before) == 30
    kinds = dict(query("SELECT e164, kind FROM phone_number"))
    assert kinds["+81355550111"] == "landline" and kinds["+815033330111"] == "ip"
