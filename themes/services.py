"""Brands (R19): which portal a host serves, and the rules for a valid theme."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from pbx_platform.db import db
from tenants.models import Reseller, ResellerHost
from themes.models import Theme

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
WCAG_AA = 4.5
LOGO_MAX_PIXELS = 4096 * 4096
LOGO_BOX = (480, 160)


@dataclass(frozen=True)
class HostMatch:
    reseller_id: int
    is_console: bool


def match_host(host: str) -> HostMatch | None:
    """The tenant a host name serves. ``reseller_host`` is public data, like DNS."""
    row = db.session.execute(
        select(ResellerHost.reseller_id, ResellerHost.kind).where(ResellerHost.host == host)
    ).first()
    if row is None:
        return None
    return HostMatch(reseller_id=row.reseller_id, is_console=row.kind == "console")


@dataclass(frozen=True)
class Portal:
    """What a page needs of the brand it is shown under."""

    reseller_id: int
    slug: str
    reseller_name: str
    is_console: bool
    default_locale: str
    product_name: str
    primary_color: str
    accent_color: str
    support_phone: str
    support_email: str
    footer_text: str
    template_folder: str | None
    logo_version: int
    has_logo: bool
    theme_version: str


def load_portal(match: HostMatch) -> Portal | None:
    """Runs inside the host's tenant scope, so only that reseller's rows are visible."""
    row = db.session.execute(
        select(Reseller, Theme).outerjoin(Theme, Theme.reseller_id == Reseller.id)
    ).first()
    if row is None:
        return None
    reseller, theme = row
    theme = theme or Theme(product_name=reseller.name)
    console = match.is_console
    return Portal(
        reseller_id=reseller.id,
        slug=reseller.slug,
        reseller_name=reseller.name,
        is_console=console,
        default_locale=reseller.default_locale,
        product_name=theme.product_name if not console else "PBX Platform Console",
        primary_color=(theme.primary_color or "#1f4e8c") if not console else "#263238",
        accent_color=(theme.accent_color or "#e8f0fb") if not console else "#eceff1",
        support_phone=theme.support_phone or "",
        support_email=theme.support_email or "",
        footer_text=theme.footer_text or "",
        template_folder=None if console else theme.template_folder,
        logo_version=theme.logo_version or 0,
        has_logo=bool(theme.logo_mime) and not console,
        theme_version=f"{theme.id}-{int(theme.updated_at.timestamp()) if theme.updated_at else 0}",
    )


# -- colour contrast (WCAG 2.x) -----------------------------------------------------------


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


WHITE = "#ffffff"


def colour_problems(primary: str, accent: str) -> dict[str, str]:
    """Field → message for colours that are malformed or fail WCAG AA (4.5:1).

    The portal writes white text on the primary colour (header, buttons) and text
    in the primary colour on the accent background (highlighted rows, the active
    menu item); both must be readable.
    """
    problems: dict[str, str] = {}
    for field, value in (("primary_color", primary), ("accent_color", accent)):
        if not HEX_COLOUR.match(value or ""):
            problems[field] = str(
                _l("Enter a colour as # and six hexadecimal digits, e.g. #1f4e8c.")
            )
    if problems:
        return problems
    white_on_primary = contrast_ratio(WHITE, primary)
    if white_on_primary < WCAG_AA:
        problems["primary_color"] = str(
            _l(
                "White text on the primary colour has a contrast of %(ratio).2f:1; "
                "WCAG AA needs at least 4.5:1. Choose a darker primary colour.",
                ratio=white_on_primary,
            )
        )
    primary_on_accent = contrast_ratio(primary, accent)
    if primary_on_accent < WCAG_AA:
        problems["accent_color"] = str(
            _l(
                "Text in the primary colour on the accent colour has a contrast of %(ratio).2f:1; "
                "WCAG AA needs at least 4.5:1. Choose a lighter accent colour.",
                ratio=primary_on_accent,
            )
        )
    return problems


class LogoError(ValueError):
    pass


def normalize_logo(data: bytes, max_bytes: int) -> tuple[bytes, str]:
    """Accept a PNG or JPEG by its content (never its name), re-encoded and bounded.

    Re-encoding drops metadata and anything smuggled after the image data.
    """
    if len(data) > max_bytes:
        raise LogoError(str(_l("The logo must be at most %(kb)d KB.", kb=max_bytes // 1024)))
    if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
        raise LogoError(str(_l("The logo must be a PNG or JPEG image.")))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in {"PNG", "JPEG"}:
                raise LogoError(str(_l("The logo must be a PNG or JPEG image.")))
            if probe.width * probe.height > LOGO_MAX_PIXELS:
                raise LogoError(str(_l("The logo image is too large.")))
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image.thumbnail(LOGO_BOX)
            out = io.BytesIO()
            if image.mode not in {"RGB", "RGBA"}:
                image = image.convert("RGBA")
            image.save(out, format="PNG", optimize=True)
    except LogoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise LogoError(str(_l("The logo file could not be read as an image."))) from exc
    return out.getvalue(), "image/png"
