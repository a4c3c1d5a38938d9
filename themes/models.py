"""A reseller's brand (R19): validated values only, never raw HTML or CSS."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from pbx_platform.db import EditVersioned, Model, ResellerOwned, Timestamped


class Theme(EditVersioned, ResellerOwned, Timestamped, Model):
    __tablename__ = "theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(
        ForeignKey("reseller.id", ondelete="CASCADE"), unique=True
    )
    product_name: Mapped[str] = mapped_column(String(60))
    primary_color: Mapped[str] = mapped_column(String(7), default="#1f4e8c")
    accent_color: Mapped[str] = mapped_column(String(7), default="#e8f0fb")
    support_phone: Mapped[str] = mapped_column(String(20), default="")
    support_email: Mapped[str] = mapped_column(String(254), default="")
    footer_text: Mapped[str] = mapped_column(String(200), default="")
    # Name of a folder under themes/overrides/ whose templates win over the base.
    template_folder: Mapped[str | None] = mapped_column(String(40))
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_mime: Mapped[str | None] = mapped_column(String(20))
    logo_version: Mapped[int] = mapped_column(Integer, default=0)
