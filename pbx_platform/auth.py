"""Logins and sessions for every kind of principal.

One Flask-Login user loader knows all principals through a registry that the
contexts fill (``register_principal``). A principal's id in the session carries
its ``session_version``: logout, a password change and a policy change bump the
version, which ends every earlier session of that login even when its signed
cookie is replayed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from flask import Flask, Response, current_app, flash, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from pbx_platform.extensions import login_manager
from pbx_platform.redirects import HOME, current_target, safe_target


class Principal(Protocol):
    id: int
    session_version: int
    principal_kind: str

    def get_id(self) -> str: ...


_loaders: dict[str, Callable[[int], Any]] = {}
_login_endpoints: list[Callable[[], str | None]] = []


def register_principal(kind: str, loader: Callable[[int], Any]) -> None:
    _loaders[kind] = loader


@login_manager.user_loader
def _load_principal(session_id: str) -> Any:
    try:
        kind, raw_id, raw_version = session_id.split(":")
        id_, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    loader = _loaders.get(kind)
    principal = loader(id_) if loader else None
    if principal is None or principal.session_version != version:
        return None
    return principal


def _now() -> datetime:
    return datetime.now(UTC)


def start_session(principal: Any) -> None:
    """Log in with a fresh session: nothing of the anonymous session survives."""
    locale = session.get("locale")
    session.clear()
    session["sid"] = secrets.token_urlsafe(16)
    if locale:
        session["locale"] = locale
    login_user(principal)
    session.permanent = True
    now = int(_now().timestamp())
    session["auth_at"] = now
    session["seen_at"] = now


def end_session() -> None:
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def set_login_view(resolver: Callable[[], str | None]) -> None:
    """The contexts tell which login page fits the current host (idempotent: the
    factory may build several apps in one process)."""
    if resolver not in _login_endpoints:
        _login_endpoints.append(resolver)


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    for resolver in _login_endpoints:
        endpoint = resolver()
        if endpoint:
            flash(_l("Please log in to continue."), "info")
            # The login page checks ``next`` again; an unsafe one is not even offered.
            return redirect(url_for(endpoint, next=safe_target(current_target(), "") or None))
    return redirect(HOME)


def enforce_session_lifetime() -> Any:
    """Idle and absolute time-outs (configurable; 30 minutes and 12 hours by default)."""
    if not current_user.is_authenticated:
        return None
    now = int(_now().timestamp())
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]).total_seconds()
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"]).total_seconds()
    seen_at = session.get("seen_at", 0)
    auth_at = session.get("auth_at", 0)
    if now - seen_at > idle or now - auth_at > absolute:
        end_session()
        g.pop("_login_user", None)
        flash(_l("Your session has expired. Please log in again."), "info")
        return redirect(safe_target(current_target()) if request.method == "GET" else HOME)
    session["seen_at"] = now
    return None


NO_STORE = "private, no-store"


def no_store_for_logins(response: Response) -> Response:
    """What a login sees (pages, recordings, archives, redirects) stays out of every
    cache, the browser's included: on a shared computer the back button or the disk
    cache would show it to the next person. A response that chose its own caching
    (the brand's CSS and logo, public by design) keeps it."""
    if "Cache-Control" in response.headers:
        return response
    # ``_login_user`` is where Flask-Login keeps the principal; ``enforce_session_lifetime``
    # has loaded it on every request that got that far (no second lookup here).
    user = g.get("_login_user")
    if user is not None and user.is_authenticated:
        response.headers["Cache-Control"] = NO_STORE
    return response


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = None  # the session version does this job, per login
    app.before_request(enforce_session_lifetime)
    app.after_request(no_store_for_logins)
