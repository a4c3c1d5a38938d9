"""R1 OEM server: the account option that makes an account a reseller.

Only platform staff grant or end it (from the console, under an audited bypass):
granting creates the reseller with its portal host, a default theme and an admin
login; ending is refused while the reseller still has customers.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from pbx_platform.audit import audit_action
from pbx_platform.db import db, utcnow
from pbx_platform.tenancy import Scope, platform_bypass, use_scope
from tenants.models import (
    Account,
    AccountOption,
    AccountOptionKind,
    Reseller,
    ResellerHost,
    StaffKind,
    StaffRole,
)
from tenants.options.dates import cancellation_effective_date, tokyo_today
from tenants.services import provisioning

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class OemError(ValueError):
    pass


@dataclass(frozen=True)
class Granted:
    reseller: Reseller
    admin_email: str
    one_time_password: str


def accounts_for_console() -> list[tuple[Account, Reseller, AccountOption | None]]:
    """Every account with its seller and its current OEM server option."""
    today = tokyo_today()
    with platform_bypass("console.accounts"):
        rows = db.session.execute(
            select(Account, Reseller)
            .join(Reseller, Reseller.id == Account.reseller_id)
            .order_by(Reseller.id, Account.company_name)
        ).all()
        options = db.session.scalars(
            select(AccountOption).where(AccountOption.kind == AccountOptionKind.OEM_SERVER)
        ).all()
    current = {o.account_id: o for o in options if o.active_on(today)}
    return [(account, reseller, current.get(account.id)) for account, reseller in rows]


def account_for_console(account_id: int) -> Account | None:
    with platform_bypass("console.account"):
        return db.session.get(Account, account_id)


def grant(
    account: Account,
    *,
    slug: str,
    name: str,
    admin_email: str,
    base_domain: str,
    now: datetime | None = None,
) -> Granted:
    """Create the reseller run by this account, with an admin login (one-time password)."""
    slug, name, admin_email = slug.strip().lower(), name.strip(), admin_email.strip().lower()
    if not SLUG.match(slug):
        raise OemError(str(_l("Use 3–40 lower-case letters, digits and hyphens for the slug.")))
    if not name or len(name) > 120:
        raise OemError(str(_l("Enter a name of at most %(n)d characters.", n=120)))
    if not EMAIL.match(admin_email) or len(admin_email) > 254:
        raise OemError(str(_l("Enter a valid e-mail address.")))
    today = tokyo_today(now)
    with platform_bypass("console.oem_grant"), audit_action("oem_server.grant"):
        if _current_option(account, today) is not None:
            raise OemError(str(_l("This account already has the OEM server option.")))
        host = f"{slug}.{base_domain}"
        taken = db.session.scalar(
            select(func.count()).select_from(Reseller).where(Reseller.slug == slug)
        )
        taken = taken or db.session.scalar(
            select(func.count()).select_from(ResellerHost).where(ResellerHost.host == host)
        )
        if taken:
            raise OemError(str(_l("This slug is already in use.")))
        db.session.add(
            AccountOption(
                reseller_id=account.reseller_id,
                account_id=account.id,
                kind=AccountOptionKind.OEM_SERVER,
                starts_on=today,
            )
        )
        reseller = provisioning.create_reseller(
            slug=slug,
            name=name,
            base_domain=base_domain,
            postal_code=account.postal_code,
            prefecture=account.prefecture,
            city=account.city,
            address_line1=account.address_line1,
        )
        reseller.oem_account_id = account.id
        db.session.flush()
    password = _one_time_password()
    with use_scope(Scope(reseller.id)), audit_action("oem_server.grant"):
        provisioning.create_brand(reseller, product_name=name)
        provisioning.create_staff(
            reseller,
            email=admin_email,
            name=name,
            password=password,
            kind=StaffKind.RESELLER,
            role=StaffRole.ADMIN,
        )
    return Granted(reseller=reseller, admin_email=admin_email, one_time_password=password)


def end(account: Account, *, now: datetime | None = None) -> AccountOption:
    """End the option (R12 date); refused while the reseller still has customers."""
    now = now or utcnow()
    with platform_bypass("console.oem_end"), audit_action("oem_server.end"):
        option = _current_option(account, tokyo_today(now))
        if option is None or option.ends_on is not None:
            raise OemError(str(_l("This account has no OEM server option to end.")))
        reseller = db.session.scalars(
            select(Reseller).where(Reseller.oem_account_id == account.id)
        ).first()
        if reseller is not None:
            customers = db.session.scalar(
                select(func.count()).select_from(Account).where(Account.reseller_id == reseller.id)
            )
            if customers:
                raise OemError(
                    str(
                        _l(
                            "The reseller %(name)s still has %(n)d customer accounts. "
                            "Move or close them before ending the OEM server option.",
                            name=reseller.name,
                            n=customers,
                        )
                    )
                )
        option.ends_on = cancellation_effective_date(now)
        option.cancel_requested_at = now
        db.session.flush()
        return option


def _current_option(account: Account, today: date) -> AccountOption | None:
    return db.session.scalars(
        select(AccountOption).where(
            AccountOption.account_id == account.id,
            AccountOption.kind == AccountOptionKind.OEM_SERVER,
            AccountOption.starts_on <= today,
            (AccountOption.ends_on.is_(None)) | (AccountOption.ends_on >= today),
        )
    ).first()


def _one_time_password() -> str:
    """Meets R15: upper, lower, symbol and digits; shown once to the operator."""
    return f"Oem-{secrets.token_urlsafe(9).replace('-', 'x').replace('_', 'y')}!7a"
