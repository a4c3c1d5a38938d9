"""Every route, every method, as every role, with hostile ids and form values: never a
5xx, and never a change in another tenant's rows (R20; "bad input gets a clear
message, changes nothing, never a 500").

The routes, the roles and the two tenants' worlds are the isolation suite's
(``tests/isolation_routes.py``, ``tests/test_isolation.py``). Hypothesis draws the
values, derandomized and without an example database, so every run (and CI) makes
the same requests; ``FUZZ_EXAMPLES=50`` digs deeper locally.
"""

from __future__ import annotations

import os
import re
from itertools import groupby
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from pbx_platform.db import db
from pbx_platform.extensions import limiter
from pbx_platform.tenancy import platform_bypass
from tenants.models import Circle
from tests.conftest import CSRF_TOKEN, PortalClient
from tests.factories import World
from tests.isolation_routes import (
    PORTAL_ROLES,
    ROUTES,
    Exempt,
    Ids,
    Other,
    Reach,
    Targets,
    build_targets,
)
from tests.test_isolation import login, methods, operator, rule_of, state_of

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))
ROLES = (*PORTAL_ROLES, "operator", "anonymous")

# -- the values ------------------------------------------------------------------------------------

HOSTILE_IDS = [
    "0",
    "-1",
    str(2**31),
    str(2**31 - 1),
    str(2**63),
    str(10**20),
    "abc",
    "２",
    "1e3",
    "1.0",
    " 1",
]
HUGE = "x" * 100_000
HOSTILE_VALUES: list[str | bytes] = [
    "",
    " ",
    "\x00",
    "a\x00b",
    HUGE,
    b"\xff\xfe",
    b"\xc3(",
    b"\xed\xa0\x80",  # a UTF-8-encoded surrogate
    "２０１",
    "－１",
    "０３－１２３４－５６７８",
    "-1",
    "-99999999999999999999",
    "99999999999999999999",
    str(2**31),
    str(2**63),
    "1.5",
    "NaN",
    "inf",
    "1e309",
    "0",
    "1",
    "on",
    "buy",
    "cancel",
    "unique:0",
    "unique:99999999999999999999",
    "ring_group:-1",
    "ring_group:abc",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "<script>alert(1)</script>",
    "'; DROP TABLE circle;--",
    "%s%n{0}",
    "\u202e\u200b",
    "😀" * 50,
    "山田\u3000太郎",
    "//evil.example",
    "/%09/evil.example",
]
# Fields that no route's plausible form names, or only some do: a fuzzed request adds some.
EXTRA_FIELDS = [
    "next",
    "locale",
    "token",
    "length",
    "renumber",
    "login_id",
    "password",
    "email",
    "policy",
    "delete",
    "cart_id",
    "tick_ivr",
    "count_monitoring",
    "cancel_monitoring",
    "speech_text",
    "limit_gb",
    "refuse",
    "monitoring",
    "whispering",
    "members",
    "id",
]
_STATIC = {"filename": "base.css"}
STATIC_NAMES = ["base.css", "../../pbx_platform/config.py", "%00", "nothing.css", "a" * 300]
QUERY_FIELDS = ["page", "q", "group", "from", "to", "length", "next", "v"]


def _value() -> st.SearchStrategy[str | bytes]:
    return st.one_of(
        st.sampled_from(HOSTILE_VALUES),
        st.sampled_from(HOSTILE_IDS),
        st.integers().map(str),
        st.text(max_size=12),
    )


# -- the clients -------------------------------------------------------------------------------------

HOMES = {"circle": "/portal/", "operator": "/console/", "anonymous": "/login"}


def _home(role: str) -> str:
    return HOMES.get(role, "/staff/")


def _sign_in(browser: Any, world: World, role: str) -> PortalClient:
    if role == "operator":
        return operator(browser, world)
    if role == "anonymous":
        return browser(world.a.host)
    return login(browser, world, role)


