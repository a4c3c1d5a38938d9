"""Races on the circle administration pages, on PostgreSQL with parallel connections
(``tests/test_concurrency.py`` explains the set-up; on SQLite these skip, saying why).

* R14: of parallel creations of one login ID, one circle is made; the others are told
  the ID is taken (422), none fails.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from tenants.models import Circle
from tests.factories import World
from tests.test_concurrency import committed, form_token, in_parallel, read, staff_login

pytestmark = pytest.mark.postgres
PARALLEL = 6
__all__ = ["committed"]  # the fixture, imported for this module's tests


def test_parallel_creations_of_one_login_id_make_one_circle(app: Flask, committed: World) -> None:
    world = committed
    path = f"/staff/accounts/{world.a.account_id}/circles/new"
    clients = [staff_login(app, world) for _ in range(PARALLEL)]
    tokens = [form_token(client, path) for client in clients]
    form = {"name": "本社", "login_id": "race-hq", "extension_length": "3", "policy": "force"}

    def create(client, token) -> Callable[[], int]:  # type: ignore[no-untyped-def]
        return lambda: client.post(path, {**form, "csrf_token": token}).status_code

    statuses = in_parallel([create(c, t) for c, t in zip(clients, tokens, strict=True)])
    assert sorted(statuses) == [200] + [422] * (PARALLEL - 1)
    assert len(read(app, world, select(Circle.id).where(Circle.login_id == "race-hq"))) == 1
