"""Tenant isolation (R20): one mechanism scopes every ORM statement.

* ``do_orm_execute`` adds ``with_loader_criteria`` for every tenant-scoped model
  to every ORM SELECT, UPDATE and DELETE (the documented recipe filters SELECTs
  only; bulk statements are covered here too). A statement that touches a
  tenant-scoped model while no scope is set is refused: the default is closed.
* ``before_flush`` stamps new rows with the scope's ids and refuses rows (new,
  changed or deleted) that belong to another tenant, and any change of a row's
  tenant columns.
* On PostgreSQL the scope's reseller id is set per transaction with
  ``set_config('app.tenant_id', ..., true)``; row-level security policies read it
  (see the migrations), a second wall behind the ORM filter.
* The only way around the scope is ``platform_bypass(reason)``: explicit, named,
  for platform-staff code paths, and written to the audit log each time.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, scoped_session, with_loader_criteria

from pbx_platform.db import Base, TenantScoped, db


class TenantScopeError(RuntimeError):
    """A statement or a row that the current tenant scope does not allow."""


@dataclass(frozen=True)
class Scope:
    """The tenant a piece of work runs for: a reseller, optionally narrowed."""

    reseller_id: int
    account_id: int | None = None
    circle_id: int | None = None

    def levels(self) -> dict[str, int]:
        values = {
            "reseller": self.reseller_id,
            "account": self.account_id,
            "circle": self.circle_id,
        }
        return {level: value for level, value in values.items() if value is not None}


_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("tenant_scope", default=None)
_bypass: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenant_bypass", default=None)

# Called with (reason) when the bypass is entered; the audit module registers it.
_bypass_listeners: list[Any] = []


def current_scope() -> Scope | None:
    return _scope.get()


def bypass_reason() -> str | None:
    return _bypass.get()


def set_scope(scope: Scope | None) -> contextvars.Token[Scope | None]:
    token = _scope.set(scope)
    _sync_database_setting(None)
    return token


def reset_scope(token: contextvars.Token[Scope | None]) -> None:
    _scope.reset(token)
    _sync_database_setting(None)


@contextmanager
def use_scope(scope: Scope | None, session: Session | None = None) -> Iterator[Scope | None]:
    token = _scope.set(scope)
    _sync_database_setting(session)
    try:
        yield scope
    finally:
        _scope.reset(token)
        _sync_database_setting(session)


@contextmanager
def platform_bypass(reason: str, session: Session | None = None) -> Iterator[None]:
    """Lift the tenant scope for a platform-staff code path, and audit it.

    ``reason`` names the code path (``"console.reseller_list"``); it is stored in
    the audit log with the acting principal.
    """
    if not reason:
        raise ValueError("platform_bypass needs a reason")
    token = _bypass.set(reason)
    _sync_database_setting(session)
    try:
        for listener in _bypass_listeners:
            listener(reason)
        yield
    finally:
        _bypass.reset(token)
        _sync_database_setting(session)


def on_bypass(listener: Any) -> Any:
    _bypass_listeners.append(listener)
    return listener


def _scoped_classes() -> list[type[Any]]:
    return [
        mapper.class_
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, TenantScoped) and mapper.class_.__tenant_columns__
    ]


def _criteria(scope: Scope) -> list[Any]:
    levels = scope.levels()
    options = []
    for cls in _scoped_classes():
        for level, column in cls.__tenant_columns__.items():
            if level in levels:
                options.append(
                    with_loader_criteria(
                        cls, getattr(cls, column) == levels[level], include_aliases=True
                    )
                )
    return options


def _touches_tenant_data(state: ORMExecuteState) -> bool:
    return any(
        issubclass(mapper.class_, TenantScoped) and mapper.class_.__tenant_columns__
        for mapper in state.all_mappers
    )


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if _bypass.get() is not None:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        # The row was loaded under the scope; relationship loads inherit the
        # criteria through propagate_to_loaders.
        return
    if not _touches_tenant_data(state):
        return
    scope = _scope.get()
    if scope is None:
        raise TenantScopeError("no tenant scope is set for a statement on tenant data")
    state.statement = state.statement.options(*_criteria(scope))


@event.listens_for(Session, "before_flush")
def _stamp_and_check_rows(session: Session, flush_context: Any, instances: Any) -> None:
    if _bypass.get() is not None:
        return
    scope = _scope.get()
    levels = scope.levels() if scope else {}
    for obj in list(session.new):
        if not isinstance(obj, TenantScoped):
            continue
        if scope is None:
            raise TenantScopeError(f"no tenant scope to create {type(obj).__name__}")
        for level, column in obj.__tenant_columns__.items():
            if level not in levels or column == "id":
                continue
            value = getattr(obj, column)
            if value is None:
                setattr(obj, column, levels[level])
            elif value != levels[level]:
                raise TenantScopeError(f"{type(obj).__name__} belongs to another {level}")
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if scope is None:
            raise TenantScopeError(f"no tenant scope to change {type(obj).__name__}")
        insp = inspect(obj)
        for level, column in obj.__tenant_columns__.items():
            if insp.attrs[column].history.has_changes() and insp.persistent:
                raise TenantScopeError(f"the {level} of a {type(obj).__name__} cannot change")
            if level in levels and getattr(obj, column) != levels[level]:
                raise TenantScopeError(f"{type(obj).__name__} belongs to another {level}")


# -- PostgreSQL: the per-transaction setting that row-level security reads -------------


def _rls_values() -> tuple[str, str]:
    scope = _scope.get()
    return (str(scope.reseller_id) if scope else "", "on" if _bypass.get() else "")


def _apply_setting(connection: Any) -> None:
    if connection.dialect.name != "postgresql":
        return
    tenant, bypass = _rls_values()
    connection.exec_driver_sql(
        "SELECT set_config('app.tenant_id', %(tenant)s, true), "
        "set_config('app.bypass', %(bypass)s, true)",
        {"tenant": tenant, "bypass": bypass},
    )


@event.listens_for(Session, "after_begin")
def _set_tenant_for_transaction(session: Session, transaction: Any, connection: Any) -> None:
    _apply_setting(connection)


def _sync_database_setting(session: Session | None) -> None:
    """Scope changed inside a transaction: tell PostgreSQL too."""
    if session is None and has_app_context():
        session = db.session
    if isinstance(session, scoped_session):
        session = session()
    if session is not None and session.in_transaction():
        _apply_setting(session.connection())
