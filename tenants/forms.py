"""Forms of the tenant portals (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Length

from pbx_platform.passwords import LOGIN_ID_MAX_LENGTH, MAX_PASSWORD_LENGTH, normalize_login_id
from tenants.models import InvoiceDelivery, PasswordPolicy


class CircleLoginForm(FlaskForm):
    # Full-width input is normalised (NFKC) before it is checked, and shown back so.
    login_id = StringField(
        _l("Login ID"),
        filters=[normalize_login_id],
        validators=[DataRequired(), Length(max=LOGIN_ID_MAX_LENGTH)],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    next = HiddenField()


class StaffLoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    """R15: current password, new password, new password again."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    new_password_repeat = PasswordField(
        _l("New password (again)"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class LoginIdForm(FlaskForm):
    """R14; full-width input is normalised (NFKC) before it is checked, and shown back so."""

    login_id = StringField(
        _l("New login ID"),
        filters=[normalize_login_id],
        validators=[DataRequired(), Length(max=LOGIN_ID_MAX_LENGTH)],
    )


POLICY_LABELS = {
    PasswordPolicy.NONE: _l("None: no forced change"),
    PasswordPolicy.WARN: _l("Warn: urge a change at login (may be skipped)"),
    PasswordPolicy.FORCE: _l("Force: the portal cannot be used until the password is changed"),
}


class PasswordPolicyForm(FlaskForm):
    """R17."""

    policy = RadioField(
        _l("Forced password change"),
        choices=[SelectChoice(p.value, label) for p, label in POLICY_LABELS.items()],
        validators=[DataRequired()],
    )


class EmptyForm(FlaskForm):
    """A form with nothing but its CSRF token (logout, 'later')."""


INVOICE_DELIVERY_LABELS = {
    InvoiceDelivery.PORTAL: _l("Download from the portal"),
    InvoiceDelivery.EMAIL: _l("E-mail notice to the billing contact"),
    InvoiceDelivery.POST: _l("By post (needs the invoice mailing option)"),
}


class CustomerForm(FlaskForm):
    """A customer account's details. The fields only carry what was typed: the rules
    (normalisation, katakana, postal code, phone, R2 for post) are the service's
    (``tenants.services.customers.check_details``), whose messages the view attaches."""

    company_name = StringField(_l("Company name"))
    company_name_kana = StringField(
        _l("Reading (katakana)"),
        description=_l("Suggested from the company name; check it and correct it if needed."),
    )
    postal_code = StringField(_l("Postal code"), description=_l("7 digits, such as 100-0001."))
    prefecture = SelectField(_l("Prefecture"), choices=[], validate_choice=False)
    city = StringField(_l("City, ward, town or village"))
    address_line1 = StringField(_l("Address (town, block and number)"))
    address_line2 = StringField(_l("Building, floor and room"))
    billing_contact_name = StringField(_l("Billing contact"))
    billing_contact_email = EmailField(_l("Billing contact's e-mail address"))
    billing_contact_phone = TelField(_l("Billing contact's phone number"))
    invoice_delivery = RadioField(
        _l("How the invoices reach the customer"),
        choices=[SelectChoice(d.value, label) for d, label in INVOICE_DELIVERY_LABELS.items()],
        validate_choice=False,
    )
