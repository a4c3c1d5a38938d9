"""Input as a Japanese user types it, and the result of checking a form.

The core half of the project's validators; it knows no tenant concept. The rules that
need a circle (an extension's R13 length, range and freedom in the circle) are in
``tenants.validation``, which re-exports these names so that tenant code imports its
validators from one place.

* ``normalized``: the one NFKC normaliser (full-width ２０１ → 201, ＡＢＣ → ABC) of
  everything typed that is compared or parsed (ids, digits, login IDs, e-mail
  addresses, colours). Display names and free text are not normalised: full-width
  letters there are the user's choice.
* ``name_problem``: a display name (required, bounded, plain text).
* ``Outcome``: the values a form would store (to show back) and its problems by field.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

NAME_MAX = 80  # the display names of uniques, rooms, selectors


def normalized(raw: object) -> str:
    """What a Japanese user typed, NFKC-normalised and trimmed (``None`` is empty)."""
    return unicodedata.normalize("NFKC", "" if raw is None else str(raw)).strip()


# Dashes a Japanese keyboard gives for "-" that NFKC leaves alone: the hyphen and
# dashes of U+2010–U+2015, the minus sign and the small hyphen-minus. In a number
# (a postal code, a phone or account number) the katakana prolonged sound mark also
# stands for "-": an IME in full-width mode types ー for it (NFKC has already turned
# its half-width form ｰ into ー).
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63"
DASHES = dict.fromkeys(map(ord, _DASHES), "-")
NUMBER_DASHES = dict.fromkeys(map(ord, _DASHES + "\u30fc"), "-")


def typed(raw: object) -> str:
    """``normalized``, with the Japanese dashes read as hyphens (host names, codes)."""
    return normalized(raw).translate(DASHES)


def typed_number(raw: object) -> str:
    """``typed`` for numbers: ー is a hyphen too (１２３ー４５６７ → 123-4567)."""
    return normalized(raw).translate(NUMBER_DASHES)


def has_control_characters(text: str) -> bool:
    """Line breaks, NUL, bidirectional and other format or control characters (Unicode
    category C), which no name or single-line value may hold."""
    return any(unicodedata.category(char).startswith("C") for char in text)


def name_problem(name: str, *, max_length: int = NAME_MAX) -> Any:
    """Why ``name`` (already trimmed) cannot be a display name, or None: required, at
    most ``max_length`` characters, plain text."""
    if not name:
        return _l("Enter a name.")
    if len(name) > max_length:
        return _l("Use at most %(n)d characters.", n=max_length)
    if has_control_characters(name):
        return _l("Use plain text without line breaks or control characters.")
    return None


@dataclass
class Outcome:
    """What a settings form would store (``values``, to show back) and field → messages;
    no errors means the change was made. ``saved`` is the object a create or change
    saved, for the caller to link to (None when nothing was saved)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    saved: Any = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, name: str, message: object) -> None:
        self.errors.setdefault(name, []).append(str(message))
