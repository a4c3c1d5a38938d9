"""Serving the brand: portal resolution per request, the theme stylesheet and logo."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g, request
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.net import request_host
from pbx_platform.tenancy import Scope, set_scope
from themes import services
from themes.models import Theme

bp = Blueprint(
    "themes",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/themes",
)

# Endpoints that answer on any host (a load balancer's probe has no portal).
HOSTLESS_ENDPOINTS = {"health.healthz", "static", "themes.static"}


def resolve_portal() -> None:
    """Find the reseller this host serves and scope the request to it (R19, R20)."""
    if request.endpoint in HOSTLESS_ENDPOINTS:
        return
    match = services.match_host(request_host())
    if match is None:
        abort(404)
    g._scope_token = set_scope(Scope(reseller_id=match.reseller_id))
    portal = services.load_portal(match)
    if portal is None:
        abort(404)
    g.portal = portal


def brand_context() -> dict[str, Any]:
    return {"portal": g.get("portal")}


@bp.get("/theme.css")
def theme_css() -> Response:
    portal = g.portal
    css = (
        ":root{"
        f"--brand-primary:{portal.primary_color};"
        f"--brand-accent:{portal.accent_color};"
        "--brand-on-primary:#ffffff;"
        "}\n"
    )
    response = Response(css, mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.get("/theme/logo")
def logo() -> Response:
    if g.portal.is_console:
        abort(404)
    row = db.session.execute(select(Theme.logo, Theme.logo_mime)).first()
    if row is None or not row.logo:
        abort(404)
    response = Response(row.logo, mimetype=row.logo_mime)
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.route("/staff/theme", methods=["GET", "POST"])
def edit_theme() -> Any:
    abort(404)
