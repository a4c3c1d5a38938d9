"""Bad input on the circle administration forms as a whole: a missing CSRF token and
10,000-character values get an answer (never a server error) and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from pbx_platform.db import db
from pbx_platform.tenancy import use_scope
from tenants.models import Circle, RingGroup, Unique
from tests.circle_pages import login, text

HUGE = "x" * 10_000


def totals(app: Any, world: Any) -> tuple[int, int, int]:
    with app.app_context(), use_scope(world.a.scope):
        return tuple(  # type: ignore[return-value]
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Circle, Unique, RingGroup)
        )


def routes(world: Any) -> list[tuple[str, dict[str, str]]]:
    circle = f"/staff/circles/{world.a.circle_id}"
    return [
        (
            f"/staff/accounts/{world.a.account_id}/circles/new",
            {"name": HUGE, "login_id": HUGE, "extension_length": HUGE, "policy": HUGE},
        ),
        (f"/staff/circles/{world.a.circle_id}/password-reset", {"policy": HUGE}),
        (
            f"{circle}/ring-groups/new",
            {"name": HUGE, "extension": HUGE, "ring_time": HUGE, "members": HUGE},
        ),
        (
            f"{circle}/ring-groups/{world.a.ring_group_id}",
            {"name": HUGE, "extension": HUGE, "ring_time": HUGE, "edit_version": "0"},
        ),
        (
            f"{circle}/uniques/new",
            {
                "display_name": HUGE,
                "extension": HUGE,
                "terminal_type": HUGE,
                "carrier": HUGE,
                "pickup_group_id": HUGE,
            },
        ),
        (f"{circle}/uniques/import/confirm", {"token": HUGE, "payload": HUGE}),
    ]


@pytest.mark.parametrize("index", range(6))
def test_a_missing_csrf_token_changes_nothing(world, browser, app, index):
    client = login(browser, world.a, "admin")
    path, form = routes(world)[index]
    before = totals(app, world)
    response = client.post(path, form, csrf=False)
    assert response.status_code == 400
    assert "The form has expired" in text(response)
    assert totals(app, world) == before


@pytest.mark.parametrize("index", range(6))
def test_huge_values_are_answered_and_change_nothing(world, browser, app, index):
    client = login(browser, world.a, "admin")
    path, form = routes(world)[index]
    before = totals(app, world)
    response = client.post(path, form)
    assert response.status_code in (409, 422)
    assert "Nothing was" in text(response) or "expired" in text(response)
    assert totals(app, world) == before
