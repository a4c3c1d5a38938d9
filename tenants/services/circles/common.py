"""What the circle settings services share: outcomes, errors, limits and input
normalisation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from tenants.services.provisioning import EXTENSION_RANGES

EXTENSION_LENGTHS = tuple(sorted(EXTENSION_RANGES))
UNIQUES_PAGE_SIZE = 50
SEARCH_MAX = 80
PICKUP_NAME_MAX = 40
DISPLAY_NAME_MAX = 80
# Row ids are 32-bit integers on every backend; a larger number is no row at all.
MAX_ID = 2**31 - 1

DIGITS = re.compile(r"[0-9]+")
HALF_WIDTH_ALNUM = re.compile(r"[A-Za-z0-9]+")


class CircleSettingsError(ValueError):
    """A change the rules refuse; the message is for the user."""


class StaleConfirmation(CircleSettingsError):
    """The user confirmed a plan that no longer matches the circle."""


@dataclass
class Outcome:
    """The normalised values of a form and the problems found, by field."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: Any) -> None:
        self.errors.setdefault(name, []).append(str(message))

    @property
    def ok(self) -> bool:
        return not self.errors


def normalize_digits(raw: str | None) -> str:
    """NFKC turns full-width digits (２０１) into half-width ones (201)."""
    return unicodedata.normalize("NFKC", raw or "").strip()


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char).startswith("C") for char in text)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
