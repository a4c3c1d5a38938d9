"""Core models: the audit log and the records of login sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pbx_platform.db import Model, ResellerOwned, utcnow


class AuditLog(ResellerOwned, Model):
    """Who changed what, in which tenant, from what to what, and when.

    Rows are written by the flush hook in ``pbx_platform.audit`` for every change
    to an audited model, and by ``platform_bypass`` for each use of the bypass.
    ``account_id``/``circle_id`` are kept (not foreign keys) so that the trail
    outlives the objects it describes.
    """

    __tablename__ = "audit_log"
    __tenant_columns__ = {"reseller": "reseller_id", "account": "account_id", "circle": "circle_id"}
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(index=True)
    circle_id: Mapped[int | None] = mapped_column(index=True)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None]
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[int | None]
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (Index("ix_audit_log_reseller_created", "reseller_id", "created_at"),)


class LoginSession(ResellerOwned, Model):
    """One browser's login: what the signed session cookie points at.

    The cookie carries a random token; the row keeps only its SHA-256, so reading
    the table yields no usable cookie. A session works while its row exists, is not
    revoked, and is within the idle and absolute time-outs. Logout revokes its own
    row; a password change (R15), a forced-policy change (R17) and "log out
    everywhere" revoke the login's other rows.

    The row belongs to its login's tenant: the login's reseller (the platform
    reseller for platform staff), its account (account managers, circles) and its
    circle (circle logins), so one tenant's scope never lists another's sessions.
    Not audited column by column: ``last_seen_at`` moves all the time. Ending a session
    other than by its own browser's logout (from the sessions page, "log out everywhere
    else", a password change, a new password policy) writes its own audit row
    (``pbx_platform.sessions``: ``session.end``, ``session.end_others``,
    ``session.end.password_change``, ``session.end.password_policy``).
    """

    __tablename__ = "login_session"
    __tenant_columns__ = {"reseller": "reseller_id", "account": "account_id", "circle": "circle_id"}
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    principal_kind: Mapped[str] = mapped_column(String(20))
    principal_id: Mapped[int]
    account_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    circle_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("circle.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    __table_args__ = (Index("ix_login_session_principal", "principal_kind", "principal_id"),)


class LoginToken(ResellerOwned, Model):
    """A single-use link that sets a login's password: an invitation (72 hours) or a
    password reset (1 hour).

    Like ``LoginSession`` the row keeps only the SHA-256 of the token; the link in the
    e-mail is the only place the token itself exists. It belongs to its login's tenant
    (reseller, account, circle). Not audited: issuing and using a link are audited
    where they happen (the invitation, the password set through it)."""

    __tablename__ = "login_token"
    __tenant_columns__ = {"reseller": "reseller_id", "account": "account_id", "circle": "circle_id"}
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # invitation | reset
    purpose: Mapped[str] = mapped_column(String(20))
    principal_kind: Mapped[str] = mapped_column(String(20))
    principal_id: Mapped[int]
    account_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    circle_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("circle.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_login_token_principal", "principal_kind", "principal_id"),)
