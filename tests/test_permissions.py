"""R22 roles: the matrix of ``pbx_platform.permissions``, and every route of the app
asked by every role, against the actions that ``tests/isolation_routes.py`` says
each route needs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask_login import AnonymousUserMixin
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from pbx_platform.db import db
from pbx_platform.permissions import MATRIX, Action, Role, allowed, require
from pbx_platform.tenancy import platform_bypass
from tenants.models import Circle, Staff
from tests.factories import PASSWORD, World
from tests.isolation_routes import (
    PORTAL_ROLES,
    PUBLIC,
    ROUTES,
    Exempt,
    Ids,
    Needs,
    Other,
    Reach,
    Targets,
)
from tests.isolation_routes import build_targets as _build_targets

# -- R22, written out from the spec ---------------------------------------------------------

P, ADM, BIL, SUP, MGR, CIR = (
    Role.PLATFORM_OPERATOR,
    Role.RESELLER_ADMIN,
    Role.RESELLER_BILLING,
    Role.RESELLER_SUPPORT,
    Role.ACCOUNT_MANAGER,
    Role.CIRCLE,
)
R22: dict[Action, set[Role]] = {
    # The platform operator's own business: resellers, wholesale, the OEM server (R1).
    Action.RESELLERS_MANAGE: {P},
    Action.WHOLESALE_MANAGE: {P},
    Action.OEM_GRANT: {P},
    # The PBX nodes' API clients (the machine API's credentials).
    Action.API_CLIENTS_MANAGE: {P},
    # Customers and their billing data: everyone of the reseller reads them; billing
    # changes them; invoice mailing (R2) also by the account's manager.
    Action.ACCOUNT_VIEW: {P, ADM, BIL, SUP, MGR},
    Action.ACCOUNT_BILLING_EDIT: {P, ADM, BIL},
    Action.ACCOUNT_OPTIONS_BUY: {P, ADM, BIL, MGR},
    Action.CUSTOMERS_MANAGE: {P, ADM},
    Action.STAFF_MANAGE: {P, ADM},
    Action.RETAIL_PRICES_EDIT: {P, ADM, BIL},
    Action.INVOICE_VIEW: {P, ADM, BIL, SUP, MGR},
    Action.INVOICES_MANAGE: {P, ADM, BIL},
    Action.THEME_EDIT: {P, ADM},
    Action.AUDIT_VIEW: {P, ADM, BIL, SUP, MGR},
    # Support changes nothing but this; the account's manager sends its circles' logins
    # a reset (R15, within R9–R18 of its account).
    Action.PASSWORD_RESET_SEND: {P, ADM, SUP, MGR},
    # Circles: billing and support read them; the admins, the account's manager and the
    # circle itself change them (R3–R16) and buy its options (R9–R12).
    Action.CIRCLE_VIEW: {P, ADM, BIL, SUP, MGR, CIR},
    Action.CIRCLE_SETTINGS_EDIT: {P, ADM, MGR, CIR},
    Action.CIRCLE_OPTIONS_BUY: {P, ADM, MGR, CIR},
    Action.CIRCLE_LOGIN_CHANGE: {P, ADM, CIR},
    Action.PASSWORD_POLICY_SET: {P, ADM, MGR},  # R17
    Action.RECORDING_LIMIT_SET: {P, ADM},  # R6: raised by the reseller
    Action.RECORDING_RETENTION_SET: {P, ADM},  # R6: the reseller's retention period
    # Call records are rated and invoiced (R24): only the reseller's admins back-fill
    # them from CSV; the customer (manager, circle) and billing staff may not add any.
    Action.CALLS_IMPORT: {P, ADM},
}


def test_the_spec_table_names_every_action() -> None:
    assert set(R22) == set(Action)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_the_matrix_is_r22(role: Role, action: Action) -> None:
    assert (action in MATRIX[role]) == (role in R22[action])


class _Principal:
    def __init__(self, role: Any) -> None:
        self.permission_role = role


def test_allowed_reads_the_principals_role() -> None:
    assert allowed(_Principal(Role.RESELLER_ADMIN), Action.THEME_EDIT)
    assert not allowed(_Principal(Role.RESELLER_BILLING), Action.THEME_EDIT)
    # Templates name actions by their value.
    assert allowed(_Principal(Role.CIRCLE), "circle_options_buy")


def test_nobody_without_a_role_may_anything() -> None:
    for principal in (AnonymousUserMixin(), None, object(), _Principal("reseller_admin")):
        assert not any(allowed(principal, action) for action in Action)


def test_an_unknown_action_name_is_an_error_not_a_refusal() -> None:
    with pytest.raises(ValueError):
        allowed(_Principal(Role.PLATFORM_OPERATOR), "theme_edti")


def test_require_refuses_with_403(app: Flask) -> None:
    with app.test_request_context():
        require(Action.AUDIT_VIEW, _Principal(Role.RESELLER_SUPPORT))
        with pytest.raises(Forbidden):
            require(Action.THEME_EDIT, _Principal(Role.RESELLER_SUPPORT))


def test_staff_and_circles_carry_their_row_of_the_matrix(app: Flask, world: World) -> None:
    expected = {
        "operator@platform.test": P,
        "admin@alpha.test": ADM,
        "billing@alpha.test": BIL,
        "support@alpha.test": SUP,
        "manager@alpha.test": MGR,
    }
    with app.app_context(), platform_bypass("tests.permissions"):
        staff = db.session.scalars(select(Staff).where(Staff.email.in_(expected))).all()
        assert {s.email: s.permission_role for s in staff} == expected
        circle = db.session.get(Circle, world.a.circle_id)
        assert circle is not None and circle.permission_role == CIR


# -- every route × every role ----------------------------------------------------------------

OPERATOR = "operator"
ROLES = (OPERATOR, *PORTAL_ROLES)
ROLE_OF = {
    OPERATOR: P,
    "admin": ADM,
    "billing": BIL,
    "support": SUP,
    "manager": MGR,
    "circle": CIR,
}
LOGIN_PAGES = ("/login", "/staff/login", "/console/login")
# A file that exists, for the routes that serve files.
FILENAME = "base.css"


def test_every_route_says_what_it_needs(app: Flask) -> None:
    """New routes join the route table with their R22 action (``needs``)."""
    missing = sorted(endpoint for endpoint, entry in ROUTES.items() if entry.needs is None)
    assert not missing, f"entries of tests/isolation_routes.py without needs=: {missing}"
    for endpoint, entry in ROUTES.items():
        if entry.needs == PUBLIC:
            continue
        # A route that asks for something asks it of every method it answers.
        needs = entry.needs
        assert needs is not None
        for method in _methods(app, endpoint):
            assert getattr(needs, method.lower()) is not None, f"{method} {endpoint}"


def _rule(app: Flask, endpoint: str) -> Any:
    (rule,) = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    return rule


def _methods(app: Flask, endpoint: str) -> set[str]:
    return set(_rule(app, endpoint).methods or ()) & {"GET", "POST"}


def area(entry: Reach | Exempt) -> tuple[str, ...]:
    """The roles that reach the route at all: the rest are kept out before R22 is asked."""
    if entry.host == "console":
        return (OPERATOR,)
    return entry.roles


def _path(app: Flask, endpoint: str, ids: Ids) -> str:
    entry = ROUTES[endpoint]
    values: dict[str, Any] = {}
    if isinstance(entry, Reach):
        values = {name: ids.of(kind) for name, kind in entry.ids.items()}
        values |= {name: ids.of(kind) for name, kind in entry.query.items()}
    if "filename" in _rule(app, endpoint).arguments:
        values["filename"] = FILENAME
    if "call_id" in _rule(app, endpoint).arguments:
        values["call_id"] = "no-such-call"  # the API's PBX call id (text)
    return str(app.url_map.bind("localhost").build(endpoint, values))


def _form(entry: Reach | Exempt, ids: Ids) -> dict[str, Any]:
    return {
        name: value.pattern.format(ids.of(value.kind)) if isinstance(value, Other) else value
        for name, value in (entry.form or {}).items()
    }


def _client(browser: Any, world: World, role: str) -> Any:
    if role == OPERATOR:
        client = browser("localhost")
        response = client.login_console(world.operator_email, PASSWORD)
    else:
        client = browser(world.a.host)
        if role == "circle":
            response = client.login_circle(world.a.circle_login, PASSWORD)
        else:
            response = client.login_staff(world.a.staff[role], PASSWORD)
    assert response.status_code == 302, f"{role} could not log in"
    return client


@pytest.fixture
def targets(app: Flask, world: World) -> Targets:
    with app.app_context():
        return _build_targets(world)


@pytest.fixture
def rolled_back(app: Flask) -> Any:
    """Run a request inside a savepoint of the test's transaction, undone afterwards,
    so that one role's change (a deleted room, a new length) does not meet the next."""
    with app.app_context():
        connection = db.session.get_bind()

    def run(call: Any) -> Any:
        savepoint = connection.begin_nested()
        try:
            return call()
        finally:
            savepoint.rollback()

    return run


