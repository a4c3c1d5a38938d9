"""Staff users of a reseller, invitations, and password recovery by e-mail.

* Invitations (issue 7): an admin invites a staff user (admin, billing, support) or an
  account's manager by e-mail; the single-use link, valid 72 hours, sets the password
  under R15's rules. ``invite_staff`` is also what the console calls for a new
  reseller's first admin.
* Deactivation and roles (R22): a deactivated user's sessions end and its logins are
  refused; the last active admin of a reseller can be neither deactivated nor demoted.
  The check runs under a lock of the reseller's row, so two admins demoting each other
  at once leave one admin (PostgreSQL, READ COMMITTED).
* Password recovery: "forgot your password" mails a single-use link valid 1 hour,
  whatever the page answers; a circle's login gets such a link at its recovery address,
  sent by staff (``PASSWORD_RESET_SEND``) or its account's manager. Setting a password
  through a link ends every session of the login (``pbx_platform.sessions``) and, for a
  circle, satisfies R17.

Mails are queued with ``pbx_platform.mail`` and leave only after the commit. Services
flush; the request commits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from pbx_platform import mail, sessions, tokens
from pbx_platform.audit import audit_action
from pbx_platform.db import db, utcnow
from pbx_platform.i18n import LOCALES
from pbx_platform.japanese import tokyo_today
from pbx_platform.models import LoginToken
from pbx_platform.net import public_url
from pbx_platform.passwords import hash_password, login_key, password_problems
from pbx_platform.tenancy import Scope
from pbx_platform.tokens import Purpose, TokenState
from pbx_platform.versioning import check_edit, claim_edit
from tenants.models import (
    Account,
    Circle,
    PasswordPolicy,
    Reseller,
    ResellerHost,
    Staff,
    StaffKind,
    StaffRole,
)

EMAIL_MAX = 254
NAME_MAX = 80
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_EMAIL_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


@dataclass
class Outcome:
    """Field name → messages; empty when the change was made."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    staff: Staff | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, name: str, message: object) -> None:
        self.errors.setdefault(name, []).append(str(message))


class LastAdmin(ValueError):
    """The change would leave the reseller without an active admin."""


LAST_ADMIN_MESSAGE = _l(
    "This is the last active admin. Make another user an admin first, "
    "so that someone can still manage the staff users."
)


# -- input -------------------------------------------------------------------------------------


def normalize_email(raw: str) -> str:
    """NFKC (full-width letters and ＠ become ASCII) and trimmed, as typed."""
    return unicodedata.normalize("NFKC", raw or "").strip()


def is_email_address(value: str) -> bool:
    """A plain ASCII address: RFC 5322 atoms, DNS labels, a top-level domain of letters."""
    if len(value) > EMAIL_MAX or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    labels = domain.split(".")
    return (
        0 < len(local) <= 64
        and _EMAIL_LOCAL.fullmatch(local) is not None
        and len(labels) >= 2
        and all(_EMAIL_LABEL.fullmatch(label) for label in labels)
        and labels[-1].isalpha()
        and len(labels[-1]) >= 2
    )


def email_problems(email: str) -> list[str]:
    if not email:
        return [str(_l("Enter an e-mail address."))]
    if len(email) > EMAIL_MAX:
        return [str(_l("Use at most %(n)d characters.", n=EMAIL_MAX))]
    if not is_email_address(email):
        return [str(_l("Enter an e-mail address such as name@example.co.jp."))]
    return []


def name_problems(name: str) -> list[str]:
    if not name:
        return [str(_l("Enter a name."))]
    if len(name) > NAME_MAX:
        return [str(_l("Use at most %(n)d characters.", n=NAME_MAX))]
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        return [str(_l("Remove the control characters."))]
    return []


# -- links and mails ----------------------------------------------------------------------------


def portal_link(reseller_id: int, endpoint: str, **values: Any) -> str:
    """An absolute link to a page of the reseller's portal, on its portal host (its
    custom domain first)."""
    host = db.session.scalars(
        select(ResellerHost.host)
        .where(ResellerHost.reseller_id == reseller_id, ResellerHost.kind == "portal")
        .order_by(ResellerHost.is_custom.desc(), ResellerHost.id)
    ).first()
    return public_url(host or current_app.config["BASE_DOMAIN"], endpoint, **values)


def _console_link(endpoint: str, **values: Any) -> str:
    return public_url(current_app.config["CONSOLE_HOST"], endpoint, **values)


