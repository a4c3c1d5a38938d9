"""Japanese and English through Flask-Babel; Japanese is the default."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from pbx_platform.extensions import babel

LOCALES = ("ja", "en")
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    if not has_request_context():
        # A job or the CLI: messages in the platform's default language.
        return "ja"
    if request.path.startswith("/api/"):
        # The machine API: English unless the node's Accept-Language asks for Japanese.
        return request.accept_languages.best_match(("en", "ja")) or "en"
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if user_locale in LOCALES:
        return user_locale
    portal = g.get("portal")
    if portal is not None and portal.default_locale in LOCALES:
        return portal.default_locale
    return "ja"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    app.add_template_global(get_locale)
