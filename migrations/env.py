"""Alembic environment. Migrations run as the schema owner: MIGRATE_DATABASE_URL when
set (PostgreSQL in production: the app's own role owns no table), else the app's URL."""

from __future__ import annotations

import logging
import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from flask import current_app
from sqlalchemy import create_engine

from pbx_platform import rls

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")

target_metadata = current_app.extensions["migrate"].db.metadata


def _url() -> str:
    return os.environ.get("MIGRATE_DATABASE_URL") or str(
        current_app.extensions["migrate"].db.engine.url.render_as_string(hide_password=False)
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_foreign_keys(connection: Any, on: bool) -> None:
    """SQLite changes a table by copying it; with foreign keys on, dropping the old copy
    would cascade into every table below it. The pragma works outside a transaction
    only, so it goes to the driver's connection directly (it is in autocommit mode)."""
    if connection.dialect.name == "sqlite":
        connection.connection.dbapi_connection.execute(f"PRAGMA foreign_keys={int(on)}")


def run_migrations_online() -> None:
    engine = create_engine(_url())
    with engine.connect() as connection:
        _sqlite_foreign_keys(connection, on=False)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            app_role=current_app.config["DB_APP_ROLE"],
        )
        with context.begin_transaction():
            context.run_migrations()
            # Every upgrade (re)installs the row-level security signing key derived from
            # the app's secret key, so a rotated secret takes effect with the release.
            rls.install_key(connection, current_app.config["SECRET_KEY"])
            if connection.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        _sqlite_foreign_keys(connection, on=True)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
