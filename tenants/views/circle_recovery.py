"""A circle login's password recovery: its optional recovery e-mail address (a circle
setting) and, for staff with ``PASSWORD_RESET_SEND`` and the account's manager, sending
a reset link to it."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from pbx_platform.permissions import Action, may
from pbx_platform.versioning import StaleEdit, form_version, refuse_stale
from tenants.forms_staff import RecoveryEmailForm
from tenants.services import staff_users
from tenants.views.circle_admin import acting_for_circle, bp, menu_item, needs
from tenants.views.forms_util import validate_csrf_or_400

menu_item("login_recovery", _l("Password recovery"))


def _page(form: RecoveryEmailForm, status: int = 200) -> Any:
    return render_template(
        "tenants/circle/recovery.html",
        form=form,
        can_send=acting_for_circle() and may(Action.PASSWORD_RESET_SEND),
    ), status


@bp.get("/recovery")
def login_recovery() -> Any:
    return _page(RecoveryEmailForm(recovery_email=g.circle.recovery_email or ""))


@bp.post("/recovery")
def save_recovery_email() -> Any:
    form = RecoveryEmailForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        outcome = staff_users.set_recovery_email(
            g.circle,
            form.recovery_email.data or "",
            version=form_version(request.form.get("edit_version")),
        )
    except StaleEdit:
        return refuse_stale(url_for(".login_recovery"))
    if not outcome.ok:
        form.recovery_email.errors = outcome.errors["recovery_email"]
        return _page(form, 400)
    flash(_l("The recovery e-mail address has been saved."), "success")
    return redirect(url_for(".login_recovery"))


@bp.post("/recovery/send-reset")
@needs(Action.PASSWORD_RESET_SEND)
def send_password_reset() -> Any:
    validate_csrf_or_400()
    if not staff_users.send_circle_reset(g.circle):
        flash(_l("This circle has no recovery e-mail address. Enter one first."), "error")
        return _page(RecoveryEmailForm(recovery_email=""), 409)
    flash(
        _l("A password reset link has been sent to %(email)s.", email=g.circle.recovery_email),
        "success",
    )
    return redirect(url_for(".login_recovery"))
