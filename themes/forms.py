"""The brand editor's form (R19).

The form only carries the fields and the CSRF token; the rules live in
``themes.services.update_theme``, so they hold without a request too.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField

from themes.services import EMAIL_MAX, FOOTER_TEXT_MAX, PRODUCT_NAME_MAX


class ThemeForm(FlaskForm):
    product_name = StringField(_l("Product name"), render_kw={"maxlength": PRODUCT_NAME_MAX})
    primary_color = StringField(
        _l("Primary colour (header and buttons)"),
        description=_l("# and six hexadecimal digits, e.g. #1f4e8c"),
        render_kw={"maxlength": 20, "spellcheck": "false", "placeholder": "#1f4e8c"},
    )
    accent_color = StringField(
        _l("Accent colour (highlighted rows)"),
        description=_l("# and six hexadecimal digits, e.g. #e8f0fb"),
        render_kw={"maxlength": 20, "spellcheck": "false", "placeholder": "#e8f0fb"},
    )
    support_phone = StringField(
        _l("Support phone number"),
        render_kw={"maxlength": 30, "inputmode": "tel", "placeholder": "03-1234-5678"},
    )
    support_email = StringField(
        _l("Support e-mail address"),
        render_kw={"maxlength": EMAIL_MAX, "inputmode": "email"},
    )
    footer_text = StringField(_l("Footer text"), render_kw={"maxlength": FOOTER_TEXT_MAX})
    logo = FileField(_l("New logo (PNG or JPEG)"), render_kw={"accept": "image/png,image/jpeg"})
    remove_logo = BooleanField(_l("Remove the current logo"))
