"""The tenants context's commands: `pbx demo load`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from pbx_platform.db import db
from tenants import demo


@click.group("demo")
def demo_group() -> None:
    """Demo data."""


@demo_group.command("load")
@with_appcontext
def demo_load() -> None:
    """Load the demo resellers, accounts and circles (idempotent)."""
    created = demo.load(current_app.config["BASE_DOMAIN"], current_app.config["CONSOLE_HOST"])
    db.session.commit()
    if created:
        click.echo(f"Loaded demo resellers: {', '.join(created)}")
    else:
        click.echo("Demo data already present; nothing added.")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_group)
