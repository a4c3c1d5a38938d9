"""Logins and sessions for every kind of principal.

One Flask-Login user loader knows all principals through a registry that the
contexts fill (``register_principal``). The principal's id in the session is
``"<kind>:<id>"``; beside it the cookie holds the token of a server-side session
record (``pbx_platform.sessions``). A request is logged in only while that record
exists in the host's tenant scope, names the same principal, is not revoked and
is within the idle and absolute time-outs: logout revokes its own record, so a
replayed copy of its cookie gets nothing, and the other browsers of the same login
go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any, Protocol

from flask import Flask, Response, flash, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from pbx_platform import sessions
from pbx_platform.extensions import login_manager
from pbx_platform.models import LoginSession
from pbx_platform.redirects import HOME, current_target, safe_target
from pbx_platform.tenancy import Scope, current_scope


class Principal(Protocol):
    id: int
    principal_kind: str

    def get_id(self) -> str: ...


@dataclass(frozen=True)
class _Registration:
    loader: Callable[[int], Any]
    # The tenant a principal's sessions belong to (its reseller, account, circle).
    scope_of: Callable[[Any], Scope | None]


_principals: dict[str, _Registration] = {}
_login_endpoints: list[Callable[[], str | None]] = []

_COOKIE_FIELD = "sid"


def register_principal(
    kind: str, loader: Callable[[int], Any], scope_of: Callable[[Any], Scope | None]
) -> None:
    _principals[kind] = _Registration(loader, scope_of)


@login_manager.user_loader
def _load_principal(user_id: str) -> Any:
    try:
        kind, raw_id = user_id.split(":")
        id_ = int(raw_id)
    except ValueError:
        return None
    registration = _principals.get(kind)
    token = session.get(_COOKIE_FIELD)
    # No scope (a host-less endpoint): no tenant, so no session record to find.
    if registration is None or not isinstance(token, str) or current_scope() is None:
        return None
    record = sessions.find_session(token)
    if (
        record is None
        or record.revoked_at is not None
        or (record.principal_kind, record.principal_id) != (kind, id_)
    ):
        return None
    principal = registration.loader(id_)
    if principal is None:
        return None
    g.login_session = record
    return principal


def _now() -> datetime:
    return datetime.now(UTC)


def current_session() -> LoginSession | None:
    """The record of this request's session (None when nobody is logged in)."""
    if not current_user.is_authenticated:
        return None
    return g.get("login_session")


def current_session_id() -> int | None:
    record = current_session()
    return record.id if record is not None else None


def start_session(principal: Any) -> None:
    """Log in with a fresh session: nothing of the anonymous session survives, and a
    session this browser held before is revoked."""
    previous = g.pop("login_session", None)
    if previous is not None:
        sessions.revoke(previous)
    registration = _principals[principal.principal_kind]
    scope = registration.scope_of(principal)
    if scope is None:
        raise ValueError(f"no tenant for the sessions of {principal.get_id()}")
    record, token = sessions.open_session(
        principal.principal_kind,
        principal.id,
        scope,
        ip_address=request.remote_addr,
        user_agent=request.user_agent.string,
    )
    locale = session.get("locale")
    session.clear()
    session[_COOKIE_FIELD] = token
    if locale:
        session["locale"] = locale
    login_user(principal)
    session.permanent = True
    g.login_session = record


def end_session() -> None:
    """Log this browser out: its own session record is revoked, no other."""
    record = g.pop("login_session", None)
    if record is not None:
        sessions.revoke(record)
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def principal_required(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view for one kind of login (``"staff"``, ``"circle"``): anyone else is sent to
    the host's login page. The contexts register the kinds; the core knows only the name."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if getattr(current_user, "principal_kind", None) != kind:
                return login_manager.unauthorized()
            return view(*args, **kwargs)

        return wrapper

    return decorator


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
    """Idle and absolute time-outs (configurable; 30 minutes and 12 hours by default),
    enforced from the session record; activity is noted at most once a minute."""
    if not current_user.is_authenticated:
        return None
    now = _now()
    record = g.get("login_session")
    if record is None or not sessions.is_live(record, now):
        end_session()
        g.pop("_login_user", None)
        flash(_l("Your session has expired. Please log in again."), "info")
        return redirect(safe_target(current_target()) if request.method == "GET" else HOME)
    sessions.touch(record, now)
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
    login_manager.session_protection = None  # the session record does this job
    app.before_request(enforce_session_lifetime)
    app.after_request(no_store_for_logins)
