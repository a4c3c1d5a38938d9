"""The platform operator's console (its own host and brand)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_login import current_user

from pbx_platform.tenancy import platform_bypass
from tenants.models import StaffKind
from tenants.services import directory
from tenants.services import resellers as reseller_service
from tenants.views.common import portal_only, staff_required

bp = Blueprint("console", __name__)
platform_staff = staff_required(StaffKind.PLATFORM)


@bp.get("/")
def index() -> Any:
    """The root of every host: the console, or a portal's login or home."""
    if g.portal.is_console:
        return redirect(url_for("console.resellers"))
    if current_user.is_authenticated:
        kind = getattr(current_user, "kind", None)
        return redirect(url_for("staff_portal.dashboard" if kind else "circle_portal.home"))
    return redirect(url_for("auth.circle_login"))


@bp.get("/console/")
@platform_staff
def resellers() -> Any:
    portal_only(is_console=True)
    return render_template("tenants/console_resellers.html", rows=reseller_service.all_resellers())


@bp.get("/console/resellers/<int:reseller_id>")
@platform_staff
def reseller_detail(reseller_id: int) -> Any:
    portal_only(is_console=True)
    reseller = reseller_service.reseller_for_platform(reseller_id)
    if reseller is None:
        abort(404)
    check = reseller_service.check_registration_number(reseller.registration_number or "")
    return render_template("tenants/console_reseller.html", reseller=reseller, check=check)


@bp.get("/console/audit")
@platform_staff
def audit() -> Any:
    portal_only(is_console=True)
    page = request.args.get("page", 1, type=int) or 1
    with platform_bypass("console.audit"):
        audit_page = directory.audit_page(page)
    return render_template("tenants/audit.html", audit=audit_page)
