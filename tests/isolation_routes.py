"""The route table of the isolation suite (R20): every endpoint of the app, and how a
login of tenant A reaches it with tenant B's ids, or why it takes no id at all.

``tests/test_isolation.py`` walks ``app.url_map`` and fails for an endpoint that is
missing here, so a new route cannot ship without saying how it is kept apart.

* ``Reach.ids`` maps each URL parameter to a kind of id (``"circle_id"``: the
  other tenant's circle); ``query`` does the same for query-string parameters.
  With ids in the URL or the query, the roles in ``roles`` must get a plain 404.
* ``Reach.form`` is the POST data (``None``: the route takes no POST). An
  ``Other("unique_id")`` value is filled with the other tenant's id: a forged id in
  a form field must change nothing of the other tenant's, and link nothing to it.
* ``host`` is ``"portal"`` (tenant A's own host) or ``"console"`` (the platform
  operator's console: reseller ids in its URLs are the operator's to see; what is
  checked there is that no reseller login reaches the console at all).
* ``host`` ``"api"``: the machine API (``/api/v1/``), answered on the console host to
  bearer tokens only. A login's cookie counts for nothing there: every login gets 401
  (console) or a JSON 404 (a portal's host); which circles an API client reaches is
  tested in ``tests/api/test_isolation.py``.
* ``needs`` is what R22 asks of the caller, per method (``Needs``), for
  ``tests/test_permissions.py``: every entry, ``Reach`` or ``Exempt``, says it.
  There, the roles in ``roles`` (the operator, for a console route) reach the route
  and get 403 unless the matrix gives them the action; an ``Exempt`` entry names
  its ``roles`` (and its ``form``) for that walk too.

Roles of tenant A: ``admin``, ``billing``, ``support`` (reseller staff), ``manager``
(an account manager of A's first account) and ``circle`` (the circle login of A's
first circle). A role not in ``roles`` must be refused without a hint whether the
object exists: 404, or the redirect to a login page that every id gets alike.

``build_targets`` makes one object of each id kind (``ID_KINDS``) in B's first
circle, in A's first circle, in A's other account and in a second circle of A's
first account, so every id in the table names a real row.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from sqlalchemy import select

from invoices.models import PriceBookEntry
from pbx_platform import storage
from pbx_platform.db import db, utcnow
from pbx_platform.permissions import Action
from pbx_platform.sessions import open_session
from pbx_platform.tenancy import Scope, circle_scope, use_scope
from pbx_platform.tokens import Purpose
from pbx_platform.tokens import issue as issue_token
from tenants.calls.models import CallRecord, Direction, Disposition
from tenants.models import (
    Account,
    AccountOption,
    AccountOptionKind,
    Circle,
    CirclePhoneNumber,
    NumberKind,
    PhoneNumber,
    PickupGroup,
    RingGroup,
    RingGroupMember,
    Staff,
    StaffKind,
    StaffRole,
    Unique,
    UniqueKind,
)
from tenants.options.models import (
    CIRCLE_KINDS,
    Cart,
    CartAction,
    CartLine,
    CartStatus,
    CircleOption,
    ConferenceMember,
    ConferenceRoom,
    Ivr,
    OptionKind,
    OutboundSelector,
    Recording,
    RecordingLimit,
    RecordingStorageDay,
)
from tenants.services import provisioning as p
from tests.factories import PASSWORD, Tenant, World

STAFF = ("admin", "billing", "support", "manager")
CIRCLE = ("circle",)
ADMIN = ("admin",)
PORTAL_ROLES = (*STAFF, *CIRCLE)

# The kinds of id the suite builds for each tenant (see ``test_isolation.Ids``).
ID_KINDS = (
    "reseller_id",
    "account_id",
    "circle_id",
    "unique_id",
    "phone_id",
    "inventory_id",
    "group_id",
    "ring_group_id",
    "room_id",
    "selector_id",
    "ivr_id",
    "recording_id",
    "cart_id",
    "cart_line_id",
    "account_cart_id",
    "account_cart_line_id",
    "circle_session_id",
    "staff_session_id",
    "staff_id",
)


@dataclass(frozen=True)
class Other:
    """A form or query value: the other tenant's id of ``kind``, written as ``pattern``."""

    kind: str
    pattern: str = "{}"


@dataclass(frozen=True)
class Needs:
    """R22: the action a route's GET and its POST need; ``None``: nothing (anyone who
    reaches the route, or the route takes no such method)."""

    get: Action | None = None
    post: Action | None = None


PUBLIC = Needs()
A = Action
CIRCLE_PAGE = Needs(get=A.CIRCLE_VIEW, post=A.CIRCLE_SETTINGS_EDIT)


@dataclass(frozen=True)
class Reach:
    ids: Mapping[str, str] = field(default_factory=dict)
    roles: tuple[str, ...] = ()
    host: str = "portal"
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, Any] | None = None
    # What a GET with tenant A's own ids answers to the first role (the control that
    # shows the role reaches the page at all).
    own_status: int = 200
    needs: Needs | None = None

    @property
    def names_objects(self) -> bool:
        """The URL names an object: another tenant's must be a plain 404."""
        return bool(self.ids or self.query)


