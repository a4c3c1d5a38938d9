"""The price book's rules (R21): what a reseller charges per unit of an option."""

from __future__ import annotations

from sqlalchemy import select

from invoices.models import PriceBookEntry
from pbx_platform.db import db


def prices(reseller_id: int) -> dict[str, int]:
    """Option kind → monthly yen per unit (tax-exclusive) in the reseller's price book."""
    rows = db.session.execute(
        select(PriceBookEntry.option_kind, PriceBookEntry.monthly_price_yen).where(
            PriceBookEntry.reseller_id == reseller_id
        )
    ).all()
    return {kind: price for kind, price in rows}
