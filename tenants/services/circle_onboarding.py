"""A reseller's staff create a customer's circle and reset its password (R13, R14, R17).

The first password is generated (``credentials.generate_password``), shown once on the
result page and stored only as its hash; the circle must change it at its first login
unless staff chose another R17 policy. Services flush; the request commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pbx_platform import sessions
from pbx_platform.audit import audit_action
from pbx_platform.db import db, utcnow
from pbx_platform.passwords import hash_password, login_id_problems, login_key, normalize_login_id
from tenants.models import Account, Circle, PasswordPolicy
from tenants.services import numbers, provisioning
from tenants.services.circles.common import EXTENSION_LENGTHS
from tenants.services.credentials import generate_password
from tenants.validation import Outcome, normalized
from tenants.validation import name_problem as display_name_problem

DEFAULT_EXTENSION_LENGTH = 3
TAKEN = _l("This login ID is already in use. Choose another.")


@dataclass(frozen=True)
class NewCircle:
    """The new-circle form as typed."""

    name: str
    login_id: str
    extension_length: str
    policy: str = PasswordPolicy.FORCE.value
    # Numbers of the reseller's pool for the circle (0: an id that was not a number).
    number_ids: tuple[int, ...] = ()


@dataclass
class Created:
    outcome: Outcome
    circle: Circle | None = None
    password: str | None = None  # shown once, never stored


def _policy(raw: str, outcome: Outcome) -> PasswordPolicy | None:
    try:
        return PasswordPolicy((raw or "").strip())
    except ValueError:
        outcome.add("policy", _l("Choose one of the offered policies."))
        return None


def _login_id_taken(key: str) -> bool:
    """R14: compared without case among the reseller's circles (the staff's scope is
    the reseller; another reseller's IDs are not seen and do not count)."""
    return (
        db.session.scalar(select(Circle.id).where(Circle.login_id_key == key).limit(1)) is not None
    )


def create_circle(account: Account, data: NewCircle) -> Created:
    """Create a circle of ``account`` with its Default pickup group (R16), a login ID
    unique within the reseller (R14), an extension length (R13), the chosen numbers of
    the reseller's pool (each on at most one circle) and a generated first password;
    R17 *force* unless chosen otherwise. A refused form creates nothing."""
    name = normalized(data.name)
    login_id = normalize_login_id(data.login_id or "")
    length_text = normalized(data.extension_length)
    outcome = Outcome(
        values={
            "name": name,
            "login_id": login_id,
            "extension_length": length_text,
            "policy": (data.policy or "").strip(),
            "number_ids": list(data.number_ids),
        }
    )
    problem = display_name_problem(name)
    if problem:
        outcome.add("name", problem)
    for message in login_id_problems(login_id):
        outcome.add("login_id", message)
    if "login_id" not in outcome.errors and "\x00" not in login_id:
        if _login_id_taken(login_key(login_id)):
            outcome.add("login_id", TAKEN)
    length = int(length_text) if length_text.isascii() and length_text.isdigit() else None
    if length not in EXTENSION_LENGTHS:
        outcome.add("extension_length", _l("Choose an extension length from 2 to 5 digits."))
    policy = _policy(data.policy, outcome)
    if not outcome.ok:
        return Created(outcome)
    assert length is not None and policy is not None
    password = generate_password()
    try:
        with db.session.begin_nested(), audit_action("circle.create"):
            circle = provisioning.create_circle(
                account,
                name=name,
                login_id=login_id,
                password=password,
                extension_length=length,
                policy=policy,
            )
            if data.number_ids:
                numbers.assign(circle, data.number_ids)
    except IntegrityError:
        # Another request took the login ID between the check and the insert.
        outcome.add("login_id", TAKEN)
        return Created(outcome)
    except numbers.NumberError as exc:
        # A number not in the pool, or taken meanwhile: the circle is not created either.
        outcome.add("phone_number_id", str(exc))
        return Created(outcome)
    return Created(outcome, circle, password)


@dataclass
class Reset:
    outcome: Outcome
    password: str | None = None
    ended_sessions: int = 0


def reset_password(circle: Circle, policy_raw: str) -> Reset:
    """A new generated password for the circle, shown once; every open session of the
    circle ends (``pbx_platform.sessions``); R17 as chosen (*force* by default)."""
    outcome = Outcome(values={"policy": (policy_raw or "").strip()})
    policy = _policy(policy_raw, outcome)
    if policy is None:
        return Reset(outcome)
    password = generate_password()
    with audit_action("circle.password_reset"):
        circle.password_hash = hash_password(password)
        circle.password_changed_at = utcnow()
        circle.password_policy = policy
        db.session.flush()
        ended = sessions.revoke_all(
            circle.principal_kind, circle.id, audit_as="session.end.password_reset"
        )
    return Reset(outcome, password, ended)
