"""R20 through the web: no login of tenant A reads or changes tenant B's data, by any
route, form field or host. Table-driven over ``tests/isolation_routes.py``."""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import aliased

from pbx_platform.db import TenantScoped, db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import Scope, platform_bypass, use_scope
from tenants.models import Circle, PickupGroup, Reseller, StaffKind, Unique
from tenants.services import provisioning as p
from tests.conftest import SharedDatabase
from tests.factories import PASSWORD, World, build_world
from tests.form_versions import with_version
from tests.isolation_routes import (
    ID_KINDS,
    PORTAL_ROLES,
    ROUTES,
    Exempt,
    Ids,
    Other,
    Reach,
    Targets,
    build_targets,
)

# The world and the targets are built once for the module, in its shared transaction;
# each test runs in a savepoint of it and is rolled back to it (tests/conftest.py).


@pytest.fixture(scope="module")
def world(shared_database: SharedDatabase) -> World:
    return shared_database.build(build_world)


@pytest.fixture(scope="module")
def targets(shared_database: SharedDatabase, world: World) -> Targets:
    return shared_database.build(lambda: build_targets(world))


# -- what must not change -----------------------------------------------------------------------


def _tenant_classes() -> list[type[Any]]:
    return sorted(
        (
            mapper.class_
            for mapper in db.Model.registry.mappers
            if issubclass(mapper.class_, TenantScoped) and mapper.class_.__tenant_columns__
        ),
        key=lambda cls: cls.__tablename__,
    )


@functools.cache
def _every_column_of_every_tenant_table() -> tuple[tuple[str, Select[Any]], ...]:
    return tuple(
        (
            cls.__tablename__,
            select(*(getattr(cls, attr.key) for attr in db.inspect(cls).column_attrs)),
        )
        for cls in _tenant_classes()
    )


def state_of(app: Flask, scope: Scope) -> dict[str, dict[int, tuple[Any, ...]]]:
    """Every row of every tenant table that ``scope`` sees, column by column."""
    state: dict[str, dict[int, tuple[Any, ...]]] = {}
    with app.app_context(), use_scope(scope):
        for table, query in _every_column_of_every_tenant_table():
            rows = db.session.execute(query).all()
            state[table] = {row.id: tuple(row) for row in rows}
    return state


# Deliberate references across tenants: a reseller's row names the account (of its
# parent reseller) that bought its OEM server option (R1).
CROSSING_ALLOWED = {("reseller", "oem_account_id")}


@functools.cache
def _crossing_queries() -> tuple[tuple[str, str, Select[Any]], ...]:
    """For each tenant foreign key: (table, column, the ids of the rows whose key leads
    to a row of another reseller, account or circle). Built once: making the aliased
    expressions costs far more than running them."""
    queries: list[tuple[str, str, Select[Any]]] = []
    classes = {cls.__tablename__: cls for cls in _tenant_classes()}
    for child in classes.values():
        mapper = db.inspect(child)
        for column in child.__table__.columns:
            if (child.__tablename__, column.name) in CROSSING_ALLOWED:
                continue
            for foreign_key in column.foreign_keys:
                parent = classes.get(foreign_key.column.table.name)
                if parent is None:
                    continue
                levels = set(child.__tenant_columns__) & set(parent.__tenant_columns__)
                c, q = aliased(child), aliased(parent)
                key = mapper.get_property_by_column(column).key
                target = db.inspect(parent).get_property_by_column(foreign_key.column).key
                differ = [
                    getattr(c, child.__tenant_columns__[level])
                    != getattr(q, parent.__tenant_columns__[level])
                    for level in sorted(levels)
                ]
                if not differ:
                    continue
                query = (
                    select(c.id).join(q, getattr(c, key) == getattr(q, target)).where(or_(*differ))
                )
                queries.append((child.__tablename__, column.name, query))
    return tuple(queries)


def crossed_references(app: Flask) -> list[str]:
    """Rows whose foreign key leads to a row of another reseller, account or circle."""
    found: list[str] = []
    with app.app_context(), platform_bypass("tests.isolation.crossed_references"):
        for table, column, query in _crossing_queries():
            found += [f"{table}#{row.id}.{column}" for row in db.session.execute(query).all()]
    return found


# -- requests -------------------------------------------------------------------------------------


