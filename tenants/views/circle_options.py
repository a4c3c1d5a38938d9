"""R9–R12 pages: the option list, purchases and cancellations through the cart (the
cart's pages need ``CIRCLE_OPTIONS_BUY``, R22)."""

from __future__ import annotations

from typing import Any, cast

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pbx_platform.db import utcnow
from pbx_platform.permissions import Action
from tenants.options import cart as carts
from tenants.options import services
from tenants.options.dates import cancellation_effective_date, tokyo_today
from tenants.options.models import (
    CANCEL_BY_COUNT,
    CIRCLE_KINDS,
    LINES_PER_CONFERENCE_ROOM,
    QUANTITY_KINDS,
    CartAction,
    OptionKind,
)
from tenants.views.circle_admin import bp, needs
from tenants.views.forms_util import parse_quantity, validate_csrf_or_400


def _target() -> carts.Target:
    return carts.Target(account=g.circle.account, circle=g.circle)


def _options_page(errors: list[str] | None = None, status: int = 200) -> Any:
    now = utcnow()
    return render_template(
        "tenants/circle/options.html",
        holdings=services.holdings(g.circle, tokyo_today(now)),
        kinds=CIRCLE_KINDS,
        allowed=services.allowed_kinds(current_user._get_current_object(), for_account=False),
        counted_cancel=CANCEL_BY_COUNT,
        quantity_kinds=QUANTITY_KINDS,
        lines_per_room=LINES_PER_CONFERENCE_ROOM,
        prices=services.prices(g.circle.reseller_id),
        cancel_effective=cancellation_effective_date(now),
        errors=errors or [],
    ), status


@bp.get("/options")
def options() -> Any:
    """R9: every option the circle holds, with cancellation (R10) and purchase forms."""
    return _options_page()


@bp.post("/options/cart")
@needs(Action.CIRCLE_OPTIONS_BUY)
def add_to_cart() -> Any:
    """Put the ticked purchases or cancellations in the cart; all or nothing."""
    validate_csrf_or_400()
    action = CartAction.CANCEL if request.form.get("action") == "cancel" else CartAction.BUY
    principal = current_user._get_current_object()
    errors: list[str] = []
    wanted: list[tuple[OptionKind, int]] = []
    for kind in CIRCLE_KINDS:
        counted = kind in (CANCEL_BY_COUNT if action == CartAction.CANCEL else QUANTITY_KINDS)
        if counted:
            raw = request.form.get(f"count_{kind.value}", "").strip()
            if not raw or raw == "0":
                continue
            quantity, error = parse_quantity(raw, maximum=carts.MAX_QUANTITY)
            if error:
                errors.append(f"{services.OPTION_LABELS[kind]}: {error}")
                continue
            # parse_quantity returns a number whenever it returns no error.
            wanted.append((kind, cast(int, quantity)))
        elif request.form.get(f"tick_{kind.value}"):
            wanted.append((kind, 1))
    if not wanted and not errors:
        errors.append(str(_l("Tick an option or enter a number first.")))
    for kind, quantity in wanted:
        try:
            carts.add_line(principal, _target(), action, kind, quantity)
        except carts.CartError as exc:
            errors.append(str(exc))
    if errors:
        # Nothing is kept: the request rolls back on an error status.
        return _options_page(errors, 422)
    return redirect(url_for(".cart"))


@bp.get("/cart")
@needs(Action.CIRCLE_OPTIONS_BUY)
def cart() -> Any:
    """R11 review ("next"): each line with its effective date (R12) before confirming."""
    principal = current_user._get_current_object()
    # Reading the cart never opens one: the first line added does (a GET writes nothing).
    open_cart = carts.find_open_cart(principal, _target())
    stale = open_cart is not None and open_cart.base_version != _target().version
    return render_template(
        "tenants/circle/cart.html",
        cart=open_cart,
        lines=carts.review(open_cart) if open_cart else [],
        stale=stale,
    )


@bp.post("/cart/remove")
@needs(Action.CIRCLE_OPTIONS_BUY)
def remove_cart_lines() -> Any:
    """R11: lines ticked "delete" leave the cart when saved."""
    validate_csrf_or_400()
    open_cart = carts.find_open_cart(current_user._get_current_object(), _target())
    ids = []
    for raw in request.form.getlist("delete"):
        if raw.isdigit():
            ids.append(int(raw))
    removed = carts.remove_lines(open_cart, ids) if open_cart else 0
    if removed:
        flash(_l("%(n)d line(s) removed from the cart.", n=removed), "success")
    else:
        flash(_l("Tick the lines to delete first."), "error")
    return redirect(url_for(".cart"))


@bp.post("/cart/confirm")
@needs(Action.CIRCLE_OPTIONS_BUY)
def confirm_cart() -> Any:
    """R11 confirmation: one transaction; a double submit or a stale cart changes nothing."""
    validate_csrf_or_400()
    principal = current_user._get_current_object()
    cart_id, _ = parse_quantity(request.form.get("cart_id", ""), maximum=2**31 - 1)
    try:
        summary = carts.confirm(principal, _target(), cart_id or 0)
    except carts.CartError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".cart"))
    for line in summary:
        if line.line.action == CartAction.CANCEL:
            flash(
                _l(
                    "%(option)s: cancellation accepted; usable until %(date)s.",
                    option=line.label,
                    date=line.effective.isoformat(),
                ),
                "success",
            )
        else:
            flash(_l("%(option)s: purchased.", option=line.label), "success")
    return redirect(url_for(".options"))


@bp.post("/cart/refresh")
@needs(Action.CIRCLE_OPTIONS_BUY)
def refresh_cart() -> Any:
    """After a stale-cart refusal: re-check the lines against the current options."""
    validate_csrf_or_400()
    carts.discard_stale(current_user._get_current_object(), _target())
    flash(_l("The cart now reflects the current options. Please review it again."), "info")
    return redirect(url_for(".cart"))
