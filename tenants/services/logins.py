"""Logins and passwords of circles and staff (R14, R15, R17)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pbx_platform import sessions
from pbx_platform.audit import audit_action
from pbx_platform.db import db, utcnow
from pbx_platform.japanese import jdate, tokyo_today
from pbx_platform.passwords import (
    hash_password,
    login_id_problems,
    login_key,
    needs_rehash,
    normalize_login_id,
    password_problems,
    verify_password,
)
from pbx_platform.versioning import check_edit, claim_edit
from tenants.models import Account, AccountStatus, Circle, PasswordPolicy, Staff, StaffKind
from tenants.validation import Outcome


class LoginRefused(ValueError):
    """The password is right but the login's customer account is suspended or closed;
    the message is for the user (shown only after the password was verified)."""


def check_account_open(account: Account | None, *, today: date | None = None) -> None:
    """``LoginRefused`` when the account's logins may not log in: suspended, or past
    the closing date of its termination."""
    if account is None:
        return
    today = today or tokyo_today()
    if account.is_closed(today) and account.closes_on is not None:
        raise LoginRefused(
            str(
                _l(
                    "This customer account was closed at the end of %(date)s. "
                    "Logging in is no longer possible.",
                    date=jdate(account.closes_on),
                )
            )
        )
    if account.status == AccountStatus.SUSPENDED:
        raise LoginRefused(
            str(
                _l(
                    "This customer account is suspended, so logging in is not possible. "
                    "Please contact your provider."
                )
            )
        )


def _storable(key: str) -> bool:
    """A NUL can be in no stored login (PostgreSQL refuses it in a query): such input is
    an unknown login, not a database error."""
    return "\x00" not in key


def authenticate_circle(login_id: str, password: str) -> Circle | None:
    """A circle of the current portal's reseller whose password matches.

    The query runs in the host's tenant scope: a login ID of another reseller's
    circle is unknown here (R20). Unknown IDs still cost one hash verification.
    ``LoginRefused`` when the password is right but the account is suspended or closed.
    """
    key = login_key(login_id)
    circle = None
    if _storable(key):
        circle = db.session.scalars(select(Circle).where(Circle.login_id_key == key)).first()
    if not verify_password(circle.password_hash if circle else None, password) or circle is None:
        return None
    check_account_open(circle.account)
    if needs_rehash(circle.password_hash):
        with audit_action("circle.password_rehash"):
            circle.password_hash = hash_password(password)
            db.session.flush()
    return circle


def authenticate_staff(email: str, password: str, *, console: bool) -> Staff | None:
    key = login_key(email)
    query = select(Staff).where(Staff.email_key == key, Staff.active.is_(True))
    if console:
        query = query.where(Staff.kind == StaffKind.PLATFORM)
    else:
        query = query.where(Staff.kind != StaffKind.PLATFORM)
    staff = db.session.scalars(query).first() if _storable(key) else None
    if not verify_password(staff.password_hash if staff else None, password) or staff is None:
        return None
    if staff.kind == StaffKind.ACCOUNT_MANAGER:
        check_account_open(staff.account)
    if needs_rehash(staff.password_hash):
        with audit_action("staff.password_rehash"):
            staff.password_hash = hash_password(password)
            db.session.flush()
    return staff


def end_sessions(
    principal: Circle | Staff, *, why: str = "session.end_others", keep: int | None = None
) -> int:
    """Every open session of this login ends (in every browser), but the session
    ``keep`` (the one asking, when it asks to stay); returns how many ended. Each one
    ended is in the audit log, as ``why``."""
    return sessions.revoke_all(principal.principal_kind, principal.id, audit_as=why, keep=keep)


def change_password(
    principal: Circle | Staff,
    *,
    current: str,
    new: str,
    repeat: str,
    keep_session: int | None = None,
) -> Outcome:
    """R15: current password, new password twice; the policy with a message per broken rule.

    On success the R17 policy of a circle is satisfied (reset to *none*) and every
    other session of the login ends: all of them but ``keep_session`` (the session
    that made the change).
    """
    outcome = Outcome()
    if not verify_password(principal.password_hash, current):
        outcome.add("current_password", str(_l("The current password is not correct.")))
    for problem in password_problems(new, current=current if outcome.ok else None):
        outcome.add("new_password", problem)
    if new != repeat:
        outcome.add("new_password_repeat", str(_l("The two new passwords do not match.")))
    if not outcome.ok:
        return outcome
    kind = "circle" if isinstance(principal, Circle) else "staff"
    with audit_action(f"{kind}.password_change"):
        principal.password_hash = hash_password(new)
        principal.password_changed_at = utcnow()
        if isinstance(principal, Circle):
            principal.password_policy = PasswordPolicy.NONE
        end_sessions(principal, why="session.end.password_change", keep=keep_session)
    return outcome


def set_password_policy(
    circle: Circle, policy: PasswordPolicy, *, version: int | None = None
) -> None:
    """R17, set by the account's manager or the reseller's staff.

    A change ends every open session of the circle, so the new policy applies at
    once, at the next login. ``version``: the circle's ``edit_version`` the form was
    opened at; a stale form raises ``StaleEdit`` and changes nothing
    (``pbx_platform.versioning``).
    """
    if version is not None:
        check_edit(circle, version)
    if circle.password_policy == policy:
        return
    with audit_action("circle.password_policy"):
        if version is not None:
            claim_edit(circle, version)
        circle.password_policy = policy
        end_sessions(circle, why="session.end.password_policy")


def change_login_id(circle: Circle, raw: str) -> Outcome:
    """R14: allowed characters only; unique within the reseller, case-insensitively."""
    outcome = Outcome()
    login_id = normalize_login_id(raw)
    for problem in login_id_problems(login_id):
        outcome.add("login_id", problem)
    if not outcome.ok or login_id == circle.login_id:
        return outcome
    try:
        with db.session.begin_nested(), audit_action("circle.login_id_change"):
            circle.login_id = login_id
            circle.login_id_key = login_key(login_id)
            db.session.flush()
    except IntegrityError:
        # The unique index sees every circle of the reseller; a circle's scope sees itself.
        db.session.refresh(circle)
        outcome.add("login_id", str(_l("This login ID is already in use. Choose another.")))
    return outcome
