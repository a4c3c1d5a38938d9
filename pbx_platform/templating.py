"""Per-portal template overrides with a fallback to the base templates.

A theme may put a folder of templates that win over the base ones; an override
can still extend the original as ``@base/<name>``. Jinja caches templates by
name alone, so the active folder is made part of the name
(``<folder>::<name>``), as CTFd does, and one theme's page is never served from
another's cache entry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from flask.templating import Environment
from jinja2 import BaseLoader, FileSystemLoader, TemplateNotFound

SEPARATOR = "::"
BASE_PREFIX = "@base/"

# Set by the themes context: the folder of override folders, and a function that
# names the current request's override folder (or None).
_folder_resolver: list[Callable[[], str | None]] = []
_overrides_root: list[Path] = []


def set_overrides(root: Path, resolver: Callable[[], str | None]) -> None:
    _overrides_root[:] = [root]
    _folder_resolver[:] = [resolver]


class ThemedEnvironment(Environment):
    def _load_template(self, name: str, globals: Any) -> Any:
        folder = _folder_resolver[0]() if _folder_resolver else None
        if folder and SEPARATOR not in name:
            name = f"{folder}{SEPARATOR}{name}"
        return super()._load_template(name, globals)


class OverrideLoader(BaseLoader):
    def __init__(self, base: BaseLoader) -> None:
        self.base = base

    def get_source(self, environment: Any, template: str) -> Any:
        folder, _, name = template.rpartition(SEPARATOR)
        if name.startswith(BASE_PREFIX):
            return self.base.get_source(environment, name.removeprefix(BASE_PREFIX))
        if folder and _overrides_root:
            try:
                return FileSystemLoader(_overrides_root[0] / folder).get_source(environment, name)
            except TemplateNotFound:
                pass
        return self.base.get_source(environment, name)

    def list_templates(self) -> list[str]:
        return self.base.list_templates()


class PbxFlask(Flask):
    jinja_environment = ThemedEnvironment

    def create_global_jinja_loader(self) -> Any:
        return OverrideLoader(super().create_global_jinja_loader())
