"""Small helpers shared by the tenant views: object lookup and permission checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, request
from flask_login import current_user

from pbx_platform.db import db
from tenants.models import Circle, Staff, StaffKind, StaffRole

T = TypeVar("T")


def get_or_404(model: type[T], id_: int) -> T:
    """Load through the tenant scope: another tenant's object is simply not there (404)."""
    obj = db.session.get(model, id_)
    if obj is None:
        abort(404)
    return obj


def portal_only(is_console: bool) -> None:
    """Console pages exist only on the console host, portal pages only on portals."""
    portal = g.get("portal")
    if portal is None or portal.is_console != is_console:
        abort(404)


def staff_required(*kinds: StaffKind) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user._get_current_object()
            if not isinstance(user, Staff):
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if kinds and user.kind not in kinds:
                abort(404)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def can_write(user: Any) -> bool:
    """Support staff are read-only; everyone else may change what their scope shows."""
    if isinstance(user, Staff):
        return user.kind != StaffKind.RESELLER or user.role != StaffRole.SUPPORT
    return isinstance(user, Circle)


def require_write() -> None:
    if request.method == "POST" and not can_write(current_user):
        abort(403)


def circle_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not isinstance(current_user._get_current_object(), Circle):
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        return view(*args, **kwargs)

    return wrapper
