"""Tenant isolation (R20): one mechanism scopes every ORM statement.

* ``do_orm_execute`` adds ``with_loader_criteria`` for every tenant-scoped model
  to every ORM SELECT, UPDATE and DELETE that reads or writes a tenant table,
  subqueries, column refreshes and relationship loads included (the documented
  recipe filters top-level SELECTs only). A statement on tenant data while no
  scope is set is refused: the default is closed.
* What the loader criteria cannot filter is refused outside the bypass: Core
  statements on tenant tables (``select(Circle.__table__)``), Core tables or
  aliases of them inside an ORM statement, ``from_statement()``, bulk UPDATE by
  primary key naming rows outside the scope, UPDATE statements that set a tenant
  column, and INSERT statements with inline VALUES, INSERT … SELECT or an upsert
  clause. ORM bulk INSERT with parameter dictionaries is stamped and checked
  like new objects. Raw SQL (``text()``) has no place in request code: a test
  scans for it, and row-level security stands behind it on PostgreSQL.
* ``before_flush`` stamps new rows with the scope's ids and refuses rows (new,
  changed or deleted) that belong to another tenant, new rows of a level the
  scope pins (another reseller, account or circle), and any change of a row's
  tenant columns.
* When the scope changes, unchanged objects of other tenants leave the identity
  map, so ``Session.get`` cannot hand back a row loaded under an earlier scope or
  under the bypass without asking the database through the scope.
* On PostgreSQL the scope (every level, and the bypass) is handed to the database per
  transaction as a claim signed with a key the app's role cannot read; row-level
  security policies believe only a valid claim (``pbx_platform.rls``), a second wall
  behind the ORM filter that injected SQL cannot switch off.
* The only way around the scope is ``platform_bypass(reason)``: explicit, named,
  for platform-staff code paths, and written to the audit log each time.
"""

from __future__ import annotations

import contextvars
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, cast

from flask import current_app, g, has_app_context, has_request_context, stream_with_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, inspect, select, tuple_
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import (
    FromStatement,
    ORMExecuteState,
    Session,
    scoped_session,
    with_loader_criteria,
)
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import Alias, CompoundSelect, Select, TableClause

from pbx_platform import rls
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
    _scope_changed(None)
    return token


# -- the request's scope: one owner sets, narrows and resets it ------------------------------
#
# The host sets the reseller (``enter_request_scope``), the logged-in principal narrows it
# (``narrow_request_scope``), and so does a request that acts on one account or circle
# (staff on ``/staff/circles/<id>/...``); the request's end resets everything in reverse
# order (``reset_request_scope``). Nothing else keeps scope tokens.

_REQUEST_TOKENS = "_request_scope_tokens"


def remember_for_request(token: contextvars.Token[Any]) -> None:
    """Keep a context-variable token of this request (the scope's, the audit actor's), to
    be reset when the request ends."""
    g.setdefault(_REQUEST_TOKENS, []).append(token)


def enter_request_scope(reseller_id: int) -> Scope:
    """The host found the reseller: the request starts scoped to it."""
    scope = Scope(reseller_id)
    remember_for_request(set_scope(scope))
    return scope


def narrow_request_scope(*, account_id: int | None = None, circle_id: int | None = None) -> Scope:
    """Narrow the request's scope to an account and/or a circle inside it.

    Narrowing never widens: a level already pinned stays pinned, and asking for another
    value there is refused (a bug, not a user error).
    """
    current = _require_scope("narrowing the request scope")
    for level, value in (("account", account_id), ("circle", circle_id)):
        pinned = getattr(current, f"{level}_id")
        if value is not None and pinned is not None and pinned != value:
            raise TenantScopeError(f"the request is scoped to another {level}")
    narrowed = Scope(
        current.reseller_id,
        account_id if account_id is not None else current.account_id,
        circle_id if circle_id is not None else current.circle_id,
    )
    if narrowed != current:
        remember_for_request(set_scope(narrowed))
    return narrowed


