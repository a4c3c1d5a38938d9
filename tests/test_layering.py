"""Contexts import downward only (DESIGN: the core imports no context; contexts meet
through hooks registered in their ``init_app``).

The order of the floors, from DESIGN's layout and docs/architecture.md:

1. ``pbx_platform``, the core: knows no context (the factory in its ``__init__`` alone
   composes them).
2. ``tenants``: resellers, accounts, circles and their options; everything else is
   about them.
3. ``themes`` (a reseller's brand, R19) and ``invoices`` (its price book and invoices,
   R21) stand side by side on ``tenants``; neither imports the other.

Where a lower floor needs what a higher one owns, the higher one registers a function
in ``tenants.hooks`` (or the core's registries) from its ``init_app``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTEXTS = ("tenants", "themes", "invoices")
# What each context may import, besides itself and the core.
BELOW = {"tenants": set(), "themes": {"tenants"}, "invoices": {"tenants"}}


def imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
    return found


def core_modules() -> list[Path]:
    # The factory composes the contexts; it is the one place that may name them.
    return [p for p in sorted((ROOT / "pbx_platform").rglob("*.py")) if p.name != "__init__.py"]


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: p.name)
def test_the_core_imports_no_context(path: Path) -> None:
    assert imported_packages(path).isdisjoint(CONTEXTS), f"{path.name} imports a context"


def context_modules() -> list[tuple[str, Path]]:
    return [
        (context, path) for context in CONTEXTS for path in sorted((ROOT / context).rglob("*.py"))
    ]


def upward_imports(context: str, path: Path) -> set[str]:
    others = set(CONTEXTS) - {context}
    return (imported_packages(path) & others) - BELOW[context]


@pytest.mark.parametrize(
    ("context", "path"),
    context_modules(),
    ids=[str(p.relative_to(ROOT)) for _, p in context_modules()],
)
def test_a_context_imports_only_the_floors_below(context: str, path: Path) -> None:
    # Imports inside functions and under TYPE_CHECKING count as well (ast.walk).
    assert not upward_imports(context, path), (
        f"{path.relative_to(ROOT)} imports {sorted(upward_imports(context, path))}: "
        "register a hook in tenants.hooks or move the shared piece down"
    )


def test_every_context_has_its_floor() -> None:
    assert set(BELOW) == set(CONTEXTS)


def test_the_context_scan_sees_upward_and_sideways_imports(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text(
        "def f():\n    from invoices.models import PriceBookEntry\n"
        "from tenants.models import Reseller\nimport themes.views\n"
    )
    assert upward_imports("tenants", module) == {"invoices", "themes"}
    assert upward_imports("themes", module) == {"invoices"}
    assert upward_imports("invoices", module) == {"themes"}


def test_the_layering_scan_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text("from tenants import demo\nimport themes.models\n")
    assert imported_packages(module) >= {"tenants", "themes"}
