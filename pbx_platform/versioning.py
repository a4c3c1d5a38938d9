"""Optimistic locking of the settings forms (R18, and every page that saves settings).

A settings form carries, as the hidden field ``edit_version``, the version of the
object it was loaded at (``EditVersioned.edit_version``, or another column made by
``edit_version_column`` where one object owns several pages). The service that saves
it calls ``claim_edit`` before writing anything: one conditional UPDATE bumps the
version only if it is still the one the form saw. Of two saves from forms opened at
the same version, the first wins and the later one changes nothing (on PostgreSQL it
waits for the first one's row lock, then finds the version moved on); the view then
says so (``STALE_EDIT``) and shows the current values. Cancel (R18) is a plain reload
of the page and needs nothing of this.

Where a page edits a set of rows (the recording refusal ticks of every unique), the
version is the owning object's, bumped on every save of that page.
"""

from __future__ import annotations

from typing import Any, cast

from flask import flash, redirect
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, update
from sqlalchemy.orm import attributes
from werkzeug.wrappers import Response

from pbx_platform.db import db
from pbx_platform.validation import normalized

FIELD = "edit_version"

STALE_EDIT = _l(
    "Someone else changed this page after you opened it. Nothing was saved; "
    "the current settings are shown."
)


class StaleEdit(ValueError):
    """The form was loaded at another version than the object has now: nothing saved."""

    def __init__(self) -> None:
        super().__init__(str(STALE_EDIT))


def form_version(raw: object) -> int:
    """The version a submitted form carries; -1 (never a version) when it is missing or
    garbled, so that such a save is refused as stale rather than applied blind."""
    text = normalized(raw or "")
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        return -1
    return int(text)


def claim_edit(obj: Any, seen: int, column: str = FIELD) -> None:
    """Bump ``obj``'s version from ``seen``, or raise ``StaleEdit`` and change nothing.

    An object not yet in the database (a theme saved for the first time) is at
    version 0 and gets version 1; two first saves meet at its unique key instead.
    """
    current = getattr(obj, column) or 0
    state = attributes.instance_state(obj)
    if state.key is None:  # transient or pending: nothing to compare against but 0
        if seen != 0:
            raise StaleEdit()
        setattr(obj, column, 1)
        return
    if seen != current:
        raise StaleEdit()
    cls = type(obj)
    # An UPDATE returns a CursorResult, which carries the rowcount.
    result = cast(
        "CursorResult[Any]",
        db.session.execute(
            update(cls)
            .where(cls.id == obj.id, getattr(cls, column) == seen)
            .values({column: getattr(cls, column) + 1})
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise StaleEdit()
    # The row says seen + 1 now; so does the object, without a change to flush.
    attributes.set_committed_value(obj, column, seen + 1)


def check_edit(obj: Any, seen: int, column: str = FIELD) -> None:
    """``StaleEdit`` unless the form saw the version the object was loaded at: called
    first, so a stale form is told so rather than about its fields. Writes nothing;
    ``claim_edit`` is the check that holds against a parallel save."""
    if seen != (getattr(obj, column) or 0):
        raise StaleEdit()


def refuse_stale(url: str) -> Response:
    """The answer to a stale save: the message, and the page with the current values."""
    flash(STALE_EDIT, "error")
    return redirect(url)