def _locale(preferred: str | None, reseller_id: int) -> str:
    if preferred in LOCALES:
        return str(preferred)
    reseller = db.session.get(Reseller, reseller_id)
    return reseller.default_locale if reseller and reseller.default_locale in LOCALES else "ja"


def _send(
    template: str,
    *,
    to: str,
    subject: object,
    reseller_id: int,
    locale: str | None,
    **context: object,
) -> None:
    brand = mail.brand_for(reseller_id)
    mail.queue(
        mail.render(
            f"tenants/mail/{template}",
            to=to,
            subject=subject,
            locale=_locale(locale, reseller_id),
            brand=brand,
            **context,
        )
    )


# -- staff users --------------------------------------------------------------------------------


def staff_users() -> list[Staff]:
    """The reseller's staff and the account managers the scope holds, by name."""
    return list(
        db.session.scalars(
            select(Staff)
            .where(Staff.kind != StaffKind.PLATFORM)
            .order_by(Staff.kind.desc(), Staff.name, Staff.id)
        )
    )


def account_managers(account: Account) -> list[Staff]:
    return list(
        db.session.scalars(
            select(Staff)
            .where(Staff.account_id == account.id, Staff.kind == StaffKind.ACCOUNT_MANAGER)
            .order_by(Staff.name, Staff.id)
        )
    )


def invitation_pending(staff: Staff) -> bool:
    """Invited, and no password set yet (the empty hash matches no password)."""
    return not staff.password_hash


def _lock_reseller(reseller_id: int) -> None:
    """Staff changes of one reseller take turns (the last-admin rule counts after it)."""
    db.session.execute(select(Reseller.id).where(Reseller.id == reseller_id).with_for_update())


def _email_taken(key: str) -> bool:
    # The unique index is per reseller; the account manager's scope sees only its own.
    return (db.session.scalar(select(func.count(Staff.id)).where(Staff.email_key == key)) or 0) > 0


def _invite(
    *,
    reseller_id: int,
    account: Account | None,
    email: str,
    name: str,
    role: StaffRole,
    locale: str | None,
    invited_by: Staff | None,
) -> Outcome:
    outcome = Outcome()
    email = normalize_email(email)
    name = unicodedata.normalize("NFKC", name or "").strip()
    for problem in email_problems(email):
        outcome.add("email", problem)
    for problem in name_problems(name):
        outcome.add("name", problem)
    if locale is not None and locale not in LOCALES:
        outcome.add("locale", _l("Choose one of the offered languages."))
    if not outcome.ok:
        return outcome
    _lock_reseller(reseller_id)
    if _email_taken(login_key(email)):
        outcome.add("email", _l("A staff user with this e-mail address already exists."))
        return outcome
    kind = StaffKind.ACCOUNT_MANAGER if account is not None else StaffKind.RESELLER
    with audit_action("staff.invite"):
        staff = Staff(
            reseller_id=reseller_id,
            kind=kind,
            role=StaffRole.ADMIN if account is not None else role,
            account_id=account.id if account is not None else None,
            email=email,
            email_key=login_key(email),
            name=name,
            password_hash="",
            locale=locale,
            active=True,
        )
        db.session.add(staff)
        db.session.flush()
    _mail_invitation(staff, invited_by)
    outcome.staff = staff
    return outcome


def _scope_of(staff: Staff) -> Scope:
    return Scope(staff.reseller_id, staff.account_id)


def _mail_invitation(staff: Staff, invited_by: Staff | None) -> None:
    token = tokens.issue(Purpose.INVITATION, "staff", staff.id, _scope_of(staff))
    account = db.session.get(Account, staff.account_id) if staff.account_id else None
    _send(
        "invitation",
        to=staff.email,
        subject=_l(
            "You are invited to %(product)s", product=mail.brand_for(staff.reseller_id).product_name
        ),
        reseller_id=staff.reseller_id,
        locale=staff.locale,
        staff=staff,
        account=account,
        invited_by=invited_by.name if invited_by is not None else "",
        link=portal_link(staff.reseller_id, "recovery.staff_invitation", token=token),
        hours=int(tokens.LIFETIMES[Purpose.INVITATION].total_seconds() // 3600),
    )


def invite_staff(
    reseller: Reseller,
    email: str,
    name: str,
    role: StaffRole,
    locale: str | None,
    invited_by: Staff | None,
) -> Outcome:
    """A new staff user of ``reseller`` with ``role``, invited by e-mail: a link valid
    72 hours sets the password (R15). ``outcome.staff`` is the new user, or
    ``outcome.errors`` says what is wrong (nothing changed). Call in a scope that holds
    the reseller (its portal, or the console's bypass)."""
    return _invite(
        reseller_id=reseller.id,
        account=None,
        email=email,
        name=name,
        role=role,
        locale=locale,
        invited_by=invited_by,
    )


def invite_account_manager(
    account: Account, email: str, name: str, locale: str | None, invited_by: Staff | None
) -> Outcome:
    """A new manager of ``account`` (R22's account manager), invited by e-mail."""
    return _invite(
        reseller_id=account.reseller_id,
        account=account,
        email=email,
        name=name,
        role=StaffRole.ADMIN,
        locale=locale,
        invited_by=invited_by,
    )


def resend_invitation(staff: Staff, invited_by: Staff | None) -> bool:
    """A fresh 72-hour link for a user who has not set a password yet; older links die."""
    if not invitation_pending(staff) or not staff.active:
        return False
    _mail_invitation(staff, invited_by)
    return True


def _active_admins(reseller_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(Staff.id)).where(
                Staff.reseller_id == reseller_id,
                Staff.kind == StaffKind.RESELLER,
                Staff.role == StaffRole.ADMIN,
                Staff.active.is_(True),
            )
        )
        or 0
    )


