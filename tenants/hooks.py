"""What the contexts above ``tenants`` add to its work, registered in their ``init_app``.

Contexts import downward only (DESIGN; ``tests/test_layering.py``): ``themes`` and
``invoices`` build on the resellers, accounts and circles of ``tenants``, so
``tenants`` never imports them. Where its rules need what they own (a new
reseller's brand, the price of an option, their part of the demo), it calls the
function they registered here. Registering twice is harmless: the factory may build
several apps in one process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tenants.models import Reseller

PriceBook = Callable[[int], Mapping[str, int]]
BrandMaker = Callable[["Reseller", Mapping[str, Any]], object]
DemoStep = Callable[["Reseller"], object]

_price_books: list[PriceBook] = []
_brand_makers: list[BrandMaker] = []
_demo_steps: list[DemoStep] = []


def _add(registry: list[Any], fn: Any) -> None:
    if fn not in registry:
        registry.append(fn)


def register_price_book(fn: PriceBook) -> None:
    """``fn(reseller_id)`` gives option kind → monthly yen per unit (``invoices``)."""
    _add(_price_books, fn)


def register_brand_maker(fn: BrandMaker) -> None:
    """``fn(reseller, values)`` gives a new reseller its brand (``themes``, R19)."""
    _add(_brand_makers, fn)


def register_demo_step(fn: DemoStep) -> None:
    """``fn(reseller)`` adds a context's demo rows for one demo reseller."""
    _add(_demo_steps, fn)


def price_book(reseller_id: int) -> dict[str, int]:
    prices: dict[str, int] = {}
    for fn in _price_books:
        prices.update(fn(reseller_id))
    return prices


def make_brand(reseller: Reseller, **values: Any) -> None:
    for fn in _brand_makers:
        fn(reseller, values)


def run_demo_steps(reseller: Reseller) -> None:
    for fn in _demo_steps:
        fn(reseller)
