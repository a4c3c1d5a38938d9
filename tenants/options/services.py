"""What a circle or an account holds, and who may buy or cancel what (R1, R2, R9, R10)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.permissions import Action, allowed
from pbx_platform.tenancy import require_circle_scope
from tenants import hooks
from tenants.models import (
    Account,
    AccountOption,
    AccountOptionKind,
    Circle,
    Staff,
    Unique,
    UniqueKind,
)
from tenants.options.models import (
    CIRCLE_KINDS,
    CircleOption,
    OptionKind,
)

OPTION_LABELS = {
    OptionKind.CONFERENCE_ROOM: _l("Conference room"),
    OptionKind.OUTBOUND_SELECTION: _l("Outbound number selection"),
    OptionKind.IVR: _l("IVR"),
    OptionKind.CALL_RECORDING: _l("Full call recording"),
    OptionKind.MONITORING: _l("Monitoring licences"),
    OptionKind.WHISPERING: _l("Whispering licences"),
    OptionKind.OEM_SERVER: _l("OEM server"),
    OptionKind.INVOICE_MAILING: _l("Invoice mailing"),
}

# The unique flag each licensed option is counted against (R7, R8).
TICK_COLUMN = {OptionKind.MONITORING: "monitoring", OptionKind.WHISPERING: "whispering"}


def allowed_kinds(principal: Circle | Staff, *, for_account: bool) -> frozenset[OptionKind]:
    """What ``principal`` may buy and cancel through a cart, by R22's matrix.

    Circle options with ``CIRCLE_OPTIONS_BUY`` (the circle, its account's manager, the
    reseller's admins); invoice mailing (R2) with ``ACCOUNT_OPTIONS_BUY`` (also the
    billing staff). The OEM server (R1) never goes through a cart: it is granted from
    the console (``tenants.services.oem``), since it makes an account a reseller.
    """
    if for_account:
        buys = allowed(principal, Action.ACCOUNT_OPTIONS_BUY)
        return frozenset({OptionKind.INVOICE_MAILING}) if buys else frozenset()
    return frozenset(CIRCLE_KINDS) if allowed(principal, Action.CIRCLE_OPTIONS_BUY) else frozenset()


@dataclass
class Holding:
    """R9: one option kind as the circle holds it today."""

    kind: OptionKind
    quantity: int = 0  # units usable today
    pending_quantity: int = 0  # units whose cancellation is pending
    ends_on: date | None = None  # the (earliest) pending end date
    rows: list[CircleOption] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(OPTION_LABELS[self.kind])

    @property
    def held(self) -> bool:
        return self.quantity > 0

    @property
    def cancellable_quantity(self) -> int:
        return self.quantity - self.pending_quantity

    @property
    def fully_pending(self) -> bool:
        return self.held and self.cancellable_quantity == 0


def circle_options(circle: Circle) -> Sequence[CircleOption]:
    require_circle_scope(circle.id)
    return db.session.scalars(
        select(CircleOption).order_by(CircleOption.starts_on, CircleOption.id)
    ).all()


def holdings(circle: Circle, today: date) -> dict[OptionKind, Holding]:
    """Every circle option kind with what is usable today (pending cancellations included,
    as they stay usable until their end date)."""
    result = {kind: Holding(kind) for kind in CIRCLE_KINDS}
    for option in circle_options(circle):
        if not option.active_on(today):
            continue
        holding = result[option.kind]
        holding.quantity += option.quantity
        holding.rows.append(option)
        if option.ends_on is not None:
            holding.pending_quantity += option.quantity
            holding.ends_on = min(filter(None, (holding.ends_on, option.ends_on)))
    return result


def holding(circle: Circle, kind: OptionKind, today: date) -> Holding:
    return holdings(circle, today)[kind]


def is_contracted(circle: Circle, kind: OptionKind, today: date) -> bool:
    """An option is usable through its end date, even with its cancellation pending."""
    return holding(circle, kind, today).held


class OptionNotContracted(ValueError):
    """The circle does not hold the option today: nothing of it may be set or changed.

    The one answer to "is the option contracted" wherever a change is asked for; its
    message is the same on every page (``label`` names a page that serves several
    options, such as monitoring and whispering)."""

    def __init__(self, kind: OptionKind, label: object | None = None) -> None:
        self.kind = kind
        self.label = str(label if label is not None else OPTION_LABELS[kind])
        super().__init__(
            str(_l("%(option)s is not contracted for this circle.", option=self.label))
        )

    @property
    def message(self) -> str:
        return str(self.args[0])


def require_contracted(circle: Circle, kind: OptionKind, today: date) -> Holding:
    """What the circle holds of ``kind`` today; ``OptionNotContracted`` when nothing
    (a pending cancellation still counts until its end date, R12)."""
    found = holding(circle, kind, today)
    if not found.held:
        raise OptionNotContracted(kind)
    return found


def ticked_uniques(circle: Circle, kind: OptionKind) -> Sequence[Unique]:
    column = getattr(Unique, TICK_COLUMN[kind])
    require_circle_scope(circle.id)
    return db.session.scalars(
        select(Unique).where(column.is_(True)).order_by(Unique.extension)
    ).all()


def room_uniques(circle: Circle) -> Sequence[Unique]:
    """R3: the circle's conference rooms (each one takes one room bought)."""
    require_circle_scope(circle.id)
    return db.session.scalars(
        select(Unique)
        .where(Unique.kind == UniqueKind.CONFERENCE_ROOM)
        .order_by(Unique.extension, Unique.id)
    ).all()


def units_in_use(circle: Circle, kind: OptionKind) -> Sequence[Unique]:
    """The uniques that each use one unit of an option bought by count: the ticked
    uniques of a licence (R7, R8), the rooms of the conference room option (R3)."""
    if kind == OptionKind.CONFERENCE_ROOM:
        return room_uniques(circle)
    return ticked_uniques(circle, kind)


def lock_options(circle: Circle) -> None:
    """Serialise changes that count a circle's option units against what uses them
    (a new conference room, a cart's confirmation): the circle's row is locked until the
    request's transaction ends. SQLite has one writer at a time already."""
    db.session.execute(select(Circle.id).where(Circle.id == circle.id).with_for_update())


def account_options(account: Account) -> Sequence[AccountOption]:
    return db.session.scalars(
        select(AccountOption)
        .where(AccountOption.account_id == account.id)
        .order_by(AccountOption.starts_on, AccountOption.id)
    ).all()


def active_account_option(
    account: Account, kind: AccountOptionKind, today: date
) -> AccountOption | None:
    for option in account_options(account):
        if option.kind == kind and option.active_on(today):
            return option
    return None


def prices(reseller_id: int) -> dict[str, int]:
    """The reseller's price book: option kind → monthly yen per unit (tax-exclusive).
    The price book is ``invoices``' (R21), which registers it in ``tenants.hooks``."""
    return hooks.price_book(reseller_id)