class Session:
    """One role's browser; logs in again when a fuzzed request logged it out (a logout,
    a new password or login ID that a plausible form got through)."""

    def __init__(self, app: Flask, browser: Any, world: World, role: str) -> None:
        self.app, self.browser, self.world, self.role = app, browser, world, role
        with app.app_context(), platform_bypass("tests.fuzz"):
            circle = db.session.get(Circle, world.a.circle_id)
            assert circle is not None
            self.circle_credentials = {
                "login_id": circle.login_id,
                "login_id_key": circle.login_id_key,
                "password_hash": circle.password_hash,
            }
        self.client = _sign_in(browser, world, role)
        self.token = ""
        self.stale = False
        self.refresh()

    def notice(self, response: Any) -> None:
        """A refused token or a redirect to a login page: the login or its token ended."""
        location = response.headers.get("Location", "")
        if response.status_code == 400 or "login" in location or self.role == "anonymous":
            self.stale = True

    def refresh(self) -> None:
        self.stale = False
        page = self.client.get(_home(self.role))
        if page.status_code != 200:
            self._restore_circle()
            limiter.reset()  # the walk's login attempts count against the address too
            self.client = _sign_in(self.browser, self.world, self.role)
            page = self.client.get(_home(self.role))
        assert page.status_code == 200, f"{self.role} cannot reach {_home(self.role)} again"
        found = CSRF_TOKEN.search(page.get_data(as_text=True))
        assert found is not None
        self.token = found.group(1)

    def _restore_circle(self) -> None:
        with self.app.app_context(), platform_bypass("tests.fuzz"):
            db.session.execute(
                update(Circle)
                .where(Circle.id == self.world.a.circle_id)
                .values(**self.circle_credentials)
            )
            db.session.commit()


# -- one route ---------------------------------------------------------------------------------------


def _kinds(entry: Reach | Exempt) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    if isinstance(entry, Exempt):
        return {}, {}, {}
    return dict(entry.ids), dict(entry.query), dict(entry.form or {})


def _id_strategy(kind: str, pools: list[Ids]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE_IDS), st.sampled_from([str(ids.of(kind)) for ids in pools])
    )


def _field(value: Any, pools: list[Ids]) -> st.SearchStrategy[list[str | bytes]]:
    """A field's values: as the page sends it, hostile, missing or repeated."""
    if isinstance(value, Other):
        plausible: st.SearchStrategy[Any] = st.sampled_from(
            [value.pattern.format(ids.of(value.kind)) for ids in pools]
        )
    else:
        plausible = st.just(value)
    one = st.one_of(plausible, _value())
    return st.one_of(
        plausible.map(lambda v: [v]),
        one.map(lambda v: [v]),
        st.just([]),
        st.lists(one, min_size=2, max_size=3),
    )


def _url(rule: str, values: dict[str, str]) -> str:
    def argument(match: re.Match[str]) -> str:
        return quote(values[match.group(1)], safe="/" if match.group(1) == "filename" else "")

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", argument, rule)


Pairs = list[tuple[str, str | bytes]]

# Every field of a form at once: the values that broke pages before (a full-width digit
# in a token, bytes that are not UTF-8, NUL, 100 KB, numbers past any column's range).
PROFILES: list[list[str | bytes]] = [
    ["２"],
    [b"\xff\xfea\x00b"],
    [HUGE],
    ["-1", str(2**63)],
    [],
]
# Fields a form without a table entry (logins, the language switch) may read.
EXEMPT_FIELDS = ["next", "locale", "login_id", "password", "email", "token"]


def _send(session: Session, method: str, target: str, pairs: Pairs) -> None:
    client = session.client.client
    if method == "GET":
        response = client.get(target, base_url=session.client.base_url)
    else:
        response = client.post(
            target,
            base_url=session.client.base_url,
            data=urlencode([*pairs, ("csrf_token", session.token)]),
            content_type="application/x-www-form-urlencoded",
        )
    response.close()  # a static file's response holds the file open
    session.notice(response)
    assert response.status_code < 500, f"{method} {target} as {session.role}: {pairs!r:.300}"


