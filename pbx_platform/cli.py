"""The `pbx` command: a Flask CLI group (`pbx db upgrade`, `pbx run`, ...).

The core adds no context's commands: each context registers its own from its
``init_app`` (``tenants`` adds `pbx demo load`).
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

import pbx_platform


def _create_app() -> Flask:
    return pbx_platform.create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Manage the PBX reseller platform."""
