"""Forms of the circle settings pages (Flask-WTF: every form carries a CSRF token).

The forms only carry the fields; the rules (ranges, names, ownership) live in
``tenants.services.circles``, so they hold without a request too.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField

from tenants.services.circles import DISPLAY_NAME_MAX, PICKUP_NAME_MAX


def _id_or_none(value: object) -> int | None:
    """A submitted id, or None when it is not a number (the service then refuses it)."""
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None


TERMINAL_TYPE_CHOICES = [
    ("sip_phone", _l("SIP phone")),
    ("softphone", _l("Softphone")),
    ("mobile", _l("Mobile phone")),
    ("phs", _l("PHS")),
]
CARRIER_CHOICES = [
    ("", _l("— (not a mobile)")),
    ("docomo", _l("docomo")),
    ("au", _l("au (KDDI)")),
    ("softbank", _l("SoftBank")),
    ("other", _l("Other")),
]


class UniqueForm(FlaskForm):
    """A unique's own settings: extension (R13), display name, pickup group (R16)."""

    extension = StringField(
        _l("Extension"),
        render_kw={"maxlength": 10, "inputmode": "numeric", "autocomplete": "off"},
    )
    display_name = StringField(
        _l("Name"), render_kw={"maxlength": DISPLAY_NAME_MAX, "autocomplete": "off"}
    )
    # The service checks the group belongs to the circle, with a message of its own.
    pickup_group_id = SelectField(_l("Pickup group"), coerce=_id_or_none, validate_choice=False)
    # Phones only; the service checks the choices (and R8 against them).
    terminal_type = SelectField(
        _l("Terminal type"),
        choices=[SelectChoice(value, label) for value, label in TERMINAL_TYPE_CHOICES],
        validate_choice=False,
    )
    carrier = SelectField(
        _l("Carrier (mobiles)"),
        choices=[SelectChoice(value, label) for value, label in CARRIER_CHOICES],
        validate_choice=False,
    )


class PickupGroupForm(FlaskForm):
    """R16: a pickup group's name."""

    name = StringField(
        _l("Name"),
        description=_l("Half-width letters and digits, up to %(n)d characters.", n=PICKUP_NAME_MAX),
        render_kw={"maxlength": PICKUP_NAME_MAX, "autocomplete": "off", "spellcheck": "false"},
    )
