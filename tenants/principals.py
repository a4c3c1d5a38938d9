"""Who is logged in, and what that does to the request's tenant scope and actor."""

from __future__ import annotations

from typing import Any

from flask import g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pbx_platform.audit import Actor, set_actor
from pbx_platform.db import db
from pbx_platform.japanese import tokyo_today
from pbx_platform.tenancy import Scope, narrow_request_scope, remember_for_request
from tenants.models import Circle, PasswordPolicy, Reseller, Staff, StaffKind


def load_staff(id_: int) -> Staff | None:
    portal = g.get("portal")
    if portal is None:
        # No portal, no tenant scope (an unknown host, a host-less endpoint): nobody.
        return None
    staff = db.session.get(Staff, id_, options=[joinedload(Staff.account)])
    if staff is None or not staff.active:
        return None
    # A suspended or closed account's managers have no session (the suspension ended
    # them; a closing date passes without an event).
    if staff.account is not None and staff.account.login_refused(tokyo_today()):
        return None
    # Platform staff only on the console; reseller staff and managers only on their portal.
    if portal.is_console != (staff.kind == StaffKind.PLATFORM):
        return None
    return staff


def load_circle(id_: int) -> Circle | None:
    portal = g.get("portal")
    if portal is None or portal.is_console:
        return None
    circle = db.session.get(Circle, id_, options=[joinedload(Circle.account)])
    if circle is None or circle.account.login_refused(tokyo_today()):
        return None
    return circle


def platform_reseller_id() -> int | None:
    """The platform's own reseller (the direct-sales tenant); read under the bypass."""
    return db.session.scalar(
        select(Reseller.id).where(Reseller.is_platform.is_(True)).order_by(Reseller.id).limit(1)
    )


def login_endpoint() -> str | None:
    portal = g.get("portal")
    if portal is None:
        return None
    if portal.is_console:
        return "auth.console_login"
    if request.path.startswith("/staff/"):
        return "auth.staff_login"
    return "auth.circle_login"


def scope_for(principal: Any) -> Scope | None:
    if isinstance(principal, Circle):
        return Scope(principal.reseller_id, principal.account_id, principal.id)
    if isinstance(principal, Staff):
        if principal.kind == StaffKind.ACCOUNT_MANAGER:
            return Scope(principal.reseller_id, principal.account_id)
        return Scope(principal.reseller_id)
    return None


def actor_for(principal: Any) -> Actor:
    if isinstance(principal, Circle):
        return Actor("circle", principal.id, principal.login_id, principal.reseller_id)
    kind = principal.kind.value
    return Actor(kind, principal.id, principal.email, principal.reseller_id)


def scope_to_principal() -> None:
    """Narrow the host's scope to the logged-in principal, and name the audit actor."""
    if g.get("portal") is None or not current_user.is_authenticated:
        return
    scope = scope_for(current_user)
    if scope is not None:
        narrow_request_scope(account_id=scope.account_id, circle_id=scope.circle_id)
    remember_for_request(set_actor(actor_for(current_user)))


# R17: pages a circle on the *force* policy may still reach.
FORCE_ALLOWED = {
    "circle_portal.change_password",
    "auth.circle_logout",
    "web.switch_locale",
    "themes.theme_css",
    "themes.logo",
    "themes.static",
    "static",
    "health.healthz",
}


def enforce_password_policy() -> Any:
    """R17 force: every page but password change and logout leads to the change page,
    also for sessions that were open when the policy was set."""
    if not isinstance(current_user._get_current_object(), Circle):
        return None
    if current_user.password_policy != PasswordPolicy.FORCE:
        return None
    if request.endpoint in FORCE_ALLOWED:
        return None
    return redirect(url_for("circle_portal.change_password"))
