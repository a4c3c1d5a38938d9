"""An IVR's extension and display name: the checks of the unique it is (R13).

``extension_and_name_problems`` is the one entry point: creating and editing an IVR
both call it, so a shared validator of extensions and names can replace its body
without touching anything else.

It reads the circle through the tenant scope alone (``require_circle_scope``): the
extensions in use are those the scope shows, which is this circle's.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from tenants.models import Circle, RingGroup, Unique
from tenants.services.provisioning import EXTENSION_RANGES, extension_in_range

NAME_MAX = 80  # Unique.display_name


def extension_and_name_problems(
    circle: Circle, extension: str, display_name: str, *, exclude_unique_id: int | None
) -> dict[str, Any]:
    """Field ("extension", "display_name") → message, for a normalised extension and
    name: the extension in R13's range for the circle's length and used by no other
    unique (``exclude_unique_id``: the IVR's own) or ring group of the circle; a name
    of 1 to 80 characters without control characters."""
    require_circle_scope(circle.id)
    errors: dict[str, Any] = {}
    problem = _extension_problem(circle, extension, exclude_unique_id=exclude_unique_id)
    if problem:
        errors["extension"] = problem
    problem = _name_problem(display_name)
    if problem:
        errors["display_name"] = problem
    return errors


def _extension_problem(circle: Circle, extension: str, *, exclude_unique_id: int | None) -> Any:
    if not extension_in_range(extension, circle.extension_length):
        low, high = EXTENSION_RANGES[circle.extension_length]
        return _l("Enter an extension from %(low)d to %(high)d.", low=low, high=high)
    taken = db.session.scalar(
        select(Unique.id).where(
            Unique.extension == extension, Unique.id != (exclude_unique_id or 0)
        )
    ) or db.session.scalar(select(RingGroup.id).where(RingGroup.extension == extension))
    if taken:
        return _l("Extension %(ext)s is already in use in this circle.", ext=extension)
    return None


def _name_problem(name: str) -> Any:
    if not name:
        return _l("Enter a name.")
    if len(name) > NAME_MAX:
        return _l("The name is longer than %(n)d characters.", n=NAME_MAX)
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        return _l("The name cannot contain control characters.")
    return None
