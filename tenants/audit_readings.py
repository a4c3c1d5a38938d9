"""How the tenant context's tables and business actions read in the audit trail
(``pbx_platform.audit_read``): their names, the fields that name a row, and the page
each links to."""

from __future__ import annotations

from collections.abc import Callable

from flask import request, url_for
from flask_babel import lazy_gettext as _l

from pbx_platform.audit_read import (
    register_action,
    register_fields,
    register_object,
    register_values,
)
from pbx_platform.models import AuditLog
from tenants.calls.history import DIRECTION_LABELS, DISPOSITION_LABELS
from tenants.labels import ACCOUNT_OPTION_LABELS, KIND_LABELS, POLICY_LABELS, TERMINAL_LABELS
from tenants.options.services import OPTION_LABELS


def _on_portal() -> bool:
    return request.blueprint != "console"


def _account(entry: AuditLog) -> str | None:
    """An account's own row, or a row that belongs to one: the account's page."""
    account_id = entry.object_id if entry.object_type == "account" else entry.account_id
    if account_id is None or not _on_portal():
        return None
    return url_for("staff_portal.account_detail", account_id=account_id)


def _circle_page(entry: AuditLog) -> str | None:
    """A circle's own row, or a row that belongs to one: the circle's page."""
    circle_id = entry.object_id if entry.object_type == "circle" else entry.circle_id
    if circle_id is None or not _on_portal():
        return None
    return url_for("staff_portal.circle_detail", circle_id=circle_id)


def _reseller(entry: AuditLog) -> str | None:
    if _on_portal():
        return None
    return url_for("console.reseller_detail", reseller_id=entry.object_id)


OBJECTS: dict[str, tuple[object, tuple[str, ...], Callable[[AuditLog], str | None] | None]] = {
    "reseller": (_l("reseller"), ("company_name", "name"), _reseller),
    "reseller_host": (_l("host name"), ("host",), None),
    "account": (_l("customer"), ("company_name",), _account),
    "account_option": (_l("account option"), ("kind",), _account),
    "circle": (_l("circle"), ("name", "login_id"), _circle_page),
    "circle_phone_number": (_l("phone number"), ("number", "e164"), _circle_page),
    "pickup_group": (_l("pickup group"), ("name",), _circle_page),
    "unique_entry": (_l("unique"), ("display_name", "name", "extension"), _circle_page),
    "ring_group": (_l("ring group"), ("name",), _circle_page),
    "ring_group_member": (_l("ring group member"), (), _circle_page),
    "staff": (_l("staff user"), ("email", "name"), None),
    "circle_option": (_l("circle option"), ("kind",), _circle_page),
    "cart": (_l("cart"), (), None),
    "cart_line": (_l("cart line"), ("kind",), None),
    "conference_room": (_l("conference room"), ("name",), _circle_page),
    "conference_member": (_l("conference member"), (), _circle_page),
    "outbound_selector": (_l("outbound number selector"), ("name",), _circle_page),
    "ivr": (_l("IVR"), ("name",), _circle_page),
    "recording_limit": (_l("recording limit"), (), _circle_page),
    "recording": (_l("recording"), (), _circle_page),
    "call_record": (_l("call"), ("call_id",), _circle_page),
    "price_book_entry": (_l("price"), ("option_kind",), None),
    "theme": (_l("branding"), (), None),
    "login_session": (_l("login session"), (), None),
}

ACTIONS = {
    "cart.confirm": _l("%(who)s confirmed a cart, which changed %(object)s"),
    "circle.extension_length": _l("%(who)s changed the extension length of %(object)s"),
    "circle.login_id_change": _l("%(who)s changed the login ID of %(object)s"),
    "circle.password_policy": _l("%(who)s set the password policy of %(object)s"),
    "circle.renumber": _l("%(who)s renumbered %(object)s for a new extension length"),
    "licences.ticks": _l("%(who)s changed the licences of %(object)s"),
    "oem_server.grant": _l("%(who)s granted the OEM server: %(object)s"),
    "oem_server.end": _l("%(who)s ended the OEM server: %(object)s"),
    "recording.limit": _l("%(who)s changed the recording limit: %(object)s"),
    "recording.purge": _l("%(who)s deleted the recordings past their retention period: %(object)s"),
    "recording.recount": _l("%(who)s corrected the recording storage counter: %(object)s"),
    "reseller.retention": _l("%(who)s changed how long recordings are kept: %(object)s"),
    "calls.import": _l("%(who)s imported a call from CSV: %(object)s"),
    "theme.update": _l("%(who)s changed the branding: %(object)s"),
}

FIELDS = {
    "name": _l("name"),
    "company_name": _l("company name"),
    "login_id": _l("login ID"),
    "extension": _l("extension"),
    "extension_length": _l("extension length"),
    "password_policy": _l("password policy"),
    "password_hash": _l("password"),
    "kind": _l("kind"),
    "quantity": _l("quantity"),
    "starts_on": _l("starts on"),
    "ends_on": _l("ends on"),
    "status": _l("status"),
    "email": _l("e-mail"),
    "role": _l("role"),
    "active": _l("active"),
    "postal_code": _l("postal code"),
    "prefecture": _l("prefecture"),
    "city": _l("city"),
    "address_line1": _l("address"),
    "monitoring": _l("monitoring"),
    "whispering": _l("whispering"),
    "terminal_type": _l("terminal type"),
    "carrier": _l("carrier"),
    "pickup_group_id": _l("pickup group"),
    "display_name": _l("display name"),
    "ring_group_id": _l("ring group"),
    "unique_id": _l("unique"),
    "position": _l("order"),
    "e164": _l("phone number"),
    "host": _l("host name"),
    "option_kind": _l("option"),
    "monthly_price_yen": _l("monthly price (yen)"),
    "registration_number": _l("registration number"),
    "recording_refused": _l("recording refused"),
    "recordings": _l("recordings"),
    "bytes": _l("bytes"),
    "used_bytes": _l("bytes used"),
    "call_id": _l("call ID"),
    "direction": _l("direction"),
    "caller": _l("caller"),
    "called": _l("called party"),
    "disposition": _l("result"),
    "started_at": _l("start"),
    "recording_retention_days": _l("recordings kept (days after the option ends)"),
}


def register() -> None:
    for object_type, (label, title, link) in OBJECTS.items():
        register_object(object_type, label, title=title, link=link)
    for action, sentence in ACTIONS.items():
        register_action(action, sentence)
    register_fields(FIELDS)
    options = {kind.value: label for kind, label in OPTION_LABELS.items()}
    options |= {kind.value: label for kind, label in ACCOUNT_OPTION_LABELS.items()}
    register_values("kind", options | {kind.value: label for kind, label in KIND_LABELS.items()})
    register_values("option_kind", options)
    register_values("password_policy", {p.value: label for p, label in POLICY_LABELS.items()})
    register_values("terminal_type", {t.value: label for t, label in TERMINAL_LABELS.items()})
    register_values("direction", {d.value: label for d, label in DIRECTION_LABELS.items()})
    register_values("disposition", {d.value: label for d, label in DISPOSITION_LABELS.items()})
