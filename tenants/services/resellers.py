"""Resellers as the platform operator runs them: created from scratch, their hosts,
registration number (R23), address and bank account edited, suspended and reactivated,
listed with search and paging.

Every function here is a console path: it runs under ``platform_bypass(reason)``, which
the audit log records with the operator. Services flush; the request commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from pbx_platform import sessions
from pbx_platform.audit import audit_action
from pbx_platform.db import db, utcnow
from pbx_platform.models import LoginSession
from pbx_platform.tenancy import Scope, platform_bypass, use_scope
from pbx_platform.versioning import check_edit, claim_edit
from tenants.models import Account, Reseller, ResellerHost, Staff, StaffKind, StaffRole
from tenants.services import provisioning, staff_users
from tenants.services.reseller_details import (
    Address,
    BankAccount,
    DetailError,
    corporate_number_check_digit,
    registration_number,
)

__all__ = ["DetailError", "corporate_number_check_digit"]

PAGE_SIZE = 20
SEARCH_MAX = 100
# The password hash of a staff login whose invitation is due: no password verifies
# against it (it is no argon2 hash), so the login cannot be used until the invitation
# sets a password.


class ResellerError(ValueError):
    """A change the rules refuse; ``field`` names the form field when one is at fault."""

    def __init__(self, message: object, field: str = "") -> None:
        super().__init__(str(message))
        self.field = field


@dataclass(frozen=True)
class RegistrationCheck:
    errors: list[str]
    warnings: list[str] = field(default_factory=list)


def check_registration_number(value: str) -> RegistrationCheck:
    """What the console says of a stored number: R23's format and check digit."""
    try:
        registration_number(value)
    except DetailError as exc:
        return RegistrationCheck(errors=[str(exc)])
    return RegistrationCheck(errors=[])


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResellerRow:
    reseller: Reseller
    accounts: int


@dataclass(frozen=True)
class ResellerPage:
    rows: Sequence[ResellerRow]
    page: int
    pages: int
    total: int
    query: str


def _search_condition(query: str) -> object:
    # LIKE's own wildcards in what was typed match only themselves.
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    host_match = select(ResellerHost.reseller_id).where(
        ResellerHost.host.like(pattern, escape="\\")
    )
    return or_(
        func.lower(Reseller.name).like(pattern, escape="\\"),
        Reseller.slug.like(pattern, escape="\\"),
        Reseller.id.in_(host_match),
    )


def reseller_page(query: str = "", page: int = 1, per_page: int = PAGE_SIZE) -> ResellerPage:
    """Resellers whose name, slug or a host name contains ``query`` (ignoring case), one
    page of them with their account counts, ordered by id."""
    query = query.strip()[:SEARCH_MAX]
    with platform_bypass("console.reseller_list"):
        statement = select(Reseller)
        if query:
            statement = statement.where(_search_condition(query))  # type: ignore[arg-type]
        total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        resellers = db.session.scalars(
            statement.order_by(Reseller.id).offset((page - 1) * per_page).limit(per_page)
        ).all()
        ids = [r.id for r in resellers]
        counts = dict(
            db.session.execute(
                select(Account.reseller_id, func.count())
                .where(Account.reseller_id.in_(ids))
                .group_by(Account.reseller_id)
            ).all()
        )
        for reseller in resellers:
            _ = list(reseller.hosts)
    rows = [ResellerRow(r, counts.get(r.id, 0)) for r in resellers]
    return ResellerPage(rows=rows, page=page, pages=pages, total=total, query=query)


def reseller_for_platform(reseller_id: int) -> Reseller | None:
    with platform_bypass("console.reseller_detail"):
        reseller = db.session.get(Reseller, reseller_id)
        if reseller is not None:
            _ = list(reseller.hosts)
        return reseller


# -- creating --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewReseller:
    """What the operator enters for a reseller made from scratch (values already parsed
    by ``tenants.services.reseller_details``)."""

    name: str
    slug: str
    custom_hosts: Sequence[str]
    registration_number: str
    address: Address
    bank: BankAccount
    admin_name: str
    admin_email: str


def _hosts_taken(hosts: Sequence[str], *, except_reseller: int | None = None) -> list[str]:
    """The host names of ``hosts`` that another reseller already has (host names are
    unique platform-wide, stored lower-case)."""
    statement = select(ResellerHost.host).where(ResellerHost.host.in_(list(hosts)))
    if except_reseller is not None:
        statement = statement.where(ResellerHost.reseller_id != except_reseller)
    return sorted(db.session.scalars(statement).all())


def _refuse_taken_hosts(hosts: Sequence[str], *, except_reseller: int | None = None) -> None:
    taken = _hosts_taken(hosts, except_reseller=except_reseller)
    if taken:
        raise ResellerError(
            _l("The host name %(host)s is already in use.", host=taken[0]), "custom_hosts"
        )


def _apply_details(
    reseller: Reseller, registration: str, address: Address, bank: BankAccount
) -> None:
    reseller.registration_number = registration
    reseller.postal_code = address.postal_code
    reseller.prefecture = address.prefecture
    reseller.city = address.city
    reseller.address_line1 = address.address_line1
    reseller.address_line2 = address.address_line2
    reseller.bank_name = bank.bank_name
    reseller.bank_branch = bank.branch
    reseller.bank_account_type = bank.account_type.value
    reseller.bank_account_number = bank.number
    reseller.bank_account_holder = bank.holder


