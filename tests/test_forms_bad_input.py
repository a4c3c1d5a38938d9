"""Bad input on every login and account form: over-long fields, wrong characters, a
missing CSRF token and a forged tenant id. Each gets a clear message on the page and
changes nothing in the database; none is a server error."""

from __future__ import annotations

import html
from typing import Any

import pytest
from sqlalchemy import func, select

from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.passwords import verify_password
from pbx_platform.tenancy import use_scope
from tenants.models import Circle, PasswordPolicy
from tests.conftest import PortalClient
from tests.factories import PASSWORD, open_session_ids
from tests.form_versions import with_version

HUGE = "x" * 10_000
EXPIRED_FORM = (
    "The form has expired or was not sent from this site. Please reload the page and try again."
)
INVALID = "The login ID or password is not correct."
NOT_FOUND = "The page you asked for does not exist."
R14_CHARACTERS = "A login ID may contain only a–z, A–Z, 0–9 and the symbols @ - _ ."
IN_USE = "This login ID is already in use. Choose another."
NEW_PASSWORD = "Fresh#Start2027"


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def english(client: PortalClient) -> PortalClient:
    assert client.post("/locale", {"locale": "en", "next": "/"}).status_code == 302
    return client


def snapshot(app, world) -> dict[str, Any]:
    """Every circle login of both resellers, and the size of the audit trail."""
    state: dict[str, Any] = {}
    for tenant in (world.a, world.b):
        with app.app_context(), use_scope(tenant.scope):
            for circle in db.session.scalars(select(Circle).order_by(Circle.id)):
                state[circle.id] = (
                    circle.login_id,
                    circle.login_id_key,
                    circle.password_hash,
                    circle.password_policy,
                    open_session_ids("circle", circle.id),
                )
            state[f"audit-{tenant.slug}"] = db.session.scalar(
                select(func.count()).select_from(AuditLog)
            )
    return state


def circle_of(app, tenant, circle_id: int | None = None) -> Circle:
    with app.app_context(), use_scope(tenant.scope):
        circle = db.session.get(Circle, circle_id or tenant.circle_id)
        assert circle is not None
        db.session.expunge(circle)
        return circle


def logged_in_circle(browser, tenant) -> PortalClient:
    client = english(browser(tenant.host))
    assert client.login_circle(tenant.circle_login, PASSWORD).status_code == 302
    return client


def logged_in_staff(browser, tenant, role: str = "admin") -> PortalClient:
    client = english(browser(tenant.host))
    assert client.login_staff(tenant.staff[role], PASSWORD).status_code == 302
    return client


def is_anonymous(client: PortalClient, home: str = "/portal/") -> bool:
    response = client.get(home)
    return response.status_code == 302 and "login" in response.headers["Location"]


# --- the login forms ---------------------------------------------------------------------

LOGIN_FORMS = [
    # (host attribute, path, id field, home)
    ("a", "/login", "login_id", "/portal/"),
    ("a", "/staff/login", "email", "/staff/"),
    ("console", "/console/login", "email", "/console/"),
]


def host_of(world: Any, which: str) -> str:
    return "localhost" if which == "console" else world.a.host


def good_login(world: Any, path: str) -> str:
    if path == "/login":
        return world.a.circle_login
    if path == "/staff/login":
        return world.a.staff["admin"]
    return world.operator_email


@pytest.mark.parametrize(("which", "path", "id_field", "home"), LOGIN_FORMS)
@pytest.mark.parametrize("field", ["id", "password"])
def test_login_forms_refuse_over_long_fields(
    world, browser, app, which, path, id_field, home, field
):
    client = english(browser(host_of(world, which)))
    before = snapshot(app, world)
    data = {id_field: good_login(world, path), "password": PASSWORD}
    data[id_field if field == "id" else "password"] = HUGE
    response = client.post(path, data)
    assert response.status_code == 200
    body = text(response)
    assert "Field cannot be longer than" in body
    assert is_anonymous(client, home)
    assert snapshot(app, world) == before


