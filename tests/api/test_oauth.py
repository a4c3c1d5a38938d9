"""OAuth 2.0 client credentials and bearer tokens (pbx_platform.api.oauth; R20)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from pbx_platform.api import clients
from pbx_platform.api.models import ApiClient, ApiToken
from pbx_platform.api.oauth import digest
from pbx_platform.db import db
from pbx_platform.tenancy import Scope, use_scope
from tests.api.helpers import CONSOLE, bearer, get_token, make_client, token_for

CONFIG = "/api/v1/circles/{}/config"
EN = {"Accept-Language": "en"}


def test_valid_client_gets_a_token_for_its_scopes(app, world):
    client_id, secret, pk = make_client(app, world, scopes=("config:read", "calls:write"))
    response = get_token(app.test_client(), client_id, secret)
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "calls:write config:read"
    with app.app_context():
        row = db.session.scalars(select(ApiToken).where(ApiToken.client_pk == pk)).one()
        # Only the hash is stored.
        assert row.token_hash == digest(body["access_token"])
        assert body["access_token"] not in row.token_hash
        assert db.session.get(ApiClient, pk).last_used_at is not None


def test_secret_is_stored_hashed_only(app, world):
    _client_id, secret, pk = make_client(app, world)
    with app.app_context():
        row = db.session.get(ApiClient, pk)
        assert row.secret_hash == digest(secret)
        assert secret not in row.secret_hash


def test_wrong_secret_gets_no_token(app, world):
    client_id, _, _ = make_client(app, world)
    response = get_token(app.test_client(), client_id, "not-the-secret")
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert "access_token" not in response.get_json()


def test_token_endpoint_only_on_the_console_host(app, world):
    client_id, secret, _ = make_client(app, world)
    response = app.test_client().post(
        "/api/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=get_token.__globals__["basic"](client_id, secret),
        base_url=f"http://{world.a.host}",
    )
    assert response.status_code == 404
    assert response.is_json


def test_asked_scope_outside_the_clients_gets_only_its_own(app, world):
    client_id, secret, _ = make_client(app, world, scopes=("config:read",))
    response = get_token(app.test_client(), client_id, secret, scope="calls:write config:read")
    assert response.status_code == 200
    assert response.get_json()["scope"] == "config:read"


def test_valid_token_reads_config(app, world):
    token = token_for(app, world, scopes=("config:read",))
    response = app.test_client().get(
        CONFIG.format(world.a.circle_id), headers=bearer(token), base_url=CONSOLE
    )
    assert response.status_code == 200
    assert response.get_json()["circle"]["id"] == world.a.circle_id


def test_missing_token_is_401_with_a_bearer_challenge(app, world):
    response = app.test_client().get(CONFIG.format(world.a.circle_id), headers=EN, base_url=CONSOLE)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.get_json() == {
        "error": "invalid_token",
        "message": "The access token is missing, invalid or expired.",
    }


def test_unknown_token_is_invalid_token(app, world):
    response = app.test_client().get(
        CONFIG.format(world.a.circle_id),
        headers={**bearer("made-up"), **EN},
        base_url=CONSOLE,
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.get_json()["error"] == "invalid_token"


def test_expired_token_gets_no_data(app, world):
    token = token_for(app, world)
    later = datetime.now(UTC) + timedelta(seconds=3601)
    with time_machine.travel(later, tick=False):
        response = app.test_client().get(
            CONFIG.format(world.a.circle_id), headers=bearer(token), base_url=CONSOLE
        )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "circle" not in response.get_json()


def test_revoked_client_tokens_stop_working(app, world):
    client_id, secret, pk = make_client(app, world)
    token = get_token(app.test_client(), client_id, secret).get_json()["access_token"]
    with app.app_context(), use_scope(Scope(world.platform_reseller_id)):
        assert clients.revoke_client(db.session.get(ApiClient, pk))
        db.session.commit()
    response = app.test_client().get(
        CONFIG.format(world.a.circle_id), headers=bearer(token), base_url=CONSOLE
    )
    assert response.status_code == 401
    assert "circle" not in response.get_json()
    # And no new token.
    assert get_token(app.test_client(), client_id, secret).status_code == 401


def test_expired_client_gets_no_token(app, world):
    client_id, secret, _ = make_client(app, world)
    with app.app_context(), use_scope(Scope(world.platform_reseller_id)):
        row = db.session.scalars(select(ApiClient).where(ApiClient.client_id == client_id)).one()
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    assert get_token(app.test_client(), client_id, secret).status_code == 401


def test_wrong_scope_is_403_insufficient_scope(app, world):
    token = token_for(app, world, scopes=("calls:write",))
    response = app.test_client().get(
        CONFIG.format(world.a.circle_id), headers={**bearer(token), **EN}, base_url=CONSOLE
    )
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="config:read"'
    )
    assert response.get_json() == {
        "error": "insufficient_scope",
        "message": "The access token lacks the scope config:read.",
    }


def test_messages_in_japanese_when_asked(app, world):
    response = app.test_client().get(
        CONFIG.format(world.a.circle_id), headers={"Accept-Language": "ja"}, base_url=CONSOLE
    )
    assert response.status_code == 401
    assert response.get_json()["message"] == "アクセストークンがないか、無効か、期限切れです。"


def test_reseller_client_does_not_see_another_resellers_circle(app, world):
    token = token_for(app, world, reseller_id=world.a.reseller_id)
    http = app.test_client()
    own = http.get(CONFIG.format(world.a.circle_id), headers=bearer(token), base_url=CONSOLE)
    assert own.status_code == 200
    other = http.get(
        CONFIG.format(world.b.circle_id), headers={**bearer(token), **EN}, base_url=CONSOLE
    )
    assert other.status_code == 404
    assert other.get_json() == {"error": "not_found", "message": "Not found."}


def test_platform_wide_client_reaches_every_reseller(app, world):
    token = token_for(app, world)
    http = app.test_client()
    for circle_id in (world.a.circle_id, world.b.circle_id):
        response = http.get(CONFIG.format(circle_id), headers=bearer(token), base_url=CONSOLE)
        assert response.status_code == 200
        assert response.get_json()["circle"]["id"] == circle_id


def test_api_on_a_portal_host_is_a_json_404(app, world):
    token = token_for(app, world)
    response = app.test_client().get(
        CONFIG.format(world.a.circle_id), headers=bearer(token), base_url=f"http://{world.a.host}"
    )
    assert response.status_code == 404
    assert response.is_json


def test_unknown_api_path_is_json(app, world):
    response = app.test_client().get("/api/v1/nothing", base_url=CONSOLE)
    assert response.status_code == 404
    assert response.is_json


def test_a_client_id_with_a_nul_byte_is_no_client(app, world):
    """Found by the schema run: PostgreSQL refuses NUL in text, so it never gets there."""
    response = get_token(app.test_client(), "\x00pbx", "secret")
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_a_suspended_resellers_client_gets_no_token_and_its_tokens_stop(app, world):
    """A suspended reseller's portal refuses every login (tenants.services.resellers);
    its API clients too, and reactivating restores them."""
    from tenants.services import resellers

    client_id, secret, _ = make_client(app, world, reseller_id=world.a.reseller_id)
    token = get_token(app.test_client(), client_id, secret).get_json()["access_token"]
    with app.app_context(), use_scope(Scope(world.platform_reseller_id)):
        resellers.suspend(world.a.reseller_id)
        db.session.commit()
    response = app.test_client().get(
        CONFIG.format(world.a.circle_id), headers=bearer(token), base_url=CONSOLE
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert get_token(app.test_client(), client_id, secret).status_code == 401
    with app.app_context(), use_scope(Scope(world.platform_reseller_id)):
        resellers.reactivate(world.a.reseller_id)
        db.session.commit()
    again = app.test_client().get(
        CONFIG.format(world.a.circle_id), headers=bearer(token), base_url=CONSOLE
    )
    assert again.status_code == 200


def test_token_requests_are_limited_per_address(app, world):
    client_id, secret, _ = make_client(app, world)
    http = app.test_client()
    app.config["API_TOKEN_PER_IP"] = "3 per minute"
    try:
        codes = [get_token(http, client_id, "wrong").status_code for _ in range(3)]
        limited = get_token(http, client_id, secret)
    finally:
        app.config["API_TOKEN_PER_IP"] = "60 per minute"
    assert codes == [401, 401, 401]
    assert limited.status_code == 429
    assert limited.is_json and limited.get_json()["error"]
