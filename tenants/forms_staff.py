"""Forms of the staff users' pages, invitations and password recovery."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from pbx_platform.passwords import MAX_PASSWORD_LENGTH
from tenants.models import StaffRole

# Longer than any valid value, so that over-long input reaches the service's message
# instead of being cut; the service has the rules.
_LENIENT = 1000

ROLE_LABELS = {
    StaffRole.ADMIN: _l("Admin: everything in the portal"),
    StaffRole.BILLING: _l("Billing: customers' billing data, prices and invoices"),
    StaffRole.SUPPORT: _l("Support: reads everything, sends password resets"),
}
ROLE_NAMES = {
    StaffRole.ADMIN: _l("Admin"),
    StaffRole.BILLING: _l("Billing"),
    StaffRole.SUPPORT: _l("Support"),
}
LOCALE_LABELS = {"ja": _l("Japanese"), "en": _l("English")}


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]


def _locale_choices() -> list[SelectChoice]:
    return [SelectChoice(code, label) for code, label in LOCALE_LABELS.items()]


class ManagerInviteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=_LENIENT)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=_LENIENT)])
    locale = SelectField(_l("Language of the e-mails"), choices=_locale_choices())


class StaffInviteForm(ManagerInviteForm):
    role = SelectField(_l("Role"), choices=_role_choices())


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_role_choices())


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=_LENIENT)])


class CircleForgotPasswordForm(FlaskForm):
    login_id = StringField(_l("Login ID"), validators=[DataRequired(), Length(max=_LENIENT)])


class SetPasswordForm(FlaskForm):
    """R15: the new password twice."""

    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    new_password_repeat = PasswordField(
        _l("New password (again)"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class RecoveryEmailForm(FlaskForm):
    recovery_email = EmailField(
        _l("Recovery e-mail address"), validators=[Optional(), Length(max=_LENIENT)]
    )
