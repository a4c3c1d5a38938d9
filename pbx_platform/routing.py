"""URL converters: an id in a URL is a row id, or the URL matches nothing (404).

Every table's primary key is a 32-bit ``INTEGER`` on PostgreSQL and a 64-bit one on
SQLite. An id past the column's range is not "not found" to the database driver but
an error (an overflow on PostgreSQL, ``OverflowError`` in SQLite's binding), so the
app's ``int`` converter bounds ids once, for every route, instead of each view.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

MIN_ID = 1
MAX_ID = 2**31 - 1  # PostgreSQL's INTEGER, the smaller of the two databases' ranges


def parse_id(text: str | None) -> int | None:
    """An id written in ASCII digits, within ``MIN_ID..MAX_ID``; else ``None``."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if MIN_ID <= value <= MAX_ID else None


class IdConverter(IntegerConverter):
    """``<int:name>``: ASCII digits only (``\\d`` would take full-width and other
    scripts' digits), at most ten of them, and a value within ``MIN_ID..MAX_ID``."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", MIN_ID)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Before any blueprint: a rule takes its converter when it is added."""
    app.url_map.converters["int"] = IdConverter