def login(browser: Any, world: World, role: str) -> Any:
    client = browser(world.a.host)
    if role == "circle":
        response = client.login_circle(world.a.circle_login, PASSWORD)
    else:
        response = client.login_staff(world.a.staff[role], PASSWORD)
    assert response.status_code == 302, f"{role} of A could not log in"
    return client


def operator(browser: Any, world: World) -> Any:
    client = browser("localhost")
    assert client.login_console(world.operator_email, PASSWORD).status_code == 302
    return client


def rule_of(app: Flask, endpoint: str) -> Any:
    (rule,) = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    return rule


def path(app: Flask, endpoint: str, ids: Ids, *, url: Ids | None = None) -> str:
    """The route's path with ``ids`` in its URL and query (``url`` overrides the URL ids)."""
    entry = ROUTES[endpoint]
    assert isinstance(entry, Reach)
    values: dict[str, Any] = {name: (url or ids).of(kind) for name, kind in entry.ids.items()}
    values |= {name: ids.of(kind) for name, kind in entry.query.items()}
    return str(app.url_map.bind("localhost").build(endpoint, values))


def form_data(entry: Reach, ids: Ids) -> dict[str, Any]:
    assert entry.form is not None
    return {
        name: value.pattern.format(ids.of(value.kind)) if isinstance(value, Other) else value
        for name, value in entry.form.items()
    }


def methods(app: Flask, endpoint: str) -> set[str]:
    return set(rule_of(app, endpoint).methods or ()) & {"GET", "POST"}


def requests(app: Flask, client: Any, endpoint: str, ids: Ids) -> list[tuple[str, Any]]:
    """GET and, where the route takes it, POST (a valid CSRF token from the host's login
    page, which every portal login can open; plausible form data)."""
    entry = ROUTES[endpoint]
    assert isinstance(entry, Reach)
    target = path(app, endpoint, ids)
    answers = []
    if "GET" in methods(app, endpoint):
        answers.append(("GET", client.get(target)))
    if "POST" in methods(app, endpoint):
        answers.append(("POST", client.post(target, form_data(entry, ids), token_from="/login")))
    return answers


def _cases(select_role: Any) -> list[Any]:
    return [
        pytest.param(endpoint, role, id=f"{endpoint}-{role}")
        for endpoint, entry in sorted(ROUTES.items())
        if isinstance(entry, Reach) and entry.names_objects
        for role in PORTAL_ROLES
        if select_role(entry, role)
    ]


USERS = _cases(lambda entry, role: role in entry.roles)
OUTSIDERS = _cases(lambda entry, role: role not in entry.roles)
NARROW = _cases(lambda entry, role: role in entry.roles and role in ("manager", "circle"))


# -- the table covers the app --------------------------------------------------------------------


def test_every_endpoint_has_an_entry_in_the_route_table(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(ROUTES))
    assert not missing, (
        "routes without an entry in tests/isolation_routes.py (say how tenant B's ids "
        f"reach them, or why they take none): {missing}"
    )
    stale = sorted(set(ROUTES) - endpoints)
    assert not stale, f"entries for routes that no longer exist: {stale}"


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_the_entry_matches_its_route(app: Flask, endpoint: str) -> None:
    if endpoint not in {rule.endpoint for rule in app.url_map.iter_rules()}:
        pytest.fail(f"{endpoint} is not a route of the app")
    rule, entry = rule_of(app, endpoint), ROUTES[endpoint]
    if isinstance(entry, Exempt):
        assert entry.reason
        # The API's recording upload names a call by the PBX's own call id (text).
        allowed = {"filename"} | ({"call_id"} if entry.host == "api" else set())
        assert rule.arguments <= allowed, f"{endpoint} takes ids: it needs a Reach entry"
        return
    assert set(entry.ids) == rule.arguments, f"{endpoint}: URL parameters {rule.arguments}"
    assert (entry.form is not None) == ("POST" in methods(app, endpoint))
    kinds = [*entry.ids.values(), *entry.query.values()]
    kinds += [v.kind for v in (entry.form or {}).values() if isinstance(v, Other)]
    assert set(kinds) <= set(ID_KINDS)
    assert entry.roles and set(entry.roles) <= set(PORTAL_ROLES)
    assert entry.host in ("portal", "console", "api")
    assert entry.names_objects or any(isinstance(v, Other) for v in (entry.form or {}).values())