@dataclass(frozen=True)
class Exempt:
    reason: str
    needs: Needs | None = None
    # Who reaches the route (empty: anyone; the operator for a console route), and
    # the POST data, for the permission walk.
    roles: tuple[str, ...] = ()
    host: str = "portal"
    form: Mapping[str, Any] | None = None


API_ROUTE = (
    "machine API: a bearer token, not a login, and no session cookie counts; which circles "
    "a client reaches (its reseller's only) is tested in tests/api/test_isolation.py"
)
API_TOKEN = "OAuth token endpoint: client credentials, no login, no tenant object"
NO_ID = "takes no object id; shows or changes only what the caller's own scope holds"
LOGIN = "login page: no object id; which tenant's logins it accepts is tested on its own"
LOGOUT = "logout: no object id; ends the caller's own login only"
LIST = "list page of the caller's own scope, no object id"
TOKEN_LINK = (
    "single-use link: no object id; the token is found in the host's tenant scope only "
    "(tested in test_password_recovery)"
)

# Plausible form data for the circle pages, shared by the circle's own tree
# (/portal) and the staff tree (/staff/circles/<circle_id>).
ROOM_FORM = {
    "name": "Room 2",
    "extension": "351",
    "phone_number_id": Other("phone_id"),
    "members": Other("unique_id"),
    "broadcast": "1",
    "new_pin": "4321",
}
SELECTOR_FORM = {"name": "Sales line", "extension": "352", "phone_number_id": Other("phone_id")}
IVR_FORM = {
    "extension": "510",
    "display_name": "Main menu",
    "answer_after_seconds": "0",
    "channels": "2",
    "after_hours": "hangup",
    "timeout": Other("unique_id", "unique:{}"),
    "digit_1": Other("unique_id", "unique:{}"),
    "digit_2": Other("ring_group_id", "ring_group:{}"),
}
UNIQUE_FORM = {
    "extension": "205",
    "display_name": "Front desk",
    "pickup_group_id": Other("group_id"),
}
RING_GROUP_FORM = {
    "name": "Sales team",
    "extension": "354",
    "ring_time": "20",
    "members": Other("unique_id"),
}
CART_FORM = {"action": "buy", "tick_ivr": "1", "count_monitoring": "1"}
CUSTOMER_FORM = {
    "company_name": "株式会社テスト",
    "company_name_kana": "テスト",
    "postal_code": "100-0001",
    "prefecture": "東京都",
    "city": "千代田区",
    "address_line1": "千代田1-1",
    "billing_contact_name": "経理 花子",
    "billing_contact_email": "keiri@test.example",
    "billing_contact_phone": "03-1234-5678",
    "invoice_delivery": "portal",
}

