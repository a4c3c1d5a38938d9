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
from pbx_platform.versioning import STALE_EDIT, StaleEdit, form_version
from tenants.models import Reseller
from tenants.services import numbers, oem
from tenants.services import reseller_details as details
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
    """Every reseller, searched by name, slug or host name, a page at a time."""
    portal_only(is_console=True)
    require(Action.RESELLERS_MANAGE)
    page = reseller_service.reseller_page(
        request.args.get("q", "")[: reseller_service.SEARCH_MAX],
        request.args.get("page", 1, type=int) or 1,
    )
    return render_template("tenants/console_resellers.html", listing=page)


@bp.get("/console/resellers/<int:reseller_id>")
@platform_staff
def reseller_detail(reseller_id: int) -> Any:
    portal_only(is_console=True)
    require(Action.RESELLERS_MANAGE)
    reseller = _reseller_or_404(reseller_id)
    check = reseller_service.check_registration_number(reseller.registration_number or "")
    admin = reseller_service.first_admin(reseller)
    return render_template(
        "tenants/console_reseller.html",
        reseller=reseller,
        check=check,
        admin=admin,
        invitation_due=admin is not None and reseller_service.invitation_due(admin),
    )


def _reseller_or_404(reseller_id: int) -> Reseller:
    reseller = reseller_service.reseller_for_platform(reseller_id)
    if reseller is None:
        abort(404)
    return reseller


def _form_text(name: str, limit: int = 400) -> str:
    # Longer than any field allows: the rule then answers "at most n characters".
    return request.form.get(name, "")[:limit]


def _parsed_details(
    errors: dict[str, str], *, slug: str
) -> tuple[list[str], str, details.Address, details.BankAccount] | None:
    """The hosts, registration number, address and bank account of the posted form,
    or None with a message per field in ``errors``."""
    base = current_app.config["BASE_DOMAIN"]
    parsed: dict[str, Any] = {}
    steps = {
        "custom_hosts": lambda: details.custom_hosts(
            _form_text("custom_hosts", 3000), base_domain=base, own_slug=slug
        ),
        "registration_number": lambda: details.registration_number(
            _form_text("registration_number")
        ),
        "address": lambda: details.address(
            postal_code=_form_text("postal_code"),
            prefecture=_form_text("prefecture"),
            city=_form_text("city"),
            rest=_form_text("address_line1"),
            building=_form_text("address_line2"),
        ),
        "bank": lambda: details.bank_account(
            bank_name=_form_text("bank_name"),
            branch=_form_text("bank_branch"),
            account_type=_form_text("bank_account_type"),
            number=_form_text("bank_account_number"),
            holder=_form_text("bank_account_holder"),
        ),
    }
    for key, step in steps.items():
        try:
            parsed[key] = step()
        except details.DetailError as exc:
            errors[exc.field] = str(exc)
    if errors:
        return None
    return parsed["custom_hosts"], parsed["registration_number"], parsed["address"], parsed["bank"]


def _render_form(
    reseller: Reseller | None, values: Any, errors: dict[str, str], status: int
) -> Any:
    return render_template(
        "tenants/console_reseller_form.html",
        reseller=reseller,
        values=values,
        errors=errors,
        prefectures=details.PREFECTURES,
        base_domain=current_app.config["BASE_DOMAIN"],
        limits=details,
    ), status


@bp.route("/console/resellers/new", methods=["GET", "POST"])
@platform_staff
def reseller_new() -> Any:
    """A reseller from scratch: name, slug, hosts, registration number (R23), address,
    bank account and its first admin, who is invited by e-mail."""
    portal_only(is_console=True)
    require(Action.RESELLERS_MANAGE)
    if request.method == "GET":
        return _render_form(None, {}, {}, 200)
    validate_csrf_or_400()
    errors: dict[str, str] = {}
    name = slug = admin_name = admin_email = ""
    for key, parse in (
        ("name", lambda: details.company_name(_form_text("name"))),
        ("slug", lambda: details.slug(_form_text("slug"))),
        ("admin_name", lambda: details.person_name(_form_text("admin_name"))),
        ("admin_email", lambda: details.email(_form_text("admin_email"))),
    ):
        try:
            value = parse()
        except details.DetailError as exc:
            errors[exc.field] = str(exc)
            continue
        if key == "name":
            name = value
        elif key == "slug":
            slug = value
        elif key == "admin_name":
            admin_name = value
        else:
            admin_email = value
    parsed = _parsed_details(errors, slug=slug or "slug")
    if parsed is None or errors:
        return _render_form(None, request.form, errors, 422)
    hosts, registration, address, bank = parsed
    try:
        reseller, admin = reseller_service.create_reseller(
            reseller_service.NewReseller(
                name=name,
                slug=slug,
                custom_hosts=hosts,
                registration_number=registration,
                address=address,
                bank=bank,
                admin_name=admin_name,
                admin_email=admin_email,
            ),
            base_domain=current_app.config["BASE_DOMAIN"],
        )
    except reseller_service.ResellerError as exc:
        return _render_form(None, request.form, {exc.field or "form": str(exc)}, 422)
    flash(
        _l(
            "The reseller %(name)s has been created. An invitation to %(email)s is due.",
            name=reseller.name,
            email=admin.email,
        ),
        "success",
    )
    return redirect(url_for("console.reseller_detail", reseller_id=reseller.id))


