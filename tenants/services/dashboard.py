"""The reseller staff's landing page: what the portal's scope holds today, in figures.

Read in the caller's scope (a reseller's staff see the reseller, an account manager
their account). Money is integer yen at the reseller's retail prices (the price book,
read through ``tenants.options.services.prices``), tax excluded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from pbx_platform.audit_read import Reading, describe
from pbx_platform.db import db
from pbx_platform.japanese import month_end
from pbx_platform.models import AuditLog
from tenants.models import Account, AccountOption, Circle, Unique
from tenants.options import services as option_services
from tenants.options.models import CircleOption

RECENT_CHANGES = 10


@dataclass(frozen=True)
class OptionCount:
    kind: str
    label: str
    quantity: int
    monthly_yen: int


@dataclass(frozen=True)
class Cancellation:
    label: str
    holder: str  # the circle or the customer that holds the option
    quantity: int
    ends_on: date


@dataclass(frozen=True)
class Dashboard:
    customers: int
    circles: int
    uniques: int
    options: Sequence[OptionCount]
    monthly_recurring_yen: int
    cancellations: Sequence[Cancellation]
    recent: Sequence[Reading]


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _label(kind: str) -> str:
    labels = {k.value: v for k, v in option_services.OPTION_LABELS.items()}
    return str(labels.get(kind, kind))


def dashboard(reseller_id: int, today: date) -> Dashboard:
    """The figures of ``today`` (a Japan-time day): options active that day (R9: a
    pending cancellation stays active until its end date) by kind, their monthly
    recurring revenue at the retail prices, and the cancellations that take effect at
    the end of this month (R12)."""
    prices = option_services.prices(reseller_id)
    quantities: dict[str, int] = {}
    cancellations: list[Cancellation] = []
    this_month_end = month_end(today)
    circle_rows = db.session.execute(
        select(CircleOption, Circle.name).join(Circle, Circle.id == CircleOption.circle_id)
    ).all()
    for option, circle_name in circle_rows:
        if not option.active_on(today):
            continue
        kind = option.kind.value
        quantities[kind] = quantities.get(kind, 0) + option.quantity
        if option.ends_on is not None and option.ends_on <= this_month_end:
            cancellations.append(
                Cancellation(_label(kind), circle_name, option.quantity, option.ends_on)
            )
    account_rows = db.session.execute(
        select(AccountOption, Account.company_name).join(
            Account, Account.id == AccountOption.account_id
        )
    ).all()
    for account_option, company in account_rows:
        if not account_option.active_on(today):
            continue
        kind = account_option.kind.value
        quantities[kind] = quantities.get(kind, 0) + 1
        if account_option.ends_on is not None and account_option.ends_on <= this_month_end:
            cancellations.append(Cancellation(_label(kind), company, 1, account_option.ends_on))
    options = [
        OptionCount(kind, _label(kind), quantity, quantity * prices.get(kind, 0))
        for kind, quantity in sorted(quantities.items(), key=lambda item: _label(item[0]))
    ]
    recent = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.action != "tenant.bypass")
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(RECENT_CHANGES)
    ).all()
    return Dashboard(
        customers=_count(Account),
        circles=_count(Circle),
        uniques=_count(Unique),
        options=options,
        monthly_recurring_yen=sum(option.monthly_yen for option in options),
        cancellations=sorted(cancellations, key=lambda c: (c.ends_on, c.holder, c.label)),
        recent=[describe(entry) for entry in recent],
    )
