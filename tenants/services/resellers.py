"""Resellers as the platform operator sees them, and the qualified-invoice number rule."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from pbx_platform.db import db
from pbx_platform.tenancy import platform_bypass
from tenants.models import Account, Reseller

REGISTRATION_NUMBER = re.compile(r"^T\d{13}$")


def corporate_number_check_digit(twelve_digits: str) -> int:
    """National Tax Agency rule: 9 − (Σ Pn×Qn mod 9), Pn counted from the right,
    Qn = 1 for odd n and 2 for even n."""
    total = 0
    for n, ch in enumerate(reversed(twelve_digits), start=1):
        total += int(ch) * (1 if n % 2 else 2)
    return 9 - (total % 9)


@dataclass(frozen=True)
class RegistrationCheck:
    errors: list[str]
    warnings: list[str]


def check_registration_number(value: str) -> RegistrationCheck:
    """T + 13 digits is required; a failed corporate check digit is only a warning,
    since a sole proprietor's number carries no check digit."""
    if not REGISTRATION_NUMBER.match(value or ""):
        return RegistrationCheck(
            errors=[str(_l("A registration number is T followed by 13 digits."))], warnings=[]
        )
    digits = value[1:]
    if int(digits[0]) != corporate_number_check_digit(digits[1:]):
        return RegistrationCheck(
            errors=[],
            warnings=[
                str(
                    _l(
                        "The check digit does not match a corporate number. "
                        "Please confirm the number unless the issuer is a sole proprietor."
                    )
                )
            ],
        )
    return RegistrationCheck(errors=[], warnings=[])


@dataclass(frozen=True)
class ResellerRow:
    reseller: Reseller
    accounts: int


def all_resellers() -> Sequence[ResellerRow]:
    """Every reseller with its account count: a platform-staff read across tenants."""
    with platform_bypass("console.reseller_list"):
        counts = dict(
            db.session.execute(
                select(Account.reseller_id, func.count()).group_by(Account.reseller_id)
            ).all()
        )
        resellers = db.session.scalars(select(Reseller).order_by(Reseller.id)).all()
        return [ResellerRow(r, counts.get(r.id, 0)) for r in resellers]


def reseller_for_platform(reseller_id: int) -> Reseller | None:
    with platform_bypass("console.reseller_detail"):
        reseller = db.session.get(Reseller, reseller_id)
        if reseller is not None:
            _ = list(reseller.hosts)
        return reseller
