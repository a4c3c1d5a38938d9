"""Shared helpers for option tests: give a circle an option, read uniques back."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.tenancy import use_scope
from tenants.models import Circle, Unique
from tenants.options.models import OptionKind
from tenants.services import provisioning


def give_option(
    app,
    tenant,
    kind: OptionKind,
    quantity: int = 1,
    *,
    circle_id: int | None = None,
    starts_on: date = date(2026, 1, 1),
    ends_on: date | None = None,
) -> None:
    with app.app_context(), use_scope(tenant.scope):
        circle = db.session.get(Circle, circle_id or tenant.circle_id)
        provisioning.add_circle_option(
            circle, kind, quantity=quantity, starts_on=starts_on, ends_on=ends_on
        )
        db.session.commit()


def uniques_of(app, tenant, circle_id: int | None = None) -> dict[str, Unique]:
    """display name → unique (detached, columns loaded)."""
    with app.app_context(), use_scope(tenant.scope):
        rows = db.session.scalars(
            select(Unique).where(Unique.circle_id == (circle_id or tenant.circle_id))
        ).all()
        for row in rows:
            db.session.expunge(row)
        return {row.display_name: row for row in rows}


# Tue 10 Nov 2026, 12:00 JST: mid-month, before the 22:00 cut-off (R11).
MID_MONTH = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)


def english(client):
    """The client's pages in English (the locale switch, as a user does it)."""
    assert client.post("/locale", {"locale": "en", "next": "/"}).status_code == 302
    return client
