"""Resellers, customer accounts, circles and uniques, and their portals."""

from __future__ import annotations

from flask import Flask

from pbx_platform.audit import register_platform_tenant
from pbx_platform.auth import register_principal, set_login_view
from tenants import api, audit_readings, cli, labels, navigation, principals
from tenants.options import models as _option_models  # noqa: F401  (mapped classes)
from tenants.views import account_options as _account_options  # noqa: F401  (adds routes)
from tenants.views import (
    auth,
    circle_admin,
    circle_portal,
    console,
    recovery,
    staff_portal,
    staff_users,
)
from tenants.views import circle_calls as _circle_calls  # noqa: F401  (adds routes)
from tenants.views import circle_conference as _circle_conference  # noqa: F401  (adds routes)
from tenants.views import circle_ivr as _circle_ivr  # noqa: F401  (adds routes)
from tenants.views import circle_numbers as _circle_numbers  # noqa: F401  (adds routes)
from tenants.views import circle_options as _circle_options  # noqa: F401  (adds routes)
from tenants.views import circle_recording as _circle_recording  # noqa: F401  (adds routes)
from tenants.views import circle_recovery as _circle_recovery  # noqa: F401  (adds routes)
from tenants.views import circle_ring_groups as _circle_ring_groups  # noqa: F401  (adds routes)
from tenants.views import circle_settings as _circle_settings  # noqa: F401  (adds routes)
from tenants.views import circle_unique_csv as _circle_unique_csv  # noqa: F401  (adds routes)
from tenants.views import circle_uniques as _circle_uniques  # noqa: F401  (adds routes)
from tenants.views import console_api_clients as _console_api_clients  # noqa: F401  (adds routes)
from tenants.views import customers as _customers  # noqa: F401  (adds routes)
from tenants.views import staff_circles as _staff_circles  # noqa: F401  (adds routes)


def init_app(app: Flask) -> None:
    register_principal("staff", principals.load_staff, principals.scope_for)
    register_principal("circle", principals.load_circle, principals.scope_for)
    set_login_view(principals.login_endpoint)
    register_platform_tenant(principals.platform_reseller_id)
    labels.init_app(app)
    audit_readings.register()
    navigation.register()
    app.before_request(principals.scope_to_principal)
    app.before_request(principals.enforce_password_policy)
    for blueprint in (
        auth.bp,
        circle_portal.bp,
        staff_portal.bp,
        console.bp,
        recovery.bp,
        staff_users.bp,
    ):
        app.register_blueprint(blueprint)
    circle_admin.register(app)
    api.init_app(app)
    cli.init_app(app)
