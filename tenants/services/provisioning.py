"""Creating resellers, accounts, circles and uniques with their invariants.

Used by the demo loader, the console and the tests' factories. Runs in the
caller's scope: create a reseller's rows inside that reseller's scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import phonenumbers
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.passwords import hash_password, login_key, normalize_login_id
from pbx_platform.tenancy import require_circle_scope
from tenants import hooks
from tenants.models import (
    Account,
    AccountOption,
    AccountOptionKind,
    Carrier,
    Circle,
    CirclePhoneNumber,
    NumberKind,
    PasswordPolicy,
    PhoneNumber,
    PickupGroup,
    Reseller,
    ResellerHost,
    RingGroup,
    RingGroupMember,
    Staff,
    StaffKind,
    StaffRole,
    TerminalType,
    Unique,
    UniqueKind,
)
from tenants.options.models import CircleOption, OptionKind

# R13: the extension range for each length.
EXTENSION_RANGES = {2: (20, 89), 3: (200, 899), 4: (2000, 8999), 5: (20000, 89999)}


def create_reseller(
    *,
    slug: str,
    name: str,
    base_domain: str,
    is_platform: bool = False,
    console_host: str | None = None,
    custom_hosts: tuple[str, ...] = (),
    **details: str,
) -> Reseller:
    reseller = Reseller(slug=slug, name=name, is_platform=is_platform, **details)
    reseller.hosts.append(ResellerHost(host=f"{slug}.{base_domain}", kind="portal"))
    for host in custom_hosts:
        reseller.hosts.append(ResellerHost(host=host.lower(), kind="portal", is_custom=True))
    if console_host:
        reseller.hosts.append(ResellerHost(host=console_host, kind="console"))
    db.session.add(reseller)
    db.session.flush()
    return reseller


def create_brand(reseller: Reseller, **values: object) -> None:
    """The new reseller's brand (R19), made by the context that owns it (``themes``)."""
    hooks.make_brand(reseller, **values)


def create_staff(
    reseller: Reseller,
    *,
    email: str,
    name: str,
    password: str,
    kind: StaffKind,
    role: StaffRole = StaffRole.ADMIN,
    account: Account | None = None,
    locale: str | None = None,
) -> Staff:
    staff = Staff(
        reseller_id=reseller.id,
        email=email,
        email_key=login_key(email),
        name=name,
        password_hash=hash_password(password),
        kind=kind,
        role=role,
        account_id=account.id if account else None,
        locale=locale,
    )
    db.session.add(staff)
    db.session.flush()
    return staff


def create_account(reseller: Reseller, *, company_name: str, **details: str) -> Account:
    account = Account(reseller_id=reseller.id, company_name=company_name, **details)
    db.session.add(account)
    db.session.flush()
    return account


