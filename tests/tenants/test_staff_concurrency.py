"""Races of the staff users' rules on PostgreSQL, with real parallel connections (as
``tests/test_concurrency.py``; on SQLite they skip, saying why).

* Two admins demoting (or deactivating) each other at once leave one active admin.
* One reset link posted twice at once sets the password once.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from pbx_platform.db import db
from pbx_platform.tenancy import use_scope
from tenants.models import Staff, StaffKind, StaffRole
from tests.conftest import CSRF_TOKEN, EDIT_VERSION
from tests.factories import World
from tests.test_concurrency import committed, in_parallel, staff_login  # noqa: F401

pytestmark = pytest.mark.postgres


def _ids(app: Flask, world: World) -> dict[str, int]:
    with app.app_context(), use_scope(world.a.scope):
        rows = db.session.execute(select(Staff.email, Staff.id)).all()
    return {email: id_ for email, id_ in rows}


def _promote_support(app: Flask, world: World) -> None:
    with app.app_context(), use_scope(world.a.scope):
        support = db.session.scalars(
            select(Staff).where(Staff.email == world.a.staff["support"])
        ).one()
        support.role = StaffRole.ADMIN
        db.session.commit()


def _active_admins(app: Flask, world: World) -> int:
    with app.app_context(), use_scope(world.a.scope):
        return db.session.scalar(
            select(func.count(Staff.id)).where(
                Staff.kind == StaffKind.RESELLER,
                Staff.role == StaffRole.ADMIN,
                Staff.active.is_(True),
            )
        )


def _form(client, path):
    html = client.get(path).get_data(as_text=True)
    version = EDIT_VERSION.search(html)
    return CSRF_TOKEN.search(html).group(1), version.group(1) if version else "0"


@pytest.mark.parametrize("change", ["role", "deactivate"])
def test_two_admins_removing_each_other_at_once_leave_one_admin(
    app: Flask,
    committed: World,  # noqa: F811
    change: str,
) -> None:
    world = committed
    _promote_support(app, world)
    ids = _ids(app, world)
    first = staff_login(app, world, "admin")
    second = staff_login(app, world, "support")
    plans = []
    for client, target in (
        (first, ids[world.a.staff["support"]]),
        (second, ids[world.a.staff["admin"]]),
    ):
        token, version = _form(client, f"/staff/users/{target}")
        data = {"csrf_token": token, "edit_version": version, "role": "billing"}
        plans.append((client, f"/staff/users/{target}/{change}", data))

    def call(plan):
        client, path, data = plan
        return client.client.post(path, base_url=client.base_url, data=data).status_code

    statuses = in_parallel([lambda p=p: call(p) for p in plans])
    # The loser is refused (409), or finds its own session ended by the winner's change
    # and is sent to the login (302); either way one admin stays.
    assert 302 in statuses
    assert _active_admins(app, world) == 1


def test_one_reset_link_posted_twice_at_once_sets_the_password_once(
    app: Flask,
    committed: World,  # noqa: F811
    mailbox,
) -> None:
    world = committed
    client = staff_login(app, world, "billing")
    token = CSRF_TOKEN.search(client.get("/staff/password/forgot").get_data(as_text=True)).group(1)
    client.client.post(
        "/staff/password/forgot",
        base_url=client.base_url,
        data={"csrf_token": token, "email": world.a.staff["billing"]},
    )
    link = mailbox.only().path_of_link()
    passwords = ["First#Pass2027", "Second#Pass2027"]
    browsers = [staff_login(app, world, "admin") for _ in passwords]
    forms = [re.search(CSRF_TOKEN, b.get(link).get_data(as_text=True)).group(1) for b in browsers]

    def post(index: int) -> int:
        data = {
            "csrf_token": forms[index],
            "new_password": passwords[index],
            "new_password_repeat": passwords[index],
        }
        return (
            browsers[index]
            .client.post(link, base_url=browsers[index].base_url, data=data)
            .status_code
        )

    statuses = in_parallel([lambda i=i: post(i) for i in range(2)])
    assert sorted(statuses) == [302, 410]
