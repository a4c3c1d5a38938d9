"""The machine API's endpoints for the PBX nodes (call records, recordings, circle
configuration) and its OpenAPI document; authentication is the core's
(``pbx_platform.api``)."""

from __future__ import annotations

from flask import Flask

from pbx_platform.api.oauth import register_api_blueprint
from tenants.api import views


def init_app(app: Flask) -> None:
    register_api_blueprint(app, views.bp)
