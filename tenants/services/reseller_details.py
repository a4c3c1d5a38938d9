"""The rules of a reseller's details as the platform operator enters them: host names,
the qualified-invoice registration number (R23), the postal address and the bank
account its invoices name.

Pure functions: each takes what a person typed and returns the stored value or raises
``DetailError`` with the message for that field. Typed text is NFKC-normalised first,
so full-width digits, letters and hyphens (what a Japanese keyboard often gives) are
read as their ASCII forms, and half-width katakana as full-width.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

import idna
from flask_babel import lazy_gettext as _l

from pbx_platform import japanese
from pbx_platform.japanese import PREFECTURES
from pbx_platform.validation import has_control_characters, normalized, typed, typed_number

# Column sizes of ``Reseller`` (the form shows them as ``maxlength``).
NAME_MAX = 120
CITY_MAX = 80
ADDRESS_LINE_MAX = 120
BANK_NAME_MAX = 40
BANK_BRANCH_MAX = 40
BANK_HOLDER_MAX = 60
HOST_MAX = 253
CUSTOM_HOSTS_MAX = 10

SLUG = re.compile(r"[a-z][a-z0-9-]{1,38}[a-z0-9]")
HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
REGISTRATION_NUMBER = re.compile(r"T\d{13}")
ACCOUNT_NUMBER = re.compile(r"\d{7}")
# 口座名義: katakana (full-width after NFKC), the long-vowel mark, upper-case letters,
# digits, spaces and the punctuation the Zengin character set allows: ( ) . , - /
ACCOUNT_HOLDER = re.compile(r"[\u30a1-\u30f6\u30fcA-Z0-9 ().,\-/]+")


class DetailError(ValueError):
    """One field's input is refused; ``field`` names it, the message says why."""

    def __init__(self, field: str, message: object) -> None:
        super().__init__(str(message))
        self.field = field


class BankAccountType(enum.StrEnum):
    ORDINARY = "ordinary"  # 普通
    CURRENT = "current"  # 当座


def _text(field: str, raw: str | None, maximum: int, *, required: bool = True) -> str:
    text = normalized(raw)
    if required and not text:
        raise DetailError(field, _l("This field is required."))
    if len(text) > maximum:
        raise DetailError(field, _l("Enter at most %(n)d characters.", n=maximum))
    if has_control_characters(text):
        raise DetailError(field, _l("Control characters are not allowed."))
    return text


def company_name(raw: str | None) -> str:
    return _text("name", raw, NAME_MAX)


PERSON_NAME_MAX = 80
EMAIL_MAX = 254
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def person_name(raw: str | None) -> str:
    return _text("admin_name", raw, PERSON_NAME_MAX)


def email(raw: str | None) -> str:
    value = typed(raw).lower()
    if len(value) > EMAIL_MAX or not EMAIL.fullmatch(value) or not value.isascii():
        raise DetailError("admin_email", _l("Enter a valid e-mail address."))
    return value


def slug(raw: str | None) -> str:
    value = typed(raw).lower()
    if not SLUG.fullmatch(value):
        raise DetailError(
            "slug", _l("Use 3–40 lower-case letters, digits and hyphens for the slug.")
        )
    return value


# -- host names -------------------------------------------------------------------------------


