"""Single-use links that set a login's password: invitations and password resets.

The link carries a random token; the ``login_token`` row keeps its SHA-256 only, so
the table yields no usable link. A token is good once, until it expires; using it
marks it used under a row lock, so two clicks on one link (or two tabs) set the
password once. Issuing a new link of the same purpose for the same login retires the
older ones: only the newest link in the login's mailbox works.

Callable without a request; the rows are read through the current tenant scope.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from pbx_platform.db import db, utcnow
from pbx_platform.models import LoginToken
from pbx_platform.sessions import token_digest
from pbx_platform.tenancy import Scope

TOKEN_MAX_LENGTH = 200


class Purpose(enum.StrEnum):
    INVITATION = "invitation"
    RESET = "reset"


LIFETIMES = {
    Purpose.INVITATION: timedelta(hours=72),
    Purpose.RESET: timedelta(hours=1),
}


class TokenState(enum.StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True)
class TokenCheck:
    state: TokenState
    record: LoginToken | None = None

    @property
    def ok(self) -> bool:
        return self.state == TokenState.VALID


def issue(
    purpose: Purpose, kind: str, principal_id: int, scope: Scope, *, now: datetime | None = None
) -> str:
    """A new link token for the login ``kind:principal_id`` (its tenant is ``scope``);
    earlier unused links of the same purpose stop working. Returns the token."""
    now = now or utcnow()
    db.session.execute(
        update(LoginToken)
        .where(
            LoginToken.purpose == purpose.value,
            LoginToken.principal_kind == kind,
            LoginToken.principal_id == principal_id,
            LoginToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginToken(
            token_hash=token_digest(token),
            purpose=purpose.value,
            principal_kind=kind,
            principal_id=principal_id,
            reseller_id=scope.reseller_id,
            account_id=scope.account_id,
            circle_id=scope.circle_id,
            created_at=now,
            expires_at=now + LIFETIMES[purpose],
        )
    )
    db.session.flush()
    return token


def check(
    token: str, purpose: Purpose, *, lock: bool = False, now: datetime | None = None
) -> TokenCheck:
    """What a link's token is worth now, as the current tenant scope sees it (a token of
    another reseller's portal is unknown here). ``lock``: hold the row until the
    transaction ends (before it is used)."""
    if not token or len(token) > TOKEN_MAX_LENGTH or "\x00" in token:
        return TokenCheck(TokenState.UNKNOWN)
    query = select(LoginToken).where(
        LoginToken.token_hash == token_digest(token), LoginToken.purpose == purpose.value
    )
    if lock:
        query = query.with_for_update()
    record = db.session.scalars(query).first()
    if record is None:
        return TokenCheck(TokenState.UNKNOWN)
    if record.used_at is not None:
        return TokenCheck(TokenState.USED, record)
    if (now or utcnow()) >= record.expires_at:
        return TokenCheck(TokenState.EXPIRED, record)
    return TokenCheck(TokenState.VALID, record)


def consume(record: LoginToken, now: datetime | None = None) -> None:
    record.used_at = now or utcnow()
    db.session.flush()


def retire_all(kind: str, principal_id: int, now: datetime | None = None) -> None:
    """Every unused link of a login stops working (it was deactivated)."""
    db.session.execute(
        update(LoginToken)
        .where(
            LoginToken.principal_kind == kind,
            LoginToken.principal_id == principal_id,
            LoginToken.used_at.is_(None),
        )
        .values(used_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
