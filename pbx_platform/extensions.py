"""Flask extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from pbx_platform.db import db
from pbx_platform.net import client_address

__all__ = ["babel", "csrf", "db", "limiter", "login_manager", "migrate"]

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
migrate = Migrate()
# Storage comes from RATELIMIT_STORAGE_URI: memory for development, Redis in production.
limiter = Limiter(key_func=client_address, default_limits=[])
