"""Adding and removing a circle's phones, and their SIP secrets, on the shared circle
blueprint (R22 as every circle settings page: ``CIRCLE_SETTINGS_EDIT`` to change).

A SIP secret is in the response to the POST that generated it alone (``no-store``):
shown once, stored only as its HA1 digests.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from pbx_platform.versioning import StaleEdit, form_version, refuse_stale
from tenants.forms_circle import CARRIER_CHOICES, TERMINAL_TYPE_CHOICES
from tenants.models import TerminalType, Unique, UniqueKind
from tenants.services import circles
from tenants.views.circle_admin import bp
from tenants.views.forms_util import validate_csrf_or_400

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _phone_or_404(unique_id: int) -> Unique:
    unique = circles.circle_unique(g.circle, unique_id)
    if unique is None or unique.kind != UniqueKind.PHONE:
        abort(404)
    return unique


def _secret_page(unique: Unique, secret: str, *, created: bool) -> Any:
    return (
        render_template(
            "tenants/circle/sip_secret.html", unique=unique, secret=secret, created=created
        ),
        200,
        NO_STORE,
    )


@bp.route("/uniques/new", methods=["GET", "POST"])
def unique_new() -> Any:
    """A new phone: name, extension (R13 range, free), terminal type, carrier for a
    mobile, pickup group (R16). A SIP phone or softphone gets its SIP credentials."""
    values: dict[str, Any] = {
        "extension": "",
        "display_name": "",
        "terminal_type": TerminalType.SIP_PHONE.value,
        "carrier": "",
        "pickup_group_id": None,
    }
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        validate_csrf_or_400()
        form = request.form
        outcome = circles.create_terminal(
            g.circle,
            circles.TerminalInput(
                extension=form.get("extension", ""),
                display_name=form.get("display_name", ""),
                terminal_type=form.get("terminal_type", ""),
                carrier=form.get("carrier", ""),
                pickup_group_id=form.get("pickup_group_id", ""),
            ),
        )
        if outcome.ok and outcome.unique is not None:
            if outcome.sip_secret:
                return _secret_page(outcome.unique, outcome.sip_secret, created=True)
            flash(_l("%(name)s has been added.", name=outcome.unique.display_name), "success")
            return redirect(url_for(".unique_detail", unique_id=outcome.unique.id))
        values, errors, status = outcome.values, outcome.errors, 422
    low, high = circles.extension_range(g.circle.extension_length)
    return render_template(
        "tenants/circle/unique_new.html",
        values=values,
        errors=errors,
        groups=circles.pickup_group_choices(g.circle),
        terminal_types=TERMINAL_TYPE_CHOICES,
        carriers=CARRIER_CHOICES,
        extension_hint=_l(
            "%(n)d digits from %(low)d to %(high)d, not used by another unique or ring group.",
            n=g.circle.extension_length,
            low=low,
            high=high,
        ),
        name_max=circles.DISPLAY_NAME_MAX,
    ), status


@bp.post("/uniques/<int:unique_id>/sip-secret")
def unique_sip_secret(unique_id: int) -> Any:
    """A new SIP secret (the old one stops working), shown once."""
    validate_csrf_or_400()
    unique = _phone_or_404(unique_id)
    if unique.terminal_type not in circles.SIP_TYPES:
        abort(404)
    try:
        secret = circles.regenerate_sip_secret(
            unique, version=form_version(request.form.get("edit_version"))
        )
    except StaleEdit:
        return refuse_stale(url_for(".unique_detail", unique_id=unique.id))
    return _secret_page(unique, secret, created=False)


@bp.route("/uniques/<int:unique_id>/delete", methods=["GET", "POST"])
def unique_delete(unique_id: int) -> Any:
    """Removing a phone: first what uses it and what happens to each, then (confirmed)
    the removal."""
    unique = _phone_or_404(unique_id)
    if request.method == "POST":
        validate_csrf_or_400()
        name = unique.display_name
        try:
            circles.remove_terminal(
                g.circle, unique, version=form_version(request.form.get("edit_version"))
            )
        except StaleEdit:
            return refuse_stale(url_for(".unique_delete", unique_id=unique.id))
        flash(_l("%(name)s has been removed.", name=name), "success")
        return redirect(url_for(".uniques"))
    return render_template(
        "tenants/circle/unique_delete.html",
        unique=unique,
        plan=circles.removal_plan(g.circle, unique),
    )
