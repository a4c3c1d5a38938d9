"""Password hashing, the R15 policy and the R14 login-ID rule.

Hashes are argon2id at OWASP's minimum parameters (m=19456 KiB, t=2, p=1) and
are re-hashed at login when the parameters change.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from importlib import resources
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l

from pbx_platform.validation import normalized

MAX_PASSWORD_LENGTH = 128
MIN_PASSWORD_LENGTH = 8
# R15: the only symbols a password may contain.
PASSWORD_SYMBOLS = "!@#$%^&*?_-"  # noqa: S105 (a character class, not a secret)
# R14; always used with fullmatch ("$" would admit a trailing newline).
LOGIN_ID_PATTERN = re.compile(r"[A-Za-z0-9@\-_.]+")
LOGIN_ID_MAX_LENGTH = 64
LOGIN_ID_MIN_LENGTH = 4

# OWASP's argon2id minimum: m=19456 KiB, t=2, p=1.
HASH_PARAMETERS: dict[str, Any] = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}
_hasher = PasswordHasher(**HASH_PARAMETERS)
# A hash verified against when the login is unknown, so that a miss costs the
# same time as a hit and does not reveal which IDs exist.
_DUMMY_HASH = _hasher.hash("dummy-password-for-timing-Aa1!")


def configure_hasher(**parameters: int) -> None:
    """Change the hashing parameters (hashes made earlier are re-hashed at login)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(**{**HASH_PARAMETERS, **parameters})
    _DUMMY_HASH = _hasher.hash("dummy-password-for-timing-Aa1!")


class PasswordTooLong(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordTooLong(password[:0])
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-work check; over-long input is refused before hashing."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def common_passwords() -> frozenset[str]:
    """The 20,000 most common passwords (shipped list), lower-cased."""
    data = resources.files("pbx_platform").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def password_problems(password: str, *, current: str | None = None) -> list[str]:
    """Every R15 rule the password breaks, as messages for the user (empty if none)."""
    problems: list[str] = []
    if len(password) > MAX_PASSWORD_LENGTH:
        return [str(_l("Use at most %(n)d characters.", n=MAX_PASSWORD_LENGTH))]
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(str(_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)))
    if not re.search(r"[A-Z]", password):
        problems.append(str(_l("Include an upper-case letter (A–Z).")))
    if not re.search(r"[a-z]", password):
        problems.append(str(_l("Include a lower-case letter (a–z).")))
    if not any(ch in PASSWORD_SYMBOLS for ch in password):
        problems.append(
            str(_l("Include a symbol: one of %(symbols)s", symbols=" ".join(PASSWORD_SYMBOLS)))
        )
    bad = sorted(
        {ch for ch in password if not (ch.isascii() and (ch.isalnum() or ch in PASSWORD_SYMBOLS))}
    )
    if bad:
        shown = " ".join(_shown_character(ch) for ch in bad)
        problems.append(
            str(
                _l(
                    "These characters are not allowed: %(chars)s. "
                    "Use letters, digits and %(symbols)s only.",
                    chars=shown,
                    symbols=" ".join(PASSWORD_SYMBOLS),
                )
            )
        )
    if current is not None and password == current:
        problems.append(str(_l("The new password must differ from the current one.")))
    if password.lower() in common_passwords():
        problems.append(str(_l("This password is among the most common ones. Choose another.")))
    return problems


def _shown_character(ch: str) -> str:
    """A refused character as the user can see it: blanks and controls by code point."""
    if ch == " ":
        return str(_l("space"))
    if not ch.isprintable() or ch.isspace():
        return f"U+{ord(ch):04X}"
    return ch


def normalize_login_id(raw: str) -> str:
    """NFKC (full-width → half-width) and trimmed, as typed by a Japanese user."""
    return normalized(raw)


def login_key(raw: str) -> str:
    """The comparison key of a circle login ID or a staff e-mail address: NFKC, trimmed,
    lower-cased (R14 compares without case). Authentication, the stored ``*_key``
    columns and the per-login rate limit all use this one key."""
    return normalize_login_id(raw).lower()


def login_id_problems(login_id: str) -> list[str]:
    """R14: a–z, A–Z, 0–9, @ - _ . only."""
    if not login_id:
        return [str(_l("Enter a login ID."))]
    problems = []
    if len(login_id) > LOGIN_ID_MAX_LENGTH:
        problems.append(str(_l("Use at most %(n)d characters.", n=LOGIN_ID_MAX_LENGTH)))
    if len(login_id) < LOGIN_ID_MIN_LENGTH:
        problems.append(str(_l("Use at least %(n)d characters.", n=LOGIN_ID_MIN_LENGTH)))
    if not LOGIN_ID_PATTERN.fullmatch(login_id):
        problems.append(
            str(_l("A login ID may contain only a–z, A–Z, 0–9 and the symbols @ - _ ."))
        )
    return problems