def reset_request_scope() -> None:
    """The request ended: reset every token it set, newest first."""
    if not has_request_context():
        return
    for token in reversed(g.pop(_REQUEST_TOKENS, [])):
        token.var.reset(token)
    _scope_changed(None)


@contextmanager
def use_scope(scope: Scope | None, session: Session | None = None) -> Iterator[Scope | None]:
    token = _scope.set(scope)
    _scope_changed(session)
    try:
        yield scope
    finally:
        _scope.reset(token)
        _scope_changed(session)


def streamed_in_scope(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A response body that is read after the view returned, in the request's scope.

    The server reads a streamed body only once the view has returned and Flask has
    ended the request: the request's end has reset its scope (``reset_request_scope``)
    and removed its session by then. ``stream_with_context`` pushes the request's
    context again while the body runs; this re-enters the scope the view ran in,
    captured now, for exactly as long as the body runs (also when the client goes away
    early). Not under the platform bypass: a body never outlives an audited bypass."""
    if _bypass.get() is not None:
        raise TenantScopeError("a streamed body cannot run under the platform bypass")
    scope = _require_scope("a streamed response body")

    def body() -> Iterator[bytes]:
        with use_scope(scope):
            yield from chunks

    return stream_with_context(body())


def require_circle_scope(circle_id: int) -> None:
    """Assert that the work runs narrowed to circle ``circle_id``, and not under the
    platform bypass (which lifts the scope, so the queries would see every circle).

    A service that reads a circle's rows through the scope alone (no hand-written
    ``circle_id == ...`` filter) calls this first: under a wider scope (a reseller's,
    an account's) or another circle's, its queries would see too much or nothing, so
    it refuses instead (TenantScopeError, a programming error, never a user's)."""
    scope = _scope.get()
    if _bypass.get() is not None or scope is None or scope.circle_id != circle_id:
        raise TenantScopeError(f"this needs the scope narrowed to circle {circle_id}, not {scope}")


@contextmanager
def circle_scope(
    reseller_id: int, account_id: int, circle_id: int, session: Session | None = None
) -> Iterator[Scope]:
    """Work narrowed to one circle outside a request (jobs, the demo loader, tests);
    requests narrow through ``narrow_request_scope``."""
    scope = Scope(reseller_id=reseller_id, account_id=account_id, circle_id=circle_id)
    with use_scope(scope, session):
        yield scope


@contextmanager
def platform_bypass(reason: str, session: Session | None = None) -> Iterator[None]:
    """Lift the tenant scope for a platform-staff code path, and audit it.

    ``reason`` names the code path (``"console.reseller_list"``); it is stored in
    the audit log with the acting principal.
    """
    if not reason:
        raise ValueError("platform_bypass needs a reason")
    token = _bypass.set(reason)
    _scope_changed(session)
    try:
        for listener in _bypass_listeners:
            listener(reason)
        yield
    finally:
        _bypass.reset(token)
        _scope_changed(session)


@contextmanager
def audit_bypass(session: Session | None = None) -> Iterator[None]:
    """The bypass for the audit trail's own rows about the bypass: not itself audited
    (that would recurse), and for nothing else."""
    token = _bypass.set("audit.bypass_record")
    _scope_changed(session)
    try:
        yield
    finally:
        _bypass.reset(token)
        _scope_changed(session)


def on_bypass(listener: Any) -> Any:
    _bypass_listeners.append(listener)
    return listener


def _scoped_classes() -> list[type[Any]]:
    return _mapped_tenants(len(Base.registry.mappers))[0]


def _tenant_tables() -> frozenset[str]:
    return _mapped_tenants(len(Base.registry.mappers))[1]


@cache
def _mapped_tenants(mapper_count: int) -> tuple[list[type[Any]], frozenset[str]]:
    """The tenant-scoped classes and their tables (recomputed when a model is added)."""
    classes: list[type[Any]] = [
        mapper.class_
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, TenantScoped) and mapper.class_.__tenant_columns__
    ]
    return classes, frozenset(table.name for cls in classes for table in cls.__mapper__.tables)


def _is_scoped(cls: type[Any] | None) -> bool:
    return cls is not None and issubclass(cls, TenantScoped) and bool(cls.__tenant_columns__)


def _conditions(cls: type[Any], scope: Scope) -> list[Any]:
    levels = scope.levels()
    return [
        getattr(cls, column) == levels[level]
        for level, column in cls.__tenant_columns__.items()
        if level in levels
    ]


def _criteria(scope: Scope) -> tuple[Any, ...]:
    return _criteria_for(scope, len(Base.registry.mappers))


@lru_cache(maxsize=4096)
def _criteria_for(scope: Scope, mapper_count: int) -> tuple[Any, ...]:
    """The loader criteria of one scope, built once: they are immutable options, and
    building ~20 of them on every statement cost more than the query itself."""
    return tuple(
        with_loader_criteria(cls, condition, include_aliases=True)
        for cls in _scoped_classes()
        for condition in _conditions(cls, scope)
    )


# -- which tenant tables a statement reaches, and whether the criteria can reach them ----


def _entity_tables(element: Any) -> set[str]:
    annotations = getattr(element, "_annotations", None) or {}
    entity = annotations.get("parententity")
    if entity is None:
        return set()
    return {table.name for table in entity.mapper.tables}


def _tenant_tables_in(statement: Any) -> tuple[set[str], set[str]]:
    """(tenant tables the statement reads or writes, those of them out of the criteria's reach).

    ``with_loader_criteria`` filters a table where it stands for a mapped entity.
    Each SELECT (and the DML statement itself) is looked at as one level: a Core
    table is covered when the same level also names a mapped entity on it (both
    are then the same FROM), never otherwise; a Core alias of a tenant table is
    never covered.
    """
    tenant = _tenant_tables()
    touched: set[str] = set()
    uncovered: set[str] = set()
    levels = [statement]
    while levels:
        level = levels.pop()
        plain: set[str] = set()
        mapped: set[str] = set()
        seen: set[int] = set()
        stack = list(level.get_children())
        while stack:
            element = stack.pop()
            if id(element) in seen:
                continue
            seen.add(id(element))
            if isinstance(element, Select | CompoundSelect | UpdateBase):
                levels.append(element)
                continue
            mapped |= _entity_tables(element)
            if isinstance(element, TableClause):
                if element.name in tenant:
                    touched.add(element.name)
                    if not _entity_tables(element):
                        plain.add(element.name)
                continue
            if isinstance(element, Alias) and not _entity_tables(element):
                inner = element.element
                if isinstance(inner, TableClause) and inner.name in tenant:
                    touched.add(inner.name)
                    uncovered.add(inner.name)
            stack.extend(element.get_children())
        mapped |= _entity_tables(getattr(level, "table", None))
        touched |= mapped & tenant
        uncovered |= plain - mapped
    return touched, uncovered


# -- statements -----------------------------------------------------------------------------


def _require_scope(what: str) -> Scope:
    scope = _scope.get()
    if scope is None:
        raise TenantScopeError(f"no tenant scope is set for {what}")
    return scope


def _target_class(state: ORMExecuteState) -> type[Any] | None:
    mapper = state.bind_mapper
    return mapper.class_ if mapper is not None else None


def _key(column: Any) -> str:
    return str(getattr(column, "key", column))


def _parameter_rows(state: ORMExecuteState) -> list[Mapping[str, Any]]:
    params = state.parameters
    if params is None:
        return []
    # Not a list or tuple of rows: one row (SQLAlchemy types it as any Sequence too).
    return list(params) if isinstance(params, list | tuple) else [cast("Mapping[str, Any]", params)]


def _check_update_values(state: ORMExecuteState, cls: type[Any]) -> None:
    """An UPDATE must not move rows to another tenant: tenant columns are not set."""
    statement = state.statement
    keys = {_key(k) for k in (getattr(statement, "_values", None) or {})}
    keys |= {_key(k) for k, _ in (getattr(statement, "_ordered_values", None) or ())}
    locators = set()
    if state.is_executemany:
        locators = {prop.key for prop in _primary_key_props(cls)}
    for row in _parameter_rows(state):
        keys |= set(row) - locators
    changed = keys & set(cls.__tenant_columns__.values())
    if changed:
        raise TenantScopeError(
            f"a bulk statement on {cls.__name__} cannot change its tenant columns {sorted(changed)}"
        )


def _primary_key_props(cls: type[Any]) -> list[Any]:
    mapper = cls.__mapper__
    return [mapper.get_property_by_column(column) for column in mapper.primary_key]


def _check_rows_by_primary_key(state: ORMExecuteState, cls: type[Any]) -> None:
    """Bulk UPDATE by primary key ignores loader criteria: every row it names must be
    visible in the scope, or nothing runs."""
    props = _primary_key_props(cls)
    wanted = {tuple(row.get(prop.key) for prop in props) for row in _parameter_rows(state)}
    if not wanted:
        return
    columns = [getattr(cls, prop.key) for prop in props]
    key = columns[0] if len(columns) == 1 else tuple_(*columns)
    values = [w[0] for w in wanted] if len(columns) == 1 else list(wanted)
    found = {tuple(row) for row in state.session.execute(select(*columns).where(key.in_(values)))}
    if wanted - found:
        raise TenantScopeError(f"a bulk statement names {cls.__name__} rows outside the scope")


def _check_insert(state: ORMExecuteState) -> None:
    statement = state.statement
    table = getattr(getattr(statement, "table", None), "name", None)
    if table not in _tenant_tables():
        return
    scope = _require_scope(f"an INSERT into {table}")
    cls = _target_class(state) if state.is_orm_statement else None
    if not _is_scoped(cls):
        raise TenantScopeError(
            f"a Core INSERT into {table} escapes the tenant scope; insert the mapped class"
        )
    assert cls is not None
    if (
        getattr(statement, "_values", None)
        or getattr(statement, "_multi_values", None)
        or getattr(statement, "select", None) is not None
        or getattr(statement, "_post_values_clause", None) is not None
    ):
        raise TenantScopeError(
            f"INSERT into {cls.__name__} with inline VALUES, a SELECT or an upsert clause "
            "cannot be checked against the tenant scope; add objects to the unit of work or "
            "pass parameter dictionaries"
        )
    rows = [dict(row) for row in _parameter_rows(state)]
    for row in rows:
        _stamp(cls, row.get, row.__setitem__, scope.levels())
    if isinstance(state.parameters, list | tuple):
        state.parameters = rows
    elif rows:
        state.parameters = rows[0]


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> Any:
    """Scope the statement, then run it (and the hooks after this one) marked as vetted:
    the connection guard below refuses tenant statements that were not
    (``session.connection().execute(...)``)."""
    _vet_statement(state)
    token = _vetted.set(True)
    try:
        return state.invoke_statement()
    finally:
        _vetted.reset(token)


def _vet_statement(state: ORMExecuteState) -> None:
    if _bypass.get() is not None:
        return
    if isinstance(state.statement, TextClause) and _scope.get() is not None:
        raise TenantScopeError(
            "raw SQL (text()) under a tenant scope cannot be scoped; query the mapped classes"
        )
    if state.is_insert:
        _check_insert(state)
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    statement = state.statement
    touched, uncovered = _tenant_tables_in(statement)
    touched |= {
        table.name
        for mapper in state.all_mappers
        if _is_scoped(mapper.class_)
        for table in mapper.tables
    }
    if not touched:
        return
    scope = _require_scope(f"a statement on {', '.join(sorted(touched))}")
    if not state.is_orm_statement:
        raise TenantScopeError(
            f"a Core statement on {', '.join(sorted(touched))} escapes the tenant scope; "
            "query the mapped classes"
        )
    if state.is_from_statement or isinstance(statement, FromStatement):
        raise TenantScopeError("from_statement() on tenant data escapes the tenant scope")
    if uncovered:
        raise TenantScopeError(
            f"Core tables {', '.join(sorted(uncovered))} in an ORM statement escape the "
            "tenant scope; join the mapped classes"
        )
    if state.is_update or state.is_delete:
        cls = _target_class(state)
        if _is_scoped(cls):
            assert cls is not None
            if state.is_update:
                _check_update_values(state, cls)
            if state.is_executemany:
                _check_rows_by_primary_key(state, cls)
    # Relationship loads and column refreshes are scoped too: an object loaded under
    # another scope (or the bypass) must not load or refresh through this one.
    statement = statement.options(*_criteria(scope))
    if state.is_column_load:
        # The ORM leaves loader criteria out of refreshes; name the scope in the WHERE.
        cls = _target_class(state)
        if _is_scoped(cls):
            assert cls is not None
            # A column load or refresh is always a SELECT.
            statement = cast("Select[Any]", statement).where(*_conditions(cls, scope))
    state.statement = statement


# -- rows written through the unit of work ----------------------------------------------------


def _stamp(cls: type[Any], get: Any, put: Any, levels: dict[str, int]) -> None:
    """New row: fill the scope's ids, refuse another tenant's, and refuse creating a
    new tenant at a level the scope pins (another reseller, account or circle)."""
    primary = {prop.key for prop in _primary_key_props(cls)}
    for level, column in cls.__tenant_columns__.items():
        if level not in levels:
            continue
        value = get(column)
        if value is None and column not in primary:
            put(column, levels[level])
        elif value != levels[level]:
            raise TenantScopeError(f"{cls.__name__} belongs to another {level}")


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
        _stamp(type(obj), lambda name, obj=obj: getattr(obj, name), obj.__setattr__, levels)
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


# -- scope changes: the identity map and PostgreSQL's per-transaction setting ---------------


def _belongs(obj: Any, levels: dict[str, int]) -> bool:
    """False when the loaded tenant columns show another tenant (unloaded: unknown)."""
    loaded = inspect(obj).dict
    return all(
        loaded.get(column, levels[level]) == levels[level]
        for level, column in obj.__tenant_columns__.items()
        if level in levels
    )


def _forget_other_tenants(session: Session) -> None:
    """Unchanged objects of other tenants leave the identity map: ``Session.get`` returns
    identity-map hits without SQL, so it would not ask the new scope. Changed ones
    stay, for ``before_flush`` to refuse."""
    scope = _scope.get()
    if scope is None or _bypass.get() is not None:
        return
    levels = scope.levels()
    strangers: Iterable[Any] = [
        obj
        for obj in list(session.identity_map.values())
        if isinstance(obj, TenantScoped)
        and not inspect(obj).modified
        and obj not in session.deleted
        and not _belongs(obj, levels)
    ]
    for obj in strangers:
        if obj in session:
            session.expunge(obj)


def _backend_pid(connection: Any) -> int:
    """The PostgreSQL backend of a pooled connection, asked once per connection."""
    info = connection.connection.info
    pid = info.get("pbx_backend_pid")
    if pid is None:
        pid = info["pbx_backend_pid"] = connection.exec_driver_sql(
            "SELECT pg_backend_pid()", execution_options=TRUSTED
        ).scalar()
    return int(pid)


@lru_cache(maxsize=8)
def _signing_key(secret_key: str | bytes) -> bytes:
    return rls.derive_key(secret_key)


def _apply_setting(connection: Any) -> None:
    """Hand the scope to PostgreSQL as a claim signed with a key the app role cannot read:
    the policies believe nothing else (pbx_platform.rls)."""
    if connection.dialect.name != "postgresql":
        return
    scope = _scope.get()
    bypass = _bypass.get() is not None
    claim = ""
    if scope is not None or bypass:
        claim = rls.sign_claim(
            _signing_key(current_app.config["SECRET_KEY"]),
            reseller_id=scope.reseller_id if scope else None,
            account_id=scope.account_id if scope else None,
            circle_id=scope.circle_id if scope else None,
            bypass=bypass,
            backend_pid=_backend_pid(connection),
        )
    connection.exec_driver_sql(
        "SELECT set_config('app.scope', %(claim)s, true)", {"claim": claim}, TRUSTED
    )


@event.listens_for(Session, "after_begin")
def _set_tenant_for_transaction(session: Session, transaction: Any, connection: Any) -> None:
    _session_connections[connection] = weakref.ref(session)
    _apply_setting(connection)


# -- the connection guard: Core and driver SQL past the ORM hook -----------------------------
#
# ``session.connection().execute(select(Circle.id))`` and ``exec_driver_sql`` reach the
# database without ``do_orm_execute``. On a connection that a session uses, a statement
# on tenant tables is refused unless the ORM hook vetted it, the unit of work is
# flushing (``before_flush`` checked the rows), the bypass is on, or it is one of the
# core's own statements (``TRUSTED``: the scope claim, the audit's rows).

TRUSTED = {"pbx_core_statement": True}
# The SQLAlchemy connections (not the pooled DBAPI ones) that sessions run on.
_session_connections: weakref.WeakKeyDictionary[Connection, weakref.ref[Session]] = (
    weakref.WeakKeyDictionary()
)
_vetted: contextvars.ContextVar[bool] = contextvars.ContextVar("tenant_vetted", default=False)


def _guarded(connection: Connection, options: Mapping[str, Any]) -> bool:
    if _vetted.get() or options.get("pbx_core_statement") or _bypass.get() is not None:
        return False
    ref = _session_connections.get(connection)
    session = ref() if ref is not None else None
    if session is None:
        return False  # not a session's connection (migrations, scripts)
    return not getattr(session, "_flushing", False)


@event.listens_for(Engine, "before_execute")
def _guard_core_statement(
    connection: Connection, clause: Any, multiparams: Any, params: Any, options: Any
) -> None:
    if not _guarded(connection, options):
        return
    if isinstance(clause, TextClause):
        if _scope.get() is not None:
            raise TenantScopeError("raw SQL on a session's connection escapes the tenant scope")
        return
    if not hasattr(clause, "get_children"):
        return
    touched, _ = _tenant_tables_in(clause)
    target = getattr(getattr(clause, "table", None), "name", None)
    if target in _tenant_tables():
        touched.add(target)
    if touched:
        raise TenantScopeError(
            f"a Core statement on {', '.join(sorted(touched))} through the session's "
            "connection escapes the tenant scope; query the mapped classes"
        )


@event.listens_for(Engine, "before_cursor_execute")
def _guard_driver_sql(
    connection: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> None:
    if context is None or context.compiled is not None:
        return  # compiled statements were looked at in before_execute
    if _scope.get() is not None and _guarded(connection, context.execution_options):
        raise TenantScopeError("driver SQL on a session's connection escapes the tenant scope")


def _scope_changed(session: Session | scoped_session[FlaskSession] | None) -> None:
    """Scope changed: drop other tenants' objects, and tell PostgreSQL inside a transaction."""
    if session is None and has_app_context():
        session = db.session
    if isinstance(session, scoped_session):
        session = session()
    if session is None:
        return
    _forget_other_tenants(session)
    if session.in_transaction():
        _apply_setting(session.connection())
