"""Read side of the tenant context: what a portal lists. Queries run in the caller's scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import require_circle_scope
from tenants.models import Account, Circle, RingGroup, Unique

AUDIT_PAGE_SIZE = 50


def accounts() -> Sequence[Account]:
    return db.session.scalars(
        select(Account).options(selectinload(Account.circles)).order_by(Account.company_name)
    ).all()


def circle_overview(circle: Circle) -> tuple[Sequence[Unique], Sequence[RingGroup]]:
    """The circle's uniques and ring groups, read through the scope narrowed to it."""
    require_circle_scope(circle.id)
    uniques = db.session.scalars(
        select(Unique).options(selectinload(Unique.pickup_group)).order_by(Unique.extension)
    ).all()
    ring_groups = db.session.scalars(select(RingGroup).order_by(RingGroup.name)).all()
    return uniques, ring_groups


@dataclass(frozen=True)
class AuditPage:
    entries: Sequence[AuditLog]
    page: int
    pages: int


def audit_page(
    page: int, *, account_id: int | None = None, circle_id: int | None = None
) -> AuditPage:
    """The audit trail of the caller's scope, newest first."""
    query = select(AuditLog)
    if account_id is not None:
        query = query.where(AuditLog.account_id == account_id)
    if circle_id is not None:
        # Kept by hand: the audit log is the reseller's (``ResellerOwned``), so the scope
        # narrowed to a circle does not filter it; this picks one circle's entries.
        query = query.where(AuditLog.circle_id == circle_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(max(page, 1), pages)
    entries = db.session.scalars(
        query.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(AUDIT_PAGE_SIZE)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    return AuditPage(entries=entries, page=page, pages=pages)