@pytest.mark.parametrize(("which", "path", "id_field", "home"), LOGIN_FORMS)
@pytest.mark.parametrize(
    "typed",
    ["<script>alert(1)</script>", "abc\x00def", "😀😀😀😀", "' OR '1'='1", "a\r\nb", "\u202e"],
    ids=["html", "nul", "emoji", "sql", "crlf", "bidi"],
)
def test_login_forms_answer_wrong_characters_with_the_generic_message(
    world, browser, app, which, path, id_field, home, typed
):
    client = english(browser(host_of(world, which)))
    before = snapshot(app, world)
    response = client.post(path, {id_field: typed, "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert INVALID in html.unescape(body)
    assert is_anonymous(client, home)
    assert snapshot(app, world) == before


@pytest.mark.parametrize(("which", "path", "id_field", "home"), LOGIN_FORMS)
def test_login_forms_refuse_a_password_with_a_nul(world, browser, app, which, path, id_field, home):
    client = english(browser(host_of(world, which)))
    response = client.post(path, {id_field: good_login(world, path), "password": PASSWORD + "\x00"})
    assert response.status_code == 200
    assert INVALID in text(response)
    assert is_anonymous(client, home)


@pytest.mark.parametrize(("which", "path", "id_field", "home"), LOGIN_FORMS)
def test_login_forms_want_both_fields(world, browser, app, which, path, id_field, home):
    client = english(browser(host_of(world, which)))
    response = client.post(path, {id_field: "", "password": ""})
    assert response.status_code == 200
    assert text(response).count("This field is required.") == 2
    assert is_anonymous(client, home)


@pytest.mark.parametrize(("which", "path", "id_field", "home"), LOGIN_FORMS)
@pytest.mark.parametrize("token", [None, "", "forged-token"], ids=["missing", "empty", "forged"])
def test_login_forms_refuse_a_missing_or_forged_csrf_token(
    world, browser, app, which, path, id_field, home, token
):
    client = english(browser(host_of(world, which)))
    client.get(path)
    data = {id_field: good_login(world, path), "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = client.post(path, data, csrf=False)
    assert response.status_code == 400
    assert EXPIRED_FORM in text(response)
    assert is_anonymous(client, home)


def test_circle_login_ignores_forged_tenant_fields(world, browser, app):
    forged = {"reseller_id": str(world.b.reseller_id), "circle_id": str(world.b.circle_id)}
    client = english(browser(world.a.host))
    refused = client.post(
        "/login", {"login_id": world.b.circle_login, "password": PASSWORD, **forged}
    )
    assert refused.status_code == 200
    assert INVALID in text(refused)
    accepted = client.post(
        "/login", {"login_id": world.a.circle_login, "password": PASSWORD, **forged}
    )
    assert accepted.status_code == 302
    home = text(client.get("/portal/"))
    assert "alpha circle" in home
    assert "bravo circle" not in home


def test_staff_login_ignores_forged_tenant_fields(world, browser, app):
    forged = {"reseller_id": str(world.b.reseller_id), "account_id": str(world.b.account_id)}
    client = english(browser(world.a.host))
    refused = client.post(
        "/staff/login", {"email": world.b.staff["admin"], "password": PASSWORD, **forged}
    )
    assert refused.status_code == 200
    assert INVALID in text(refused)
    client.post("/staff/login", {"email": world.a.staff["admin"], "password": PASSWORD, **forged})
    dashboard = text(client.get("/staff/"))
    assert "alpha 株式会社" in dashboard
    assert "bravo 株式会社" not in dashboard


# --- change password ---------------------------------------------------------------------


def change_password(client: PortalClient, **fields: str) -> Any:
    data = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_repeat": NEW_PASSWORD,
    }
    data.update(fields)
    return client.post("/portal/password", data)


@pytest.mark.parametrize("field", ["current_password", "new_password", "new_password_repeat"])
def test_change_password_refuses_over_long_fields(world, browser, app, field):
    client = logged_in_circle(browser, world.a)
    before = snapshot(app, world)
    response = change_password(client, **{field: HUGE})
    assert response.status_code == 200
    assert "Field cannot be longer than 128 characters." in text(response)
    assert snapshot(app, world) == before


@pytest.mark.parametrize(
    ("new", "shown"),
    [
        ("Fresh#Start\x002027", "U+0000"),
        ("Fresh#Start 2027", "space"),
        ("Ｆresh#Start2027", "Ｆ"),
        ("Fresh#Start2027😀", "😀"),
        ("Fresh#Start2027<>", "< >"),
    ],
    ids=["nul", "space", "full-width", "emoji", "angle-brackets"],
)
def test_change_password_names_wrong_characters(world, browser, app, new, shown):
    client = logged_in_circle(browser, world.a)
    before = snapshot(app, world)
    response = change_password(client, new_password=new, new_password_repeat=new)
    assert response.status_code == 200
    assert f"These characters are not allowed: {shown}." in text(response)
    assert snapshot(app, world) == before


def test_change_password_wants_every_field(world, browser, app):
    client = logged_in_circle(browser, world.a)
    before = snapshot(app, world)
    response = change_password(client, current_password="", new_password="", new_password_repeat="")
    assert response.status_code == 200
    assert text(response).count("This field is required.") == 3
    assert snapshot(app, world) == before


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "forged"])
def test_change_password_refuses_a_missing_or_forged_csrf_token(world, browser, app, token):
    client = logged_in_circle(browser, world.a)
    before = snapshot(app, world)
    data = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_repeat": NEW_PASSWORD,
    }
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/portal/password", data, csrf=False)
    assert response.status_code == 400
    assert EXPIRED_FORM in text(response)
    assert snapshot(app, world) == before
    assert client.get("/portal/").status_code == 200


