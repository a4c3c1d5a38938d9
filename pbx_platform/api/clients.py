"""Registering and revoking API clients (the platform operator's console page).

The secret is 32 random bytes (URL-safe base64), shown once when the client is made and
never again: only its SHA-256 is kept (see ``ApiClient``). Revoking is immediate: every
token of the client stops working at its next request (``oauth.StoredToken``)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from pbx_platform.api.models import SCOPES, ApiClient
from pbx_platform.api.oauth import digest
from pbx_platform.audit import audit_action
from pbx_platform.audit_read import register_action, register_object
from pbx_platform.db import db, utcnow
from pbx_platform.japanese import TOKYO, tokyo_today
from pbx_platform.paging import Page, Paging, paginate
from pbx_platform.validation import has_control_characters, normalized

MAX_NAME = 100

register_object("api_client", _l("API client"), title=("name", "client_id"))
register_action("api_client.create", _l("%(who)s registered %(object)s"))
register_action("api_client.revoke", _l("%(who)s revoked %(object)s"))


class ClientError(ValueError):
    def __init__(self, field: str, message: object) -> None:
        super().__init__(str(message))
        self.field = field


@dataclass(frozen=True)
class NewClient:
    """What the form asked for, checked."""

    name: str
    scopes: tuple[str, ...]
    reseller_id: int | None
    expires_on: date | None


def check_new_client(
    *,
    name: str,
    scopes: Sequence[str],
    reseller_id: int | None,
    expires_on: str,
    resellers: Mapping[int, str],
) -> NewClient | dict[str, str]:
    """The console form's values → a ``NewClient`` or ``{field: message}``.
    ``resellers``: the ids that may be chosen (the platform's resellers)."""
    problems: dict[str, str] = {}
    clean = normalized(name).strip()
    if not clean:
        problems["name"] = str(_l("Enter a name."))
    elif len(clean) > MAX_NAME or has_control_characters(clean):
        problems["name"] = str(
            _l("Use at most %(n)d characters, without control characters.", n=MAX_NAME)
        )
    chosen = tuple(scope for scope in SCOPES if scope in scopes)
    if not chosen or len(set(scopes) - set(SCOPES)) > 0:
        problems["scopes"] = str(_l("Choose at least one scope."))
    if reseller_id is not None and reseller_id not in resellers:
        problems["reseller_id"] = str(_l("Choose a reseller from the list."))
    expires: date | None = None
    if expires_on.strip():
        try:
            expires = date.fromisoformat(normalized(expires_on).strip())
        except ValueError:
            problems["expires_on"] = str(_l("Enter a date like 2027-03-31."))
        else:
            if expires <= tokyo_today():
                problems["expires_on"] = str(_l("Choose a day after today."))
    if problems:
        return problems
    return NewClient(clean, chosen, reseller_id, expires)


def _end_of(day: date) -> datetime:
    """A client valid "until" a day works to the end of that day, Japan time."""
    return datetime.combine(day, time.max, tzinfo=TOKYO)


def create_client(new: NewClient, *, created_by: int | None) -> tuple[ApiClient, str]:
    """The new client and its secret (the only time the secret exists in the clear)."""
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        name=new.name,
        client_id="pbx_" + secrets.token_hex(12),
        secret_hash=digest(secret),
        scopes=" ".join(new.scopes),
        reseller_id=new.reseller_id,
        expires_at=_end_of(new.expires_on) if new.expires_on else None,
        created_by=created_by,
    )
    with audit_action("api_client.create"):
        db.session.add(client)
        db.session.flush()
    return client, secret


def revoke_client(client: ApiClient) -> bool:
    """Revoke ``client`` (False if it already was)."""
    if client.revoked_at is not None:
        return False
    with audit_action("api_client.revoke"):
        client.revoked_at = utcnow()
        db.session.flush()
    return True


def find_client(client_pk: int) -> ApiClient | None:
    return db.session.get(ApiClient, client_pk)


def client_page(args: Mapping[str, str]) -> Page[ApiClient]:
    paging = Paging.from_args(args, ("created", "name"), default="created", descending=True)
    return paginate(
        select(ApiClient),
        paging,
        {"created": ApiClient.created_at, "name": ApiClient.name},
        ApiClient.id,
    )
