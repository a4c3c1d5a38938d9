"""The reseller's administration portal (R1), for its staff and its customers' account
managers; each sees what their scope holds."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pbx_platform.versioning import StaleEdit, form_version, refuse_stale
from tenants.forms import PasswordPolicyForm
from tenants.models import Account, Circle, PasswordPolicy, StaffKind
from tenants.services import directory, logins
from tenants.views.common import can_write, get_or_404, portal_only, require_write, staff_required

bp = Blueprint("staff_portal", __name__, url_prefix="/staff")
portal_staff = staff_required(StaffKind.RESELLER, StaffKind.ACCOUNT_MANAGER)


@bp.before_request
def _portal_host_only() -> None:
    portal_only(is_console=False)


@bp.app_context_processor
def _permissions() -> dict[str, Any]:
    return {"can_write": can_write(current_user)}


@bp.get("/")
@portal_staff
def dashboard() -> Any:
    return render_template("tenants/staff_dashboard.html", accounts=directory.accounts())


@bp.get("/accounts/<int:account_id>")
@portal_staff
def account_detail(account_id: int) -> Any:
    account = get_or_404(Account, account_id)
    return render_template("tenants/account_detail.html", account=account)


@bp.get("/circles/<int:circle_id>")
@portal_staff
def circle_detail(circle_id: int) -> Any:
    circle = get_or_404(Circle, circle_id)
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
    """R17, set by the account's manager or the reseller's staff (support: read-only)."""
    circle = get_or_404(Circle, circle_id)
    require_write()
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
    page = request.args.get("page", 1, type=int) or 1
    return render_template("tenants/audit.html", audit=directory.audit_page(page))