def test_change_password_ignores_a_forged_circle_id(world, browser, app):
    client = logged_in_circle(browser, world.a)
    neighbour = circle_of(app, world.a, world.a.other_circle_id)
    foreign = circle_of(app, world.b)
    response = change_password(
        client,
        circle_id=str(world.b.circle_id),
        reseller_id=str(world.b.reseller_id),
        account_id=str(world.a.other_account_id),
    )
    assert response.status_code == 302
    assert verify_password(circle_of(app, world.a).password_hash, NEW_PASSWORD)
    assert circle_of(app, world.a, world.a.other_circle_id).password_hash == neighbour.password_hash
    assert circle_of(app, world.b).password_hash == foreign.password_hash


# --- change login ID (R14) ---------------------------------------------------------------


def change_login_id(client: PortalClient, value: str, **extra: str) -> Any:
    return client.post("/portal/login-id", {"login_id": value, **extra})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "Use at least 4 characters."),
        ("new id", R14_CHARACTERS),
        ("new+id", R14_CHARACTERS),
        ("新しいID", R14_CHARACTERS),
        ("new\x00id", R14_CHARACTERS),
        ("new/id", R14_CHARACTERS),
        ("😀😀😀😀", R14_CHARACTERS),
        ("x" * 65, "Field cannot be longer than 64 characters."),
        (HUGE, "Field cannot be longer than 64 characters."),
        ("", "This field is required."),
    ],
    ids=["short", "space", "plus", "kanji", "nul", "slash", "emoji", "65", "huge", "empty"],
)
def test_login_id_change_names_the_broken_r14_rule(world, browser, app, value, message):
    client = logged_in_circle(browser, world.a)
    before = snapshot(app, world)
    response = change_login_id(client, value)
    assert response.status_code == 200
    assert message in text(response)
    assert snapshot(app, world) == before


def test_login_id_change_accepts_full_width_input_after_nfkc(world, browser, app):
    client = logged_in_circle(browser, world.a)
    response = change_login_id(client, "ｎｅｗ＿ｉｄ－０１＠ｅｘ．ｊｐ")
    assert response.status_code == 302
    circle = circle_of(app, world.a)
    assert circle.login_id == "new_id-01@ex.jp"
    assert circle.login_id_key == "new_id-01@ex.jp"
    again = english(browser(world.a.host))
    assert again.login_circle("NEW_ID-01@EX.JP", PASSWORD).status_code == 302


