"""Price books, and later rating, monthly invoice runs and payments."""

from __future__ import annotations

from flask import Flask

from invoices import models as _models  # noqa: F401  (mapped classes)


def init_app(app: Flask) -> None:
    """Nothing to register yet: the price book is read by the option services."""
