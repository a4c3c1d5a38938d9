"""The console's API clients page (tenants.views.console_api_clients): register with the
secret shown once, list, revoke; audited; platform operator only (R22)."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from pbx_platform.api.models import ApiClient
from pbx_platform.api.oauth import digest
from pbx_platform.audit_read import describe
from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import Scope, use_scope
from tests.api.helpers import get_token

SECRET = re.compile(r'<code id="client-secret">([^<]+)</code>')


@pytest.fixture
def console(world, browser):
    client = browser("localhost")
    client.post("/locale", {"locale": "en", "next": "/"})
    client.login_console(world.operator_email, world.password)
    return client


def _clients(app, world) -> list[ApiClient]:
    with app.app_context(), use_scope(Scope(world.platform_reseller_id)):
        rows = db.session.scalars(select(ApiClient).order_by(ApiClient.id)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def _register(console, **values):
    form = {"name": "pbx-tokyo-1", "scopes": ["calls:write", "config:read"], "reseller_id": ""}
    form.update(values)
    return console.post("/console/api-clients/new", form, token_from="/console/api-clients/new")


def test_register_shows_the_secret_once_and_it_works(app, world, console):
    response = _register(console, reseller_id=str(world.a.reseller_id))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "Copy the secret now: it is shown only once and cannot be shown again." in html
    secret = SECRET.search(html).group(1)
    [client] = _clients(app, world)
    assert client.secret_hash == digest(secret)
    assert client.scopes == "calls:write config:read"
    assert client.reseller_id == world.a.reseller_id
    # Never again: not on the list.
    listing = console.get("/console/api-clients").get_data(as_text=True)
    assert client.client_id in listing
    assert secret not in listing
    assert get_token(app.test_client(), client.client_id, secret).status_code == 200


def test_bad_input_is_refused_with_messages_and_nothing_made(app, world, console):
    response = _register(console, name="", scopes=[], reseller_id="999999", expires_on="soon")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for message in (
        "Enter a name.",
        "Choose at least one scope.",
        "Choose a reseller from the list.",
        "Enter a date like 2027-03-31.",
    ):
        assert message in html
    assert _clients(app, world) == []


def test_revoke_is_audited_and_the_client_gets_no_token(app, world, console):
    html = _register(console).get_data(as_text=True)
    secret = SECRET.search(html).group(1)
    [client] = _clients(app, world)
    response = console.post(
        "/console/api-clients/revoke",
        {"client_pk": str(client.id)},
        token_from="/console/api-clients",
    )
    assert response.status_code == 302
    [revoked] = _clients(app, world)
    assert revoked.revoked_at is not None
    assert get_token(app.test_client(), client.client_id, secret).status_code == 401
    with (
        app.test_request_context(),
        force_locale("en"),
        use_scope(Scope(world.platform_reseller_id)),
    ):
        rows = db.session.scalars(
            select(AuditLog).where(AuditLog.object_type == "api_client").order_by(AuditLog.id)
        ).all()
        assert [row.action for row in rows] == ["api_client.create", "api_client.revoke"]
        assert rows[0].after["secret_hash"] == "[redacted]"
        sentence = describe(rows[0]).sentence
        assert sentence.endswith("registered API client “pbx-tokyo-1”")


def test_the_api_clients_page_is_in_the_console_menu(console):
    html = console.get("/console/api-clients").get_data(as_text=True)
    assert 'href="/console/api-clients"' in html
    assert "API clients" in html
