"""The version a settings form was opened at (``pbx_platform.versioning``), read from
the page as a browser would submit it back."""

from __future__ import annotations

from typing import Any

from tests.conftest import EDIT_VERSION


def page_version(client: Any, path: str) -> str | None:
    """The ``edit_version`` of the first form on the page, or None (no such form, or
    the page is not shown to this client)."""
    found = EDIT_VERSION.search(client.get(path).get_data(as_text=True))
    return found.group(1) if found else None


def with_version(client: Any, path: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the version the page at ``path`` shows, unless it names one."""
    if "edit_version" in data:
        return data
    version = page_version(client, path)
    return data if version is None else {**data, "edit_version": version}