def _fuzz(
    session: Session, endpoint: str, method: str, pools: list[Ids], examples: int, uses: bool
) -> None:
    entry = ROUTES[endpoint]
    url_kinds, query_kinds, form = _kinds(entry)
    rule = rule_of(session.app, endpoint).rule
    own = pools[0]
    if uses:
        # Deterministic first: the own object's URL with every field hostile at once,
        # then the URL with every id past the range.
        names = list(form) or EXEMPT_FIELDS
        own_url = _url(rule, {n: str(own.of(k)) for n, k in url_kinds.items()} | _STATIC)
        for profile in PROFILES:
            pairs = [(name, value) for name in names for value in profile]
            query = "?" + urlencode(pairs) if method == "GET" and pairs else ""
            _send(session, method, own_url + query, pairs if method == "POST" else [])
        if url_kinds:
            huge = _url(rule, {n: str(2**63) for n in url_kinds})
            _send(session, method, huge, [])

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(data=st.data())
    def request(data: Any) -> None:
        url_values = {n: data.draw(_id_strategy(k, pools), label=n) for n, k in url_kinds.items()}
        if "filename" in rule:
            url_values["filename"] = data.draw(st.sampled_from(STATIC_NAMES), label="filename")
        query: Pairs = [
            (n, data.draw(_id_strategy(k, pools), label=n)) for n, k in query_kinds.items()
        ]
        for name in data.draw(st.lists(st.sampled_from(QUERY_FIELDS), max_size=2), label="q"):
            query.append((name, data.draw(_value(), label=name)))
        target = _url(rule, url_values)
        if query:
            target += "?" + urlencode(query)
        pairs: Pairs = []
        if method == "POST":
            for name, value in form.items():
                pairs += [(name, v) for v in data.draw(_field(value, pools), label=name)]
            for name in data.draw(st.lists(st.sampled_from(EXTRA_FIELDS), max_size=3), label="+"):
                pairs.append((name, data.draw(_value(), label=name)))
            if data.draw(st.integers(0, 5), label="csrf") == 0:
                pairs.append(("csrf_token", "forged"))  # sent first: the app reads the first
                pairs.reverse()
        _send(session, method, target, pairs)

    request()


@pytest.fixture
def targets(app: Flask, world: World) -> Targets:
    with app.app_context():
        return build_targets(world)


# -- the walk ------------------------------------------------------------------------------------------


def _walk() -> list[tuple[str, str]]:
    """(endpoint, method) of every route; the logouts last (they end the login)."""
    return sorted(
        ((endpoint, method) for endpoint in ROUTES for method in ("GET", "POST")),
        key=lambda pair: ("logout" in pair[0], pair),
    )


def _uses(role: str, entry: Reach | Exempt) -> bool:
    """The role is meant to use the route (else it is refused early: one example)."""
    if isinstance(entry, Exempt):
        return True
    if entry.host == "console":
        return role == "operator"
    return role in entry.roles


@pytest.mark.parametrize("role", ROLES)
def test_no_route_answers_5xx_or_changes_another_tenant(
    app: Flask, targets: Targets, browser: Any, role: str
) -> None:
    world = targets.world
    session = Session(app, browser, world, role)
    # The operator may change any reseller through the console (R22): A's ids are its
    # targets there, B's rows are the witness.
    pools = [targets.a, targets.a_other, targets.a_sibling]
    if role != "operator":
        pools.append(targets.b)
    before = state_of(app, world.b.scope)
    walked = []
    for blueprint, routes in groupby(_walk(), key=lambda pair: pair[0].split(".")[0]):
        for endpoint, method in routes:
            if method not in methods(app, endpoint):
                continue
            uses = _uses(role, ROUTES[endpoint])
            _fuzz(session, endpoint, method, pools, EXAMPLES if uses else 1, uses)
            walked.append((endpoint, method))
            if session.stale:
                session.refresh()
        # Checked per blueprint, not per route: a snapshot of B costs a query per table.
        assert state_of(app, world.b.scope) == before, f"{blueprint} as {role} changed B"
    assert len(walked) > 100


def test_the_walk_covers_every_route_of_the_app(app: Flask) -> None:
    walked = {
        (endpoint, method) for endpoint, method in _walk() if method in methods(app, endpoint)
    }
    expected = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or ()) & {"GET", "POST"}
    }
    assert walked == expected
