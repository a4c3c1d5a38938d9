"""Who may do what (SPEC R22): one matrix of roles × named actions, asked by name.

Views call ``require(Action.X)`` after loading the object through the tenant scope
(an object outside the scope is 404 first, so a refusal never confirms that it
exists); services that act for a principal ask ``allowed(principal, Action.X)``;
templates only show what ``may("x")`` (or a boolean from the view) allowed, and
never test a role themselves.

The core knows no context: a principal takes part by exposing ``permission_role``
(a ``Role``), which the ``tenants`` context derives from its staff kind and role.
Anything without it (the anonymous user) may nothing. *Which* objects a principal
reaches is the tenant scope's business (``pbx_platform.tenancy``, R20); this module
decides only *what* it may do with them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Protocol

from flask import Flask, abort
from flask_login import current_user


class Role(enum.StrEnum):
    """The rows of R22's matrix."""

    PLATFORM_OPERATOR = "platform_operator"  # the console
    RESELLER_ADMIN = "reseller_admin"
    RESELLER_BILLING = "reseller_billing"
    RESELLER_SUPPORT = "reseller_support"
    ACCOUNT_MANAGER = "account_manager"  # the customer's own administrator
    CIRCLE = "circle"  # the circle login


class Action(enum.StrEnum):
    """Everything R22 hands out, by name. Actions marked "(no route yet)" are in the
    matrix for the pages that later issues add; they decide nothing today."""

    # The platform operator's own business (R1, R21).
    RESELLERS_MANAGE = "resellers_manage"  # resellers, hosts, registration numbers
    WHOLESALE_MANAGE = "wholesale_manage"  # wholesale prices and invoices (no route yet)
    OEM_GRANT = "oem_grant"  # grant and end the OEM server option (R1)
    API_CLIENTS_MANAGE = "api_clients_manage"  # the PBX nodes' API clients (console)
    # Inside a reseller.
    ACCOUNT_VIEW = "account_view"  # customers, their billing data and account options
    ACCOUNT_BILLING_EDIT = "account_billing_edit"  # addresses, contacts (no route yet)
    ACCOUNT_OPTIONS_BUY = "account_options_buy"  # R2 invoice mailing, through the cart
    CUSTOMERS_MANAGE = "customers_manage"  # create customers, circles, numbers (no route yet)
    STAFF_MANAGE = "staff_manage"  # the reseller's staff users, account managers
    RETAIL_PRICES_EDIT = "retail_prices_edit"  # (no route yet)
    INVOICE_VIEW = "invoice_view"  # (no route yet)
    INVOICES_MANAGE = "invoices_manage"  # invoices, payments, dispatch (no route yet)
    THEME_EDIT = "theme_edit"  # R19 branding
    AUDIT_VIEW = "audit_view"  # the audit log of the caller's scope
    # To a circle's recovery address.
    PASSWORD_RESET_SEND = "password_reset_send"  # noqa: S105  (an action's name)
    # A circle.
    CIRCLE_VIEW = "circle_view"  # every circle page, read only
    CIRCLE_SETTINGS_EDIT = "circle_settings_edit"  # R3–R8, R13, R16 (and R18 saves)
    CIRCLE_OPTIONS_BUY = "circle_options_buy"  # R9–R12 purchases and cancellations
    CIRCLE_LOGIN_CHANGE = "circle_login_change"  # R14 login ID, R15 password (own login)
    # R17 forced password change.
    PASSWORD_POLICY_SET = "password_policy_set"  # noqa: S105  (an action's name)
    RECORDING_LIMIT_SET = "recording_limit_set"  # R6: raising the 100 GB limit
    RECORDING_RETENTION_SET = "recording_retention_set"  # R6: days kept after the end
    # Back-filling a circle's call records from CSV: the reseller's (calls are rated and
    # invoiced, R24, so neither the customer nor billing staff may add them).
    CALLS_IMPORT = "calls_import"


A = Action
PLATFORM_ONLY = frozenset(
    {A.RESELLERS_MANAGE, A.WHOLESALE_MANAGE, A.OEM_GRANT, A.API_CLIENTS_MANAGE}
)
READ = frozenset({A.ACCOUNT_VIEW, A.CIRCLE_VIEW, A.INVOICE_VIEW, A.AUDIT_VIEW})

MATRIX: Mapping[Role, frozenset[Action]] = {
    # Everything, in every reseller (through the audited platform bypass).
    Role.PLATFORM_OPERATOR: frozenset(Action),
    # Everything inside its reseller.
    Role.RESELLER_ADMIN: frozenset(Action) - PLATFORM_ONLY,
    # Customers' billing data, account options, prices, invoices; reads circles but
    # changes no PBX setting.
    Role.RESELLER_BILLING: READ
    | {A.ACCOUNT_BILLING_EDIT, A.ACCOUNT_OPTIONS_BUY, A.RETAIL_PRICES_EDIT, A.INVOICES_MANAGE},
    # Reads everything; changes nothing but sending a password reset.
    Role.RESELLER_SUPPORT: READ | {A.PASSWORD_RESET_SEND},
    # Its account: its circles' settings and options, R17, its invoices and how they
    # are delivered (R2).
    Role.ACCOUNT_MANAGER: READ
    | {
        A.CIRCLE_SETTINGS_EDIT,
        A.CIRCLE_OPTIONS_BUY,
        A.PASSWORD_POLICY_SET,
        A.ACCOUNT_OPTIONS_BUY,
        # Its circles' logins (R15): a reset link to the circle's recovery address.
        A.PASSWORD_RESET_SEND,
    },
    # Its own circle (R3–R16).
    Role.CIRCLE: frozenset(
        {A.CIRCLE_VIEW, A.CIRCLE_SETTINGS_EDIT, A.CIRCLE_OPTIONS_BUY, A.CIRCLE_LOGIN_CHANGE}
    ),
}


class HasRole(Protocol):
    """What a principal shows this module: its row of the matrix."""

    @property
    def permission_role(self) -> Role: ...


def role_of(principal: Any) -> Role | None:
    role = getattr(principal, "permission_role", None)
    return role if isinstance(role, Role) else None


def allowed(principal: Any, action: Action | str) -> bool:
    """R22: may ``principal`` perform ``action``? An unknown action name is a
    programming error (ValueError), not a refusal."""
    role = role_of(principal)
    return role is not None and Action(action) in MATRIX[role]


def require(action: Action, principal: Any = None) -> None:
    """Refuse the request (403) unless the principal (default: the logged-in one) may."""
    who = principal if principal is not None else current_user._get_current_object()
    if not allowed(who, action):
        abort(403)


def may(action: Action | str) -> bool:
    """For templates: ``{% if may("theme_edit") %}``."""
    return allowed(current_user._get_current_object(), action)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["may"] = may
