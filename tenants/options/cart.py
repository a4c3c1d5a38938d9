"""The cart (R11): add lines, review with effective dates (R12), delete lines, confirm.

Nothing changes until confirmation; confirmation applies every line in the request's
single transaction, or none. A cart whose target changed since it was opened (another
login confirmed a cart meanwhile) is stale and refused; a cart confirmed twice (a double
submit) is refused the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError

from pbx_platform.audit import audit_action
from pbx_platform.db import db, utcnow
from tenants.models import Account, AccountOption, AccountOptionKind, Circle, Staff, Unique
from tenants.options import services
from tenants.options.dates import cancellation_effective_date, tokyo_today
from tenants.options.models import (
    CANCEL_BY_COUNT,
    QUANTITY_KINDS,
    Cart,
    CartAction,
    CartLine,
    CartStatus,
    CircleOption,
    OptionKind,
)
from tenants.scoping import each_circle

MAX_QUANTITY = 100


class CartError(ValueError):
    """A line or a confirmation that the rules refuse; the message is for the user."""


def owner_key(principal: Circle | Staff) -> str:
    return f"{principal.principal_kind}:{principal.id}"


@dataclass(frozen=True)
class Target:
    """What a cart changes: a circle's options, or an account's (circle is None)."""

    account: Account
    circle: Circle | None = None

    @property
    def version(self) -> int:
        return (self.circle or self.account).options_version


def _find_open_cart(principal: Circle | Staff, target: Target, *, lock: bool) -> Cart | None:
    query = select(Cart).where(
        Cart.owner == owner_key(principal),
        Cart.account_id == target.account.id,
        Cart.status == CartStatus.OPEN,
    )
    # Kept by hand: a cart is the account's row (``AccountOwned``), and its circle column
    # names the cart's target (one of the account's circles, or the account itself), not
    # a tenant level the scope narrows.
    query = query.where(
        Cart.circle_id == target.circle.id if target.circle else Cart.circle_id.is_(None)
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    cart = db.session.scalars(query).first()
    if cart is not None and lock:
        # The lines as they are now that the row is ours, not as an earlier read saw them.
        db.session.expire(cart, ["lines"])
    return cart


def find_open_cart(principal: Circle | Staff, target: Target) -> Cart | None:
    """The principal's open cart for this target, if one exists: what a page shows.

    Reading never creates one (a GET writes nothing, not even an audit row); the first
    change (``add_line``) does, through ``open_cart``."""
    return _find_open_cart(principal, target, lock=False)


def open_cart(principal: Circle | Staff, target: Target, *, lock: bool = False) -> Cart:
    """The principal's open cart for this target, created on first use.

    One open cart per owner and target is a database constraint (R11): of parallel
    first requests one inserts the cart, the others wait for it and then use that one.
    ``lock`` holds the cart's row until the request ends (PostgreSQL; SQLite writes one
    transaction at a time), so that parallel changes to it happen one after another.
    """
    cart = _find_open_cart(principal, target, lock=lock)
    if cart is not None:
        return cart
    cart = Cart(
        reseller_id=target.account.reseller_id,
        account_id=target.account.id,
        circle_id=target.circle.id if target.circle else None,
        owner=owner_key(principal),
        base_version=target.version,
    )
    try:
        with db.session.begin_nested():
            db.session.add(cart)
            db.session.flush()
    except IntegrityError:
        # Another request opened it first; its transaction has committed by now.
        found = _find_open_cart(principal, target, lock=lock)
        if found is None:
            raise
        return found
    return cart


def _check_kind(principal: Circle | Staff, target: Target, kind: OptionKind) -> None:
    allowed = services.allowed_kinds(principal, for_account=target.circle is None)
    if kind not in allowed:
        raise CartError(str(_l("You may not buy or cancel this option.")))


def _check_quantity(kind: OptionKind, action: CartAction, quantity: int) -> int:
    counted = kind in (CANCEL_BY_COUNT if action == CartAction.CANCEL else QUANTITY_KINDS)
    if not counted:
        return 1
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(str(_l("Enter a number from 1 to %(max)d.", max=MAX_QUANTITY)))
    return quantity


def add_line(
    principal: Circle | Staff,
    target: Target,
    action: CartAction,
    kind: OptionKind,
    quantity: int,
    *,
    now: datetime | None = None,
) -> CartLine:
    """Put a purchase or a cancellation in the cart, after checking it could be applied.

    Atomic: the cart's row is locked while its line is read and merged, so N parallel
    additions of 1 end as one line of N (and the cart holds one line per option)."""
    _check_kind(principal, target, kind)
    quantity = _check_quantity(kind, action, quantity)
    cart = open_cart(principal, target, lock=True)
    pending = [line for line in cart.lines if line.kind == kind]
    if any(line.action != action for line in pending):
        raise CartError(str(_l("The cart already holds a different change of this option.")))
    merged = (
        quantity + sum(line.quantity for line in pending)
        if kind in (QUANTITY_KINDS if action == CartAction.BUY else CANCEL_BY_COUNT)
        else quantity
    )
    if pending and merged == quantity:
        raise CartError(str(_l("This option is already in the cart.")))
    _validate(target, action, kind, merged, today=tokyo_today(now))
    if pending:
        pending[0].quantity = merged
        line = pending[0]
    else:
        line = CartLine(
            reseller_id=cart.reseller_id,
            account_id=cart.account_id,
            action=action,
            kind=kind,
            quantity=quantity,
        )
        cart.lines.append(line)
    db.session.flush()
    return line


def remove_lines(cart: Cart, line_ids: Iterable[int]) -> int:
    """R11: lines added by mistake, ticked "delete" and saved."""
    ids = set(line_ids)
    doomed = [line for line in cart.lines if line.id in ids]
    for line in doomed:
        cart.lines.remove(line)
    db.session.flush()
    return len(doomed)


def _validate(
    target: Target, action: CartAction, kind: OptionKind, quantity: int, *, today: date
) -> None:
    if action == CartAction.BUY and target.account.terminated_at is not None:
        raise CartError(str(_l("This customer account is terminated: nothing can be bought.")))
    if target.circle is None:
        _validate_account(target.account, action, kind, today)
        return
    holding = services.holding(target.circle, kind, today)
    if action == CartAction.BUY:
        if kind not in QUANTITY_KINDS and holding.held:
            if holding.fully_pending and holding.ends_on:
                raise CartError(
                    str(
                        _l(
                            "%(option)s is contracted until %(date)s "
                            "(its cancellation is pending); buy it again after that date.",
                            option=holding.label,
                            date=holding.ends_on.isoformat(),
                        )
                    )
                )
            raise CartError(str(_l("%(option)s is already contracted.", option=holding.label)))
        return
    if holding.cancellable_quantity <= 0:
        raise CartError(
            str(
                _l(
                    "%(option)s is not contracted, or its cancellation is already pending.",
                    option=holding.label,
                )
            )
        )
    if kind in CANCEL_BY_COUNT:
        if quantity > holding.cancellable_quantity:
            raise CartError(
                str(
                    _l(
                        "You can cancel at most %(n)d %(option)s.",
                        n=holding.cancellable_quantity,
                        option=holding.label,
                    )
                )
            )
        remaining = holding.quantity - holding.pending_quantity - quantity
        in_use = services.units_in_use(target.circle, kind)
        if len(in_use) > remaining:
            raise CartError(_below_use_message(kind, holding.label, in_use, remaining))


def _below_use_message(
    kind: OptionKind, label: str, in_use: Sequence[Unique], remaining: int
) -> str:
    """A cancellation by count would leave fewer units than uniques use: name them.
    Licences (R7, R8) are unticked first; conference rooms (R3, one room per unit
    bought) are deleted first."""
    names = ", ".join(f"{u.extension or '—'} {u.display_name}" for u in in_use)
    if kind == OptionKind.CONFERENCE_ROOM:
        return str(
            _l(
                "The circle has %(rooms)d conference rooms but only %(remaining)d would remain. "
                "Delete %(excess)d of them first: %(names)s",
                rooms=len(in_use),
                remaining=remaining,
                excess=len(in_use) - remaining,
                names=names,
            )
        )
    return str(
        _l(
            "%(ticked)d uniques use %(option)s but only %(remaining)d would remain. "
            "Untick %(excess)d of them first: %(names)s",
            ticked=len(in_use),
            option=label,
            remaining=remaining,
            excess=len(in_use) - remaining,
            names=names,
        )
    )


def _validate_account(account: Account, action: CartAction, kind: OptionKind, today: date) -> None:
    option = services.active_account_option(account, AccountOptionKind(kind.value), today)
    label = services.OPTION_LABELS[kind]
    if action == CartAction.BUY and option is not None:
        raise CartError(str(_l("%(option)s is already contracted.", option=label)))
    if action == CartAction.CANCEL and (option is None or option.ends_on is not None):
        raise CartError(
            str(
                _l(
                    "%(option)s is not contracted, or its cancellation is already pending.",
                    option=label,
                )
            )
        )


@dataclass(frozen=True)
class ReviewLine:
    line: CartLine
    label: str
    effective: date  # the start of a purchase, or the last day of a cancellation (R12)
    monthly_yen: int | None


def review(cart: Cart, *, now: datetime | None = None) -> list[ReviewLine]:
    """What confirmation would do, with the dates R12 gives for a request made now."""
    now = now or utcnow()
    prices = services.prices(cart.reseller_id)
    lines = []
    for line in cart.lines:
        effective = (
            tokyo_today(now) if line.action == CartAction.BUY else cancellation_effective_date(now)
        )
        price = prices.get(line.kind.value)
        lines.append(
            ReviewLine(
                line,
                str(services.OPTION_LABELS[line.kind]),
                effective,
                price * line.quantity if price is not None else None,
            )
        )
    return lines


def confirm(
    principal: Circle | Staff, target: Target, cart_id: int, *, now: datetime | None = None
) -> list[ReviewLine]:
    """Apply every line at once (R11), or refuse with a message and change nothing."""
    now = now or utcnow()
    # Locked: of parallel confirmations of one cart, the first applies it and the
    # others, waiting for it, find it confirmed.
    cart = db.session.get(Cart, cart_id, with_for_update=True, populate_existing=True)
    if cart is not None:
        db.session.expire(cart, ["lines"])
    if (
        cart is None
        or cart.owner != owner_key(principal)
        or cart.account_id != target.account.id
        or (cart.circle_id != (target.circle.id if target.circle else None))
    ):
        raise CartError(str(_l("This cart does not exist.")))
    if cart.status == CartStatus.CONFIRMED:
        raise CartError(str(_l("This cart has already been confirmed; nothing was changed twice.")))
    if not cart.lines:
        raise CartError(str(_l("The cart is empty.")))
    if cart.base_version != target.version:
        raise CartError(
            str(
                _l(
                    "The options were changed by someone else after you opened this cart. "
                    "Please review the cart again; nothing has been changed."
                )
            )
        )
    today = tokyo_today(now)
    if target.circle is not None:
        # What the lines are checked against (rooms, ticks) cannot change meanwhile.
        services.lock_options(target.circle)
    for line in cart.lines:
        _check_kind(principal, target, line.kind)
        _validate(target, line.action, line.kind, line.quantity, today=today)
    summary = review(cart, now=now)
    with audit_action("cart.confirm"):
        _claim_version(target)
        for line in cart.lines:
            _apply(target, line, now=now, today=today)
        cart.status = CartStatus.CONFIRMED
        cart.confirmed_at = now
        db.session.flush()
    return summary


def discard_stale(principal: Circle | Staff, target: Target) -> None:
    """Re-base a stale cart on the current options so the user can review it again."""
    cart = open_cart(principal, target)
    cart.base_version = target.version
    db.session.flush()


def _claim_version(target: Target) -> None:
    """Optimistic lock: bump the version only if nobody else did since the cart opened."""
    model = Circle if target.circle else Account
    obj = target.circle or target.account
    # An UPDATE returns a CursorResult, which carries the rowcount.
    result = cast(
        "CursorResult[Any]",
        db.session.execute(
            update(model)
            .where(model.id == obj.id, model.options_version == obj.options_version)
            .values(options_version=model.options_version + 1)
            .execution_options(synchronize_session="fetch")
        ),
    )
    if result.rowcount != 1:
        raise CartError(
            str(
                _l(
                    "The options were changed by someone else after you opened this cart. "
                    "Please review the cart again; nothing has been changed."
                )
            )
        )


def _apply(target: Target, line: CartLine, *, now: datetime, today: date) -> None:
    if target.circle is None:
        _apply_account(target.account, line, now=now, today=today)
        return
    circle = target.circle
    if line.action == CartAction.BUY:
        db.session.add(
            CircleOption(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                kind=line.kind,
                quantity=line.quantity,
                starts_on=today,
            )
        )
        return
    _cancel_circle_option(
        circle, line.kind, line.quantity if line.kind in CANCEL_BY_COUNT else None, now, today
    )


def _cancel_circle_option(
    circle: Circle, kind: OptionKind, quantity: int | None, now: datetime, today: date
) -> None:
    """R12: ``quantity`` units of ``kind`` (every unit: None) end on the date a
    cancellation requested ``now`` takes effect, the newest units first."""
    ends_on = cancellation_effective_date(now)
    rows = [row for row in services.holding(circle, kind, today).rows if row.ends_on is None]
    remaining = quantity if quantity is not None else sum(r.quantity for r in rows)
    for row in sorted(rows, key=lambda r: (r.starts_on, r.id), reverse=True):
        if remaining <= 0:
            break
        if row.quantity > remaining:
            # Split: the cancelled part ends, the rest continues.
            row.quantity -= remaining
            db.session.add(
                CircleOption(
                    reseller_id=row.reseller_id,
                    account_id=row.account_id,
                    circle_id=row.circle_id,
                    kind=row.kind,
                    quantity=remaining,
                    starts_on=row.starts_on,
                    ends_on=ends_on,
                    cancel_requested_at=now,
                )
            )
            remaining = 0
        else:
            row.ends_on = ends_on
            row.cancel_requested_at = now
            remaining -= row.quantity


def _apply_account(account: Account, line: CartLine, *, now: datetime, today: date) -> None:
    kind = AccountOptionKind(line.kind.value)
    if line.action == CartAction.BUY:
        db.session.add(
            AccountOption(
                reseller_id=account.reseller_id, account_id=account.id, kind=kind, starts_on=today
            )
        )
        return
    _cancel_account_option(account, kind, now, today)


def _cancel_account_option(
    account: Account, kind: AccountOptionKind, now: datetime, today: date
) -> None:
    """R12: the account option ends on the date a cancellation requested ``now`` takes
    effect (one already pending keeps its date)."""
    option = services.active_account_option(account, kind, today)
    if option is not None and option.ends_on is None:
        option.ends_on = cancellation_effective_date(now)
        option.cancel_requested_at = now


def cancel_everything(account: Account, circles: Sequence[Circle], *, now: datetime) -> date:
    """Termination of an account: every option of the account and of its ``circles``
    still running is cancelled as a confirmed cart would cancel it (R12's effective
    date; pending cancellations keep their own, earlier date). Carts opened before
    become stale, as after any confirmation. Returns the effective date."""
    today = tokyo_today(now)
    for circle in each_circle(circles):
        services.lock_options(circle)
        for kind, holding in services.holdings(circle, today).items():
            if holding.cancellable_quantity > 0:
                _cancel_circle_option(circle, kind, None, now, today)
        circle.options_version += 1
        db.session.flush()  # inside the circle's scope, which its rows belong to
    for account_kind in {option.kind for option in services.account_options(account)}:
        _cancel_account_option(account, account_kind, now, today)
    account.options_version += 1
    db.session.flush()
    return cancellation_effective_date(now)