# -- tenant B's ids from tenant A's logins ------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "role"), USERS)
def test_another_tenants_ids_give_404_and_change_nothing(
    app: Flask, targets: Targets, browser: Any, endpoint: str, role: str
) -> None:
    world = targets.world
    before = state_of(app, world.b.scope)
    client = login(browser, world, role)
    answers = requests(app, client, endpoint, targets.b)
    assert answers
    for method, response in answers:
        assert response.status_code == 404, f"{method} {endpoint} as A's {role}"
    assert state_of(app, world.b.scope) == before
    assert crossed_references(app) == []


@pytest.mark.parametrize(("endpoint", "role"), OUTSIDERS)
def test_roles_that_do_not_use_a_route_are_refused_without_a_hint(
    app: Flask, targets: Targets, browser: Any, endpoint: str, role: str
) -> None:
    """The answer to B's id is the answer to an id that exists nowhere."""
    world = targets.world
    before = state_of(app, world.b.scope)
    client = login(browser, world, role)
    missing = Ids.nowhere()
    for (method, theirs), (_, nowhere) in zip(
        requests(app, client, endpoint, targets.b),
        requests(app, client, endpoint, missing),
        strict=True,
    ):
        assert theirs.status_code in (302, 404), f"{method} {endpoint} as A's {role}"
        assert theirs.status_code == nowhere.status_code
        if theirs.status_code == 302:
            location = urlsplit(theirs.headers["Location"]).path
            assert location in ("/login", "/staff/login")
            assert location == urlsplit(nowhere.headers["Location"]).path
    assert state_of(app, world.b.scope) == before


@pytest.mark.parametrize(("endpoint", "role"), NARROW)
def test_narrower_logins_get_404_for_their_own_resellers_other_objects(
    app: Flask, targets: Targets, browser: Any, endpoint: str, role: str
) -> None:
    """An account manager sees one account, a circle login one circle (R20)."""
    world = targets.world
    outside = targets.a_other if role == "manager" else targets.a_sibling
    scope = Scope(world.a.reseller_id, outside.account_id, outside.circle_id)
    before = state_of(app, scope)
    client = login(browser, world, role)
    for method, response in requests(app, client, endpoint, outside):
        assert response.status_code == 404, f"{method} {endpoint} as A's {role}"
    assert state_of(app, scope) == before
    assert crossed_references(app) == []


MIXED = [
    pytest.param(endpoint, role, id=f"{endpoint}-{role}")
    for endpoint, entry in sorted(ROUTES.items())
    if isinstance(entry, Reach) and len(entry.ids) > 1 and "circle_id" in entry.ids
    for role in ("admin", "manager")
]


@pytest.mark.parametrize(("endpoint", "role"), MIXED)
def test_an_object_of_another_circle_under_this_circles_url_is_404(
    app: Flask, targets: Targets, browser: Any, endpoint: str, role: str
) -> None:
    """The circle in the URL is A's own; the object in it is B's, or another circle's."""
    world = targets.world
    client = login(browser, world, role)
    own_circle = replace(targets.b, circle_id=targets.a.circle_id)
    sibling_object = replace(targets.a_sibling, circle_id=targets.a.circle_id)
    before = state_of(app, world.b.scope), state_of(app, world.a.scope)
    for ids in (own_circle, sibling_object):
        for method, response in requests(app, client, endpoint, ids):
            assert response.status_code == 404, f"{method} {endpoint} as A's {role}"
    assert (state_of(app, world.b.scope), state_of(app, world.a.scope)) == before


# -- controls: the same logins reach their own objects ----------------------------------------

OWN = [
    pytest.param(endpoint, id=endpoint)
    for endpoint, entry in sorted(ROUTES.items())
    if isinstance(entry, Reach) and entry.host == "portal"
]


@pytest.mark.parametrize("endpoint", OWN)
def test_the_first_role_reaches_its_own_object(
    app: Flask, targets: Targets, browser: Any, endpoint: str
) -> None:
    entry = ROUTES[endpoint]
    assert isinstance(entry, Reach)
    client = login(browser, targets.world, entry.roles[0])
    if "GET" in methods(app, endpoint):
        response = client.get(path(app, endpoint, targets.a))
        assert response.status_code == entry.own_status, endpoint
    else:
        # POST only: whatever the outcome, the view answers for its own object.
        response = client.post(
            path(app, endpoint, targets.a), form_data(entry, targets.a), token_from="/login"
        )
        assert response.status_code not in (400, 404) and response.status_code < 500, endpoint


