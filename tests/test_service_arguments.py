"""Services take typed arguments, not forms (DESIGN: views parse and render): no module
of the services reads the request or handles a request form."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICE_PACKAGES = ("tenants/options", "tenants/services")
# What a service would need to read a request or its form.
FORBIDDEN_NAMES = {"request", "MultiDict", "ImmutableMultiDict", "CombinedMultiDict"}


def request_names(source: str) -> set[str]:
    """The request objects a module imports (from flask or werkzeug)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
            "flask",
            "werkzeug",
        ):
            found |= {alias.name for alias in node.names} & FORBIDDEN_NAMES
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            if isinstance(node.value, ast.Name) and node.value.id in ("flask", "werkzeug"):
                found.add(node.attr)
    return found


def service_modules() -> list[Path]:
    return [path for package in SERVICE_PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]


@pytest.mark.parametrize("path", service_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_services_read_no_request(path: Path) -> None:
    assert request_names(path.read_text()) == set(), f"{path.name} reads the request"


@pytest.mark.parametrize(
    "source",
    [
        "from flask import g, request\n",
        "from werkzeug.datastructures import MultiDict\n",
        "import flask\nvalue = flask.request.form\n",
    ],
)
def test_the_scan_finds_a_request(source: str) -> None:
    assert request_names(source)


def test_the_ivr_service_is_among_the_scanned_modules() -> None:
    scanned = {str(path.relative_to(ROOT)) for path in service_modules()}
    assert "tenants/options/ivr/service.py" in scanned
