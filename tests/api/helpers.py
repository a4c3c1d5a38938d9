"""API clients and tokens made for tests, through the services."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from pbx_platform.api import clients
from pbx_platform.api.models import SCOPES
from pbx_platform.db import db
from pbx_platform.tenancy import Scope, use_scope

CONSOLE = "http://localhost"


def make_client(
    app: Any,
    world: Any,
    *,
    scopes: tuple[str, ...] = SCOPES,
    reseller_id: int | None = None,
    expires_on: date | None = None,
    name: str = "Node 1",
) -> tuple[str, str, int]:
    """(client id, secret, row id) of a new client."""
    with app.app_context(), use_scope(Scope(world.platform_reseller_id)):
        client, secret = clients.create_client(
            clients.NewClient(
                name, tuple(s for s in SCOPES if s in scopes), reseller_id, expires_on
            ),
            created_by=None,
        )
        db.session.commit()
        return client.client_id, secret, client.id


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def get_token(http: Any, client_id: str, secret: str, scope: str | None = None) -> Any:
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    return http.post(
        "/api/oauth/token", data=data, headers=basic(client_id, secret), base_url=CONSOLE
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(app: Any, world: Any, **client: Any) -> str:
    client_id, secret, _ = make_client(app, world, **client)
    response = get_token(app.test_client(), client_id, secret)
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["access_token"])
