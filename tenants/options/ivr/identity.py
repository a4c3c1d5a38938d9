"""An IVR's extension and display name: the checks of the unique it is (R13), made by
the one set of validators (``tenants.validation``) that conference rooms, outbound
selectors and the circle's uniques use too.

``extension_and_name_problems`` is the one entry point: creating and editing an IVR
both call it. It runs narrowed to the circle (``require_circle_scope``).
"""

from __future__ import annotations

from typing import Any

from pbx_platform.tenancy import require_circle_scope
from tenants.models import Circle
from tenants.validation import NAME_MAX, extension_problem, name_problem

__all__ = ["NAME_MAX", "extension_and_name_problems"]


def extension_and_name_problems(
    circle: Circle, extension: str, display_name: str, *, exclude_unique_id: int | None
) -> dict[str, Any]:
    """Field ("extension", "display_name") → message, for a normalised extension and
    name: the extension in R13's range for the circle's length and used by no other
    unique (``exclude_unique_id``: the IVR's own) or ring group of the circle; a name
    of 1 to 80 characters of plain text."""
    require_circle_scope(circle.id)
    errors: dict[str, Any] = {}
    problem = extension_problem(circle, extension, own_id=exclude_unique_id)
    if problem:
        errors["extension"] = problem
    problem = name_problem(display_name)
    if problem:
        errors["display_name"] = problem
    return errors
