"""Core models: the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
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
