"""The platform operator's console (its own host and brand)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
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
from flask_login import current_user

from pbx_platform.permissions import Action, require
from pbx_platform.tenancy import platform_bypass
from tenants.services import oem
from tenants.services import resellers as reseller_service
from tenants.views import audit_pages
from tenants.views import sessions as session_pages
from tenants.views.common import portal_only, staff_required
from tenants.views.forms_util import validate_csrf_or_400

bp = Blueprint("console", __name__)
# On the console host the staff loader knows only the platform's own staff.
platform_staff = staff_required


@bp.get("/")
def index() -> Any:
    """The root of every host: the console, or a portal's login or home."""
    if g.portal.is_console:
        return redirect(url_for("console.resellers"))
    if current_user.is_authenticated:
        circle = current_user.principal_kind == "circle"
        return redirect(url_for("circle_portal.home" if circle else "staff_portal.dashboard"))
    return redirect(url_for("auth.circle_login"))


@bp.get("/console/")
@platform_staff
def resellers() -> Any:
    portal_only(is_console=True)
    require(Action.RESELLERS_MANAGE)
    return render_template("tenants/console_resellers.html", rows=reseller_service.all_resellers())


@bp.get("/console/resellers/<int:reseller_id>")
@platform_staff
def reseller_detail(reseller_id: int) -> Any:
    portal_only(is_console=True)
    require(Action.RESELLERS_MANAGE)
    reseller = reseller_service.reseller_for_platform(reseller_id)
    if reseller is None:
        abort(404)
    check = reseller_service.check_registration_number(reseller.registration_number or "")
    return render_template("tenants/console_reseller.html", reseller=reseller, check=check)


@bp.get("/console/audit")
@platform_staff
def audit() -> Any:
    portal_only(is_console=True)
    require(Action.AUDIT_VIEW)
    with platform_bypass("console.audit"):
        return audit_pages.list_page("console")


@bp.get("/console/audit.csv")
@platform_staff
def audit_csv() -> Any:
    """Every reseller's filtered trail as CSV (UTF-8 with BOM, for Excel)."""
    portal_only(is_console=True)
    require(Action.AUDIT_VIEW)
    with platform_bypass("console.audit_csv"):
        return audit_pages.export()


@bp.get("/console/accounts")
@platform_staff
def accounts() -> Any:
    """Every customer account, with its seller and its OEM server option (R1)."""
    portal_only(is_console=True)
    require(Action.ACCOUNT_VIEW)
    return render_template("tenants/console_accounts.html", rows=oem.accounts_for_console())


@bp.route("/console/accounts/<int:account_id>/oem", methods=["GET", "POST"])
@platform_staff
def oem_server(account_id: int) -> Any:
    """Grant the OEM server option: the account becomes a reseller (R1)."""
    portal_only(is_console=True)
    account = oem.account_for_console(account_id)
    if account is None:
        abort(404)
    require(Action.OEM_GRANT)
    errors: list[str] = []
    granted = None
    if request.method == "POST":
        validate_csrf_or_400()
        try:
            granted = oem.grant(
                account,
                slug=request.form.get("slug", "")[:100],
                name=request.form.get("name", "")[:200],
                admin_email=request.form.get("admin_email", "")[:300],
                base_domain=current_app.config["BASE_DOMAIN"],
            )
        except oem.OemError as exc:
            errors.append(str(exc))
    status = 422 if errors else 200
    return render_template(
        "tenants/console_oem.html",
        account=account,
        errors=errors,
        granted=granted,
        form=request.form,
    ), status


@bp.post("/console/accounts/<int:account_id>/oem/end")
@platform_staff
def end_oem_server(account_id: int) -> Any:
    portal_only(is_console=True)
    account = oem.account_for_console(account_id)
    if account is None:
        abort(404)
    require(Action.OEM_GRANT)
    validate_csrf_or_400()
    try:
        option = oem.end(account)
    except oem.OemError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.accounts"))
    flash(
        _l(
            "The OEM server option ends on %(date)s.",
            date=option.ends_on.isoformat() if option.ends_on else "",
        ),
        "success",
    )
    return redirect(url_for("console.accounts"))


@bp.get("/console/sessions")
@platform_staff
def sessions() -> Any:
    portal_only(is_console=True)
    return session_pages.list_page("console")


@bp.post("/console/sessions/<int:session_id>/end")
@platform_staff
def end_session(session_id: int) -> Any:
    portal_only(is_console=True)
    return session_pages.end_one("console", session_id, login_endpoint="auth.console_login")


@bp.post("/console/sessions/end-others")
@platform_staff
def end_other_sessions() -> Any:
    portal_only(is_console=True)
    return session_pages.end_others("console")
