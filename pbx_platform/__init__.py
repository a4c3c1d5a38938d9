"""The application factory.

The core composes the contexts (``tenants``, ``themes``) here and nowhere else;
the contexts depend on the core, never the reverse.
"""

from __future__ import annotations

from typing import Any

import invoices
import tenants
import themes
from pbx_platform import audit as _audit  # noqa: F401  (registers the audit flush hook)
from pbx_platform import (
    auth,
    cli,
    extensions,
    health,
    i18n,
    jobs,
    navigation,
    permissions,
    redirects,
    routing,
    security,
    web,
)
from pbx_platform import mail as _mail  # noqa: F401  (sends queued mail after the commit)
from pbx_platform.api import oauth
from pbx_platform.config import load_config
from pbx_platform.templating import PbxFlask


def create_app(test_config: dict[str, Any] | None = None) -> PbxFlask:
    app = PbxFlask(__name__, instance_relative_config=True)
    routing.init_app(app)  # before any route is added
    app.config.update(load_config(app.instance_path))
    if test_config:
        app.config.update(test_config)

    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(web.MIGRATIONS))
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    permissions.init_app(app)
    navigation.init_app(app)
    redirects.init_app(app)

    # Order matters: the portal (and so the tenant scope) comes from the host
    # before anything reads the logged-in principal.
    themes.init_app(app)
    auth.init_app(app)
    tenants.init_app(app)
    invoices.init_app(app)
    web.init_app(app)
    oauth.init_app(app)
    app.register_blueprint(health.bp)
    cli.init_app(app)
    jobs.init_app(app)
    return app