# endpoint (without the blueprint) → (URL ids besides circle_id, POST form or None)
CIRCLE_PAGES: dict[str, tuple[dict[str, str], dict[str, Any] | None]] = {
    "add_pickup_group": ({}, {"name": "Sales"}),
    "add_to_cart": ({}, CART_FORM),
    "assign_numbers": ({}, {"phone_number_id": Other("inventory_id")}),
    "numbers_page": ({}, None),
    "release_number": ({"number_id": "phone_id"}, {}),
    "apply_renumber": ({}, {"token": "forged"}),
    "call_history": ({}, None),
    "call_import": ({}, {}),
    "call_import_confirm": ({}, {"token": "forged"}),
    "call_import_template": ({}, None),
    "cart": ({}, None),
    "change_extension_length": ({}, {"length": "4", "token": "forged"}),
    "conference_room_delete": ({"room_id": "room_id"}, {}),
    "conference_room_edit": ({"room_id": "room_id"}, ROOM_FORM),
    "conference_room_new": ({}, ROOM_FORM),
    "conference_rooms": ({}, None),
    "confirm_cart": ({}, {"cart_id": Other("cart_id")}),
    "create_ivr": ({}, {"extension": "511", "display_name": "Night menu"}),
    "delete_pickup_group": ({"group_id": "group_id"}, {}),
    "extension_length_confirm": ({}, None),
    "ivr_delete": ({"ivr_id": "ivr_id"}, {}),
    "ivr_delete_prompt": ({"ivr_id": "ivr_id"}, {}),
    "ivr_edit": ({"ivr_id": "ivr_id"}, None),
    "ivr_prompt": ({"ivr_id": "ivr_id"}, None),
    "ivr_save": ({"ivr_id": "ivr_id"}, IVR_FORM),
    "ivr_speech_prompt": ({"ivr_id": "ivr_id"}, {"speech_text": "お電話ありがとうございます"}),
    "ivr_upload_prompt": ({"ivr_id": "ivr_id"}, {}),
    "ivrs": ({}, None),
    "licences_settings": ({}, None),
    "options": ({}, None),
    "outbound_selector_delete": ({"selector_id": "selector_id"}, {}),
    "outbound_selector_edit": ({"selector_id": "selector_id"}, SELECTOR_FORM),
    "outbound_selector_new": ({}, SELECTOR_FORM),
    "outbound_selectors": ({}, None),
    "pickup_group": ({"group_id": "group_id"}, {"name": "Renamed"}),
    "pickup_groups": ({}, None),
    "recording_archive": ({}, None),
    "recording_archive_zip": ({}, None),
    "recording_settings": ({}, None),
    "recording_wav": ({"recording_id": "recording_id"}, None),
    "refresh_cart": ({}, {}),
    "remove_cart_lines": ({}, {"delete": Other("cart_line_id")}),
    "renumber": ({}, None),
    "ring_group_delete": ({"ring_group_id": "ring_group_id"}, {}),
    "ring_group_edit": ({"ring_group_id": "ring_group_id"}, RING_GROUP_FORM),
    "ring_group_new": ({}, RING_GROUP_FORM),
    "ring_groups": ({}, None),
    "save_licences": ({}, {"monitoring": Other("unique_id"), "whispering": Other("unique_id")}),
    "save_recording_settings": ({}, {"refuse": Other("unique_id")}),
    "set_recording_limit": ({}, {"limit_gb": "200"}),
    "settings": ({}, None),
    "unique_delete": ({"unique_id": "unique_id"}, {}),
    "unique_export": ({}, None),
    "unique_import": ({}, {}),
    "unique_import_confirm": ({}, {"token": "forged", "payload": ""}),
    "unique_detail": ({"unique_id": "unique_id"}, UNIQUE_FORM),
    "unique_new": (
        {},
        {
            "extension": "355",
            "display_name": "New desk",
            "terminal_type": "sip_phone",
            "pickup_group_id": Other("group_id"),
        },
    ),
    "unique_sip_secret": ({"unique_id": "unique_id"}, {}),
    "uniques": ({}, None),
    "login_recovery": ({}, None),
    "save_recovery_email": ({}, {"recovery_email": "desk@example.co.jp"}),
    "send_password_reset": ({}, {}),
}
# R22 where a circle page needs more than CIRCLE_PAGE (read with CIRCLE_VIEW, change
# with CIRCLE_SETTINGS_EDIT).
BUY = Needs(get=A.CIRCLE_OPTIONS_BUY, post=A.CIRCLE_OPTIONS_BUY)
CIRCLE_NEEDS = {
    "add_to_cart": BUY,
    "cart": BUY,
    "confirm_cart": BUY,
    "refresh_cart": BUY,
    "remove_cart_lines": BUY,
    "set_recording_limit": Needs(post=A.RECORDING_LIMIT_SET),
    # Calls are rated and invoiced (R24): only the reseller back-fills them.
    "call_import": Needs(get=A.CALLS_IMPORT, post=A.CALLS_IMPORT),
    "call_import_confirm": Needs(post=A.CALLS_IMPORT),
    "call_import_template": Needs(get=A.CALLS_IMPORT),
    "send_password_reset": Needs(post=A.PASSWORD_RESET_SEND),
    # The circle's numbers come from the reseller's inventory: the reseller admin's.
    "numbers_page": Needs(get=A.CUSTOMERS_MANAGE),
    "assign_numbers": Needs(post=A.CUSTOMERS_MANAGE),
    "release_number": Needs(post=A.CUSTOMERS_MANAGE),
}
# Pages that answer a bare GET with 422: they need a query (a new length, a date range).
CIRCLE_OWN_STATUS = {
    "extension_length_confirm": 422,
    "recording_archive": 422,
    "recording_archive_zip": 422,
}
CIRCLE_QUERIES = {"uniques": {"group": "group_id"}, "call_history": {"unique": "unique_id"}}


def _circle_pages() -> dict[str, Reach | Exempt]:
    table: dict[str, Reach | Exempt] = {}
    for name, (ids, form) in CIRCLE_PAGES.items():
        query = CIRCLE_QUERIES.get(name, {})
        own = CIRCLE_OWN_STATUS.get(name, 200)
        needs = CIRCLE_NEEDS.get(name, CIRCLE_PAGE)
        table[f"circle_staff.{name}"] = Reach(
            ids={"circle_id": "circle_id", **ids},
            roles=STAFF,
            query=query,
            form=form,
            own_status=own,
            needs=needs,
        )
        if ids or query or (form and any(isinstance(v, Other) for v in form.values())):
            table[f"circle_self.{name}"] = Reach(
                ids=ids, roles=CIRCLE, query=query, form=form, own_status=own, needs=needs
            )
        else:
            table[f"circle_self.{name}"] = Exempt(NO_ID, needs, roles=CIRCLE, form=form)
    return table


