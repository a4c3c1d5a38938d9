"""The audit trail: every change by anyone, with who, which tenant, before/after, when.

Changes are captured by one ``after_flush`` hook for every model that is a
``TenantScoped`` (unless it sets ``__audited__ = False``), so no service can
forget to log. Services may name the business action with ``audit_action``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from pbx_platform.db import TenantScoped, db, utcnow
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import current_scope, on_bypass

REDACTED = "[redacted]"
_SECRET_MARKERS = ("password", "secret", "token")


@dataclass(frozen=True)
class Actor:
    kind: str  # platform, reseller, account_manager, circle, system
    id: int | None
    label: str
    reseller_id: int | None = None


SYSTEM = Actor("system", None, "system")

_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("audit_actor", default=SYSTEM)
_action: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_action", default=None)


def current_actor() -> Actor:
    return _actor.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def set_actor(actor: Actor) -> contextvars.Token[Actor]:
    return _actor.set(actor)


def reset_actor(token: contextvars.Token[Actor]) -> None:
    _actor.reset(token)


@contextmanager
def audit_action(name: str) -> Iterator[None]:
    """Label the changes flushed inside the block with a business action name."""
    token = _action.set(name)
    try:
        yield
    finally:
        _action.reset(token)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


def _shown(key: str, value: Any) -> Any:
    return REDACTED if any(m in key for m in _SECRET_MARKERS) and value else _jsonable(value)


def _snapshot(obj: Any) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {attr.key: _shown(attr.key, getattr(obj, attr.key)) for attr in mapper.column_attrs}


def _diff(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    insp = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in insp.mapper.column_attrs:
        if attr.key == "updated_at":
            continue
        history = insp.attrs[attr.key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        before[attr.key] = _shown(attr.key, old)
        after[attr.key] = _shown(attr.key, new)
    return before, after


def _tenant_of(obj: Any) -> tuple[int | None, int | None, int | None]:
    columns = obj.__tenant_columns__
    values = {level: getattr(obj, column, None) for level, column in columns.items()}
    return values.get("reseller"), values.get("account"), values.get("circle")


def _is_audited(obj: Any) -> bool:
    return isinstance(obj, TenantScoped) and getattr(type(obj), "__audited__", True)


def _row(obj: Any, verb: str, before: Any, after: Any) -> dict[str, Any] | None:
    reseller_id, account_id, circle_id = _tenant_of(obj)
    actor = _actor.get()
    if reseller_id is None:
        reseller_id = actor.reseller_id
    if reseller_id is None:
        return None
    table = obj.__table__.name
    return {
        "reseller_id": reseller_id,
        "account_id": account_id,
        "circle_id": circle_id,
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_label": actor.label[:200],
        "action": (_action.get() or f"{table}.{verb}")[:80],
        "object_type": table,
        "object_id": getattr(obj, "id", None),
        "before": before,
        "after": after,
        "created_at": utcnow(),
    }


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, flush_context: Any) -> None:
    rows = []
    for obj in session.new:
        if _is_audited(obj):
            rows.append(_row(obj, "create", None, _snapshot(obj)))
    for obj in session.dirty:
        if _is_audited(obj) and session.is_modified(obj, include_collections=False):
            before, after = _diff(obj)
            if after:
                rows.append(_row(obj, "update", before, after))
    for obj in session.deleted:
        if _is_audited(obj):
            rows.append(_row(obj, "delete", _snapshot(obj), None))
    rows = [row for row in rows if row is not None]
    if rows:
        session.connection().execute(AuditLog.__table__.insert(), rows)


@on_bypass
def _record_bypass(reason: str) -> None:
    actor = _actor.get()
    reseller_id = actor.reseller_id or (current_scope().reseller_id if current_scope() else None)
    if reseller_id is None:
        return
    db.session.connection().execute(
        AuditLog.__table__.insert(),
        [
            {
                "reseller_id": reseller_id,
                "account_id": None,
                "circle_id": None,
                "actor_kind": actor.kind,
                "actor_id": actor.id,
                "actor_label": actor.label[:200],
                "action": "tenant.bypass",
                "object_type": "scope",
                "object_id": None,
                "before": None,
                "after": {"reason": reason},
                "created_at": utcnow(),
            }
        ],
    )