def _is_active_admin(staff: Staff) -> bool:
    return staff.kind == StaffKind.RESELLER and staff.role == StaffRole.ADMIN and staff.active


def _refuse_last_admin(staff: Staff) -> None:
    _lock_reseller(staff.reseller_id)
    db.session.refresh(staff)
    if _is_active_admin(staff) and _active_admins(staff.reseller_id) <= 1:
        raise LastAdmin(str(LAST_ADMIN_MESSAGE))


def deactivate(staff: Staff) -> None:
    """Logins refused, every session ended, unused links dead. Raises ``LastAdmin``."""
    _refuse_last_admin(staff)
    if not staff.active:
        return
    with audit_action("staff.deactivate"):
        staff.active = False
        sessions.revoke_all("staff", staff.id, audit_as="session.end.deactivation")
        tokens.retire_all("staff", staff.id)
        db.session.flush()


def reactivate(staff: Staff) -> None:
    if staff.active:
        return
    with audit_action("staff.reactivate"):
        staff.active = True
        db.session.flush()


def change_role(staff: Staff, role: StaffRole, *, version: int | None = None) -> None:
    """R22's role of a reseller staff user; the session rotates with the privilege (its
    sessions end). Raises ``LastAdmin`` for the last active admin's demotion and
    ``StaleEdit`` for a stale form."""
    if staff.kind != StaffKind.RESELLER:
        raise ValueError("only reseller staff have a role")
    if version is not None:
        check_edit(staff, version)
    if staff.role == role:
        return
    if role != StaffRole.ADMIN:
        _refuse_last_admin(staff)
    with audit_action("staff.role_change"):
        if version is not None:
            claim_edit(staff, version)
        staff.role = role
        sessions.revoke_all("staff", staff.id, audit_as="session.end.role_change")
        db.session.flush()


def note_login(staff: Staff) -> None:
    staff.last_login_at = utcnow()
    db.session.flush()


# -- setting a password through a link ---------------------------------------------------------


@dataclass
class LinkOutcome:
    state: TokenState
    errors: dict[str, list[str]] = field(default_factory=dict)
    principal: Staff | Circle | None = None

    @property
    def ok(self) -> bool:
        return self.state == TokenState.VALID and not self.errors


def _principal_of(record: LoginToken) -> Staff | Circle | None:
    if record.principal_kind == "staff":
        staff = db.session.get(Staff, record.principal_id)
        return staff if staff is not None and staff.active else None
    return db.session.get(Circle, record.principal_id)


def link_state(token: str, purpose: Purpose, *, kind: str, console: bool = False) -> LinkOutcome:
    """What a link is worth before its form is shown (no change)."""
    checked = tokens.check(token, purpose)
    if not checked.ok or checked.record is None:
        return LinkOutcome(checked.state)
    principal = _principal_of(checked.record)
    if principal is None or principal.principal_kind != kind or _wrong_host(principal, console):
        return LinkOutcome(TokenState.UNKNOWN)
    return LinkOutcome(TokenState.VALID, principal=principal)


def _wrong_host(principal: Staff | Circle, console: bool) -> bool:
    return isinstance(principal, Staff) and (principal.kind == StaffKind.PLATFORM) != console


