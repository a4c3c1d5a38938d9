"""The machine API's endpoints for the PBX nodes (call records, recordings, circle
configuration) and its OpenAPI document; authentication is the core's
(``pbx_platform.api``)."""

from __future__ import annotations

from flask import Flask

from pbx_platform.api.models import ApiClient
from pbx_platform.api.oauth import register_api_blueprint, register_client_check
from pbx_platform.db import db
from pbx_platform.tenancy import Scope, use_scope
from tenants.api import views
from tenants.models import Reseller


def reseller_not_suspended(client: ApiClient) -> bool:
    """A suspended reseller's portal refuses every login; its API clients too."""
    if client.reseller_id is None:
        return True
    with use_scope(Scope(client.reseller_id)):
        reseller = db.session.get(Reseller, client.reseller_id)
        return reseller is not None and not reseller.is_suspended


def init_app(app: Flask) -> None:
    register_client_check(reseller_not_suspended)
    register_api_blueprint(app, views.bp)
