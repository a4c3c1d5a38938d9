"""Brands (R19): which portal a host serves, and the rules for a valid theme."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import unicodedata
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.mail import Brand
from pbx_platform.validation import Outcome, normalized
from pbx_platform.versioning import StaleEdit, check_edit, claim_edit
from tenants.models import Reseller, ResellerHost
from themes.models import Theme

HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")  # always used with fullmatch: "$" admits "\n"
WCAG_AA = 4.5
LOGO_MAX_PIXELS = 4096 * 4096
LOGO_BOX = (480, 160)

DEFAULT_PRIMARY = "#1f4e8c"
DEFAULT_ACCENT = "#e8f0fb"
CONSOLE_PRODUCT_NAME = "PBX Platform Console"
CONSOLE_PRIMARY = "#263238"
CONSOLE_ACCENT = "#eceff1"

# Column sizes of ``Theme``; the form shows them as ``maxlength``.
PRODUCT_NAME_MAX = 60
FOOTER_TEXT_MAX = 200
EMAIL_MAX = 254
# The text fields of a theme, in the order the editor shows them.
THEME_FIELDS = (
    "product_name",
    "primary_color",
    "accent_color",
    "support_phone",
    "support_email",
    "footer_text",
)


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
    # The operator suspended the reseller: its logins are refused, its login pages say so.
    suspended: bool = False


def load_portal(match: HostMatch) -> Portal | None:
    """Runs inside the host's tenant scope; the id filter is a second wall behind it."""
    row = db.session.execute(
        select(Reseller, Theme)
        .outerjoin(Theme, Theme.reseller_id == Reseller.id)
        .where(Reseller.id == match.reseller_id)
    ).first()
    if row is None:
        return None
    reseller, theme = row
    theme = theme or Theme(product_name=reseller.name)
    console = match.is_console
    if console:
        primary, accent = CONSOLE_PRIMARY, CONSOLE_ACCENT
    else:
        primary, accent = stylesheet_colours(theme.primary_color, theme.accent_color)
    return Portal(
        reseller_id=reseller.id,
        slug=reseller.slug,
        reseller_name=reseller.name,
        is_console=console,
        default_locale=reseller.default_locale,
        product_name=theme.product_name if not console else CONSOLE_PRODUCT_NAME,
        primary_color=primary,
        accent_color=accent,
        support_phone=theme.support_phone or "",
        support_email=theme.support_email or "",
        footer_text=theme.footer_text or "",
        template_folder=None if console else theme.template_folder,
        logo_version=theme.logo_version or 0,
        has_logo=bool(theme.logo_mime) and not console,
        theme_version=_theme_version(theme, primary, accent),
        suspended=reseller.suspended_at is not None,
    )


def _theme_version(theme: Theme, primary: str, accent: str) -> str:
    """Changes whenever the stylesheet would, so ``/theme.css?v=`` can be cached."""
    stamp = int(theme.updated_at.timestamp()) if theme.updated_at else 0
    key = f"{theme.id}|{primary}|{accent}|{theme.logo_version or 0}|{stamp}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


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


def is_hex_colour(value: str | None) -> bool:
    return bool(value) and HEX_COLOUR.fullmatch(value or "") is not None


