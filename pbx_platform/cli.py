"""The `pbx` command: a Flask CLI group (`pbx db upgrade`, `pbx run`, `pbx sessions purge`).

The core adds only its own commands: each context registers its own from its
``init_app`` (``tenants`` adds `pbx demo load`).
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

import pbx_platform
from pbx_platform import sessions
from pbx_platform.db import db
from pbx_platform.tenancy import platform_bypass


@click.group("sessions")
def sessions_group() -> None:
    """Login session records."""


@sessions_group.command("purge")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1))
@with_appcontext
def sessions_purge(days: int) -> None:
    """Delete the session records not used for DAYS days (ended or expired long ago)."""
    with platform_bypass("cli.sessions_purge"):
        count = sessions.purge(timedelta(days=days))
    db.session.commit()
    click.echo(f"Deleted {count} session records.")


def init_app(app: Flask) -> None:
    app.cli.add_command(sessions_group)


def _create_app() -> Flask:
    return pbx_platform.create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Manage the PBX reseller platform."""
