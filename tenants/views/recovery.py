"""Password recovery and invitations: "Forgot your password?" on the staff and console
logins, and the single-use links that set a password (invitation, reset).

The forgot-password answer is the same page with the same status whether the address
exists or not; the form is rate-limited per address and per client address
(``PBX_FORGOT_PER_ADDRESS``, ``PBX_FORGOT_PER_IP``), with Flask-Limiter as the login
forms are. The links carry their token in the query (``?token=``; the database keeps
only its hash), and the page's form posts back to the same address. A link that is
unknown, used or expired gets a page that says so (404 or 410), never an error of ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from pbx_platform.extensions import limiter
from pbx_platform.passwords import login_key
from pbx_platform.tokens import Purpose, TokenState
from tenants.forms_staff import CircleForgotPasswordForm, ForgotPasswordForm, SetPasswordForm
from tenants.services import staff_users
from tenants.views.common import portal_only

bp = Blueprint("recovery", __name__)

SENT = _l(
    "If an account with this e-mail address exists, we have sent a link to reset the "
    "password. The link is valid for one hour. Check your inbox, and your spam folder."
)
CIRCLE_SENT = _l(
    "If this circle has a recovery address, we have sent a link to reset the password "
    "there. The link is valid for one hour. If it has none, ask your administrator."
)
LINK_STATUS = {TokenState.UNKNOWN: 404, TokenState.EXPIRED: 410, TokenState.USED: 410}


def _per_address() -> str:
    return str(current_app.config["FORGOT_PER_ADDRESS"])


def _per_ip() -> str:
    return str(current_app.config["FORGOT_PER_IP"])


def _address_key() -> str:
    portal = g.get("portal")
    raw = request.form.get("email", "")
    return f"forgot:{portal.reseller_id if portal else '-'}:{login_key(raw)[:254]}"


forgot_limits = [
    limiter.shared_limit(_per_ip, scope="forgot-ip", methods=["POST"]),
    limiter.shared_limit(
        _per_address, scope="forgot-address", key_func=_address_key, methods=["POST"]
    ),
]


def _login_id_key() -> str:
    """The circle form's limit keys on the login ID it looks up (as the login does)."""
    portal = g.get("portal")
    raw = request.form.get("login_id", "")
    return f"forgot-circle:{portal.reseller_id if portal else '-'}:{login_key(raw)[:64]}"


circle_forgot_limits = [
    limiter.shared_limit(_per_ip, scope="forgot-ip", methods=["POST"]),
    limiter.shared_limit(
        _per_address, scope="forgot-login-id", key_func=_login_id_key, methods=["POST"]
    ),
]


def _circle_limited(view: Any) -> Any:
    for decorate in circle_forgot_limits:
        view = decorate(view)
    return view


def _limited(view: Any) -> Any:
    for decorate in forgot_limits:
        view = decorate(view)
    return view


def _forgot(*, console: bool, login_endpoint: str) -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        staff_users.request_staff_reset(
            form.email.data or "", console=console, locale=str(get_locale())
        )
        flash(SENT, "info")
        return redirect(url_for(request.endpoint or login_endpoint))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "tenants/forgot_password.html",
        form=form,
        action=url_for(request.endpoint or login_endpoint),
        login_url=url_for(login_endpoint),
    ), status


@bp.route("/staff/password/forgot", methods=["GET", "POST"])
@_limited
def staff_forgot() -> Any:
    portal_only(is_console=False)
    return _forgot(console=False, login_endpoint="auth.staff_login")