@bp.route("/console/resellers/<int:reseller_id>/edit", methods=["GET", "POST"])
@platform_staff
def reseller_edit(reseller_id: int) -> Any:
    """Edit a reseller's custom domains, registration number, address and bank account;
    a form opened before another save changes nothing."""
    portal_only(is_console=True)
    require(Action.RESELLERS_MANAGE)
    reseller = _reseller_or_404(reseller_id)
    if request.method == "GET":
        return _render_form(reseller, _current_values(reseller), {}, 200)
    validate_csrf_or_400()
    seen = form_version(request.form.get("edit_version"))
    if seen != reseller.edit_version:
        return _render_form(reseller, _current_values(reseller), {"form": str(STALE_EDIT)}, 409)
    errors: dict[str, str] = {}
    parsed = _parsed_details(errors, slug=reseller.slug)
    if parsed is None:
        return _render_form(reseller, request.form, errors, 422)
    hosts, registration, address, bank = parsed
    try:
        reseller_service.update_reseller(
            reseller.id,
            reseller_service.ResellerEdit(
                custom_hosts=hosts, registration_number=registration, address=address, bank=bank
            ),
            seen_version=seen,
            base_domain=current_app.config["BASE_DOMAIN"],
        )
    except StaleEdit:
        return _render_form(reseller, _current_values(reseller), {"form": str(STALE_EDIT)}, 409)
    except reseller_service.ResellerError as exc:
        return _render_form(reseller, request.form, {exc.field or "form": str(exc)}, 422)
    flash(_l("The reseller's details have been saved."), "success")
    return redirect(url_for("console.reseller_detail", reseller_id=reseller.id))


def _current_values(reseller: Reseller) -> dict[str, Any]:
    return {
        "custom_hosts": "\n".join(h.host for h in reseller.hosts if h.is_custom),
        "registration_number": reseller.registration_number or "",
        "postal_code": reseller.postal_code,
        "prefecture": reseller.prefecture,
        "city": reseller.city,
        "address_line1": reseller.address_line1,
        "address_line2": reseller.address_line2,
        "bank_name": reseller.bank_name,
        "bank_branch": reseller.bank_branch,
        "bank_account_type": reseller.bank_account_type,
        "bank_account_number": reseller.bank_account_number,
        "bank_account_holder": reseller.bank_account_holder,
    }


@bp.post("/console/resellers/<int:reseller_id>/suspend")
@platform_staff
def reseller_suspend(reseller_id: int) -> Any:
    """Suspend: the portal refuses logins and its sessions end; every row stays."""
    portal_only(is_console=True)
    require(Action.RESELLERS_MANAGE)
    reseller = _reseller_or_404(reseller_id)
    validate_csrf_or_400()
    try:
        reseller_service.suspend(reseller.id)
    except reseller_service.ResellerError as exc:
        flash(str(exc), "error")
    else:
        flash(
            _l("%(name)s is suspended. Its portal refuses logins.", name=reseller.name), "success"
        )
    return redirect(url_for("console.reseller_detail", reseller_id=reseller.id))


@bp.post("/console/resellers/<int:reseller_id>/reactivate")
@platform_staff
def reseller_reactivate(reseller_id: int) -> Any:
    portal_only(is_console=True)
    require(Action.RESELLERS_MANAGE)
    reseller = _reseller_or_404(reseller_id)
    validate_csrf_or_400()
    reseller_service.reactivate(reseller.id)
    flash(_l("%(name)s is active again.", name=reseller.name), "success")
    return redirect(url_for("console.reseller_detail", reseller_id=reseller.id))


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


# -- the number inventory ----------------------------------------------------------------------


def _numbers_page(error: str | None = None, status: int = 200) -> Any:
    holder = request.args.get("holder", type=int)
    return render_template(
        "tenants/console_numbers.html",
        inventory=numbers.inventory_page(holder, request.args.get("page", 1, type=int) or 1),
        resellers=numbers.reseller_choices(),
        holders=numbers.reseller_choices(include_platform=True),
        holder=holder,
        error=error,
        form=request.form,
    ), status


@bp.get("/console/numbers")
@platform_staff
def numbers_inventory() -> Any:
    """The platform's numbers: who holds each and which circle uses it."""
    portal_only(is_console=True)
    require(Action.RESELLERS_MANAGE)
    return _numbers_page()


@bp.post("/console/numbers/add")
@platform_staff
def numbers_add() -> Any:
    """Add numbers to the platform's stock: one, a list, or ranges."""
    portal_only(is_console=True)
    require(Action.RESELLERS_MANAGE)
    validate_csrf_or_400()
    try:
        count = numbers.add_numbers(numbers.parse_numbers(_form_text("numbers", 20001)))
    except numbers.NumberError as exc:
        return _numbers_page(str(exc), 422)
    flash(_l("%(n)d numbers added to the platform's stock.", n=count), "success")
    return redirect(url_for("console.numbers_inventory"))


def _block_form(move: Any, done: Any) -> Any:
    portal_only(is_console=True)
    require(Action.RESELLERS_MANAGE)
    validate_csrf_or_400()
    raw_id = _form_text("reseller_id", 12)
    if not (raw_id.isascii() and raw_id.isdigit() and 0 < len(raw_id) <= 9):
        return _numbers_page(str(_l("Choose a reseller.")), 422)
    try:
        count = move(int(raw_id), _form_text("first", 40), _form_text("last", 40))
    except numbers.NumberError as exc:
        return _numbers_page(str(exc), 422)
    flash(done(count), "success")
    return redirect(url_for("console.numbers_inventory"))


@bp.post("/console/numbers/allocate")
@platform_staff
def numbers_allocate() -> Any:
    """Allocate a block of the platform's free numbers to a reseller's pool."""
    return _block_form(numbers.allocate, lambda n: _l("%(n)d numbers allocated.", n=n))


@bp.post("/console/numbers/take-back")
@platform_staff
def numbers_take_back() -> Any:
    """Take a reseller's unassigned numbers of a block back into the platform's stock."""
    return _block_form(numbers.take_back, lambda n: _l("%(n)d numbers taken back.", n=n))