def host_name(raw: str, *, field: str = "custom_hosts") -> str:
    """A host name as the Host header carries it: lower-case, IDNA-checked (a Unicode
    name is stored as its ASCII ``xn--`` form), labels of letters, digits and inner
    hyphens of at most 63 characters, at least two labels, at most 253 in all."""
    text = typed(raw).lower().rstrip(".")
    if not text:
        raise DetailError(field, _l("Enter a host name."))
    if len(text) > HOST_MAX:
        raise DetailError(field, _l("%(host)s is not a valid host name.", host=text[:60]))
    try:
        ascii_name = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise DetailError(field, _l("%(host)s is not a valid host name.", host=text[:60])) from None
    labels = ascii_name.split(".")
    if (
        len(ascii_name) > HOST_MAX
        or len(labels) < 2
        or not all(HOST_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise DetailError(field, _l("%(host)s is not a valid host name.", host=text[:60]))
    return ascii_name


def custom_hosts(raw: str | None, *, base_domain: str, own_slug: str) -> list[str]:
    """The custom domains, one per line (or separated by commas or spaces), each a
    valid host name once; a name under the platform's base domain is refused, since
    ``<slug>.<base domain>`` names belong to the reseller of that slug."""
    parts = [p for p in re.split(r"[\s,、]+", typed(raw)) if p]
    if len(parts) > CUSTOM_HOSTS_MAX:
        raise DetailError("custom_hosts", _l("Enter at most %(n)d host names.", n=CUSTOM_HOSTS_MAX))
    hosts: list[str] = []
    for part in parts:
        host = host_name(part)
        if host == base_domain or host.endswith("." + base_domain):
            raise DetailError(
                "custom_hosts",
                _l(
                    "%(host)s is under the platform's domain %(base)s; "
                    "only %(own)s is this reseller's there.",
                    host=host,
                    base=base_domain,
                    own=f"{own_slug}.{base_domain}",
                ),
            )
        if host in hosts:
            raise DetailError("custom_hosts", _l("%(host)s is listed twice.", host=host))
        hosts.append(host)
    return hosts


# -- the registration number (R23) ------------------------------------------------------------


def corporate_number_check_digit(twelve_digits: str) -> int:
    """The check digit of a corporate number (法人番号), which a registration number
    carries after its T: 9 − (Σ Pn×Qn mod 9) over the twelve base digits, Pn the n-th
    digit counted from the right, Qn = 1 for odd n and 2 for even n (National Tax
    Agency, 法人番号の指定等に関する省令 第2条)."""
    total = 0
    for n, ch in enumerate(reversed(twelve_digits), start=1):
        total += int(ch) * (1 if n % 2 else 2)
    return 9 - (total % 9)


def registration_number(raw: str | None) -> str:
    """R23: T + 13 digits whose first digit is the check digit of the other twelve.
    Full-width input (Ｔ１２３…) and hyphens or spaces between groups are accepted."""
    text = re.sub(r"[\s-]", "", typed_number(raw)).upper()
    if not REGISTRATION_NUMBER.fullmatch(text):
        raise DetailError(
            "registration_number", _l("A registration number is T followed by 13 digits.")
        )
    digits = text[1:]
    if int(digits[0]) != corporate_number_check_digit(digits[1:]):
        raise DetailError(
            "registration_number",
            _l("The check digit of this registration number is wrong. Please check the number."),
        )
    return text


# -- the address ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    postal_code: str  # 123-4567
    prefecture: str
    city: str
    address_line1: str
    address_line2: str = ""


def address(
    *,
    postal_code: str | None,
    prefecture: str | None,
    city: str | None,
    rest: str | None,
    building: str | None = "",
) -> Address:
    code = japanese.postal_code(postal_code)
    if code is None:
        raise DetailError("postal_code", _l("Enter the postal code as 7 digits (123-4567)."))
    pref = typed(prefecture)
    if pref not in PREFECTURES:
        raise DetailError("prefecture", _l("Choose a prefecture."))
    return Address(
        postal_code=code,
        prefecture=pref,
        city=_text("city", city, CITY_MAX),
        address_line1=_text("address_line1", rest, ADDRESS_LINE_MAX),
        address_line2=_text("address_line2", building, ADDRESS_LINE_MAX, required=False),
    )


# -- the bank account -------------------------------------------------------------------------


@dataclass(frozen=True)
class BankAccount:
    bank_name: str
    branch: str
    account_type: BankAccountType
    number: str
    holder: str


def account_holder(raw: str | None) -> str:
    """口座名義 in katakana: half-width katakana become full-width, full-width letters
    and digits half-width, small letters capitals; runs of spaces become one."""
    text = re.sub(r"\s+", " ", typed(raw)).upper()
    if not text:
        raise DetailError("bank_account_holder", _l("This field is required."))
    if len(text) > BANK_HOLDER_MAX:
        raise DetailError(
            "bank_account_holder", _l("Enter at most %(n)d characters.", n=BANK_HOLDER_MAX)
        )
    if not ACCOUNT_HOLDER.fullmatch(text):
        raise DetailError("bank_account_holder", _l("Enter the account holder in katakana."))
    return text


def bank_account(
    *,
    bank_name: str | None,
    branch: str | None,
    account_type: str | None,
    number: str | None,
    holder: str | None,
) -> BankAccount:
    try:
        kind = BankAccountType(typed(account_type))
    except ValueError:
        raise DetailError("bank_account_type", _l("Choose the account type.")) from None
    digits = typed_number(number).replace("-", "").replace(" ", "")
    if not ACCOUNT_NUMBER.fullmatch(digits):
        raise DetailError("bank_account_number", _l("Enter the account number as 7 digits."))
    return BankAccount(
        bank_name=_text("bank_name", bank_name, BANK_NAME_MAX),
        branch=_text("bank_branch", branch, BANK_BRANCH_MAX),
        account_type=kind,
        number=digits,
        holder=account_holder(holder),
    )
