"""Generated credentials: a circle's first (or reset) password and a SIP phone's secret.

Both are shown once and never stored in the clear: the password as an argon2id hash
(``pbx_platform.passwords``), the SIP secret as the HA1 digest the PBX's registrar
needs (RFC 2617 / RFC 8760, see ``docs/architecture.md``).
"""

from __future__ import annotations

import hashlib
import secrets

from pbx_platform.passwords import password_problems

# Readable: no 0/O/o, 1/l/I, 5/S, 2/Z that are confused when read out or copied by hand.
_UPPER = "ABCDEFGHJKLMNPQRTUVWXY"
_LOWER = "abcdefghijkmnpqrstuvwxyz"
_DIGITS = "346789"
_ALPHABET = _UPPER + _LOWER + _DIGITS
GROUPS = 4
GROUP_LENGTH = 4


def generate_password() -> str:
    """A password that meets R15 and reads well: four groups of four letters and digits
    joined by hyphens (``Kp7m-Xq3r-T9wz-Hn4c``): 16 characters from 52, about 91 bits.
    Drawn until it has an upper-case and a lower-case letter and passes every R15 rule."""
    while True:
        groups = [
            "".join(secrets.choice(_ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS)
        ]
        candidate = "-".join(groups)
        if (
            any(c in _UPPER for c in candidate)
            and any(c in _LOWER for c in candidate)
            and not password_problems(candidate)
        ):
            return candidate


SIP_SECRET_LENGTH = 24


def generate_sip_secret() -> str:
    """A SIP digest secret: 24 characters from the readable alphabet (about 137 bits).
    Typed once into a phone's configuration, so no symbols a phone's keypad lacks."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(SIP_SECRET_LENGTH))


def sip_ha1(user: str, realm: str, secret: str, *, algorithm: str = "MD5") -> str:
    """HA1 = H(user ":" realm ":" secret) of HTTP digest authentication (RFC 2617,
    RFC 8760 for SHA-256), which SIP registrars store instead of the secret."""
    data = f"{user}:{realm}:{secret}".encode()
    if algorithm == "SHA-256":
        return hashlib.sha256(data).hexdigest()
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