def create_reseller(new: NewReseller, *, base_domain: str) -> tuple[Reseller, Staff]:
    """A reseller made by the operator (not through R1): its portal host
    ``<slug>.<base domain>`` and custom domains, details, default theme and its first
    admin, whose invitation is due (``invite_first_admin``)."""
    portal_host = f"{new.slug}.{base_domain}"
    with platform_bypass("console.reseller_create"), audit_action("reseller.create"):
        if db.session.scalar(select(func.count()).where(Reseller.slug == new.slug)):
            raise ResellerError(_l("This slug is already in use."), "slug")
        if portal_host in new.custom_hosts:
            raise ResellerError(
                _l(
                    "%(host)s is the portal's own host name; list only other domains.",
                    host=portal_host,
                ),
                "custom_hosts",
            )
        _refuse_taken_hosts([portal_host, *new.custom_hosts])
        reseller = provisioning.create_reseller(
            slug=new.slug,
            name=new.name,
            base_domain=base_domain,
            custom_hosts=tuple(new.custom_hosts),
        )
        _apply_details(reseller, new.registration_number, new.address, new.bank)
        db.session.flush()
    with use_scope(Scope(reseller.id)), audit_action("reseller.create"):
        provisioning.create_brand(reseller, product_name=new.name)
        admin = invite_first_admin(reseller, name=new.admin_name, email=new.admin_email)
    return reseller, admin


def invite_first_admin(reseller: Reseller, *, name: str, email: str) -> Staff:
    """The reseller's first admin, invited by e-mail in the reseller's language: a
    single-use link valid 72 hours sets the password (R15); until then the login has
    no usable password. Runs in the reseller's scope, inside the creating transaction,
    so the mail goes out only if the reseller is committed."""
    outcome = staff_users.invite_staff(
        reseller, email, name, StaffRole.ADMIN, reseller.default_locale, None
    )
    if outcome.staff is None:
        field_name, problems = next(iter(outcome.errors.items()))
        raise ResellerError(problems[0], "admin_email" if field_name == "email" else "admin_name")
    return outcome.staff


def invitation_due(staff: Staff) -> bool:
    """The first admin has not accepted the invitation yet."""
    return staff_users.invitation_pending(staff)


def first_admin(reseller: Reseller) -> Staff | None:
    with platform_bypass("console.reseller_detail"):
        return db.session.scalars(
            select(Staff)
            .where(
                Staff.reseller_id == reseller.id,
                Staff.kind == StaffKind.RESELLER,
                Staff.role == StaffRole.ADMIN,
            )
            .order_by(Staff.id)
        ).first()


# -- editing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResellerEdit:
    custom_hosts: Sequence[str]
    registration_number: str
    address: Address
    bank: BankAccount


def update_reseller(
    reseller_id: int, edit: ResellerEdit, *, seen_version: int, base_domain: str
) -> Reseller:
    """Save the hosts, registration number, address and bank account. The portal host
    ``<slug>.<base domain>`` and the console host stay; custom domains are replaced by
    the list given. A form opened before another save changes nothing (``StaleEdit``)."""
    with platform_bypass("console.reseller_edit"), audit_action("reseller.update"):
        reseller = db.session.get(Reseller, reseller_id)
        if reseller is None:
            raise LookupError(reseller_id)
        check_edit(reseller, seen_version)
        portal_host = f"{reseller.slug}.{base_domain}"
        if portal_host in edit.custom_hosts:
            raise ResellerError(
                _l(
                    "%(host)s is the portal's own host name; list only other domains.",
                    host=portal_host,
                ),
                "custom_hosts",
            )
        _refuse_taken_hosts(edit.custom_hosts, except_reseller=reseller.id)
        claim_edit(reseller, seen_version)
        wanted = set(edit.custom_hosts)
        for host in list(reseller.hosts):
            if host.is_custom and host.host not in wanted:
                reseller.hosts.remove(host)
        have = {h.host for h in reseller.hosts}
        for host_name in edit.custom_hosts:
            if host_name not in have:
                reseller.hosts.append(ResellerHost(host=host_name, kind="portal", is_custom=True))
        _apply_details(reseller, edit.registration_number, edit.address, edit.bank)
        db.session.flush()
        return reseller


# -- suspension ------------------------------------------------------------------------------


def suspend(reseller_id: int, *, now: datetime | None = None) -> Reseller:
    """While suspended the reseller's portal refuses every login (staff, managers,
    circles) and says why on its login pages; every open session of the reseller ends
    now. Nothing is deleted: reactivating restores the portal as it was."""
    now = now or utcnow()
    with platform_bypass("console.reseller_suspend"), audit_action("reseller.suspend"):
        reseller = db.session.get(Reseller, reseller_id)
        if reseller is None:
            raise LookupError(reseller_id)
        if reseller.is_platform:
            raise ResellerError(_l("The platform itself cannot be suspended."))
        if reseller.suspended_at is None:
            reseller.suspended_at = now
        for record in db.session.scalars(
            select(LoginSession).where(
                LoginSession.reseller_id == reseller.id, LoginSession.revoked_at.is_(None)
            )
        ):
            sessions.revoke(record, now)
        db.session.flush()
        return reseller


def reactivate(reseller_id: int) -> Reseller:
    with platform_bypass("console.reseller_reactivate"), audit_action("reseller.reactivate"):
        reseller = db.session.get(Reseller, reseller_id)
        if reseller is None:
            raise LookupError(reseller_id)
        reseller.suspended_at = None
        db.session.flush()
        return reseller
