"""Customer accounts in the reseller's portal: the list (search, paging, sorting), the
customer form (create and edit), suspension and termination (R22: ``customers_manage``
creates, suspends and terminates; ``account_billing_edit`` edits the details;
``account_view`` reads)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from pbx_platform.db import utcnow
from pbx_platform.japanese import jdate, national, tokyo_today
from pbx_platform.permissions import Action, require
from pbx_platform.versioning import StaleEdit, form_version, refuse_stale
from tenants.forms import CustomerForm
from tenants.models import Account
from tenants.options import services as option_services
from tenants.scoping import each_circle
from tenants.services import customers
from tenants.views.common import get_or_404
from tenants.views.forms_util import validate_csrf_or_400
from tenants.views.staff_portal import bp, portal_staff

FIELDS = tuple(customers.CustomerDetails.__dataclass_fields__)
NOT_SAVED = _l("Nothing was saved: correct the fields marked below.")


def _prefecture_choices() -> list[tuple[str, str]]:
    return [("", str(_l("Choose a prefecture"))), *((p, p) for p in customers.PREFECTURES)]


def _form(**data: Any) -> CustomerForm:
    form = CustomerForm(**data)
    form.prefecture.choices = _prefecture_choices()
    return form


def _details() -> customers.CustomerDetails:
    """The form's fields as typed (a missing field is empty; the service checks all)."""
    return customers.CustomerDetails(**{name: request.form.get(name, "") for name in FIELDS})


def _show_normalised(form: CustomerForm, outcome: customers.Outcome) -> None:
    """The values as the service normalised them, and its messages on their fields."""
    for name in FIELDS:
        if name in outcome.values:
            value = outcome.values[name]
            if name == "billing_contact_phone":
                value = national(value) if value else outcome.values.get(f"{name}_typed", "")
            getattr(form, name).data = getattr(value, "value", value)
    for name, messages in outcome.errors.items():
        getattr(form, name).errors = list(messages)


def _assist(form: CustomerForm) -> str | None:
    """The form's two helper buttons, answered by the server (no script needed):
    suggest the reading from the company name; fill the address from the postal code.
    Returns the message to show, or None when the button was neither."""
    action = request.form.get("assist")
    if action == "reading":
        suggestion = customers.suggest_reading(form.company_name.data or "")
        form.company_name_kana.data = suggestion
        if not suggestion:
            form.company_name_kana.errors = [
                str(_l("No reading could be suggested; enter it in katakana."))
            ]
            return None
        return str(_l("A reading was suggested from the company name. Check it before saving."))
    if action == "address":
        found = customers.lookup_postal_code(form.postal_code.data or "")
        if found is None:
            form.postal_code.errors = [
                str(_l("This postal code was not found. Check it, or enter the address yourself."))
            ]
            return None
        form.postal_code.data = found.postal_code
        form.prefecture.data = found.prefecture
        form.city.data = found.city
        if not (form.address_line1.data or "").strip():
            form.address_line1.data = found.town
        return str(_l("The address was filled in from the postal code. Add the block and number."))
    return None


def _render_form(form: CustomerForm, account: Account | None, status: int = 200) -> Any:
    return render_template(
        "tenants/customer_form.html",
        form=form,
        account=account,
        mailing=customers.mailing_contracted(account),
    ), status


def _submitted_form() -> CustomerForm:
    """The form as posted, after its CSRF token (the fields are the service's to check)."""
    validate_csrf_or_400()
    return _form()


@bp.get("/customers")
@portal_staff
def customers_list() -> Any:
    require(Action.ACCOUNT_VIEW)
    page = request.args.get("page", 1, type=int) or 1
    listing = customers.search(
        request.args.get("q", ""),
        page=page,
        sort=request.args.get("sort", "kana"),
        descending=request.args.get("dir") == "desc",
    )
    return render_template("tenants/customers.html", listing=listing, today=tokyo_today())