def add_account_option(
    account: Account, kind: AccountOptionKind, starts_on: date, ends_on: date | None = None
) -> AccountOption:
    option = AccountOption(
        reseller_id=account.reseller_id,
        account_id=account.id,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    db.session.add(option)
    db.session.flush()
    return option


def create_circle(
    account: Account,
    *,
    name: str,
    login_id: str,
    password: str,
    extension_length: int = 3,
    policy: PasswordPolicy = PasswordPolicy.NONE,
    phone_numbers: tuple[str, ...] = (),
) -> Circle:
    """A circle with its ``Default`` pickup group (R16) and its outside numbers (E.164)."""
    login_id = normalize_login_id(login_id)
    circle = Circle(
        reseller_id=account.reseller_id,
        account_id=account.id,
        name=name,
        login_id=login_id,
        login_id_key=login_key(login_id),
        password_hash=hash_password(password),
        extension_length=extension_length,
        password_policy=policy,
    )
    db.session.add(circle)
    db.session.flush()
    db.session.add(
        PickupGroup(
            reseller_id=circle.reseller_id,
            account_id=circle.account_id,
            circle_id=circle.id,
            name=PickupGroup.DEFAULT_NAME,
        )
    )
    for number in phone_numbers:
        parsed = phonenumbers.parse(number, "JP")
        circle.phone_numbers.append(
            CirclePhoneNumber(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
            )
        )
    db.session.flush()
    return circle


def add_inventory_number(
    reseller: Reseller, number: str, kind: NumberKind, *, circle: Circle | None = None
) -> PhoneNumber:
    """An inventory number held by ``reseller`` (demo data, imports; the console adds
    through ``tenants.services.numbers``), assigned to ``circle`` when given."""
    parsed = phonenumbers.parse(number, "JP")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    row = PhoneNumber(
        reseller_id=reseller.id, e164=e164, kind=kind, circle_id=circle.id if circle else None
    )
    db.session.add(row)
    db.session.flush()
    if circle is not None:
        circle.phone_numbers.append(
            CirclePhoneNumber(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                e164=e164,
                phone_number_id=row.id,
            )
        )
        db.session.flush()
    return row


def default_pickup_group(circle: Circle) -> PickupGroup:
    """The circle's ``Default`` group (R16); run narrowed to the circle (a request on
    it, or ``tenancy.circle_scope`` for the demo, jobs and tests)."""
    require_circle_scope(circle.id)
    return db.session.scalars(
        select(PickupGroup).where(PickupGroup.name == PickupGroup.DEFAULT_NAME)
    ).one()


def create_unique(
    circle: Circle,
    *,
    extension: str | None,
    display_name: str,
    kind: UniqueKind = UniqueKind.PHONE,
    terminal_type: TerminalType | None = None,
    carrier: Carrier | None = None,
) -> Unique:
    """A new unique starts in the ``Default`` pickup group (R16)."""
    if kind == UniqueKind.PHONE and terminal_type is None:
        terminal_type = TerminalType.SIP_PHONE
    unique = Unique(
        reseller_id=circle.reseller_id,
        account_id=circle.account_id,
        circle_id=circle.id,
        extension=extension,
        display_name=display_name,
        kind=kind,
        terminal_type=terminal_type,
        carrier=carrier,
        pickup_group_id=default_pickup_group(circle).id,
    )
    db.session.add(unique)
    db.session.flush()
    return unique


def extension_in_range(extension: str, length: int) -> bool:
    """R13: ``length`` ASCII digits in that length's range (other scripts' digits, which
    ``str.isdigit`` accepts and NFKC keeps, are no extension)."""
    low, high = EXTENSION_RANGES[length]
    return (
        extension.isascii()
        and extension.isdigit()
        and len(extension) == length
        and low <= int(extension) <= high
    )


def create_ring_group(
    circle: Circle, *, name: str, extension: str | None, members: Sequence[Unique] = ()
) -> RingGroup:
    """同時呼出: the members ring at once, in the given order."""
    group = RingGroup(
        reseller_id=circle.reseller_id,
        account_id=circle.account_id,
        circle_id=circle.id,
        name=name,
        extension=extension,
    )
    for position, unique in enumerate(members):
        group.members.append(
            RingGroupMember(
                reseller_id=circle.reseller_id,
                account_id=circle.account_id,
                circle_id=circle.id,
                unique_id=unique.id,
                position=position,
            )
        )
    db.session.add(group)
    db.session.flush()
    return group


def add_circle_option(
    circle: Circle,
    kind: OptionKind,
    *,
    quantity: int = 1,
    starts_on: date,
    ends_on: date | None = None,
) -> CircleOption:
    """Record a circle option directly (demo data, imports). Customers buy through the
    cart (``tenants.options.cart``), which applies the R10–R12 rules."""
    option = CircleOption(
        reseller_id=circle.reseller_id,
        account_id=circle.account_id,
        circle_id=circle.id,
        kind=kind,
        quantity=quantity,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    db.session.add(option)
    db.session.flush()
    return option
