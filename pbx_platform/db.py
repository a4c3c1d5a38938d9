"""The database object, the declarative base and the tenancy mixins.

Models anywhere in the project import from here and from nothing above.
"""

from __future__ import annotations

import enum
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    DateTime,
    Engine,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    TypeDecorator,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store times in UTC with tzinfo")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)

# ``db.Model`` is built at run time, so type checkers cannot see it; models subclass
# ``Model``, which is ``db.Model`` at run time and the declarative base for the checker.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


def str_enum(cls: type[enum.Enum], name: str, length: int = 20) -> Enum:
    """A Python StrEnum stored as its values in a VARCHAR with a CHECK constraint."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def edit_version_column() -> Mapped[int]:
    """The optimistic lock of a settings form (``pbx_platform.versioning``): the form
    carries the value it was loaded at; every save bumps it."""
    return mapped_column(Integer, default=0, server_default="0")


class EditVersioned:
    """A settings object edited through a form that must not overwrite a save made
    after the form was opened (``pbx_platform.versioning``)."""

    edit_version: Mapped[int] = edit_version_column()


class TenantScoped:
    """Marker of every model the tenant scope filters (see ``pbx_platform.tenancy``).

    ``__tenant_columns__`` maps each scope level (reseller, account, circle) to the
    column holding that level's id; a level missing from the map does not narrow
    the model.
    """

    __tenant_columns__: dict[str, str] = {}


class ResellerOwned(TenantScoped):
    """A row that belongs to one reseller (the tenant of R20).

    The tenant scope filters these by ``reseller_id`` on every ORM statement, and
    PostgreSQL's row-level security does the same behind it.
    """

    __tenant_columns__ = {"reseller": "reseller_id"}

    @declared_attr
    def reseller_id(cls) -> Mapped[int]:
        return mapped_column(
            Integer, ForeignKey("reseller.id", ondelete="RESTRICT"), index=True, nullable=False
        )


class AccountOwned(ResellerOwned):
    """A row below one customer account: further narrowed for account-level logins."""

    __tenant_columns__ = {"reseller": "reseller_id", "account": "account_id"}

    @declared_attr
    def account_id(cls) -> Mapped[int]:
        return mapped_column(
            Integer, ForeignKey("account.id", ondelete="CASCADE"), index=True, nullable=False
        )


class CircleOwned(AccountOwned):
    """A row below one circle: further narrowed for circle logins."""

    __tenant_columns__ = {"reseller": "reseller_id", "account": "account_id", "circle": "circle_id"}

    @declared_attr
    def circle_id(cls) -> Mapped[int]:
        return mapped_column(
            Integer, ForeignKey("circle.id", ondelete="CASCADE"), index=True, nullable=False
        )


# -- SQLite: real transactions and foreign keys --------------------------------------------
# pysqlite begins transactions lazily on its own and ignores SAVEPOINT semantics; the
# documented fix hands transaction control to SQLAlchemy. Foreign keys are off in
# SQLite unless asked for.


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection: Any) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")
