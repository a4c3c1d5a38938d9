"""Server-side records of login sessions: open, check, touch, revoke, list.

A session is one browser's login. The signed cookie holds a random token; the
``login_session`` row holds its SHA-256 only. Every request finds its row by that
hash through the tenant scope, so a cookie works on its own login's portal only,
and only while the row is not revoked and within the time-outs: idle
(``SESSION_IDLE_MINUTES``, measured from ``last_seen_at``) and absolute
(``SESSION_ABSOLUTE_HOURS``, from ``created_at``).

``last_seen_at`` is written at most once a minute (``TOUCH_INTERVAL``), not on
every request; the idle time-out may so end a session up to a minute early,
never late.

Callable without a request: callers pass the address and user agent.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from pbx_platform import audit
from pbx_platform.db import db, utcnow
from pbx_platform.models import LoginSession
from pbx_platform.tenancy import Scope

TOUCH_INTERVAL = timedelta(minutes=1)
USER_AGENT_LENGTH = 300
ADDRESS_LENGTH = 45


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lifetimes() -> tuple[timedelta, timedelta]:
    """(idle, absolute) time-outs from the configuration."""
    config = current_app.config
    return (
        timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
        timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
    )


def open_session(
    kind: str,
    principal_id: int,
    scope: Scope,
    *,
    ip_address: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> tuple[LoginSession, str]:
    """A new session of the login ``kind:principal_id`` whose tenant is ``scope``.

    Returns the row and the token for the cookie (the only place it is kept)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    record = LoginSession(
        token_hash=token_digest(token),
        principal_kind=kind,
        principal_id=principal_id,
        reseller_id=scope.reseller_id,
        account_id=scope.account_id,
        circle_id=scope.circle_id,
        created_at=now,
        last_seen_at=now,
        ip_address=(ip_address or "")[:ADDRESS_LENGTH],
        user_agent=(user_agent or "")[:USER_AGENT_LENGTH],
    )
    db.session.add(record)
    db.session.flush()
    return record, token


def find_session(token: str) -> LoginSession | None:
    """The row of a cookie's token, as the current tenant scope sees it (else None)."""
    if not token or len(token) > 200:
        return None
    return db.session.scalars(
        select(LoginSession).where(LoginSession.token_hash == token_digest(token))
    ).first()


def is_live(record: LoginSession, now: datetime | None = None) -> bool:
    """Not revoked, not idle too long, not older than the absolute time-out."""
    now = now or utcnow()
    idle, absolute = lifetimes()
    return (
        record.revoked_at is None
        and now - record.last_seen_at <= idle
        and now - record.created_at <= absolute
    )


def touch(record: LoginSession, now: datetime | None = None) -> None:
    """Note activity, at most once per ``TOUCH_INTERVAL`` (flushed at once, under the
    scope the row was read in)."""
    now = now or utcnow()
    if now - record.last_seen_at >= TOUCH_INTERVAL:
        record.last_seen_at = now
        db.session.flush()


def revoke(
    record: LoginSession, now: datetime | None = None, *, audit_as: str | None = None
) -> None:
    """End one session. ``audit_as`` names the audit action when the session is ended
    by someone else's hand or elsewhere (a session ended from the sessions page); a
    browser's own logout is not an audited change."""
    if record.revoked_at is None:
        record.revoked_at = now or utcnow()
        db.session.flush()
        if audit_as:
            _audit_revocation(record, audit_as)


def _audit_revocation(record: LoginSession, action: str) -> None:
    """The audit log keeps who ended which session, and why (``action``): the session
    records themselves are not audited column by column (``last_seen_at`` moves)."""
    audit.record(
        record,
        action,
        before={"revoked_at": None},
        after={
            "revoked_at": record.revoked_at,
            "principal": f"{record.principal_kind}:{record.principal_id}",
            "ip_address": record.ip_address,
        },
    )


def _of_login(kind: str, principal_id: int) -> Any:
    return select(LoginSession).where(
        LoginSession.principal_kind == kind,
        LoginSession.principal_id == principal_id,
        LoginSession.revoked_at.is_(None),
    )


def revoke_all(kind: str, principal_id: int, *, audit_as: str, keep: int | None = None) -> int:
    """Revoke every open session of a login, but the one with id ``keep``; returns
    how many were revoked. Each one is recorded in the audit log as ``audit_as`` ("log
    out everywhere else", a password change, a new password policy)."""
    now = utcnow()
    ended = [r for r in db.session.scalars(_of_login(kind, principal_id)) if r.id != keep]
    for record in ended:
        record.revoked_at = now
    db.session.flush()
    for record in ended:
        _audit_revocation(record, audit_as)
    return len(ended)


def active_sessions(kind: str, principal_id: int) -> list[LoginSession]:
    """The login's live sessions, the most recently used first."""
    now = utcnow()
    idle, absolute = lifetimes()
    query = (
        _of_login(kind, principal_id)
        .where(LoginSession.last_seen_at >= now - idle, LoginSession.created_at >= now - absolute)
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
    )
    return list(db.session.scalars(query))


def session_of(kind: str, principal_id: int, session_id: int) -> LoginSession | None:
    """One live session of this login by id; another login's (or tenant's) is None."""
    record = db.session.get(LoginSession, session_id)
    if record is None or (record.principal_kind, record.principal_id) != (kind, principal_id):
        return None
    return record if is_live(record) else None


def purge(older_than: timedelta, now: datetime | None = None) -> int:
    """Delete the records not used for ``older_than`` (never less than the idle
    time-out, so no live session goes); returns how many. Call in the platform bypass:
    it spans every tenant."""
    now = now or utcnow()
    idle, _ = lifetimes()
    cutoff = now - max(older_than, idle)
    result = db.session.execute(delete(LoginSession).where(LoginSession.last_seen_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


# -- a readable summary of a user agent -----------------------------------------------------

# Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari".
_BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"(?:OPR|Opera)/(\d+)")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/(\d+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+)[.\d]* .*Safari/")),
)
_SYSTEMS = (
    ("iPadOS", re.compile(r"iPad")),
    ("iOS", re.compile(r"iPhone|iPod")),
    ("Android", re.compile(r"Android")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Macintosh|Mac OS X")),
    ("Linux", re.compile(r"Linux|X11")),
)


def describe_user_agent(user_agent: str) -> tuple[str | None, str | None]:
    """(browser with its major version, operating system); None where unknown."""
    browser = next(
        (
            f"{name} {found.group(1)}"
            for name, pattern in _BROWSERS
            if (found := pattern.search(user_agent))
        ),
        None,
    )
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), None)
    return browser, system
