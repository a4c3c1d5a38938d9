"""Price books: what a reseller charges its customers per option (R21).

A simple table for now; the monthly invoicing builds on it. Money is integer yen.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pbx_platform.db import Model, ResellerOwned, Timestamped


class PriceBookEntry(ResellerOwned, Timestamped, Model):
    """The monthly price (tax-exclusive, yen) of one unit of an option kind."""

    __tablename__ = "price_book_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    option_kind: Mapped[str] = mapped_column(String(30))
    monthly_price_yen: Mapped[int]

    __table_args__ = (
        UniqueConstraint("reseller_id", "option_kind"),
        CheckConstraint("monthly_price_yen >= 0", name="price_not_negative"),
    )