def test_login_id_change_shows_the_normalised_value_back(world, browser, app):
    client = logged_in_circle(browser, world.a)
    response = change_login_id(client, "ａｂｃ")
    assert response.status_code == 200
    body = text(response)
    assert "Use at least 4 characters." in body
    assert 'value="abc"' in body


@pytest.mark.parametrize(
    "taken",
    ["alpha-other", "ALPHA-OTHER", "ａｌｐｈａ－ｏｔｈｅｒ"],
    ids=["same-reseller", "same-reseller-upper", "same-reseller-full-width"],
)
def test_login_id_in_use_within_the_reseller_is_refused(world, browser, app, taken):
    client = logged_in_circle(browser, world.a)
    before = snapshot(app, world)
    response = change_login_id(client, taken)
    assert response.status_code == 200
    assert IN_USE in text(response)
    assert snapshot(app, world) == before
    # The page and the session still work after the refused change.
    assert client.get("/portal/").status_code == 200


@pytest.mark.parametrize("taken", ["bravo-circle", "BRAVO-CIRCLE", "ｂｒａｖｏ－ｃｉｒｃｌｅ"])
def test_another_resellers_login_id_is_free_here_and_tells_nothing(world, browser, app, taken):
    """R14: unique within the reseller. Whether another reseller's customers use an ID is
    not this reseller's business: the change is accepted like any free ID."""
    client = logged_in_circle(browser, world.a)
    assert change_login_id(client, taken).status_code == 302
    assert circle_of(app, world.a).login_id_key == "bravo-circle"
    # Each host logs in its own circle under the same ID.
    alpha = browser(world.a.host)
    assert alpha.login_circle("bravo-circle", PASSWORD).status_code == 302
    assert "<h1>alpha circle</h1>" in text(alpha.get("/portal/"))
    bravo = browser(world.b.host)
    assert bravo.login_circle("bravo-circle", PASSWORD).status_code == 302
    assert "<h1>bravo circle</h1>" in text(bravo.get("/portal/"))


def test_login_id_change_to_another_case_of_the_same_id_is_allowed(world, browser, app):
    client = logged_in_circle(browser, world.a)
    assert change_login_id(client, "Alpha-Circle").status_code == 302
    assert circle_of(app, world.a).login_id == "Alpha-Circle"


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "forged"])
def test_login_id_change_refuses_a_missing_or_forged_csrf_token(world, browser, app, token):
    client = logged_in_circle(browser, world.a)
    before = snapshot(app, world)
    data = {"login_id": "brand-new-id"}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/portal/login-id", data, csrf=False)
    assert response.status_code == 400
    assert EXPIRED_FORM in text(response)
    assert snapshot(app, world) == before


def test_login_id_change_ignores_a_forged_circle_id(world, browser, app):
    client = logged_in_circle(browser, world.a)
    response = change_login_id(
        client,
        "brand-new-id",
        circle_id=str(world.b.circle_id),
        reseller_id=str(world.b.reseller_id),
    )
    assert response.status_code == 302
    assert circle_of(app, world.a).login_id == "brand-new-id"
    assert circle_of(app, world.b).login_id == world.b.circle_login
    assert circle_of(app, world.a, world.a.other_circle_id).login_id == world.a.other_circle_login


# --- password policy (R17) ---------------------------------------------------------------


def policy_path(circle_id: int) -> str:
    return f"/staff/circles/{circle_id}/password-policy"