@bp.route("/password/forgot", methods=["GET", "POST"])
@_circle_limited
def circle_forgot() -> Any:
    """A circle's own reset, to its recovery address (set on its recovery page)."""
    portal_only(is_console=False)
    form = CircleForgotPasswordForm()
    if form.validate_on_submit():
        staff_users.request_circle_reset(form.login_id.data or "")
        flash(CIRCLE_SENT, "info")
        return redirect(url_for("recovery.circle_forgot"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "tenants/forgot_password.html",
        form=form,
        action=url_for("recovery.circle_forgot"),
        login_url=url_for("auth.circle_login"),
        circle=True,
    ), status


@bp.route("/console/password/forgot", methods=["GET", "POST"])
@_limited
def console_forgot() -> Any:
    portal_only(is_console=True)
    return _forgot(console=True, login_endpoint="auth.console_login")


def _link_page(
    token: str, purpose: Purpose, *, kind: str, console: bool, login_endpoint: str
) -> Any:
    form = SetPasswordForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            outcome = staff_users.link_state(token, purpose, kind=kind, console=console)
            if outcome.state != TokenState.VALID:
                return _invalid(outcome.state, login_endpoint)
            return _set_form(form, purpose, outcome.principal, 400)
        outcome = staff_users.set_password_with_link(
            token,
            purpose,
            kind=kind,
            new=form.new_password.data or "",
            repeat=form.new_password_repeat.data or "",
            console=console,
        )
        if outcome.state != TokenState.VALID:
            return _invalid(outcome.state, login_endpoint)
        if outcome.errors:
            for name, messages in outcome.errors.items():
                getattr(form, name).errors = messages
            return _set_form(form, purpose, outcome.principal, 400)
        flash(_l("Your password has been set. Please log in."), "success")
        return redirect(url_for(login_endpoint))
    outcome = staff_users.link_state(token, purpose, kind=kind, console=console)
    if outcome.state != TokenState.VALID:
        return _invalid(outcome.state, login_endpoint)
    return _set_form(form, purpose, outcome.principal, 200)


def _set_form(form: SetPasswordForm, purpose: Purpose, principal: Any, status: int) -> Any:
    return render_template(
        "tenants/set_password.html",
        form=form,
        invitation=purpose == Purpose.INVITATION,
        principal=principal,
        login=getattr(principal, "email", None) or getattr(principal, "login_id", ""),
    ), status


def _invalid(state: TokenState, login_endpoint: str) -> Any:
    return render_template(
        "tenants/link_invalid.html",
        state=state.value,
        login_url=url_for(login_endpoint),
        forgot_url=url_for("recovery.staff_forgot")
        if login_endpoint == "auth.staff_login"
        else (
            url_for("recovery.console_forgot") if login_endpoint == "auth.console_login" else None
        ),
    ), LINK_STATUS.get(state, 404)


@dataclass(frozen=True)
class LinkPage:
    """One page a single-use link opens: whose password it sets, on which host, and the
    login it leads back to."""

    path: str
    endpoint: str
    purpose: Purpose
    kind: str  # staff | circle
    console: bool
    login_endpoint: str

    def view(self) -> Callable[[], Any]:
        def link_view() -> Any:
            portal_only(is_console=self.console)
            return _link_page(
                request.args.get("token", ""),
                self.purpose,
                kind=self.kind,
                console=self.console,
                login_endpoint=self.login_endpoint,
            )

        link_view.__name__ = link_view.__qualname__ = self.endpoint
        return link_view


LINK_PAGES = (
    LinkPage(
        "/staff/invitation",
        "staff_invitation",
        Purpose.INVITATION,
        "staff",
        False,
        "auth.staff_login",
    ),
    LinkPage(
        "/staff/password/reset", "staff_reset", Purpose.RESET, "staff", False, "auth.staff_login"
    ),
    LinkPage(
        "/console/password/reset",
        "console_reset",
        Purpose.RESET,
        "staff",
        True,
        "auth.console_login",
    ),
    LinkPage(
        "/password/reset", "circle_reset", Purpose.RESET, "circle", False, "auth.circle_login"
    ),
)
for _page in LINK_PAGES:
    bp.add_url_rule(_page.path, _page.endpoint, _page.view(), methods=["GET", "POST"])
