"""What the circle settings services share: errors and limits. Outcomes, names,
extensions and input normalisation are the validators' (``tenants.validation``)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from pbx_platform.db import db
from tenants.models import Circle
from tenants.services.provisioning import EXTENSION_RANGES
from tenants.validation import NAME_MAX

EXTENSION_LENGTHS = tuple(sorted(EXTENSION_RANGES))
UNIQUES_PAGE_SIZE = 50
SEARCH_MAX = 80
PICKUP_NAME_MAX = 40
DISPLAY_NAME_MAX = NAME_MAX
# Row ids are 32-bit integers on every backend; a larger number is no row at all.
MAX_ID = 2**31 - 1

DIGITS = re.compile(r"[0-9]+")
HALF_WIDTH_ALNUM = re.compile(r"[A-Za-z0-9]+")


def lock_circle(circle: Any) -> None:
    """Serialise changes that check an extension is free and then take it (a unique and
    a ring group share the circle's numbers; no one constraint spans both tables): the
    circle's row is locked until the request's transaction ends (PostgreSQL; SQLite has
    one writer at a time already). The same row lock as ``options.services.lock_options``."""
    db.session.execute(select(Circle.id).where(Circle.id == circle.id).with_for_update())


class CircleSettingsError(ValueError):
    """A change the rules refuse; the message is for the user."""


class StaleConfirmation(CircleSettingsError):
    """The user confirmed a plan that no longer matches the circle."""


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