# -- forged ids in form fields ---------------------------------------------------------------------

FORGED = [
    pytest.param(endpoint, role, id=f"{endpoint}-{role}")
    for endpoint, entry in sorted(ROUTES.items())
    if isinstance(entry, Reach)
    and entry.host == "portal"
    and any(isinstance(v, Other) for v in (entry.form or {}).values())
    for role in dict.fromkeys(
        (entry.roles[0], *(r for r in entry.roles if r in ("manager", "circle")))
    )
]


@pytest.mark.parametrize(("endpoint", "role"), FORGED)
def test_forged_ids_in_form_fields_change_nothing_outside_the_scope(
    app: Flask, targets: Targets, browser: Any, endpoint: str, role: str
) -> None:
    """A's own page, with the ids in its form fields swapped for B's (or, for the
    narrower logins, for those of A's other account or circle)."""
    world = targets.world
    entry = ROUTES[endpoint]
    assert isinstance(entry, Reach)
    client = login(browser, world, role)
    outsiders = [(world.b.scope, targets.b)]
    if role == "manager":
        outsiders.append((Scope(world.a.reseller_id, targets.a_other.account_id), targets.a_other))
    if role == "circle":
        sibling = targets.a_sibling
        outsiders.append(
            (Scope(world.a.reseller_id, sibling.account_id, sibling.circle_id), sibling)
        )
    for scope, forged in outsiders:
        before = state_of(app, scope)
        target = path(app, endpoint, forged, url=targets.a)
        response = client.post(target, form_data(entry, forged), token_from="/login")
        assert response.status_code < 500
        assert state_of(app, scope) == before, f"{endpoint} as A's {role}"
    assert crossed_references(app) == []


def test_a_forged_tenant_in_the_password_policy_form_changes_only_the_own_circle(
    app: Flask, world: World, browser: Any
) -> None:
    before = state_of(app, world.b.scope)
    client = login(browser, world, "admin")
    detail = f"/staff/circles/{world.a.circle_id}"
    response = client.post(
        f"{detail}/password-policy",
        {
            **with_version(client, detail, {"policy": "force"}),
            "reseller_id": str(world.b.reseller_id),
            "account_id": str(world.b.account_id),
            "circle_id": str(world.b.circle_id),
        },
        token_from="/login",
    )
    assert response.status_code == 302
    assert state_of(app, world.b.scope) == before
    with app.app_context(), use_scope(world.a.scope):
        policy = db.session.get(Circle, world.a.circle_id).password_policy  # type: ignore[union-attr]
    assert policy == "force"


# -- hosts and logins ------------------------------------------------------------------------------


def test_a_circle_of_another_reseller_cannot_log_in_on_this_host(
    world: World, browser: Any
) -> None:
    client = browser(world.a.host)
    assert client.post("/locale", {"locale": "en", "next": "/"}).status_code == 302
    refused = client.login_circle(world.b.circle_login, PASSWORD)
    assert refused.status_code == 200
    assert "not correct" in refused.get_data(as_text=True)
    assert client.get("/portal/").status_code == 302
    # The same form takes the host's own circle (so the refusal above is the host's doing).
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    assert client.get("/portal/").status_code == 200


def test_staff_of_another_reseller_cannot_log_in_on_this_host(
    app: Flask, world: World, browser: Any
) -> None:
    client = browser(world.a.host)
    for email in world.b.staff.values():
        assert client.login_staff(email, PASSWORD).status_code == 200
        assert client.get("/staff/").status_code == 302
    # B has a login with the same e-mail as A's admin and a password of its own.
    with app.app_context(), use_scope(world.b.scope):
        p.create_staff(
            db.session.get(Reseller, world.b.reseller_id),  # type: ignore[arg-type]
            email=world.a.staff["admin"],
            name="namesake",
            password="Bravo#Own2026",
            kind=StaffKind.RESELLER,
        )
        db.session.commit()
    assert client.login_staff(world.a.staff["admin"], "Bravo#Own2026").status_code == 200
    assert client.get("/staff/").status_code == 302
    assert client.login_staff(world.a.staff["admin"], PASSWORD).status_code == 302
    assert "alpha" in client.get("/staff/").get_data(as_text=True)


COOKIE = "sess" + "ion"  # Flask's cookie name


