"""Staff pages that create a customer's circle and reset its password (R13, R14, R17),
on the reseller's staff portal. R22: ``CUSTOMERS_MANAGE`` (reseller admins). The
generated password is in the response to the POST alone: shown once, not cached
(``no-store``), never stored in the clear, never in a URL or the session.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from pbx_platform.permissions import Action, require
from pbx_platform.tenancy import narrow_request_scope
from tenants.forms import POLICY_LABELS
from tenants.models import Account, Circle, PasswordPolicy
from tenants.services import circle_onboarding, circles, numbers
from tenants.views.common import get_or_404
from tenants.views.forms_util import validate_csrf_or_400
from tenants.views.staff_portal import bp, portal_staff

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _policies() -> list[tuple[str, Any]]:
    return [(policy.value, label) for policy, label in POLICY_LABELS.items()]


def _lengths() -> list[tuple[int, int, int]]:
    return [(length, *circles.extension_range(length)) for length in circles.EXTENSION_LENGTHS]


@bp.route("/accounts/<int:account_id>/circles/new", methods=["GET", "POST"])
@portal_staff
def new_circle(account_id: int) -> Any:
    """A new circle for the account: name, login ID (R14), extension length (R13) and
    the forced password change (R17, *force* by default); the first password is
    generated and shown once."""
    account = get_or_404(Account, account_id)
    require(Action.CUSTOMERS_MANAGE)
    narrow_request_scope(account_id=account.id)
    values: dict[str, Any] = {
        "name": "",
        "login_id": "",
        "extension_length": str(circle_onboarding.DEFAULT_EXTENSION_LENGTH),
        "policy": PasswordPolicy.FORCE.value,
        "number_ids": [],
    }
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        validate_csrf_or_400()
        form = request.form
        created = circle_onboarding.create_circle(
            account,
            circle_onboarding.NewCircle(
                name=form.get("name", ""),
                login_id=form.get("login_id", ""),
                extension_length=form.get("extension_length", ""),
                policy=form.get("policy", ""),
                number_ids=tuple(
                    int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 9 else 0
                    for raw in form.getlist("phone_number_id")[:200]
                ),
            ),
        )
        if created.outcome.ok and created.circle is not None:
            return (
                render_template(
                    "tenants/circle_password_shown.html",
                    circle=created.circle,
                    password=created.password,
                    created=True,
                    ended_sessions=0,
                ),
                200,
                NO_STORE,
            )
        values, errors, status = created.outcome.values, created.outcome.errors, 422
    return render_template(
        "tenants/circle_new.html",
        account=account,
        values=values,
        errors=errors,
        policies=_policies(),
        lengths=_lengths(),
        free_numbers=numbers.free_numbers(),
    ), status


@bp.route("/circles/<int:circle_id>/password-reset", methods=["GET", "POST"])
@portal_staff
def reset_circle_password(circle_id: int) -> Any:
    """A new generated password for the circle, shown once; its sessions end."""
    circle = get_or_404(Circle, circle_id)
    require(Action.CUSTOMERS_MANAGE)
    narrow_request_scope(account_id=circle.account_id, circle_id=circle.id)
    values = {"policy": PasswordPolicy.FORCE.value}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        validate_csrf_or_400()
        reset = circle_onboarding.reset_password(circle, request.form.get("policy", ""))
        if reset.outcome.ok:
            return (
                render_template(
                    "tenants/circle_password_shown.html",
                    circle=circle,
                    password=reset.password,
                    created=False,
                    ended_sessions=reset.ended_sessions,
                ),
                200,
                NO_STORE,
            )
        values, errors, status = reset.outcome.values, reset.outcome.errors, 422
    return render_template(
        "tenants/circle_password_reset.html",
        circle=circle,
        values=values,
        errors=errors,
        policies=_policies(),
        title=_l("Reset the password of %(name)s", name=circle.name),
    ), status