@bp.route("/customers/new", methods=["GET", "POST"])
@portal_staff
def customer_new() -> Any:
    require(Action.CUSTOMERS_MANAGE)
    if request.method == "GET":
        return _render_form(_form(invoice_delivery="portal"), None)
    form = _submitted_form()
    message = _assist(form)
    if message is not None or request.form.get("assist"):
        if message:
            flash(message, "info")
        return _render_form(form, None)
    details = _details()
    if details.company_name.strip() and not details.company_name_kana.strip():
        form.company_name_kana.data = customers.suggest_reading(details.company_name)
        flash(_l("A reading was suggested from the company name. Check it and save again."), "info")
        return _render_form(form, None, 422)
    account, outcome = customers.create_customer(g.portal.reseller_id, details)
    if account is None:
        _show_normalised(form, outcome)
        flash(NOT_SAVED, "error")
        return _render_form(form, None, 422)
    flash(_l("The customer %(name)s has been created.", name=account.company_name), "success")
    return redirect(url_for("staff_portal.account_detail", account_id=account.id))


@bp.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
@portal_staff
def customer_edit(account_id: int) -> Any:
    account = get_or_404(Account, account_id)
    require(Action.ACCOUNT_BILLING_EDIT)
    if request.method == "GET":
        form = _form(obj=account)
        phone = account.billing_contact_phone
        form.billing_contact_phone.data = national(phone) if phone else ""
        form.invoice_delivery.data = account.invoice_delivery.value
        return _render_form(form, account)
    form = _submitted_form()
    message = _assist(form)
    if message is not None or request.form.get("assist"):
        if message:
            flash(message, "info")
        return _render_form(form, account)
    here = url_for("staff_portal.customer_edit", account_id=account.id)
    try:
        outcome = customers.update_customer(
            account, _details(), version=form_version(request.form.get("edit_version"))
        )
    except StaleEdit:
        return refuse_stale(here)
    if not outcome.ok:
        _show_normalised(form, outcome)
        flash(NOT_SAVED, "error")
        return _render_form(form, account, 422)
    flash(_l("The customer's details have been saved."), "success")
    return redirect(url_for("staff_portal.account_detail", account_id=account.id))


def _account_action(account_id: int, change: Any, done: Any) -> Any:
    account = get_or_404(Account, account_id)
    require(Action.CUSTOMERS_MANAGE)
    validate_csrf_or_400()
    try:
        change(account)
    except customers.CustomerError as exc:
        flash(str(exc), "error")
    else:
        flash(done, "success")
    return redirect(url_for("staff_portal.account_detail", account_id=account.id))


@bp.post("/accounts/<int:account_id>/suspend")
@portal_staff
def customer_suspend(account_id: int) -> Any:
    return _account_action(
        account_id,
        customers.suspend,
        _l("The account is suspended: its logins are refused and their sessions have ended."),
    )


@bp.post("/accounts/<int:account_id>/reactivate")
@portal_staff
def customer_reactivate(account_id: int) -> Any:
    return _account_action(
        account_id, customers.reactivate, _l("The account is active again: its logins work.")
    )


@bp.route("/accounts/<int:account_id>/terminate", methods=["GET", "POST"])
@portal_staff
def customer_terminate(account_id: int) -> Any:
    """The termination, shown with R12's date before it is confirmed."""
    account = get_or_404(Account, account_id)
    require(Action.CUSTOMERS_MANAGE)
    now = utcnow()
    if request.method == "POST":
        validate_csrf_or_400()
        if request.form.get("confirm") != "1":
            flash(_l("Tick the box to confirm the termination."), "error")
            return _terminate_page(account, now, 422)
        try:
            closes_on = customers.terminate(account, now=now)
        except customers.CustomerError as exc:
            flash(str(exc), "error")
            return redirect(url_for("staff_portal.account_detail", account_id=account.id))
        flash(
            _l(
                "The account is terminated: its options end and it closes at the end of %(date)s.",
                date=jdate(closes_on),
            ),
            "success",
        )
        return redirect(url_for("staff_portal.account_detail", account_id=account.id))
    return _terminate_page(account, now)


def _terminate_page(account: Account, now: Any, status: int = 200) -> Any:
    today = tokyo_today(now)
    running = [
        (circle.name, holding)
        for circle in each_circle(account.circles)
        for holding in option_services.holdings(circle, today).values()
        if holding.held
    ]
    return render_template(
        "tenants/customer_terminate.html",
        account=account,
        closes_on=customers.termination_date(now),
        running=running,
        account_options=[o for o in option_services.account_options(account) if o.active_on(today)],
    ), status
