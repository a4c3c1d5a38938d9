"""Translated labels and display filters for the tenant templates (the Japanese formats
come from ``pbx_platform.japanese``)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

from pbx_platform.japanese import jdate, jdatetime, national, yen
from pbx_platform.sessions import describe_user_agent
from tenants.models import (
    AccountOptionKind,
    AccountStatus,
    Carrier,
    InvoiceDelivery,
    NumberKind,
    PasswordPolicy,
    TerminalType,
    UniqueKind,
)

NUMBER_KIND_LABELS = {
    NumberKind.LANDLINE: _l("Landline (0AB-J)"),
    NumberKind.IP: _l("IP phone (050)"),
    NumberKind.FREE_DIAL: _l("Free-dial (0120/0800)"),
}
KIND_LABELS = {
    UniqueKind.PHONE: _l("Phone"),
    UniqueKind.CONFERENCE_ROOM: _l("Conference room"),
    UniqueKind.IVR: _l("IVR"),
    UniqueKind.OUTBOUND_SELECTOR: _l("Outbound number selector"),
}
TERMINAL_LABELS = {
    TerminalType.SIP_PHONE: _l("SIP phone"),
    TerminalType.SOFTPHONE: _l("Softphone"),
    TerminalType.MOBILE: _l("Mobile"),
    TerminalType.PHS: _l("PHS"),
}
CARRIER_LABELS = {
    Carrier.DOCOMO: "docomo",
    Carrier.AU: "au",
    Carrier.SOFTBANK: "SoftBank",
    Carrier.OTHER: _l("other carrier"),
}
ACCOUNT_OPTION_LABELS = {
    AccountOptionKind.OEM_SERVER: _l("OEM server"),
    AccountOptionKind.INVOICE_MAILING: _l("Invoice mailing"),
}
POLICY_LABELS = {
    PasswordPolicy.NONE: _l("None"),
    PasswordPolicy.WARN: _l("Warn"),
    PasswordPolicy.FORCE: _l("Force"),
}


INVOICE_DELIVERY_LABELS = {
    InvoiceDelivery.PORTAL: _l("Portal download"),
    InvoiceDelivery.EMAIL: _l("E-mail notice"),
    InvoiceDelivery.POST: _l("Post"),
}


def account_status(account: Any, today: Any) -> tuple[str, str]:
    """(key, label) of a customer account's state: active, suspended, terminated (its
    options run until the closing date) or closed."""
    if account.is_closed(today):
        return "closed", str(_l("Closed on %(date)s", date=jdate(account.closes_on)))
    if account.status == AccountStatus.SUSPENDED:
        return "suspended", str(_l("Suspended"))
    if account.closes_on is not None:
        return "terminated", str(
            _l("Terminated: closes on %(date)s", date=jdate(account.closes_on))
        )
    return "active", str(_l("Active"))


def terminal_label(unique: Any) -> str:
    if unique.terminal_type is None:
        return "—"
    label = str(TERMINAL_LABELS[unique.terminal_type])
    if unique.carrier is not None:
        label += f" ({CARRIER_LABELS[unique.carrier]})"
    return label


def browser_summary(user_agent: str | None) -> str:
    """A session's user agent as "browser version · system" (Chrome 131 · Windows)."""
    browser, system = describe_user_agent(user_agent or "")
    return " · ".join([browser or str(_l("Unknown browser")), *([system] if system else [])])


def init_app(app: Flask) -> None:
    app.add_template_filter(yen)
    app.add_template_filter(national)
    app.add_template_filter(jdate)
    app.add_template_filter(jdatetime)
    app.add_template_filter(browser_summary)
    app.add_template_global(terminal_label)
    app.add_template_global(lambda kind: str(KIND_LABELS[kind]), "kind_label")
    app.add_template_global(lambda kind: str(ACCOUNT_OPTION_LABELS[kind]), "account_option_label")
    app.add_template_global(lambda policy: str(POLICY_LABELS[policy]), "policy_label")
    app.add_template_global(account_status)
    app.add_template_global(
        lambda delivery: str(INVOICE_DELIVERY_LABELS[delivery]), "invoice_delivery_label"
    )
    app.add_template_global(lambda kind: str(NUMBER_KIND_LABELS[kind]), "number_kind_label")
