"""Reseller branding (R19): portal resolution by host, theme values, base templates."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask, g

from pbx_platform.mail import register_brand_resolver
from pbx_platform.templating import set_overrides
from tenants import hooks
from themes import services, views

OVERRIDES = Path(__file__).resolve().parent / "overrides"
# A folder name, never a path: "../" must not reach templates outside the overrides.
OVERRIDE_FOLDER = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def _override_folder() -> str | None:
    portal = g.get("portal") if g else None
    folder = portal.template_folder if portal is not None else None
    return folder if folder and OVERRIDE_FOLDER.fullmatch(folder) else None


def init_app(app: Flask) -> None:
    set_overrides(OVERRIDES, _override_folder)
    register_brand_resolver(services.mail_brand)
    hooks.register_brand_maker(services.create_theme)
    # First of all request hooks, whatever the factory's order: the CSRF check, the rate
    # limits and the login all run, and render their error pages, inside the host's
    # tenant scope and brand.
    app.before_request_funcs.setdefault(None, []).insert(0, views.resolve_portal)
    app.context_processor(views.brand_context)
    app.register_blueprint(views.bp)