def set_password_with_link(
    token: str, purpose: Purpose, *, kind: str, new: str, repeat: str, console: bool = False
) -> LinkOutcome:
    """R15's rules for the new password; the link is used once (its row locked), and
    every session of the login ends."""
    checked = tokens.check(token, purpose, lock=True)
    if not checked.ok or checked.record is None:
        return LinkOutcome(checked.state)
    principal = _principal_of(checked.record)
    if principal is None or principal.principal_kind != kind or _wrong_host(principal, console):
        return LinkOutcome(TokenState.UNKNOWN)
    outcome = LinkOutcome(TokenState.VALID, principal=principal)
    for problem in password_problems(new):
        outcome.errors.setdefault("new_password", []).append(problem)
    if new != repeat:
        outcome.errors.setdefault("new_password_repeat", []).append(
            str(_l("The two new passwords do not match."))
        )
    if outcome.errors:
        return outcome
    action = "invitation_accept" if purpose == Purpose.INVITATION else "password_reset"
    with audit_action(f"{kind}.{action}"):
        principal.password_hash = hash_password(new)
        principal.password_changed_at = utcnow()
        if isinstance(principal, Circle):
            principal.password_policy = PasswordPolicy.NONE
        tokens.consume(checked.record)
        sessions.revoke_all(kind, principal.id, audit_as="session.end.password_change")
        db.session.flush()
    return outcome


# -- password recovery ---------------------------------------------------------------------------


def request_staff_reset(email: str, *, console: bool, locale: str | None) -> None:
    """ "Forgot your password?": a 1-hour link to an active login with this address on
    this host's kind of login (console or portal); nothing at all otherwise. The caller
    answers the same either way."""
    key = login_key(email)
    if not key or len(key) > EMAIL_MAX or "\x00" in key:
        return
    query = select(Staff).where(Staff.email_key == key, Staff.active.is_(True))
    query = query.where(
        Staff.kind == StaffKind.PLATFORM if console else Staff.kind != StaffKind.PLATFORM
    )
    staff = db.session.scalars(query).first()
    if staff is None or invitation_pending(staff):
        return
    token = tokens.issue(Purpose.RESET, "staff", staff.id, _scope_of(staff))
    endpoint = "recovery.console_reset" if console else "recovery.staff_reset"
    link = (
        _console_link(endpoint, token=token)
        if console
        else portal_link(staff.reseller_id, endpoint, token=token)
    )
    _send(
        "password_reset",
        to=staff.email,
        subject=_l("Reset your password"),
        reseller_id=staff.reseller_id,
        locale=staff.locale or locale,
        name=staff.name,
        login=staff.email,
        link=link,
        minutes=int(tokens.LIFETIMES[Purpose.RESET].total_seconds() // 60),
    )


def request_circle_reset(login_id: str) -> None:
    """A circle's own "Forgot your password?": a 1-hour link to the recovery address of
    the circle with this login ID on this host's reseller (R14), when it has one and may
    log in; nothing at all otherwise. The caller answers the same either way."""
    key = login_key(login_id)
    if not key or len(key) > 64 or "\x00" in key:
        return
    circle = db.session.scalars(select(Circle).where(Circle.login_id_key == key)).first()
    if circle is None or circle.account.login_refused(tokyo_today()):
        return
    send_circle_reset(circle)


def send_circle_reset(circle: Circle) -> bool:
    """A 1-hour reset link to the circle's recovery address (False: it has none)."""
    if not circle.recovery_email:
        return False
    scope = Scope(circle.reseller_id, circle.account_id, circle.id)
    with audit_action("circle.password_reset_send"):
        token = tokens.issue(Purpose.RESET, "circle", circle.id, scope)
    _send(
        "password_reset",
        to=circle.recovery_email,
        subject=_l("Reset your password"),
        reseller_id=circle.reseller_id,
        locale=circle.locale,
        name=circle.name,
        login=circle.login_id,
        link=portal_link(circle.reseller_id, "recovery.circle_reset", token=token),
        minutes=int(tokens.LIFETIMES[Purpose.RESET].total_seconds() // 60),
    )
    return True


def set_recovery_email(circle: Circle, raw: str, *, version: int | None = None) -> Outcome:
    """The circle's optional recovery address (empty removes it). A stale form raises
    ``StaleEdit`` (``pbx_platform.versioning``)."""
    outcome = Outcome()
    if version is not None:
        check_edit(circle, version)
    email = normalize_email(raw)
    if email:
        for problem in email_problems(email):
            outcome.add("recovery_email", problem)
    if not outcome.ok:
        return outcome
    value = email or None
    if value == circle.recovery_email:
        return outcome
    with audit_action("circle.recovery_email"):
        if version is not None:
            claim_edit(circle, version)
        circle.recovery_email = value
        db.session.flush()
    return outcome
