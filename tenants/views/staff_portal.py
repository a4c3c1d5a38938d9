"""The reseller's administration portal (R1), for its staff and its customers' account
managers; each sees what their scope holds."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pbx_platform.japanese import tokyo_today
from pbx_platform.paging import Paging
from pbx_platform.permissions import Action, allowed, require
from pbx_platform.versioning import StaleEdit, form_version, refuse_stale
from tenants.forms import PasswordPolicyForm
from tenants.forms_staff import ManagerInviteForm
from tenants.models import Account, PasswordPolicy, Reseller
from tenants.services import dashboard as dashboard_service
from tenants.services import directory, logins, staff_users
from tenants.services import recording_retention as retention
from tenants.views import audit_pages
from tenants.views import sessions as session_pages
from tenants.views.common import circle_or_404, get_or_404, portal_only, staff_required
from tenants.views.forms_util import parse_quantity, validate_csrf_or_400

bp = Blueprint("staff_portal", __name__, url_prefix="/staff")
# On a portal the staff loader knows only the reseller's staff and account managers.
portal_staff = staff_required


@bp.before_request
def _portal_host_only() -> None:
    portal_only(is_console=False)


@bp.get("/")
@portal_staff
def dashboard() -> Any:
    """The landing page: the scope's figures, recent changes and its customers."""
    require(Action.ACCOUNT_VIEW)
    principal = current_user._get_current_object()
    paging = Paging.from_args(request.args, tuple(directory.ACCOUNT_ORDER), default="name")
    may_add = allowed(principal, Action.CUSTOMERS_MANAGE)
    return render_template(
        "tenants/staff_dashboard.html",
        board=dashboard_service.dashboard(principal.reseller_id, tokyo_today()),
        customers=directory.accounts_page(paging),
        new_customer_url=url_for("staff_portal.customer_new") if may_add else None,
    )


@bp.get("/accounts/<int:account_id>")
@portal_staff
def account_detail(account_id: int) -> Any:
    account = get_or_404(Account, account_id)
    require(Action.ACCOUNT_VIEW)
    return account_page(account)


def account_page(account: Account, manager_form: Any = None, status: int = 200) -> Any:
    """The customer's page; ``manager_form`` carries a refused invitation's errors."""
    return render_template(
        "tenants/account_detail.html",
        account=account,
        today=tokyo_today(),
        managers=staff_users.account_managers(account),
        manager_form=manager_form or ManagerInviteForm(),
    ), status


@bp.get("/circles/<int:circle_id>")
@portal_staff
def circle_detail(circle_id: int) -> Any:
    circle = circle_or_404(circle_id)
    require(Action.CIRCLE_VIEW)
    uniques, ring_groups = directory.circle_overview(circle)
    form = PasswordPolicyForm(policy=circle.password_policy.value)
    return render_template(
        "tenants/circle_detail.html",
        circle=circle,
        uniques=uniques,
        ring_groups=ring_groups,
        policy_form=form,
    )


@bp.post("/circles/<int:circle_id>/password-policy")
@portal_staff
def set_password_policy(circle_id: int) -> Any:
    """R17, set by the account's manager or the reseller's admins (R22)."""
    circle = circle_or_404(circle_id)
    require(Action.PASSWORD_POLICY_SET)
    form = PasswordPolicyForm()
    if not form.validate_on_submit():
        uniques, ring_groups = directory.circle_overview(circle)
        flash(_l("Choose one of the offered policies."), "error")
        return render_template(
            "tenants/circle_detail.html",
            circle=circle,
            uniques=uniques,
            ring_groups=ring_groups,
            policy_form=form,
        ), 400
    try:
        logins.set_password_policy(
            circle,
            PasswordPolicy(form.policy.data),
            version=form_version(request.form.get("edit_version")),
        )
    except StaleEdit:
        return refuse_stale(url_for("staff_portal.circle_detail", circle_id=circle.id))
    flash(_l("The password policy has been saved."), "success")
    return redirect(url_for("staff_portal.circle_detail", circle_id=circle.id))


@bp.get("/audit")
@portal_staff
def audit() -> Any:
    require(Action.AUDIT_VIEW)
    return audit_pages.list_page("staff_portal")


@bp.get("/audit.csv")
@portal_staff
def audit_csv() -> Any:
    """The filtered trail as CSV (UTF-8 with BOM, for Excel)."""
    require(Action.AUDIT_VIEW)
    return audit_pages.export()


@bp.get("/sessions")
@portal_staff
def sessions() -> Any:
    """The staff login's active sessions; support staff may end their own too."""
    return session_pages.list_page("staff_portal")


@bp.post("/sessions/<int:session_id>/end")
@portal_staff
def end_session(session_id: int) -> Any:
    return session_pages.end_one("staff_portal", session_id, login_endpoint="auth.staff_login")


@bp.post("/sessions/end-others")
@portal_staff
def end_other_sessions() -> Any:
    return session_pages.end_others("staff_portal")


@bp.route("/recording-retention", methods=["GET", "POST"])
@portal_staff
def recording_retention() -> Any:
    """R6: how long the reseller keeps ended circles' recordings (its admins, R22)."""
    require(Action.RECORDING_RETENTION_SET)
    reseller = get_or_404(Reseller, current_user.reseller_id)
    errors: list[str] = []
    status = 200
    raw = str(reseller.recording_retention_days)
    if request.method == "POST":
        validate_csrf_or_400()
        raw = request.form.get("retention_days", "")
        days, error = parse_quantity(raw, minimum=retention.MIN_DAYS, maximum=retention.MAX_DAYS)
        if error or days is None:
            errors, status = [error or ""], 422
        else:
            try:
                retention.set_retention_days(
                    reseller, days, version=form_version(request.form.get("edit_version"))
                )
            except StaleEdit:
                return refuse_stale(url_for("staff_portal.recording_retention"))
            flash(_l("The retention period has been saved."), "success")
            return redirect(url_for("staff_portal.recording_retention"))
    return render_template(
        "tenants/recording_retention.html",
        reseller=reseller,
        value=raw,
        errors=errors,
        minimum=retention.MIN_DAYS,
        maximum=retention.MAX_DAYS,
    ), status
