"""Price books, and later rating, monthly invoice runs and payments."""

from __future__ import annotations

from flask import Flask

from invoices import demo, services
from invoices import models as _models  # noqa: F401  (mapped classes)
from tenants import hooks


def init_app(app: Flask) -> None:
    # The option services and the cart price what they show from the price book (R21).
    hooks.register_price_book(services.prices)
    hooks.register_demo_step(demo.add_price_book)
