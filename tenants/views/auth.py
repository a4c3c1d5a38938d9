"""Login and logout pages: circles and staff on the reseller's host, platform staff on
the console. Failed attempts are rate-limited per login ID, all attempts per IP."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pbx_platform.auth import end_session, start_session
from pbx_platform.extensions import limiter
from pbx_platform.passwords import login_key
from pbx_platform.redirects import safe_target
from tenants.forms import CircleLoginForm, EmptyForm, StaffLoginForm
from tenants.models import PasswordPolicy
from tenants.services import logins, staff_users
from tenants.views.common import portal_only

bp = Blueprint("auth", __name__, template_folder="../templates")

INVALID = _l("The login ID or password is not correct.")
SUSPENDED = _l(
    "This service is suspended. Logins are not possible at the moment; "
    "please contact your provider."
)


def _suspended() -> bool:
    """The host's reseller is suspended by the operator: every login is refused."""
    portal = g.get("portal")
    return bool(portal and portal.suspended)


def _per_ip() -> str:
    return str(current_app.config["LOGIN_ATTEMPTS_PER_IP"])


def _failures_per_id() -> str:
    return str(current_app.config["LOGIN_FAILURES_PER_ID"])


# The form field each login page authenticates; the limit keys on that field alone, so
# extra fields in the request cannot give an account a fresh budget of guesses.
_IDENTITY_FIELD = {
    "auth.circle_login": ("circle", "login_id"),
    "auth.staff_login": ("staff", "email"),
    "auth.console_login": ("staff", "email"),
}


def _login_key() -> str:
    kind, field = _IDENTITY_FIELD.get(request.endpoint or "", ("other", ""))
    raw = request.form.get(field, "") if field else ""
    portal = g.get("portal")
    return f"login:{portal.reseller_id if portal else '-'}:{kind}:{login_key(raw)[:254]}"


def _failed(response: Any) -> bool:
    # A successful login redirects; everything else counts against the login ID.
    return response.status_code != 302


# Shared across the three login forms: an address (or a login ID) has one budget, not
# one per form.
login_limits = [
    limiter.shared_limit(_per_ip, scope="login-ip", methods=["POST"]),
    limiter.shared_limit(
        _failures_per_id,
        scope="login-id",
        key_func=_login_key,
        methods=["POST"],
        deduct_when=_failed,
    ),
]


def _limited(view: Any) -> Any:
    for decorate in login_limits:
        view = decorate(view)
    return view


@bp.route("/login", methods=["GET", "POST"])
@_limited
def circle_login() -> Any:
    portal_only(is_console=False)
    form = CircleLoginForm()
    if request.method == "GET":
        form.next.data = safe_target(request.args.get("next"), "")
    if form.validate_on_submit():
        circle = None
        if not _suspended():
            try:
                circle = logins.authenticate_circle(
                    form.login_id.data or "", form.password.data or ""
                )
            except logins.LoginRefused as exc:
                form.password.errors = [*form.password.errors, str(exc)]
                return render_template("tenants/login_circle.html", form=form)
        if circle is not None:
            start_session(circle)
            if circle.password_policy in (PasswordPolicy.WARN, PasswordPolicy.FORCE):
                return redirect(url_for("circle_portal.change_password"))
            return redirect(safe_target(form.next.data, url_for("circle_portal.home")))
        refusal = SUSPENDED if _suspended() else INVALID
        form.password.errors = [*form.password.errors, str(refusal)]
    return render_template("tenants/login_circle.html", form=form, suspended=_suspended())


@bp.route("/staff/login", methods=["GET", "POST"])
@_limited
def staff_login() -> Any:
    portal_only(is_console=False)
    return _staff_login(
        console=False, template="tenants/login_staff.html", home="staff_portal.dashboard"
    )


@bp.route("/console/login", methods=["GET", "POST"])
@_limited
def console_login() -> Any:
    portal_only(is_console=True)
    return _staff_login(
        console=True, template="tenants/login_console.html", home="console.resellers"
    )


def _staff_login(*, console: bool, template: str, home: str) -> Any:
    form = StaffLoginForm()
    if request.method == "GET":
        form.next.data = safe_target(request.args.get("next"), "")
    if form.validate_on_submit():
        staff = None
        if not _suspended():
            try:
                staff = logins.authenticate_staff(
                    form.email.data or "", form.password.data or "", console=console
                )
            except logins.LoginRefused as exc:
                form.password.errors = [*form.password.errors, str(exc)]
                return render_template(template, form=form)
        if staff is not None:
            start_session(staff)
            staff_users.note_login(staff)
            return redirect(safe_target(form.next.data, url_for(home)))
        refusal = SUSPENDED if _suspended() else INVALID
        form.password.errors = [*form.password.errors, str(refusal)]
    return render_template(template, form=form, suspended=_suspended())


@bp.post("/logout")
def circle_logout() -> Any:
    return _logout("auth.circle_login")


@bp.post("/staff/logout")
def staff_logout() -> Any:
    return _logout("auth.staff_login")


@bp.post("/console/logout")
def console_logout() -> Any:
    return _logout("auth.console_login")


def _logout(login_endpoint: str) -> Any:
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect("/")
    if current_user.is_authenticated:
        # This browser's session only: the login's other sessions go on.
        end_session()
        flash(_l("You have logged out."), "info")
    return redirect(url_for(login_endpoint))
