"""Contexts import downward only (DESIGN: the core imports no context; contexts meet
through hooks registered in their ``init_app``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTEXTS = ("tenants", "themes", "invoices")


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


def test_the_layering_scan_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text("from tenants import demo\nimport themes.models\n")
    assert imported_packages(module) >= {"tenants", "themes"}
