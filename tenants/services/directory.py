"""Read side of the tenant context: what a portal lists. Queries run in the caller's scope."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pbx_platform.db import db
from pbx_platform.paging import Page, Paging, paginate
from pbx_platform.tenancy import require_circle_scope
from tenants.models import Account, Circle, RingGroup, Unique


def accounts() -> Sequence[Account]:
    return db.session.scalars(
        select(Account).options(selectinload(Account.circles)).order_by(Account.company_name)
    ).all()


ACCOUNT_ORDER = {"name": Account.company_name}


def accounts_page(paging: Paging) -> Page[Account]:
    """The scope's customers, one page in the asked order."""
    query = select(Account).options(selectinload(Account.circles))
    return paginate(query, paging, ACCOUNT_ORDER, Account.id)


def circle_overview(circle: Circle) -> tuple[Sequence[Unique], Sequence[RingGroup]]:
    """The circle's uniques and ring groups, read through the scope narrowed to it."""
    require_circle_scope(circle.id)
    uniques = db.session.scalars(
        select(Unique).options(selectinload(Unique.pickup_group)).order_by(Unique.extension)
    ).all()
    ring_groups = db.session.scalars(select(RingGroup).order_by(RingGroup.name)).all()
    return uniques, ring_groups
