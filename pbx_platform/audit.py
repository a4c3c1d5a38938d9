"""The audit trail: every change by anyone, with who, which tenant, before/after, when.

Changes are captured by one ``after_flush`` hook for every model that is a
``TenantScoped`` (unless it sets ``__audited__ = False``), so no service can
forget to log; ORM bulk statements (``update()``, ``delete()``, ``insert()`` run
through the session) are recorded by a ``do_orm_execute`` hook, row by row: the rows
an UPDATE or DELETE reaches are locked before they are read and the statement is
held to exactly those rows, so each audit row is what its own statement changed —
never a change another transaction committed meanwhile — and a statement that
changed nothing records nothing.
Services may name the business action with ``audit_action``.

Secrets are shown as ``[redacted]``: a column whose last word is ``password``,
``hash``, ``pin`` or ``passcode``, or that has ``secret`` or ``token`` in its name
(``password_hash``, ``entry_password``; not ``password_policy``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, cast

from flask import g, has_request_context
from sqlalchemy import Table, event, inspect, select
from sqlalchemy.orm import Mapper, ORMExecuteState, Session
from sqlalchemy.sql.dml import DMLWhereBase

from pbx_platform.db import Model, TenantScoped, db, utcnow
from pbx_platform.models import AuditLog
from pbx_platform.tenancy import TRUSTED, audit_bypass, current_scope, on_bypass

REDACTED = "[redacted]"
_SECRET_LAST_WORDS = {"password", "hash", "pin", "passcode"}
_SECRET_WORDS = {"secret", "token"}


# Bookkeeping, not settings: a save that changes only these changes nothing a person
# set (``*edit_version`` columns are the optimistic locks of the settings forms; a
# login's ``last_login_at`` moves at every login).
def _bookkeeping(key: str) -> bool:
    return key in {"updated_at", "last_login_at"} or key.endswith("edit_version")


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


def is_secret(key: str) -> bool:
    words = key.lower().split("_")
    return words[-1] in _SECRET_LAST_WORDS or bool(_SECRET_WORDS.intersection(words))


def _shown(key: str, value: Any) -> Any:
    return REDACTED if is_secret(key) and value else _jsonable(value)


def _shown_row(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _shown(key, value) for key, value in values.items()}


def _snapshot(obj: Any) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return _shown_row({attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs})


def _diff(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    insp = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in insp.mapper.column_attrs:
        if _bookkeeping(attr.key):
            continue
        history = insp.attrs[attr.key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        before[attr.key] = _shown(attr.key, old)
        after[attr.key] = _shown(attr.key, new)
    return before, after


def _is_audited_class(cls: Any) -> bool:
    return (
        isinstance(cls, type)
        and issubclass(cls, TenantScoped)
        and getattr(cls, "__audited__", True)
    )


def _is_audited(obj: Any) -> bool:
    return _is_audited_class(type(obj))


def _entry(
    cls: Any, values: dict[str, Any], verb: str, before: Any, after: Any
) -> dict[str, Any] | None:
    """One audit row for a change to the row ``values`` (attribute → value) of ``cls``."""
    columns = cls.__tenant_columns__
    tenant = {level: values.get(column) for level, column in columns.items()}
    # A row above the scope's level (an account's cart changed by its circle) is
    # recorded under the scope it was changed in: that scope's trail shows it, and row-
    # level security lets the scope write it.
    scope = current_scope()
    if scope is not None and tenant.get("reseller") in (None, scope.reseller_id):
        for level, value in scope.levels().items():
            if tenant.get(level) is None:
                tenant[level] = value
    actor = _actor.get()
    reseller_id = tenant.get("reseller") or actor.reseller_id
    if reseller_id is None:
        return None
    table = cls.__table__.name
    return {
        "reseller_id": reseller_id,
        "account_id": tenant.get("account"),
        "circle_id": tenant.get("circle"),
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_label": actor.label[:200],
        "action": (_action.get() or f"{table}.{verb}")[:80],
        "object_type": table,
        "object_id": values.get("id"),
        "before": before,
        "after": after,
        "created_at": utcnow(),
    }


def _row(obj: Any, verb: str, before: Any, after: Any) -> dict[str, Any] | None:
    keys = {*obj.__tenant_columns__.values(), "id"}
    return _entry(type(obj), {key: getattr(obj, key, None) for key in keys}, verb, before, after)


def _write(session: Session, rows: list[dict[str, Any] | None]) -> None:
    kept = [row for row in rows if row is not None]
    if kept:
        session.connection().execute(
            cast(Table, AuditLog.__table__).insert(), kept, execution_options=TRUSTED
        )


def record(obj: Any, action: str, *, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """An audit row named ``action`` for a change to a row that is not audited column by
    column (a ``__audited__ = False`` class, such as a login's session record), written
    at once in the current transaction, under the current actor and scope."""
    with audit_action(action):
        row = _row(
            obj,
            "update",
            {key: _jsonable(value) for key, value in before.items()},
            {key: _jsonable(value) for key, value in after.items()},
        )
    _write(db.session(), [row])


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
    _write(session, rows)


# -- the old value of every audited column is known when it is set -------------------------


def _keep_old_value(target: Any, value: Any, oldvalue: Any, initiator: Any) -> None:
    """Listening with active history is what counts: the old value is loaded."""


_watched: set[type[Any]] = set()


@event.listens_for(Mapper, "mapper_configured")
def _load_old_values_on_set(mapper: Mapper[Any], cls: type[Any]) -> None:
    """Setting an attribute that is not loaded (say, after a commit expired the object)
    would leave no old value in its history, and the "before" of the audit row empty;
    active history loads it first."""
    if not _is_audited_class(cls) or cls in _watched:
        return
    _watched.add(cls)
    for attr in mapper.column_attrs:
        event.listen(getattr(cls, attr.key), "set", _keep_old_value, active_history=True)


for _mapper in list(Model.registry.mappers):
    if _mapper.configured:
        _load_old_values_on_set(_mapper, _mapper.class_)


# -- ORM bulk statements: the unit of work does not see them --------------------------------


def _bulk_rows(
    session: Session, cls: Any, where: Any, *, lock: bool = False
) -> dict[Any, dict[str, Any]]:
    """The rows a bulk statement reaches, read as the statement would (same scope).

    ``lock``: FOR UPDATE (PostgreSQL; SQLite writes one transaction at a time). Under
    READ COMMITTED a plain read before the statement could see rows that a concurrent
    transaction is changing, and a read after it would see that transaction's result:
    the audit would attribute someone else's change to this statement."""
    keys = [attr.key for attr in inspect(cls).column_attrs]
    query = select(*(getattr(cls, key) for key in keys))
    if where is not None:
        query = query.where(where)
    if lock:
        query = query.with_for_update()
    found = {}
    for row in session.execute(query):
        values = dict(zip(keys, row, strict=True))
        found[values.get("id")] = values
    return found


def _bulk_where(state: ORMExecuteState, cls: Any) -> Any:
    params = state.parameters
    if state.is_executemany and isinstance(params, list) and all("id" in row for row in params):
        return cls.id.in_([row["id"] for row in params])
    # Called for bulk UPDATE and DELETE only; both carry a WHERE clause.
    return cast(DMLWhereBase, state.statement).whereclause


def _statement_class(state: ORMExecuteState) -> Any:
    """The model a bulk statement writes: its ORM entity, or the model of its Core table."""
    mapper = state.bind_mapper
    if mapper is not None:
        return mapper.class_
    table = getattr(state.statement, "table", None)
    for candidate in Model.registry.mappers:
        if candidate.local_table is table:
            return candidate.class_
    return None


def _inserted_rows(state: ORMExecuteState) -> list[dict[str, Any]]:
    """The rows of an INSERT: its parameter dictionaries, or its inline VALUES."""
    params = state.parameters
    if params:
        # Not a list of rows: one row (SQLAlchemy types it as any Sequence too).
        rows = params if isinstance(params, list) else [cast("Mapping[str, Any]", params)]
        return [dict(row) for row in rows]
    values = getattr(state.statement, "_values", None) or {}
    row = {
        str(getattr(key, "key", key)): getattr(value, "value", str(value))
        for key, value in values.items()
    }
    return [row] if row else []


@event.listens_for(Session, "do_orm_execute")
def _record_bulk_changes(state: ORMExecuteState) -> Any:
    if state.is_column_load or state.is_relationship_load or state.is_select:
        return None
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    cls = _statement_class(state)
    if not _is_audited_class(cls) or not hasattr(cls, "id"):
        return None
    session = state.session
    if state.is_insert:
        created = _inserted_rows(state)
        result = state.invoke_statement()
        _write(session, [_entry(cls, row, "create", None, _shown_row(row)) for row in created])
        return result
    before = _bulk_rows(session, cls, _bulk_where(state, cls), lock=True)
    if state.is_executemany:
        result = state.invoke_statement()  # one row per parameter set, by primary key
    else:
        # Only the rows locked and read above: a row that began to match since (a
        # concurrent insert or update) is not this statement's to change unrecorded.
        id_column = cast(Table, cls.__table__).c.id
        statement = cast(DMLWhereBase, state.statement).where(id_column.in_(list(before)))
        result = state.invoke_statement(statement=cast(Any, statement))
    if state.is_delete:
        _write(
            session, [_entry(cls, row, "delete", _shown_row(row), None) for row in before.values()]
        )
        return result
    after = _bulk_rows(session, cls, cls.id.in_(list(before))) if before else {}
    rows = []
    for id_, old in before.items():
        new = after.get(id_, {})
        changed = [k for k in old if not _bookkeeping(k) and new.get(k, old[k]) != old[k]]
        if changed:
            rows.append(
                _entry(
                    cls,
                    old,
                    "update",
                    {k: _shown(k, old[k]) for k in changed},
                    {k: _shown(k, new[k]) for k in changed},
                )
            )
    _write(session, rows)
    return result


# The platform's own tenant, whose trail records bypasses that name no other (a job, a
# CLI command). The tenants context, which knows what a reseller is, registers it.
_platform_tenant: list[Callable[[], int | None]] = []


def register_platform_tenant(lookup: Callable[[], int | None]) -> None:
    """Tell the audit trail how to find the platform's own tenant (idempotent)."""
    _platform_tenant[:] = [lookup]


def _platform_reseller_id() -> int | None:
    return _platform_tenant[0]() if _platform_tenant else None


_PENDING_BYPASS = "_pending_bypass_records"


@on_bypass
def _record_bypass(reason: str) -> None:
    """Every use of the bypass is recorded, also when the request fails: in a request the
    row waits for the request's end (``write_bypass_records``), which writes it whether
    the request's own changes were committed or rolled back."""
    actor = _actor.get()
    scope = current_scope()
    reseller_id = actor.reseller_id or (scope.reseller_id if scope else None)
    reseller_id = reseller_id or _platform_reseller_id()
    if reseller_id is None:
        return  # no tenant exists yet: nothing to bypass
    row = {
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
    if has_request_context():
        g.setdefault(_PENDING_BYPASS, []).append(row)
    else:
        _insert_bypass_rows([row])


def _insert_bypass_rows(rows: list[dict[str, Any]]) -> None:
    with audit_bypass():
        db.session.connection().execute(
            cast(Table, AuditLog.__table__).insert(), rows, execution_options=TRUSTED
        )


def take_bypass_records() -> list[dict[str, Any]]:
    """The request's bypass records not yet written (the request boundary writes them)."""
    return g.pop(_PENDING_BYPASS, []) if has_request_context() else []


def write_bypass_records(rows: list[dict[str, Any]], *, commit: bool) -> None:
    """Write bypass records; ``commit`` after the request's own transaction was rolled
    back, so that they outlive it."""
    if not rows:
        return
    _insert_bypass_rows(rows)
    if commit:
        db.session.commit()
