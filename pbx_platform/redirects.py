"""Where a redirect may lead: the one decision for every target a request supplies.

Login pages (``next``), the idle and absolute time-outs, the language switch and any
form's ``next`` ask ``safe_target``. Only a path on the same host survives; anything
else goes to the portal's home (``/``, which sends each login to its own home page).

Browsers are lenient where a naive check is strict: they drop TAB, CR and LF anywhere
in a URL, strip leading spaces and control characters, read ``\\`` as ``/`` and treat
``//host`` as another host. So the check refuses, rather than repairs: a target with
any control character, any space, a backslash (raw or percent-encoded), a scheme or a
host, a leading ``//`` or a dot segment is not a same-host path (R20: a portal never
sends its users to a site that is not the reseller's).
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote, unquote, urlsplit

from flask import Flask, request

HOME = "/"
# What a path and query keep unescaped: RFC 3986's reserved and unreserved characters
# and ``%`` (targets arrive already percent-encoded).
_URL_SAFE = "/?#[]@!$&'()*+,;=:%-._~"
_MAX_LENGTH = 2048
_MAX_DECODING = 3


def _is_refused_character(char: str) -> bool:
    # Other (C*: controls, format characters such as zero-width ones, unassigned) and
    # separators (Z*: every kind of space, U+3000 included) have no place in a path.
    return char == "\\" or unicodedata.category(char)[0] in "CZ"


def _is_plain_path(path: str) -> bool:
    if not path.startswith("/") or path.startswith("//"):
        return False
    if any(_is_refused_character(char) for char in path):
        return False
    return not any(segment in (".", "..") for segment in path.split("/"))


def safe_target(target: object, default: str = HOME) -> str:
    """``target`` when it is a path on this host, else ``default``.

    The whole target must be free of control characters, spaces and backslashes and
    carry no scheme or host. Its path is checked again after each round of
    percent-decoding (up to three), so ``/%09/evil.example`` or ``/%252F%252Fevil`` go
    home as surely as their raw forms (the query is left alone: a decoded query never
    becomes a path). What survives is returned percent-encoded (ASCII only), so the
    ``Location`` header says exactly what was checked.
    """
    if not isinstance(target, str) or not target or len(target) > _MAX_LENGTH:
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    if any(_is_refused_character(char) for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    path = parts.path
    for _ in range(_MAX_DECODING + 1):
        if not _is_plain_path(path):
            return default
        try:
            decoded = unquote(path, errors="strict")
        except UnicodeDecodeError:
            return default  # percent-encoded bytes that are not UTF-8
        if decoded == path:
            return quote(target, safe=_URL_SAFE)
        path = decoded
    return default


def current_target() -> str:
    """The current request's path and query as a redirect target (percent-encoded, as
    the browser sent it: ``request.path`` is decoded, and a decoded TAB or CR would be
    taken out of the URL by the browser)."""
    path = quote(request.path, safe=_URL_SAFE.replace("%", "").replace("?", ""))
    query = request.query_string.decode("latin-1")
    return f"{path}?{query}" if query else path


def init_app(app: Flask) -> None:
    # Pages send their own address as the language switch's ``next``.
    app.add_template_global(current_target)
