"""The tenant context's menu sections (``pbx_platform.navigation``), one line each.

To add a page to the menu, add one line here (or call ``add_section`` from your own
context's ``init_app``): the area, the endpoint, its label, the R22 action it needs,
and the endpoint prefixes that count as "in this section". A section whose endpoint
does not exist yet is not shown."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from pbx_platform.navigation import add_section

STAFF_SECTIONS = [
    ("staff_portal.dashboard", _l("Dashboard"), "account_view", ()),
    (
        "staff_portal.customers_list",
        _l("Customers"),
        "account_view",
        ("staff_portal.account", "staff_portal.customer"),
    ),
    (
        "staff_portal.circles",
        _l("Circles"),
        "circle_view",
        ("staff_portal.circle", "circle_staff."),
    ),
    ("staff_users.users", _l("Staff users"), "staff_manage", ("staff_users.",)),
    ("staff_portal.audit", _l("Audit log"), "audit_view", ()),
    ("themes.edit_theme", _l("Branding"), "theme_edit", ("themes.",)),
    (
        "staff_portal.recording_retention",
        _l("Recording retention"),
        "recording_retention_set",
        (),
    ),
    ("staff_portal.sessions", _l("Active sessions"), None, ()),
]
CONSOLE_SECTIONS = [
    ("console.resellers", _l("Resellers"), "resellers_manage", ("console.reseller",)),
    ("console.numbers", _l("Numbers"), "resellers_manage", ("console.number",)),
    ("console.accounts", _l("Accounts"), "account_view", ()),
    ("console.api_clients", _l("API clients"), "api_clients_manage", ("console.api_client",)),
    ("console.audit", _l("Audit log"), "audit_view", ()),
    ("console.sessions", _l("Active sessions"), None, ()),
]
CIRCLE_SECTIONS = [
    ("circle_portal.home", _l("Home"), None, ()),
    ("circle_self.options", _l("Options"), None, ("circle_self.",)),
    ("circle_portal.change_password", _l("Password"), None, ()),
    ("circle_portal.change_login_id", _l("Login ID"), None, ()),
    ("circle_portal.sessions", _l("Active sessions"), None, ()),
]


def register() -> None:
    for area, lines in (
        ("staff", STAFF_SECTIONS),
        ("console", CONSOLE_SECTIONS),
        ("circle", CIRCLE_SECTIONS),
    ):
        for order, (endpoint, label, action, also) in enumerate(lines):
            add_section(area, endpoint, label, action=action, also=also, order=order * 10)
