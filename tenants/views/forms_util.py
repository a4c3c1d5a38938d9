"""Form helpers for pages whose fields are generated (one per option kind, per unique)."""

from __future__ import annotations

from datetime import date

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from pbx_platform.validation import normalized


def validate_csrf_or_400() -> None:
    """The same CSRF check Flask-WTF forms make, for hand-built forms."""
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError as exc:
        raise CSRFError(str(exc)) from exc


def parse_day(raw: str | None) -> date | None:
    """A date field or query argument (YYYY-MM-DD), or None when it is not one."""
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def parse_quantity(raw: str, *, minimum: int = 1, maximum: int) -> tuple[int | None, str | None]:
    """A whole number typed by a person (full-width digits accepted, NFKC)."""
    text = normalized(raw)
    if not text.isdigit() or len(text) > 9:
        return None, str(_l("Enter a whole number."))
    value = int(text)
    if not minimum <= value <= maximum:
        return None, str(_l("Enter a number from %(min)d to %(max)d.", min=minimum, max=maximum))
    return value, None
