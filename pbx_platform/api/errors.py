"""Every answer of the machine API that is not a success is JSON: ``{"error": code,
"message": text}``, the message in the caller's language (English unless the request's
Accept-Language asks for Japanese). Auth errors add RFC 6750's ``WWW-Authenticate``."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

API_PREFIX = "/api/"

CODES = {
    400: "bad_request",
    401: "invalid_token",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    500: "server_error",
}
MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("The access token is missing, invalid or expired."),
    403: _l("The access token does not allow this."),
    404: _l("Not found."),
    405: _l("This method is not allowed here."),
    409: _l("The request conflicts with what is stored."),
    413: _l("The request is too large."),
    415: _l("Send the body as application/json."),
    422: _l("The request could not be processed."),
    429: _l("Too many requests. Please wait and try again."),
    500: _l("Something went wrong on our side. Please try again later."),
}


class ApiError(Exception):
    """Raised by API views: answered as JSON with ``status``."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: Any = None,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code or CODES.get(status, "error"))
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = str(message if message is not None else MESSAGES.get(status, ""))
        self.headers = headers or {}
        self.extra = extra or {}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def json_error(error: ApiError) -> Response:
    response = jsonify({"error": error.code, "message": error.message, **error.extra})
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def from_http_exception(exc: HTTPException) -> Response:
    """A werkzeug error (no route, wrong method, too large) raised on an API path."""
    status = exc.code or 500
    response = json_error(ApiError(status))
    if status == 405 and exc.get_response().headers.get("Allow"):
        response.headers["Allow"] = exc.get_response().headers["Allow"]
    return response


def bearer_error(status: int, code: str, message: Any, scope: str | None = None) -> ApiError:
    """RFC 6750 §3: 401 ``invalid_token`` (or no token), 403 ``insufficient_scope``."""
    challenge = f'Bearer realm="api", error="{code}"'
    if scope:
        challenge += f', scope="{scope}"'
    return ApiError(status, code, message, headers={"WWW-Authenticate": challenge})
