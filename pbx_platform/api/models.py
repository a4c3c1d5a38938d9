"""API clients and their access tokens: platform-level rows, not a tenant's.

A client belongs to the platform (the operator registers it in the console); it is
limited to one reseller (``reseller_id``) or, NULL, to the whole platform. Neither table
is filtered by the tenant scope (no tenant columns), but clients are audited like the
tenants' rows (``TenantScoped`` with no levels: the audit hook records them under the
acting operator's tenant)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbx_platform.db import Model, TenantScoped, utcnow

# The scopes a client may hold (RFC 6749 §3.3), each what one kind of endpoint needs.
SCOPES = ("calls:write", "recordings:write", "config:read")


class ApiClient(TenantScoped, Model):
    """``secret_hash`` is the SHA-256 of a 256-bit random secret (hex): with that much
    entropy a fast hash cannot be brute-forced, and every token request verifies it,
    which argon2 would make cost ~20 ms each (pbx_platform.api.clients)."""

    __tablename__ = "api_client"
    __tenant_columns__: dict[str, str] = {}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    # Space-separated, in the order of SCOPES.
    scopes: Mapped[str] = mapped_column(String(200))
    reseller_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("reseller.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("staff.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class ApiToken(Model):
    """An access token: only its SHA-256 is kept (like ``LoginSession``), so reading the
    table yields no usable token. Not audited (one per hour per node)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(
        Integer, ForeignKey("api_client.id", ondelete="CASCADE"), index=True
    )
    scopes: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    client: Mapped[ApiClient] = relationship(lazy="joined")