def colour_problems(primary: str, accent: str) -> dict[str, str]:
    """Field → message for colours that are malformed or fail WCAG AA (4.5:1).

    The portal writes white text on the primary colour (header, buttons) and text
    in the primary colour on the accent background (highlighted rows, the active
    menu item); both must be readable.
    """
    problems: dict[str, str] = {}
    for name, value in (("primary_color", primary), ("accent_color", accent)):
        if not is_hex_colour(value):
            problems[name] = str(
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


def stylesheet_colours(primary: str | None, accent: str | None) -> tuple[str, str]:
    """The colours a portal's stylesheet may use: the stored pair if it is well formed
    and readable, else the defaults.

    The editor already refuses anything else, but a row written around it (a
    migration, a manual fix) must neither inject CSS nor make the portal unreadable.
    """
    if (
        is_hex_colour(primary)
        and is_hex_colour(accent)
        and contrast_ratio(WHITE, primary or "") >= WCAG_AA
        and contrast_ratio(primary or "", accent or "") >= WCAG_AA
    ):
        return (primary or "").lower(), (accent or "").lower()
    return DEFAULT_PRIMARY, DEFAULT_ACCENT


# -- the logo -------------------------------------------------------------------------------


class LogoError(ValueError):
    pass


def _too_large() -> LogoError:
    return LogoError(str(_l("The logo image is too large.")))


def normalize_logo(data: bytes, max_bytes: int) -> tuple[bytes, str]:
    """Accept a PNG or JPEG by its content (never its name), re-encoded and bounded.

    Re-encoding drops metadata and anything smuggled after the image data; the
    pixel count is checked from the header, before anything is decoded.
    """
    if len(data) > max_bytes:
        raise LogoError(str(_l("The logo must be at most %(kb)d KB.", kb=max_bytes // 1024)))
    if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
        raise LogoError(str(_l("The logo must be a PNG or JPEG image.")))
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice that: treat it as refused.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in {"PNG", "JPEG"}:
                    raise LogoError(str(_l("The logo must be a PNG or JPEG image.")))
                if probe.width * probe.height > LOGO_MAX_PIXELS:
                    raise _too_large()
                probe.verify()
            with Image.open(io.BytesIO(data)) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened)
                image.thumbnail(LOGO_BOX)
                if image.mode not in {"RGB", "RGBA"}:
                    has_alpha = "A" in image.mode or "transparency" in image.info
                    image = image.convert("RGBA" if has_alpha else "RGB")
                out = io.BytesIO()
                image.save(out, format="PNG", optimize=True)
    except LogoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large() from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, struct.error) as exc:
        # SyntaxError is how Pillow reports a broken PNG chunk.
        raise LogoError(str(_l("The logo file could not be read as an image."))) from exc
    return out.getvalue(), "image/png"


# -- editing a theme --------------------------------------------------------------------------

_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_EMAIL_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


@dataclass
class ThemeOutcome(Outcome):
    """The normalised values (as they are, or would be, stored) and field → messages;
    no errors means the theme was changed."""

    logo_changed: bool = False


def editable_theme(reseller_id: int, default_product_name: str) -> Theme:
    """The reseller's theme, or a new one (not yet added) with the defaults."""
    theme = db.session.scalars(select(Theme).where(Theme.reseller_id == reseller_id)).first()
    if theme is not None:
        return theme
    return Theme(
        reseller_id=reseller_id,
        product_name=default_product_name[:PRODUCT_NAME_MAX],
        primary_color=DEFAULT_PRIMARY,
        accent_color=DEFAULT_ACCENT,
        support_phone="",
        support_email="",
        footer_text="",
        logo_version=0,
    )


def create_theme(reseller: Reseller, values: Mapping[str, Any]) -> Theme:
    """A new reseller's brand (registered in ``tenants.hooks``, so that provisioning a
    reseller gives it one without ``tenants`` knowing the theme)."""
    theme = Theme(reseller_id=reseller.id, **values)
    db.session.add(theme)
    db.session.flush()
    return theme


def theme_values(theme: Theme) -> dict[str, str]:
    """The editable text values of a theme, as the editor shows them."""
    return {name: getattr(theme, name) or "" for name in THEME_FIELDS}


def normalize_theme_values(raw: Mapping[str, str | None]) -> dict[str, str]:
    """What a Japanese user typed, as it would be stored: trimmed; colours, phone and
    e-mail NFKC-normalised (full-width ＃ＡＢ → #ab) and colours in lower case.

    Names and free text keep their characters: full-width letters there are a choice.
    """

    def nfkc(name: str) -> str:
        return normalized(raw.get(name))

    values = {name: (raw.get(name) or "").strip() for name in ("product_name", "footer_text")}
    values["primary_color"] = nfkc("primary_color").lower()
    values["accent_color"] = nfkc("accent_color").lower()
    values["support_phone"] = nfkc("support_phone")
    values["support_email"] = nfkc("support_email")
    return {name: values[name] for name in THEME_FIELDS}


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS for c in text)


def japanese_phone(value: str) -> str | None:
    """A Japanese number in the national format with hyphens (03-1234-5678), or None."""
    try:
        number = phonenumbers.parse(value, "JP")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number_for_region(number, "JP"):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def is_email_address(value: str) -> bool:
    """A plain ASCII address: local part of RFC 5322 atoms, a domain of DNS labels with a
    top-level domain of letters. Deliverability is not checked."""
    if len(value) > EMAIL_MAX or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    labels = domain.split(".")
    return (
        0 < len(local) <= 64
        and _EMAIL_LOCAL.fullmatch(local) is not None
        and len(labels) >= 2
        and all(_EMAIL_LABEL.fullmatch(label) for label in labels)
        and labels[-1].isalpha()
        and len(labels[-1]) >= 2
    )


def theme_problems(values: Mapping[str, str]) -> dict[str, list[str]]:
    """Field → messages for normalised theme values (R19; see ``normalize_theme_values``)."""
    problems: dict[str, list[str]] = {}

    def add(name: str, message: object) -> None:
        problems.setdefault(name, []).append(str(message))

    product_name = values["product_name"]
    if not product_name:
        add("product_name", _l("Enter the product name."))
    elif len(product_name) > PRODUCT_NAME_MAX:
        add("product_name", _l("Use at most %(n)d characters.", n=PRODUCT_NAME_MAX))
    if _has_control_characters(product_name):
        add("product_name", _l("Use plain text without line breaks or control characters."))

    for name, message in colour_problems(values["primary_color"], values["accent_color"]).items():
        add(name, message)

    phone = values["support_phone"]
    if phone and japanese_phone(phone) is None:
        add("support_phone", _l("Enter a Japanese phone number, e.g. 03-1234-5678."))

    email = values["support_email"]
    if email and len(email) > EMAIL_MAX:
        add("support_email", _l("Use at most %(n)d characters.", n=EMAIL_MAX))
    elif email and not is_email_address(email):
        add("support_email", _l("Enter an e-mail address such as support@example.co.jp."))

    footer = values["footer_text"]
    if len(footer) > FOOTER_TEXT_MAX:
        add("footer_text", _l("Use at most %(n)d characters.", n=FOOTER_TEXT_MAX))
    if _has_control_characters(footer):
        add("footer_text", _l("Use plain text without line breaks or control characters."))
    return problems


def update_theme(
    theme: Theme,
    values: Mapping[str, str | None],
    logo_bytes: bytes | None,
    remove_logo: bool,
    max_logo_bytes: int,
    *,
    version: int | None = None,
) -> ThemeOutcome:
    """R19: a reseller edits its brand. Only validated values are stored, never HTML
    or CSS; colours must give WCAG AA contrast; the logo is a re-encoded PNG or JPEG.

    Everything is checked before anything is assigned, so a refused edit leaves the
    theme exactly as it was. ``version``: the ``edit_version`` the editor was opened
    at; a save from an editor opened before another save raises ``StaleEdit`` and
    changes nothing (``pbx_platform.versioning``). Flushes; the request commits.
    """
    if version is not None:
        check_edit(theme, version)
    outcome = ThemeOutcome(values=normalize_theme_values(values))
    for name, messages in theme_problems(outcome.values).items():
        for message in messages:
            outcome.add(name, message)

    new_logo: tuple[bytes, str] | None = None
    if logo_bytes is not None and remove_logo:
        outcome.add(
            "logo", str(_l("Either upload a new logo or remove the current one, not both."))
        )
    elif logo_bytes is not None:
        try:
            new_logo = normalize_logo(logo_bytes, max_logo_bytes)
        except LogoError as exc:
            outcome.add("logo", str(exc))
    if not outcome.ok:
        return outcome

    phone = outcome.values["support_phone"]
    if phone:
        outcome.values["support_phone"] = japanese_phone(phone) or phone
    email = outcome.values["support_email"]
    if email:
        local, domain = email.split("@")
        outcome.values["support_email"] = f"{local}@{domain.lower()}"

    try:
        with db.session.begin_nested(), audit_action("theme.update"):
            if version is not None:
                claim_edit(theme, version)
            for name, value in outcome.values.items():
                setattr(theme, name, value)
            if new_logo is not None:
                theme.logo, theme.logo_mime = new_logo
                outcome.logo_changed = True
            elif remove_logo and theme.logo is not None:
                theme.logo, theme.logo_mime = None, None
                outcome.logo_changed = True
            if outcome.logo_changed:
                theme.logo_version = (theme.logo_version or 0) + 1
            db.session.add(theme)
            db.session.flush()
    except IntegrityError as exc:
        # A reseller's first theme, saved from two editors at once: one row per reseller.
        raise StaleEdit() from exc
    return outcome


def mail_brand(reseller_id: int) -> Brand:
    """R19 in e-mail: the sender's display name and product name are the reseller's
    product, the support contacts those of its theme (``pbx_platform.mail``). Read in
    the caller's scope, which holds the reseller."""
    row = db.session.execute(
        select(Reseller, Theme)
        .outerjoin(Theme, Theme.reseller_id == Reseller.id)
        .where(Reseller.id == reseller_id)
    ).first()
    if row is None:
        return Brand(product_name=CONSOLE_PRODUCT_NAME, sender_name=CONSOLE_PRODUCT_NAME)
    reseller, theme = row
    product = (theme.product_name if theme is not None else "") or reseller.name
    primary, _ = stylesheet_colours(
        theme.primary_color if theme else None, theme.accent_color if theme else None
    )
    return Brand(
        product_name=product,
        sender_name=product,
        support_email=(theme.support_email if theme else "") or "",
        support_phone=(theme.support_phone if theme else "") or "",
        primary_color=primary,
    )
