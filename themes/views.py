"""Serving the brand: portal resolution per request, the theme stylesheet and logo."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from pbx_platform.auth import principal_required
from pbx_platform.db import db
from pbx_platform.extensions import login_manager
from pbx_platform.net import request_host
from pbx_platform.permissions import Action, require
from pbx_platform.tenancy import enter_request_scope
from pbx_platform.versioning import StaleEdit, form_version, refuse_stale
from themes import services
from themes.forms import ThemeForm
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
        # No tenant, so no login to load: a login cookie sent to a host we do not
        # serve (a removed custom domain, a forged Host header) must not make the
        # 404 page look a principal up outside any scope.
        g._login_user = login_manager.anonymous_user()
        abort(404)
    enter_request_scope(match.reseller_id)
    portal = services.load_portal(match)
    if portal is None:
        abort(404)
    g.portal = portal


def brand_context() -> dict[str, Any]:
    return {"portal": g.get("portal")}


@bp.get("/theme.css")
def theme_css() -> Response:
    """The brand as CSS custom properties; values re-checked here, never trusted raw."""
    portal = g.portal
    if portal.is_console:
        primary, accent = services.CONSOLE_PRIMARY, services.CONSOLE_ACCENT
    else:
        primary, accent = services.stylesheet_colours(portal.primary_color, portal.accent_color)
    css = (
        f":root{{--brand-primary:{primary};--brand-accent:{accent};--brand-on-primary:#ffffff;}}\n"
    )
    response = Response(css, mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.get("/theme/logo")
def logo() -> Response:
    portal = g.portal
    if portal.is_console:
        abort(404)
    row = db.session.execute(
        select(Theme.logo, Theme.logo_mime).where(Theme.reseller_id == portal.reseller_id)
    ).first()
    if row is None or not row.logo or row.logo_mime not in {"image/png", "image/jpeg"}:
        abort(404)
    response = Response(row.logo, mimetype=row.logo_mime)
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


def _on_portal(view: Callable[..., Any]) -> Callable[..., Any]:
    """Checked before the login: the console has no such page, not even a login prompt."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        portal = g.get("portal")
        if portal is None or portal.is_console:
            abort(404)
        return view(*args, **kwargs)

    return wrapper


def _uploaded_logo(upload: Any, max_bytes: int) -> bytes | None:
    if not isinstance(upload, FileStorage) or not upload.filename:
        return None
    # One byte over the limit is enough for the service to refuse the file.
    return upload.stream.read(max_bytes + 1)


@bp.route("/staff/theme", methods=["GET", "POST"])
@_on_portal
@principal_required("staff")
def edit_theme() -> Any:
    """R19: the reseller's admins edit their own brand (the host says whose; R22)."""
    require(Action.THEME_EDIT)
    portal = g.portal
    theme = services.editable_theme(portal.reseller_id, portal.reseller_name)
    form = ThemeForm(data=services.theme_values(theme))
    status = 200
    if form.validate_on_submit():
        max_bytes = current_app.config["LOGO_MAX_BYTES"]
        try:
            outcome = services.update_theme(
                theme,
                {name: getattr(form, name).data for name in services.THEME_FIELDS},
                logo_bytes=_uploaded_logo(form.logo.data, max_bytes),
                remove_logo=bool(form.remove_logo.data),
                max_logo_bytes=max_bytes,
                version=form_version(request.form.get("edit_version")),
            )
        except StaleEdit:
            return refuse_stale(url_for("themes.edit_theme"))
        if outcome.ok:
            flash(_l("The branding has been saved."), "success")
            return redirect(url_for("themes.edit_theme"))
        for name, value in outcome.values.items():
            getattr(form, name).data = value
        for name, messages in outcome.errors.items():
            getattr(form, name).errors = [*getattr(form, name).errors, *messages]
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template(
        "themes/edit.html",
        form=form,
        theme=theme,
        contrast={
            "primary": services.contrast_ratio(services.WHITE, portal.primary_color),
            "accent": services.contrast_ratio(portal.primary_color, portal.accent_color),
        },
    ), status
