"""The request boundary: one commit per request, error pages, the language switch."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, redirect, render_template, request, session
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from pbx_platform.api.errors import ApiError, from_http_exception, is_api_request, json_error
from pbx_platform.audit import take_bypass_records, write_bypass_records
from pbx_platform.db import db
from pbx_platform.i18n import LOCALES
from pbx_platform.redirects import safe_target
from pbx_platform.tenancy import reset_request_scope

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
log = logging.getLogger(__name__)

bp = Blueprint("web", __name__)


@bp.post("/locale")
def switch_locale() -> Any:
    locale = request.form.get("locale", "")
    if locale in LOCALES:
        session["locale"] = locale
    return redirect(safe_target(request.form.get("next")))


def _commit(response: Response) -> Response:
    """Services flush; the request commits once, only when it succeeded."""
    bypass_records = take_bypass_records()
    if response.status_code >= 400:
        db.session.rollback()
        write_bypass_records(bypass_records, commit=True)
        return response
    try:
        write_bypass_records(bypass_records, commit=False)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("commit failed")
        write_bypass_records(bypass_records, commit=True)
        if is_api_request():
            return json_error(ApiError(409))
        return Response(
            render_template(
                "error.html",
                code=409,
                message=_l(
                    "Your change could not be saved because the data changed meanwhile. "
                    "Please reload the page and try again."
                ),
            ),
            status=409,
        )
    return response


def _end_request(exc: BaseException | None) -> None:
    if exc is not None:
        db.session.rollback()
        write_bypass_records(take_bypass_records(), commit=True)
    reset_request_scope()


_MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to do this."),
    404: _l("The page you asked for does not exist."),
    405: _l("This action is not allowed here."),
    413: _l("The file is too large."),
    500: _l("Something went wrong on our side. Please try again later."),
}


def _error_page(code: int, message: Any) -> tuple[str, int]:
    db.session.rollback()
    return render_template("error.html", code=code, message=message), code


def _http_error(exc: HTTPException) -> Any:
    if is_api_request():  # the machine API answers JSON, never a page
        db.session.rollback()
        return from_http_exception(exc)
    code = exc.code or 500
    return _error_page(code, _MESSAGES.get(code, exc.description))


def _csrf_error(exc: CSRFError) -> Any:
    return _error_page(
        400,
        _l(
            "The form has expired or was not sent from this site. "
            "Please reload the page and try again."
        ),
    )


def _rate_limited(exc: RateLimitExceeded) -> Any:
    if is_api_request():
        db.session.rollback()
        return json_error(ApiError(429))
    return _error_page(429, _l("Too many attempts. Please wait a few minutes and try again."))


def _server_error(exc: Exception) -> Any:
    log.exception("unhandled error", exc_info=exc)
    if is_api_request():
        db.session.rollback()
        return json_error(ApiError(500))
    return _error_page(500, _MESSAGES[500])


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.after_request(_commit)
    app.teardown_request(_end_request)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    app.register_error_handler(HTTPException, _http_error)
    if not app.testing:
        app.register_error_handler(Exception, _server_error)
