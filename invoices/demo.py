"""The demo resellers' price books (``pbx demo load``, through ``tenants.hooks``)."""

from __future__ import annotations

from invoices.models import PriceBookEntry
from pbx_platform.db import db
from tenants.models import Reseller
from tenants.options.models import OptionKind

# Monthly retail prices, tax-exclusive yen, per unit (R21: each reseller sets its own).
PRICE_BOOK = {
    OptionKind.CONFERENCE_ROOM: 3000,
    OptionKind.OUTBOUND_SELECTION: 1000,
    OptionKind.IVR: 5000,
    OptionKind.CALL_RECORDING: 2000,
    OptionKind.MONITORING: 500,
    OptionKind.WHISPERING: 500,
    OptionKind.INVOICE_MAILING: 200,
    OptionKind.OEM_SERVER: 30000,
}


def add_price_book(reseller: Reseller) -> None:
    for kind, price in PRICE_BOOK.items():
        db.session.add(
            PriceBookEntry(reseller_id=reseller.id, option_kind=kind.value, monthly_price_yen=price)
        )
