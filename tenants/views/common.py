"""Small helpers shared by the tenant views: object lookup, the host and the login."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g
from flask_login import current_user

from pbx_platform.db import db
from pbx_platform.tenancy import narrow_request_scope
from tenants.models import Circle, Staff

T = TypeVar("T")


def get_or_404(model: type[T], id_: int) -> T:
    """Load through the tenant scope: another tenant's object is simply not there (404)."""
    obj = db.session.get(model, id_)
    if obj is None:
        abort(404)
    return obj


def circle_or_404(circle_id: int) -> Circle:
    """The circle a staff page acts on, loaded through the scope (another tenant's is
    404), and the request narrowed to it: every later query of the request sees this
    circle only, by the same mechanism as the circle's own login."""
    circle = get_or_404(Circle, circle_id)
    narrow_request_scope(account_id=circle.account_id, circle_id=circle.id)
    return circle


def portal_only(is_console: bool) -> None:
    """Console pages exist only on the console host, portal pages only on portals."""
    portal = g.get("portal")
    if portal is None or portal.is_console != is_console:
        abort(404)


def staff_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """A staff login of this host: the loader binds platform staff to the console and
    everyone else to their reseller's portal. What the login may do there is R22's
    (``pbx_platform.permissions``), asked by each view."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not isinstance(current_user._get_current_object(), Staff):
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        return view(*args, **kwargs)

    return wrapper


def circle_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not isinstance(current_user._get_current_object(), Circle):
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        return view(*args, **kwargs)

    return wrapper
