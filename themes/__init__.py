"""Reseller branding (R19): portal resolution by host, theme values, base templates."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g

from pbx_platform.templating import set_overrides
from themes import views

OVERRIDES = Path(__file__).resolve().parent / "overrides"


def _override_folder() -> str | None:
    portal = g.get("portal") if g else None
    return portal.template_folder if portal is not None else None


def init_app(app: Flask) -> None:
    set_overrides(OVERRIDES, _override_folder)
    app.before_request(views.resolve_portal)
    app.context_processor(views.brand_context)
    app.register_blueprint(views.bp)
