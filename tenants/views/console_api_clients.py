"""The platform operator's API clients (console): list, register, revoke.

The secret is shown on the page that answers the registration, once: it is not kept
(only its hash), so it cannot be shown again; a lost secret means a new client."""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pbx_platform.api import clients
from pbx_platform.api.models import SCOPES
from pbx_platform.permissions import Action, require
from pbx_platform.routing import parse_id
from tenants.services import numbers
from tenants.views.common import portal_only
from tenants.views.console import bp, platform_staff
from tenants.views.forms_util import validate_csrf_or_400

PLATFORM_WIDE = ""


def _guard() -> None:
    portal_only(is_console=True)
    require(Action.API_CLIENTS_MANAGE)


@bp.get("/console/api-clients")
@platform_staff
def api_clients() -> Any:
    _guard()
    return render_template(
        "tenants/console_api_clients.html",
        listing=clients.client_page(request.args),
        resellers=dict(numbers.reseller_choices()),
    )


def _render_form(values: Any, errors: dict[str, str], status: int) -> Any:
    return (
        render_template(
            "tenants/console_api_client_form.html",
            values=values,
            errors=errors,
            scopes=SCOPES,
            chosen=values.getlist("scopes") if hasattr(values, "getlist") else list(SCOPES),
            resellers=numbers.reseller_choices(),
        ),
        status,
    )


@bp.route("/console/api-clients/new", methods=["GET", "POST"])
@platform_staff
def api_client_new() -> Any:
    _guard()
    if request.method == "GET":
        return _render_form({}, {}, 200)
    validate_csrf_or_400()
    form = request.form
    raw_reseller = form.get("reseller_id", PLATFORM_WIDE)[:20]
    reseller_id = parse_id(raw_reseller) if raw_reseller != PLATFORM_WIDE else None
    checked = clients.check_new_client(
        name=form.get("name", "")[:400],
        scopes=form.getlist("scopes")[:10],
        reseller_id=reseller_id,
        expires_on=form.get("expires_on", "")[:40],
        resellers=dict(numbers.reseller_choices()),
    )
    if raw_reseller != PLATFORM_WIDE and reseller_id is None and isinstance(checked, dict):
        checked.setdefault("reseller_id", str(_l("Choose a reseller from the list.")))
    elif raw_reseller != PLATFORM_WIDE and reseller_id is None:
        checked = {"reseller_id": str(_l("Choose a reseller from the list."))}
    if isinstance(checked, dict):
        return _render_form(form, checked, 422)
    client, secret = clients.create_client(checked, created_by=current_user.id)
    response = make_response(
        render_template(
            "tenants/console_api_client_created.html",
            client=client,
            secret=secret,
            reseller=dict(numbers.reseller_choices()).get(client.reseller_id or 0),
        )
    )
    # The secret exists in this answer only: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/console/api-clients/revoke")
@platform_staff
def api_client_revoke() -> Any:
    """The client named by the form's ``client_pk`` (platform rows: every one is the
    operator's; an unknown id changes nothing)."""
    _guard()
    validate_csrf_or_400()
    client_pk = parse_id(request.form.get("client_pk", "")[:20])
    client = clients.find_client(client_pk) if client_pk is not None else None
    if client is None:
        flash(_l("There is no such API client."), "error")
    elif clients.revoke_client(client):
        flash(
            _l("The API client %(name)s is revoked; its tokens no longer work.", name=client.name),
            "success",
        )
    return redirect(url_for("console.api_clients"))
