"""Fixtures of the option pages: the pinned clock, and the two ways to a circle's page
(the circle's own login, and the reseller's admin on the circle). A module that needs
another moment defines its own ``clock``."""

from __future__ import annotations

import pytest
import time_machine

from tests.factories import PASSWORD
from tests.option_helpers import MID_MONTH, english


@pytest.fixture
def clock():
    """Pins the clock before the login (a later jump would hit the idle time-out)."""
    with time_machine.travel(MID_MONTH, tick=False) as traveller:
        yield traveller


@pytest.fixture(params=["portal", "staff"])
def tree(request, clock, world, browser):
    """(client, base) for the circle login and for the reseller's admin on that circle."""
    client = english(browser(world.a.host))
    if request.param == "portal":
        assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
        return client, "/portal"
    assert client.login_staff(world.a.staff["admin"], PASSWORD).status_code == 302
    return client, f"/staff/circles/{world.a.circle_id}"


@pytest.fixture
def portal(clock, world, browser):
    client = english(browser(world.a.host))
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    return client
