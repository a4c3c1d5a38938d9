"""Which circles an API client reaches (R20), and who the audit trail says acted.

A client limited to a reseller finds circles through that reseller's tenant scope only:
another reseller's circle is not found (404, never data). A platform-wide client finds
the circle under the audited platform bypass and then works, like everyone, in the
scope narrowed to that circle (``tenancy.circle_scope``): the circle services require
it (``require_circle_scope``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import select

from pbx_platform.api.oauth import Caller
from pbx_platform.audit import Actor, set_actor
from pbx_platform.db import db
from pbx_platform.tenancy import (
    Scope,
    circle_scope,
    platform_bypass,
    remember_for_request,
    use_scope,
)
from tenants.calls.ingest import CircleKey
from tenants.calls.models import CallRecord
from tenants.models import Circle


def act_as(caller: Caller) -> None:
    """The audit trail names the client (its rows: ``actor_kind`` api_client)."""
    remember_for_request(
        set_actor(Actor("api_client", caller.client_pk, caller.name, caller.reseller_id))
    )


@contextmanager
def _reach(caller: Caller, reason: str) -> Iterator[None]:
    if caller.reseller_id is None:
        with platform_bypass(reason):
            yield
    else:
        with use_scope(Scope(caller.reseller_id)):
            yield


def circle_keys(caller: Caller, circle_ids: Iterable[int]) -> dict[int, CircleKey]:
    """The circles among ``circle_ids`` that the caller reaches."""
    wanted = sorted({i for i in circle_ids if 0 < i < 2**31})
    if not wanted:
        return {}
    with _reach(caller, "api.circles"):
        rows = db.session.execute(
            select(Circle.id, Circle.reseller_id, Circle.account_id).where(Circle.id.in_(wanted))
        ).all()
    return {row.id: CircleKey(row.reseller_id, row.account_id, row.id) for row in rows}


def circle_key(caller: Caller, circle_id: int) -> CircleKey | None:
    return circle_keys(caller, [circle_id]).get(circle_id)


class AmbiguousCall(LookupError):
    """A platform-wide client named a call id that several resellers use."""


def call_circle(caller: Caller, call_id: str, circle_id: int | None) -> CircleKey | None:
    """The circle of the call ``call_id`` (ids are unique per reseller, so a
    platform-wide client may need to say the circle: ``AmbiguousCall``)."""
    if circle_id is not None:
        key = circle_key(caller, circle_id)
        if key is None:
            return None
        with circle_scope(key.reseller_id, key.account_id, key.circle_id):
            found = db.session.scalar(select(CallRecord.id).where(CallRecord.call_id == call_id))
        return key if found is not None else None
    with _reach(caller, "api.call_lookup"):
        rows = db.session.execute(
            select(CallRecord.circle_id, CallRecord.reseller_id, CallRecord.account_id)
            .where(CallRecord.call_id == call_id)
            .limit(2)
        ).all()
    if not rows:
        return None
    if len(rows) > 1:
        raise AmbiguousCall(call_id)
    row = rows[0]
    return CircleKey(row.reseller_id, row.account_id, row.circle_id)


@contextmanager
def within(key: CircleKey) -> Iterator[Circle]:
    """Work narrowed to the circle (the services' precondition)."""
    with circle_scope(key.reseller_id, key.account_id, key.circle_id):
        circle = db.session.get(Circle, key.circle_id)
        if circle is None:  # pragma: no cover - found a moment ago
            raise LookupError(key.circle_id)
        yield circle
