"""OAuth 2.0 client credentials (RFC 6749 §4.4) with authlib's Flask authorization
server, and bearer tokens (RFC 6750) checked with its resource protector.

* ``POST /api/oauth/token`` (console host only): HTTP Basic or form client credentials
  → an access token for the client's scopes (or the asked subset), valid
  ``API_TOKEN_SECONDS`` (one hour by default). Only the token's SHA-256 is stored.
  Limited per client address (``PBX_API_TOKEN_PER_IP``); a client whose reseller is
  suspended gets no token, and its tokens stop working.
* ``require_token(scope)``: the API views' first call. A missing, unknown, expired or
  revoked token (or a token of a revoked or expired client) is 401 ``invalid_token``; a
  token without the scope is 403 ``insufficient_scope``; both with RFC 6750's
  ``WWW-Authenticate`` and a JSON body (``pbx_platform.api.errors``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.integrations.flask_oauth2.requests import FlaskJsonRequest
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import MissingAuthorizationError, OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc6750.errors import InsufficientScopeError
from flask import Blueprint, Flask, current_app, g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from pbx_platform.api.errors import ApiError, bearer_error, from_http_exception, json_error
from pbx_platform.api.models import SCOPES, ApiClient, ApiToken
from pbx_platform.db import db, utcnow
from pbx_platform.extensions import csrf, limiter
from pbx_platform.validation import has_control_characters


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Checks a client must pass besides its own revocation and expiry, registered by the
# contexts above the core (``tenants``: the client's reseller is not suspended).
_client_checks: list[Callable[[ApiClient], bool]] = []


def register_client_check(check: Callable[[ApiClient], bool]) -> None:
    if check not in _client_checks:
        _client_checks.append(check)


def client_usable(row: ApiClient, now: datetime) -> bool:
    return row.usable(now) and all(check(row) for check in _client_checks)


class OAuthClient(ClientMixin):
    """authlib's view of an ``ApiClient`` row."""

    def __init__(self, row: ApiClient) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        own = self.row.scope_list
        if not scope:
            return " ".join(own)
        return " ".join(s for s in own if s in scope.split())

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.row.secret_hash, digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class ClientCredentials(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def _query_client(client_id: str) -> OAuthClient | None:
    # Ours are "pbx_" and 24 hex digits; anything else (NUL bytes included, which
    # PostgreSQL refuses in text) is no client, without asking the database.
    if (
        not client_id
        or len(client_id) > 64
        or not client_id.isascii()
        or has_control_characters(client_id)
    ):
        return None
    row = db.session.scalars(select(ApiClient).where(ApiClient.client_id == client_id)).first()
    if row is None or not client_usable(row, utcnow()):
        return None
    return OAuthClient(row)


def _save_token(token: dict[str, Any], oauth_request: Any) -> None:
    client: OAuthClient = oauth_request.client
    now = utcnow()
    db.session.add(
        ApiToken(
            token_hash=digest(token["access_token"]),
            client_pk=client.row.id,
            scopes=token.get("scope", ""),
            issued_at=now,
            expires_at=now + timedelta(seconds=int(token["expires_in"])),
        )
    )
    client.row.last_used_at = now
    db.session.flush()


server = AuthorizationServer(query_client=_query_client, save_token=_save_token)


class StoredToken(TokenMixin):
    def __init__(self, row: ApiToken, now: datetime) -> None:
        self.row = row
        self.now = now

    def check_client(self, client: Any) -> bool:
        return bool(client.get_client_id() == self.row.client.client_id)

    def get_scope(self) -> str:
        return self.row.scopes

    def get_expires_in(self) -> int:
        return max(0, int((self.row.expires_at - self.now).total_seconds()))

    def is_expired(self) -> bool:
        return self.now >= self.row.expires_at or not client_usable(self.row.client, self.now)

    def is_revoked(self) -> bool:
        return self.row.client.revoked_at is not None


class StoredTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> StoredToken | None:
        if not token_string or len(token_string) > 200:
            return None
        row = db.session.scalars(
            select(ApiToken).where(ApiToken.token_hash == digest(token_string))
        ).first()
        return StoredToken(row, utcnow()) if row is not None else None


protector = ResourceProtector()
protector.register_token_validator(StoredTokenValidator(realm="api"))


@dataclass(frozen=True)
class Caller:
    """Who calls the API: the client's row id, name, and the reseller it is limited to
    (None: the whole platform)."""

    client_pk: int
    client_id: str
    name: str
    reseller_id: int | None
    scopes: tuple[str, ...]


INVALID_TOKEN = _l("The access token is missing, invalid or expired.")


def require_token(scope: str) -> Caller:
    """The caller of this request, holding ``scope`` (R20: what it reaches is the
    tenancy's business, see ``tenants.api``)."""
    assert scope in SCOPES
    try:
        token = protector.validate_request([scope], FlaskJsonRequest(request))
    except MissingAuthorizationError as exc:
        raise ApiError(
            401,
            "invalid_token",
            INVALID_TOKEN,
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        ) from exc
    except InsufficientScopeError as exc:
        raise bearer_error(
            403,
            "insufficient_scope",
            _l("The access token lacks the scope %(scope)s.", scope=scope),
            scope,
        ) from exc
    except OAuth2Error as exc:
        raise bearer_error(401, "invalid_token", INVALID_TOKEN) from exc
    row = token.row.client
    caller = Caller(
        row.id, row.client_id, row.name, row.reseller_id, tuple(token.get_scope().split())
    )
    g.api_caller = caller
    return caller


def console_only() -> None:
    """The API answers on the console host only (a portal's host: 404, as for any
    unknown path there)."""
    portal = g.get("portal")
    if portal is None or not portal.is_console:
        raise ApiError(404)


def _api_error(error: ApiError) -> Any:
    return json_error(error)


def _http_error(exc: HTTPException) -> Any:
    return from_http_exception(exc)


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of the machine API, answering every error in JSON. Its handlers are
    set here, once, before any application registers it (Flask refuses changes to a
    blueprint after its first registration, and tests make many applications)."""
    blueprint = Blueprint(name, import_name)
    blueprint.register_error_handler(ApiError, _api_error)
    blueprint.register_error_handler(HTTPException, _http_error)
    return blueprint


def register_api_blueprint(app: Flask, blueprint: Blueprint) -> None:
    """No CSRF on the API (bearer tokens, no cookies)."""
    csrf.exempt(blueprint)
    app.register_blueprint(blueprint)


bp = api_blueprint("oauth", __name__)


def _token_limit() -> str:
    return str(current_app.config["API_TOKEN_PER_IP"])


@bp.post("/api/oauth/token")
@limiter.limit(_token_limit, scope="api-token")
def token() -> Any:
    """RFC 6749 §4.4.2; errors as §5.2 (``error``, ``error_description``)."""
    console_only()
    return server.create_token_response()


def init_app(app: Flask) -> None:
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(SCOPES))
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"client_credentials": app.config["API_TOKEN_SECONDS"]}
    server.init_app(app)
    server.register_grant(ClientCredentials)
    register_api_blueprint(app, bp)
    app.register_error_handler(ApiError, _api_error)


def token_seconds() -> int:
    return int(current_app.config["API_TOKEN_SECONDS"])
