"""The main menu, as data: each area (``staff``, ``console``, ``circle``) has a list of
sections, each with the endpoint it opens, its label and the R22 action it needs.

Contexts add their sections in their ``init_app`` (``add_section``); ``_nav.html``
shows, in order, the sections of the page's area that the login may open, and marks
the one the page belongs to (its endpoint, or any endpoint in ``also``). A section
whose endpoint the app does not have is left out, so a context may list a page that
another part adds later."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request, url_for

from pbx_platform.permissions import may


@dataclass(frozen=True)
class Section:
    area: str
    endpoint: str
    label: Any  # a lazy string
    action: str | None = None  # the R22 action it needs; None: every login of the area
    also: tuple[str, ...] = ()  # endpoint prefixes that count as this section
    order: int = 100


@dataclass(frozen=True)
class Shown:
    url: str
    label: str
    current: bool


_sections: list[Section] = []


def add_section(
    area: str,
    endpoint: str,
    label: Any,
    *,
    action: str | None = None,
    also: Sequence[str] = (),
    order: int = 100,
) -> None:
    """One line of the menu (idempotent per area and endpoint)."""
    _sections[:] = [s for s in _sections if (s.area, s.endpoint) != (area, endpoint)]
    _sections.append(Section(area, endpoint, label, action, tuple(also), order))
    _sections.sort(key=lambda s: s.order)


def sections(area: str) -> list[Shown]:
    here = request.endpoint or ""
    shown = []
    for section in _sections:
        if section.area != area or section.endpoint not in current_app.view_functions:
            continue
        if section.action is not None and not may(section.action):
            continue
        current = here == section.endpoint or any(here.startswith(p) for p in section.also)
        shown.append(Shown(url_for(section.endpoint), str(section.label), current))
    return shown


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav_sections"] = sections