ROUTES: dict[str, Reach | Exempt] = {
    **_circle_pages(),
    # -- logins, and pages with no object id ------------------------------------------------
    "auth.circle_login": Exempt(LOGIN, PUBLIC),
    "auth.staff_login": Exempt(LOGIN, PUBLIC),
    "auth.console_login": Exempt(LOGIN, PUBLIC),
    "auth.circle_logout": Exempt(LOGOUT, PUBLIC),
    "auth.staff_logout": Exempt(LOGOUT, PUBLIC),
    "auth.console_logout": Exempt(LOGOUT, PUBLIC),
    "health.healthz": Exempt("health probe: answers on any host, reads no tenant data", PUBLIC),
    "static": Exempt("static files of the application, the same for every tenant", PUBLIC),
    "themes.static": Exempt("static files of the base theme, the same for every tenant", PUBLIC),
    "themes.theme_css": Exempt("the brand of the host's reseller; no id in the URL", PUBLIC),
    "themes.logo": Exempt("the logo of the host's reseller; no id in the URL", PUBLIC),
    "web.switch_locale": Exempt("stores a language in the caller's own cookie", PUBLIC),
    "console.index": Exempt("redirects to the caller's home page; no id", PUBLIC),
    "circle_portal.home": Exempt(LIST, Needs(get=A.CIRCLE_VIEW), roles=CIRCLE),
    "circle_portal.skip_password_change": Exempt(
        NO_ID, Needs(post=A.CIRCLE_LOGIN_CHANGE), roles=CIRCLE, form={}
    ),
    "staff_portal.dashboard": Exempt(LIST, Needs(get=A.ACCOUNT_VIEW), roles=STAFF),
    "staff_portal.audit": Exempt(
        LIST + " (tested in test_audit)", Needs(get=A.AUDIT_VIEW), roles=STAFF
    ),
    "staff_portal.audit_csv": Exempt(
        LIST + "; an object_id filter of another tenant matches nothing (test_audit_read)",
        Needs(get=A.AUDIT_VIEW),
        roles=STAFF,
    ),
    "console.audit_csv": Exempt(
        "console audit export: across resellers by design (test_audit_read)",
        Needs(get=A.AUDIT_VIEW),
        host="console",
    ),
    "console.resellers": Exempt(
        "console list: every reseller is the operator's to see",
        Needs(get=A.RESELLERS_MANAGE),
        host="console",
    ),
    "console.reseller_new": Exempt(
        "console form: creates a new reseller, names no existing object",
        Needs(get=A.RESELLERS_MANAGE, post=A.RESELLERS_MANAGE),
        host="console",
        form={"name": "Fuzz K.K.", "slug": "fuzz", "admin_email": "a@fuzz.test"},
    ),
    "console.numbers_inventory": Exempt(
        "console list: the platform's whole number inventory is the operator's",
        Needs(get=A.RESELLERS_MANAGE),
        host="console",
    ),
    "console.numbers_add": Exempt(
        "console form: adds numbers to the platform's stock, names no object",
        Needs(post=A.RESELLERS_MANAGE),
        host="console",
        form={"numbers": "03-5555-9999"},
    ),
    "console.numbers_allocate": Exempt(
        "console form: every reseller is the operator's to allocate to",
        Needs(post=A.RESELLERS_MANAGE),
        host="console",
        form={"reseller_id": "1", "first": "03-5555-9999", "last": "03-5555-9999"},
    ),
    "console.numbers_take_back": Exempt(
        "console form: every reseller is the operator's to take numbers from",
        Needs(post=A.RESELLERS_MANAGE),
        host="console",
        form={"reseller_id": "1", "first": "03-5555-9999", "last": "03-5555-9999"},
    ),
    # -- the machine API (bearer tokens, not logins; tests/api/test_isolation.py) ----------
    "api.openapi_document": Exempt(
        "the API's description: the same for every caller, no tenant data", PUBLIC, host="console"
    ),
    "oauth.token": Exempt(API_TOKEN, PUBLIC, host="console", form={}),
    "api.post_calls": Exempt(API_ROUTE, PUBLIC, host="console", form={}),
    # Its only method is PUT (no GET or POST to walk with a login); its call id is the
    # PBX's text, not a row id.
    "api.put_recording": Exempt(API_ROUTE, PUBLIC, host="api"),
    "api.circle_config": Reach(
        ids={"circle_id": "circle_id"}, roles=PORTAL_ROLES, host="api", needs=PUBLIC
    ),
    "api.ivr_prompt": Reach(
        ids={"circle_id": "circle_id", "ivr_id": "ivr_id"},
        roles=PORTAL_ROLES,
        host="api",
        needs=PUBLIC,
    ),
    "console.api_clients": Exempt(
        "console list: the API clients are platform rows, all the operator's",
        Needs(get=A.API_CLIENTS_MANAGE),
        host="console",
    ),
    "console.api_client_new": Exempt(
        "console form: registers a new API client, names no existing object",
        Needs(get=A.API_CLIENTS_MANAGE, post=A.API_CLIENTS_MANAGE),
        host="console",
        form={"name": "Fuzz node", "scopes": "config:read", "reseller_id": ""},
    ),
    "console.api_client_revoke": Exempt(
        "console form: API clients are platform rows, every one the operator's to revoke",
        Needs(post=A.API_CLIENTS_MANAGE),
        host="console",
        form={"client_pk": "1"},
    ),
    "console.accounts": Exempt(
        "console list: every account is the operator's to see",
        Needs(get=A.ACCOUNT_VIEW),
        host="console",
    ),
    "console.audit": Exempt(
        "console audit log: across resellers by design (test_audit)",
        Needs(get=A.AUDIT_VIEW),
        host="console",
    ),
    "circle_portal.sessions": Exempt(LIST + " (the login's own sessions)", PUBLIC, roles=CIRCLE),
    "circle_portal.end_other_sessions": Exempt(
        NO_ID + ": the login's own other sessions", PUBLIC, roles=CIRCLE, form={}
    ),
    "staff_portal.sessions": Exempt(LIST + " (the login's own sessions)", PUBLIC, roles=STAFF),
    "staff_portal.recording_retention": Exempt(
        NO_ID + ": the logged-in staff's own reseller; a forged reseller id in the form is"
        " ignored (test_recording_retention)",
        Needs(get=A.RECORDING_RETENTION_SET, post=A.RECORDING_RETENTION_SET),
        roles=STAFF,
        form={"retention_days": "120", "reseller_id": Other("reseller_id")},
    ),
    "staff_portal.end_other_sessions": Exempt(
        NO_ID + ": the login's own other sessions", PUBLIC, roles=STAFF, form={}
    ),
    "console.sessions": Exempt(LIST + " (the operator's own sessions)", PUBLIC, host="console"),
    "console.end_other_sessions": Exempt(
        NO_ID + ": the operator's own other sessions", PUBLIC, host="console", form={}
    ),
    "circle_portal.end_session": Reach(
        ids={"session_id": "circle_session_id"}, roles=CIRCLE, form={}, needs=PUBLIC
    ),
    "staff_portal.end_session": Reach(
        ids={"session_id": "staff_session_id"}, roles=STAFF, form={}, needs=PUBLIC
    ),
    "console.end_session": Reach(
        ids={"session_id": "staff_session_id"}, roles=STAFF, host="console", form={}, needs=PUBLIC
    ),
    # -- the circle's own login page and the brand: forged ids in their forms ---------------
    "circle_portal.change_password": Reach(
        roles=CIRCLE,
        form={
            "current_password": "Start#Pass2026",
            "new_password": "Other#Pass2027",
            "new_password_repeat": "Other#Pass2027",
            "circle_id": Other("circle_id"),
            "reseller_id": Other("reseller_id"),
        },
        needs=Needs(get=A.CIRCLE_LOGIN_CHANGE, post=A.CIRCLE_LOGIN_CHANGE),
    ),
    "circle_portal.change_login_id": Reach(
        roles=CIRCLE,
        form={
            "login_id": "renamed-login",
            "circle_id": Other("circle_id"),
            "reseller_id": Other("reseller_id"),
        },
        needs=Needs(get=A.CIRCLE_LOGIN_CHANGE, post=A.CIRCLE_LOGIN_CHANGE),
    ),
    "themes.edit_theme": Reach(
        roles=STAFF,
        form={
            "product_name": "Renamed Phone",
            "primary_color": "#1f4e8c",
            "accent_color": "#e8f0fb",
            "support_phone": "",
            "support_email": "help@renamed.test",
            "footer_text": "",
            "reseller_id": Other("reseller_id"),
            "theme_id": Other("reseller_id"),
        },
        needs=Needs(get=A.THEME_EDIT, post=A.THEME_EDIT),
    ),
    # -- the reseller's portal ----------------------------------------------------------------
    "staff_portal.account_detail": Reach(
        ids={"account_id": "account_id"}, roles=STAFF, needs=Needs(get=A.ACCOUNT_VIEW)
    ),
    "staff_portal.account_options": Reach(
        ids={"account_id": "account_id"}, roles=STAFF, needs=Needs(get=A.ACCOUNT_VIEW)
    ),
    "staff_portal.account_add_to_cart": Reach(
        ids={"account_id": "account_id"},
        roles=STAFF,
        form={"action": "buy", "tick_invoice_mailing": "1"},
        needs=Needs(post=A.ACCOUNT_OPTIONS_BUY),
    ),
    "staff_portal.account_remove_cart_lines": Reach(
        ids={"account_id": "account_id"},
        roles=STAFF,
        form={"delete": Other("account_cart_line_id")},
        needs=Needs(post=A.ACCOUNT_OPTIONS_BUY),
    ),
    "staff_portal.account_confirm_cart": Reach(
        ids={"account_id": "account_id"},
        roles=STAFF,
        form={"cart_id": Other("account_cart_id")},
        needs=Needs(post=A.ACCOUNT_OPTIONS_BUY),
    ),
    "staff_portal.circle_detail": Reach(
        ids={"circle_id": "circle_id"}, roles=STAFF, needs=Needs(get=A.CIRCLE_VIEW)
    ),
    "staff_portal.new_circle": Reach(
        ids={"account_id": "account_id"},
        roles=STAFF,
        form={
            "name": "New circle",
            "login_id": "new-circle",
            "extension_length": "3",
            "policy": "force",
            "reseller_id": Other("reseller_id"),
            "account_id": Other("account_id"),
        },
        needs=Needs(get=A.CUSTOMERS_MANAGE, post=A.CUSTOMERS_MANAGE),
    ),
    "staff_portal.reset_circle_password": Reach(
        ids={"circle_id": "circle_id"},
        roles=STAFF,
        form={"policy": "force", "circle_id": Other("circle_id")},
        needs=Needs(get=A.CUSTOMERS_MANAGE, post=A.CUSTOMERS_MANAGE),
    ),
    "staff_portal.set_password_policy": Reach(
        ids={"circle_id": "circle_id"},
        roles=STAFF,
        form={
            "policy": "force",
            "reseller_id": Other("reseller_id"),
            "account_id": Other("account_id"),
            "circle_id": Other("circle_id"),
        },
        needs=Needs(post=A.PASSWORD_POLICY_SET),
    ),
    # -- password recovery and invitations ---------------------------------------------------
    "recovery.staff_forgot": Exempt(LOGIN, PUBLIC, form={"email": "admin@a.test"}),
    "recovery.circle_forgot": Exempt(LOGIN, PUBLIC, form={"login_id": "alpha-circle"}),
    "recovery.console_forgot": Exempt(LOGIN, PUBLIC),
    "recovery.staff_invitation": Exempt(TOKEN_LINK, PUBLIC),
    "recovery.staff_reset": Exempt(TOKEN_LINK, PUBLIC),
    "recovery.console_reset": Exempt(TOKEN_LINK, PUBLIC),
    "recovery.circle_reset": Exempt(TOKEN_LINK, PUBLIC),
    # -- staff users (admins) -------------------------------------------------------------
    "staff_users.users": Exempt(LIST, Needs(get=A.STAFF_MANAGE), roles=STAFF),
    "staff_users.invite": Exempt(
        NO_ID,
        Needs(post=A.STAFF_MANAGE),
        roles=STAFF,
        form={"name": "New", "email": "new@a.test", "role": "support", "locale": "ja"},
    ),
    "staff_users.user_detail": Reach(
        ids={"staff_id": "staff_id"}, roles=STAFF, needs=Needs(get=A.STAFF_MANAGE)
    ),
    "staff_users.change_role": Reach(
        ids={"staff_id": "staff_id"},
        roles=STAFF,
        form={"role": "support"},
        needs=Needs(post=A.STAFF_MANAGE),
    ),
    "staff_users.deactivate": Reach(
        ids={"staff_id": "staff_id"}, roles=STAFF, form={}, needs=Needs(post=A.STAFF_MANAGE)
    ),
    "staff_users.reactivate": Reach(
        ids={"staff_id": "staff_id"}, roles=STAFF, form={}, needs=Needs(post=A.STAFF_MANAGE)
    ),
    "staff_users.resend_invitation": Reach(
        ids={"staff_id": "staff_id"}, roles=STAFF, form={}, needs=Needs(post=A.STAFF_MANAGE)
    ),
    "staff_users.invite_manager": Reach(
        ids={"account_id": "account_id"},
        roles=STAFF,
        form={"name": "Boss", "email": "boss@a.test", "locale": "en"},
        needs=Needs(post=A.STAFF_MANAGE),
    ),
    # -- customer accounts (tests/tenants/test_customers.py) ---------------------------------------
    "staff_portal.customers_list": Exempt(
        LIST + " (search and paging: test_customers)", Needs(get=A.ACCOUNT_VIEW), roles=STAFF
    ),
    "staff_portal.customer_new": Reach(
        roles=STAFF,
        form={
            **CUSTOMER_FORM,
            "reseller_id": Other("reseller_id"),
            "account_id": Other("account_id"),
        },
        needs=Needs(get=A.CUSTOMERS_MANAGE, post=A.CUSTOMERS_MANAGE),
    ),
    "staff_portal.customer_edit": Reach(
        ids={"account_id": "account_id"},
        roles=STAFF,
        form={**CUSTOMER_FORM, "account_id": Other("account_id")},
        needs=Needs(get=A.ACCOUNT_BILLING_EDIT, post=A.ACCOUNT_BILLING_EDIT),
    ),
    "staff_portal.customer_suspend": Reach(
        ids={"account_id": "account_id"},
        roles=STAFF,
        form={"account_id": Other("account_id")},
        needs=Needs(post=A.CUSTOMERS_MANAGE),
    ),
    "staff_portal.customer_reactivate": Reach(
        ids={"account_id": "account_id"},
        roles=STAFF,
        form={"account_id": Other("account_id")},
        needs=Needs(post=A.CUSTOMERS_MANAGE),
    ),
    "staff_portal.customer_terminate": Reach(
        ids={"account_id": "account_id"},
        roles=STAFF,
        form={"confirm": "1", "account_id": Other("account_id")},
        needs=Needs(get=A.CUSTOMERS_MANAGE, post=A.CUSTOMERS_MANAGE),
    ),
    # -- the platform operator's console: reseller logins get 404 on their own host ---------
    "console.reseller_detail": Reach(
        ids={"reseller_id": "reseller_id"},
        roles=STAFF,
        host="console",
        needs=Needs(get=A.RESELLERS_MANAGE),
    ),
    "console.reseller_edit": Reach(
        ids={"reseller_id": "reseller_id"},
        roles=STAFF,
        host="console",
        form={"custom_hosts": "hijack.example.jp", "registration_number": "T7000012050002"},
        needs=Needs(get=A.RESELLERS_MANAGE, post=A.RESELLERS_MANAGE),
    ),
    "console.reseller_suspend": Reach(
        ids={"reseller_id": "reseller_id"},
        roles=STAFF,
        host="console",
        form={},
        needs=Needs(post=A.RESELLERS_MANAGE),
    ),
    "console.reseller_reactivate": Reach(
        ids={"reseller_id": "reseller_id"},
        roles=STAFF,
        host="console",
        form={},
        needs=Needs(post=A.RESELLERS_MANAGE),
    ),
    "console.oem_server": Reach(
        ids={"account_id": "account_id"},
        roles=STAFF,
        host="console",
        form={"slug": "hijack", "name": "Hijack K.K.", "admin_email": "boss@hijack.test"},
        needs=Needs(get=A.OEM_GRANT, post=A.OEM_GRANT),
    ),
    "console.end_oem_server": Reach(
        ids={"account_id": "account_id"},
        roles=STAFF,
        host="console",
        form={},
        needs=Needs(post=A.OEM_GRANT),
    ),
}


