"""R2 invoice mailing: account options bought and cancelled through the cart (R11, R12),
by the account's manager or the reseller's admin and billing staff (R22)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pbx_platform.db import utcnow
from pbx_platform.permissions import Action, allowed, require
from tenants.models import Account, AccountOptionKind
from tenants.options import cart as carts
from tenants.options import services
from tenants.options.dates import cancellation_effective_date, tokyo_today
from tenants.options.models import ACCOUNT_KINDS, CartAction, OptionKind
from tenants.views.common import get_or_404
from tenants.views.forms_util import parse_quantity, validate_csrf_or_400
from tenants.views.staff_portal import bp, portal_staff


def _page(account: Account, errors: list[str] | None = None, status: int = 200) -> Any:
    now = utcnow()
    principal = current_user._get_current_object()
    target = carts.Target(account=account)
    may_buy = allowed(principal, Action.ACCOUNT_OPTIONS_BUY)
    open_cart = carts.find_open_cart(principal, target) if may_buy else None
    return render_template(
        "tenants/account_options.html",
        account=account,
        options=services.account_options(account),
        today=tokyo_today(now),
        allowed=services.allowed_kinds(principal, for_account=True),
        mailing=services.active_account_option(
            account, AccountOptionKind.INVOICE_MAILING, tokyo_today(now)
        ),
        may_buy=may_buy,
        cart=open_cart,
        lines=carts.review(open_cart, now=now) if open_cart else [],
        stale=bool(open_cart and open_cart.base_version != target.version),
        cancel_effective=cancellation_effective_date(now),
        kinds=ACCOUNT_KINDS,
        errors=errors or [],
    ), status


@bp.get("/accounts/<int:account_id>/options")
@portal_staff
def account_options(account_id: int) -> Any:
    account = get_or_404(Account, account_id)
    require(Action.ACCOUNT_VIEW)
    return _page(account)


@bp.post("/accounts/<int:account_id>/options/cart")
@portal_staff
def account_add_to_cart(account_id: int) -> Any:
    account = get_or_404(Account, account_id)
    require(Action.ACCOUNT_OPTIONS_BUY)
    validate_csrf_or_400()
    action = CartAction.CANCEL if request.form.get("action") == "cancel" else CartAction.BUY
    if not request.form.get("tick_invoice_mailing"):
        return _page(account, [str(_l("Tick an option or enter a number first."))], 422)
    try:
        carts.add_line(
            current_user._get_current_object(),
            carts.Target(account=account),
            action,
            OptionKind.INVOICE_MAILING,
            1,
        )
    except carts.CartError as exc:
        return _page(account, [str(exc)], 422)
    return redirect(url_for("staff_portal.account_options", account_id=account.id))


@bp.post("/accounts/<int:account_id>/cart/remove")
@portal_staff
def account_remove_cart_lines(account_id: int) -> Any:
    account = get_or_404(Account, account_id)
    require(Action.ACCOUNT_OPTIONS_BUY)
    validate_csrf_or_400()
    open_cart = carts.find_open_cart(
        current_user._get_current_object(), carts.Target(account=account)
    )
    ids = [int(v) for v in request.form.getlist("delete") if v.isdigit()]
    if open_cart is not None:
        carts.remove_lines(open_cart, ids)
    return redirect(url_for("staff_portal.account_options", account_id=account.id))


@bp.post("/accounts/<int:account_id>/cart/confirm")
@portal_staff
def account_confirm_cart(account_id: int) -> Any:
    account = get_or_404(Account, account_id)
    require(Action.ACCOUNT_OPTIONS_BUY)
    validate_csrf_or_400()
    cart_id, _ = parse_quantity(request.form.get("cart_id", ""), maximum=2**31 - 1)
    try:
        carts.confirm(
            current_user._get_current_object(), carts.Target(account=account), cart_id or 0
        )
    except carts.CartError as exc:
        flash(str(exc), "error")
    else:
        flash(_l("The account options have been updated."), "success")
    return redirect(url_for("staff_portal.account_options", account_id=account.id))