@pytest.mark.parametrize(
    "value", [HUGE, "force\x00", "ｆｏｒｃｅ", "<b>force</b>"], ids=["huge", "nul", "fw", "html"]
)
def test_policy_form_refuses_values_it_does_not_offer(world, browser, app, value):
    client = logged_in_staff(browser, world.a)
    before = snapshot(app, world)
    response = client.post(policy_path(world.a.circle_id), {"policy": value}, token_from="/staff/")
    assert response.status_code == 400
    body = text(response)
    assert "Choose one of the offered policies." in body
    assert "<b>force</b>" not in response.get_data(as_text=True)
    assert snapshot(app, world) == before


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "forged"])
def test_policy_form_refuses_a_missing_or_forged_csrf_token(world, browser, app, token):
    client = logged_in_staff(browser, world.a)
    before = snapshot(app, world)
    data = {"policy": "force"}
    if token is not None:
        data["csrf_token"] = token
    response = client.post(policy_path(world.a.circle_id), data, csrf=False)
    assert response.status_code == 400
    assert EXPIRED_FORM in text(response)
    assert snapshot(app, world) == before


def test_policy_form_with_a_forged_circle_id_of_another_reseller_is_not_found(world, browser, app):
    client = logged_in_staff(browser, world.a)
    before = snapshot(app, world)
    response = client.post(
        policy_path(world.b.circle_id), {"policy": "force"}, token_from="/staff/"
    )
    assert response.status_code == 404
    assert NOT_FOUND in text(response)
    assert snapshot(app, world) == before


def test_policy_form_ignores_forged_tenant_fields_in_the_body(world, browser, app):
    client = logged_in_staff(browser, world.a, "manager")
    forged = {
        "circle_id": str(world.b.circle_id),
        "reseller_id": str(world.b.reseller_id),
        "account_id": str(world.a.other_account_id),
    }
    form = with_version(client, f"/staff/circles/{world.a.circle_id}", {"policy": "warn"})
    response = client.post(policy_path(world.a.circle_id), {**form, **forged}, token_from="/staff/")
    assert response.status_code == 302
    assert circle_of(app, world.a).password_policy == PasswordPolicy.WARN
    assert circle_of(app, world.b).password_policy == PasswordPolicy.NONE
    other = circle_of(app, world.a, world.a.other_circle_id)
    assert other.password_policy == PasswordPolicy.NONE


# --- logout ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token", [None, "", "forged-token", HUGE], ids=["missing", "empty", "forged", "huge"]
)
def test_logout_refuses_a_missing_or_forged_csrf_token(world, browser, app, token):
    client = logged_in_circle(browser, world.a)
    before = snapshot(app, world)
    data = {} if token is None else {"csrf_token": token}
    response = client.post("/logout", data, csrf=False)
    assert response.status_code == 400
    assert EXPIRED_FORM in text(response)
    assert snapshot(app, world) == before
    assert client.get("/portal/").status_code == 200


def test_logout_ignores_a_forged_circle_id(world, browser, app):
    client = logged_in_circle(browser, world.a)

    def sessions(tenant, circle_id: int) -> tuple[int, ...]:
        with app.app_context(), use_scope(tenant.scope):
            return open_session_ids("circle", circle_id)

    foreign = sessions(world.b, world.b.circle_id)
    neighbour = sessions(world.a, world.a.other_circle_id)
    assert len(sessions(world.a, world.a.circle_id)) == 1
    response = client.post(
        "/logout",
        {"circle_id": str(world.b.circle_id), "reseller_id": str(world.b.reseller_id)},
        token_from="/portal/",
    )
    assert response.status_code == 302
    assert sessions(world.a, world.a.circle_id) == ()
    assert sessions(world.b, world.b.circle_id) == foreign
    assert sessions(world.a, world.a.other_circle_id) == neighbour


def test_anonymous_logout_with_a_token_is_harmless(world, browser, app):
    client = english(browser(world.a.host))
    before = snapshot(app, world)
    response = client.post("/logout", token_from="/login")
    assert response.status_code == 302
    assert snapshot(app, world) == before


# --- the language switch, on every page's header -----------------------------------------


def test_language_switch_refuses_a_missing_token_and_ignores_bad_values(world, browser):
    client = browser(world.a.host)
    assert client.post("/locale", {"locale": "en"}, csrf=False).status_code == 400
    response = client.post("/locale", {"locale": HUGE, "next": "//evil.example/"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