# -- the objects behind the id kinds --------------------------------------------------------------


@dataclass(frozen=True)
class Ids:
    """One id of each kind in ``ID_KINDS``, all within one circle of one tenant."""

    reseller_id: int
    account_id: int
    circle_id: int
    unique_id: int
    phone_id: int
    inventory_id: int
    group_id: int
    ring_group_id: int
    room_id: int
    selector_id: int
    ivr_id: int
    recording_id: int
    cart_id: int
    cart_line_id: int
    account_cart_id: int
    account_cart_line_id: int
    circle_session_id: int
    staff_session_id: int
    staff_id: int

    def of(self, kind: str) -> int:
        return int(getattr(self, kind))

    @classmethod
    def nowhere(cls) -> Ids:
        """Ids that exist in no tenant."""
        return cls(**{f.name: MISSING_ID for f in fields(cls)})


MISSING_ID = 987_654_321


def _wav() -> bytes:
    """A tenth of a second of silence, 8 kHz mono 16-bit PCM (what the PBX plays)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(bytes(1600))
    return out.getvalue()


WAV = _wav()
BROWSER = {
    "ip_address": "192.0.2.10",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
}


def _circle_objects(circle: Circle, owner: Staff, prefix: int, *, first: bool) -> Ids:
    """A row of every tenant table in ``circle``: options, uniques of each kind, a
    conference room with a member, a selector, an IVR with a prompt, a recording,
    carts. ``first``: also the account's and the reseller's one-per-owner rows."""
    tenant_ids = {
        "reseller_id": circle.reseller_id,
        "account_id": circle.account_id,
        "circle_id": circle.id,
    }
    account_ids = {"reseller_id": circle.reseller_id, "account_id": circle.account_id}
    for kind in CIRCLE_KINDS:
        db.session.add(
            CircleOption(**tenant_ids, kind=kind, quantity=1, starts_on=date(2020, 1, 1))
        )
    if first:
        db.session.add(
            AccountOption(
                **account_ids, kind=AccountOptionKind.INVOICE_MAILING, starts_on=date(2020, 1, 1)
            )
        )
        if circle.account_id == _first_account(circle.reseller_id):
            db.session.add(
                PriceBookEntry(
                    reseller_id=circle.reseller_id, option_kind="ivr", monthly_price_yen=1000
                )
            )
    phone = db.session.scalars(
        select(Unique).where(Unique.circle_id == circle.id, Unique.kind == UniqueKind.PHONE)
    ).first() or p.create_unique(circle, extension=f"{prefix}1", display_name="phone")
    numbers = list(circle.phone_numbers)
    if not numbers:
        numbers.append(CirclePhoneNumber(**tenant_ids, e164=f"+8136{circle.id:08d}"))
    selector_number = CirclePhoneNumber(**tenant_ids, e164=f"+8135{circle.id:08d}")
    # A number of the reseller's pool that no circle uses yet.
    free_number = PhoneNumber(
        reseller_id=circle.reseller_id, e164=f"+8137{circle.id:08d}", kind=NumberKind.LANDLINE
    )
    group = PickupGroup(**tenant_ids, name="Night")
    ring_group = RingGroup(**tenant_ids, name="Support", extension=f"{prefix}9")
    db.session.add_all(
        [
            *numbers,
            selector_number,
            free_number,
            group,
            ring_group,
            RecordingLimit(**tenant_ids),
            RecordingStorageDay(**tenant_ids, day=date(2026, 11, 1), stored_bytes=len(WAV)),
        ]
    )
    db.session.flush()
    room = p.create_unique(
        circle, extension=f"{prefix}5", display_name="room", kind=UniqueKind.CONFERENCE_ROOM
    )
    selector = p.create_unique(
        circle, extension=f"{prefix}6", display_name="selector", kind=UniqueKind.OUTBOUND_SELECTOR
    )
    ivr_unique = p.create_unique(
        circle, extension=f"{prefix}7", display_name="ivr", kind=UniqueKind.IVR
    )
    conference = ConferenceRoom(**tenant_ids, unique_id=room.id)
    ivr = Ivr(**tenant_ids, unique_id=ivr_unique.id, prompt_source="upload")
    stored_prompt = storage.get_store().put(f"prompts/{circle.id}", [WAV])
    ivr.prompt_key, ivr.prompt_sha256, ivr.prompt_bytes = (
        stored_prompt.key,
        stored_prompt.sha256,
        stored_prompt.size,
    )
    call = CallRecord(
        **tenant_ids,
        call_id=f"iso-{circle.id}",
        unique_id=phone.id,
        extension=phone.extension,
        direction=Direction.IN,
        caller="+81355550000",
        called=phone.extension or "",
        started_at=utcnow(),
        answered_at=utcnow(),
        ended_at=utcnow(),
        disposition=Disposition.ANSWERED,
    )
    db.session.add(call)
    db.session.flush()
    stored_wav = storage.get_store().put(f"recordings/{circle.id}", [WAV])
    recording = Recording(
        **tenant_ids,
        call_record_id=call.id,
        unique_id=phone.id,
        started_at=call.started_at,
        size_bytes=stored_wav.size,
        sha256=stored_wav.sha256,
        storage_key=stored_wav.key,
    )
    cart = Cart(**tenant_ids, owner=f"circle:{circle.id}")
    # One open cart per owner and target: the sibling circle's is an earlier, confirmed one.
    account_cart = Cart(
        **account_ids,
        circle_id=None,
        owner=f"staff:{owner.id}",
        status=CartStatus.OPEN if first else CartStatus.CONFIRMED,
    )
    db.session.add_all(
        [
            conference,
            OutboundSelector(
                **tenant_ids, unique_id=selector.id, phone_number_id=selector_number.id
            ),
            ivr,
            recording,
            cart,
            account_cart,
            RingGroupMember(**tenant_ids, ring_group=ring_group, unique_id=phone.id),
        ]
    )
    db.session.flush()
    line = CartLine(
        **account_ids, cart_id=cart.id, action=CartAction.BUY, kind=OptionKind.MONITORING
    )
    account_line = CartLine(
        **account_ids,
        cart_id=account_cart.id,
        action=CartAction.BUY,
        kind=OptionKind.INVOICE_MAILING,
    )
    db.session.add_all(
        [
            line,
            account_line,
            ConferenceMember(**tenant_ids, room_id=conference.id, unique_id=phone.id),
        ]
    )
    db.session.flush()
    # A session of the circle's login and one of the admin (the first role of the
    # staff routes): what "end this session" may end for its own login only.
    circle_session, _ = open_session("circle", circle.id, Scope(**tenant_ids), **BROWSER)
    staff_session, _ = open_session(
        "staff", owner.id, Scope(circle.reseller_id, owner.account_id), **BROWSER
    )
    # A pending password link of each login (single-use tokens are tenant rows too).
    issue_token(Purpose.RESET, "circle", circle.id, Scope(**tenant_ids))
    issue_token(Purpose.RESET, "staff", owner.id, Scope(circle.reseller_id, owner.account_id))
    # A manager of the circle's account: what the staff users' pages act on.
    manager = Staff(
        reseller_id=circle.reseller_id,
        account_id=circle.account_id,
        kind=StaffKind.ACCOUNT_MANAGER,
        role=StaffRole.ADMIN,
        email=f"target-{prefix}-{circle.id}@managers.test",
        email_key=f"target-{prefix}-{circle.id}@managers.test",
        name="Target manager",
        password_hash="",
    )
    db.session.add(manager)
    db.session.flush()
    return Ids(
        **tenant_ids,
        unique_id=phone.id,
        phone_id=numbers[0].id,
        inventory_id=free_number.id,
        group_id=group.id,
        ring_group_id=ring_group.id,
        room_id=room.id,
        selector_id=selector.id,
        ivr_id=ivr.id,
        recording_id=recording.id,
        cart_id=cart.id,
        cart_line_id=line.id,
        account_cart_id=account_cart.id,
        account_cart_line_id=account_line.id,
        circle_session_id=circle_session.id,
        staff_session_id=staff_session.id,
        staff_id=manager.id,
    )


def _first_account(reseller_id: int) -> int | None:
    # The reseller's first account, seen from the reseller's scope (not a circle's).
    with use_scope(Scope(reseller_id)):
        return db.session.scalars(
            select(Account.id).where(Account.reseller_id == reseller_id).order_by(Account.id)
        ).first()


def build_ids(tenant: Tenant, *, circle_id: int, prefix: int, sibling: bool = False) -> Ids:
    """Objects of every id kind in the circle ``circle_id`` of ``tenant`` (committed), or,
    with ``sibling``, in a new circle of the same account."""
    with use_scope(tenant.scope):
        circle = db.session.get(Circle, circle_id)
        assert circle is not None
        if sibling:
            account = db.session.get(Account, circle.account_id)
            assert account is not None
            circle = p.create_circle(
                account, name="sibling", login_id=f"{tenant.slug}-sibling", password=PASSWORD
            )
        owner = db.session.scalars(select(Staff).where(Staff.email == tenant.staff["admin"])).one()
        # The circle's rows go in narrowed to it, as a request on the circle would.
        with circle_scope(circle.reseller_id, circle.account_id, circle.id):
            ids = _circle_objects(circle, owner, prefix, first=not sibling)
        db.session.commit()
        return ids


@dataclass(frozen=True)
class Targets:
    world: World
    a: Ids  # A's first circle: what A's logins own
    b: Ids  # B's first circle: what no login of A may reach
    a_other: Ids  # A's other account: outside the account manager's scope
    a_sibling: Ids  # a second circle of A's first account: outside the circle login's scope


def build_targets(world: World) -> Targets:
    """Call inside an application context."""
    return Targets(
        world=world,
        a=build_ids(world.a, circle_id=world.a.circle_id, prefix=21),
        b=build_ids(world.b, circle_id=world.b.circle_id, prefix=21),
        a_other=build_ids(world.a, circle_id=world.a.other_circle_id, prefix=22),
        a_sibling=build_ids(world.a, circle_id=world.a.circle_id, prefix=23, sibling=True),
    )