def _to_login(response: Any) -> bool:
    return response.status_code == 302 and (
        urlsplit(response.headers.get("Location", "")).path in LOGIN_PAGES
    )


def verdict(entry: Reach | Exempt, role: str, action: Action | None, response: Any) -> str | None:
    """What is wrong with ``response`` under R22, or None."""
    status = response.status_code
    if status >= 500:
        return f"{status}"
    if action is None:
        return "403 for a route that needs nothing" if status == 403 else None
    if role not in area(entry):
        # Kept out before R22 is asked: the login page, or no such page (R20).
        return None if status == 404 or _to_login(response) else f"{status}, outside the area"
    if ROLE_OF[role] in R22[action]:
        if status in (403, 404) or _to_login(response):
            return f"{status} although R22 allows {action.value}"
        return None
    return None if status == 403 else f"{status} although R22 denies {action.value}"


def _walk(
    app: Flask, targets: Targets, browser: Any, rolled_back: Any, endpoint: str
) -> Iterator[str]:
    entry = ROUTES[endpoint]
    needs = entry.needs
    assert needs is not None
    methods = _methods(app, endpoint)
    target = _path(app, endpoint, targets.a)
    for role in ROLES:
        client = _client(browser, targets.world, role)
        asked = []
        if "GET" in methods:
            asked.append(("GET", needs.get, lambda client=client: client.get(target)))
        if "POST" in methods:
            data = _form(entry, targets.a)
            asked.append(
                (
                    "POST",
                    needs.post,
                    lambda client=client, data=data: client.post(target, data, token_from="/login"),
                )
            )
        for method, action, call in asked:
            response = rolled_back(call)
            problem = verdict(entry, role, action, response)
            response.close()
            if problem:
                yield f"{method} {endpoint} as {role}: {problem}"


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_every_role_gets_what_r22_gives_it_on_every_route(
    app: Flask, targets: Targets, browser: Any, rolled_back: Any, endpoint: str
) -> None:
    """Allowed: the page answers (not 403, not 404, no login page). Denied: 403. Kept
    out of the route's area (another portal, the console): 404 or the login page."""
    problems = list(_walk(app, targets, browser, rolled_back, endpoint))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("endpoint", "needs", "expected"),
    [
        # The table asks less than the view: the account manager is refused (403).
        (
            "circle_staff.set_recording_limit",
            Needs(post=Action.CIRCLE_SETTINGS_EDIT),
            ["POST {} as manager: 403 although R22 allows circle_settings_edit"],
        ),
        # The table asks more than the view: billing and support read the page.
        (
            "staff_portal.circle_detail",
            Needs(get=Action.CIRCLE_SETTINGS_EDIT),
            [
                "GET {} as billing: 200 although R22 denies circle_settings_edit",
                "GET {} as support: 200 although R22 denies circle_settings_edit",
            ],
        ),
    ],
)
def test_the_walk_reports_a_route_that_differs_from_the_table(
    app: Flask,
    targets: Targets,
    browser: Any,
    rolled_back: Any,
    monkeypatch: pytest.MonkeyPatch,
    endpoint: str,
    needs: Needs,
    expected: list[str],
) -> None:
    entry = ROUTES[endpoint]
    assert isinstance(entry, Reach)
    monkeypatch.setitem(ROUTES, endpoint, replace(entry, needs=needs))
    problems = list(_walk(app, targets, browser, rolled_back, endpoint))
    assert problems == [line.format(endpoint) for line in expected]


ROLE_TEST = re.compile(r"current_user\.(role|kind|permission_role)\b|\bStaff(Role|Kind)\b")


def test_templates_never_test_a_role_themselves() -> None:
    """They show what the views and may() allowed."""
    root = Path(__file__).resolve().parent.parent
    templates = [
        path
        for folder in ("tenants", "themes", "invoices", "pbx_platform")
        for path in (root / folder).rglob("*.html")
    ]
    assert templates
    offending = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in templates
        for match in ROLE_TEST.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not offending, offending