def _login_cookie(client: Any, host: str) -> str:
    cookie = client.client.get_cookie(COOKIE, domain=host)
    assert cookie is not None
    return str(cookie.value)


def test_a_login_cookie_from_another_resellers_host_is_not_accepted(
    world: World, browser: Any
) -> None:
    """A copied login cookie of B's host names B's login: A's host does not know it."""
    for role, home in (("circle", "/portal/"), ("admin", "/staff/")):
        theirs = browser(world.b.host)
        if role == "circle":
            assert theirs.login_circle(world.b.circle_login, PASSWORD).status_code == 302
        else:
            assert theirs.login_staff(world.b.staff["admin"], PASSWORD).status_code == 302
        assert theirs.get(home).status_code == 200
        replayed = browser(world.a.host)
        replayed.client.set_cookie(COOKIE, _login_cookie(theirs, world.b.host), domain=world.a.host)
        assert replayed.get(home).status_code == 302, role


def test_the_console_refuses_reseller_logins(world: World, browser: Any) -> None:
    console = browser("localhost")
    for email in world.a.staff.values():
        assert console.login_console(email, PASSWORD).status_code == 200
        assert console.get("/console/").status_code == 302
    # A reseller admin's login cookie, carried to the console host, is nobody there.
    admin = login(browser, world, "admin")
    console.client.set_cookie(COOKIE, _login_cookie(admin, world.a.host), domain="localhost")
    assert console.get("/console/").status_code == 302
    # The console's pages do not exist on a reseller's host, logged in or not.
    for path_ in ("/console/", "/console/audit", f"/console/resellers/{world.b.reseller_id}"):
        assert admin.get(path_).status_code == 404
    assert operator(browser, world).get("/console/").status_code == 200
    # Nor does the operator's login work on a reseller's host.
    portal = browser(world.a.host)
    assert portal.login_staff(world.operator_email, PASSWORD).status_code == 200
    assert portal.get("/staff/").status_code == 302


CONSOLE = [
    pytest.param(endpoint, id=endpoint)
    for endpoint, entry in sorted(ROUTES.items())
    if isinstance(entry, Reach) and entry.host == "console"
]


@pytest.mark.parametrize("endpoint", CONSOLE)
def test_console_routes_answer_404_for_a_missing_id_and_reach_any_reseller(
    app: Flask, targets: Targets, browser: Any, endpoint: str
) -> None:
    client = operator(browser, targets.world)
    missing = Ids.nowhere()
    assert client.get(path(app, endpoint, missing)).status_code in (404, 405)
    if "GET" in methods(app, endpoint):
        assert client.get(path(app, endpoint, targets.b)).status_code == 200
    else:
        response = client.post(path(app, endpoint, missing), {}, token_from="/console/login")
        assert response.status_code == 404


def test_the_operators_cross_tenant_reads_are_audited(
    app: Flask, world: World, browser: Any
) -> None:
    client = operator(browser, world)
    assert client.get(f"/console/resellers/{world.b.reseller_id}").status_code == 200
    with app.app_context(), use_scope(Scope(world.platform_reseller_id)):
        rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "tenant.bypass")).all()
    reasons = {row.after["reason"] for row in rows if row.actor_kind == "platform"}  # type: ignore[index]
    assert "console.reseller_detail" in reasons


def test_the_crossing_check_finds_a_reference_into_another_tenant(app: Flask, world: World) -> None:
    assert crossed_references(app) == []
    with app.app_context(), platform_bypass("tests.isolation"):
        theirs = db.session.scalars(
            select(PickupGroup.id).where(PickupGroup.reseller_id == world.b.reseller_id)
        ).first()
        db.session.execute(
            update(Unique).where(Unique.id == world.a.unique_id).values(pickup_group_id=theirs)
        )
        db.session.commit()
    assert crossed_references(app) == [f"unique_entry#{world.a.unique_id}.pickup_group_id"]


def test_what_one_test_changed_in_the_shared_world_is_gone_in_the_next(
    app: Flask, world: World
) -> None:
    """Runs after the test above (pytest keeps the file's order): its forged reference
    was rolled back with its savepoint, and the world built for the module is intact."""
    assert crossed_references(app) == []
    with app.app_context(), use_scope(world.a.scope):
        unique = db.session.get(Unique, world.a.unique_id)
        assert unique is not None
        assert (
            unique.pickup_group_id is None or unique.pickup_group.reseller_id == world.a.reseller_id
        )
