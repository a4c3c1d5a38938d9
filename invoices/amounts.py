"""Integer yen and the one division that rounds (R23, R24).

Every amount on an invoice is an ``int`` of yen; a float anywhere in a charge is a bug
(0.1 + 0.2 is not 0.3), so the functions of the rating refuse one instead of rounding
it silently. Where a rule divides (daily proration, consumption tax) the rounding is a
named choice, the price book's or the issuer's, never Python's default.
"""

from __future__ import annotations

import enum


class Rounding(enum.StrEnum):
    """How a fraction of a yen goes: 切り捨て (down, the default), 四捨五入, 切り上げ.

    All three work on the absolute value, so a credit (a negative amount) rounds to the
    mirror image of the charge it cancels."""

    DOWN = "down"
    HALF_UP = "half_up"
    UP = "up"


def whole(value: object, name: str, *, minimum: int | None = 0) -> int:
    """``value`` when it is an ``int`` (not a bool) of at least ``minimum``; else
    ``TypeError`` (a float, a Decimal, a string) or ``ValueError`` (too small)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return value


def divide(numerator: int, denominator: int, rounding: Rounding = Rounding.DOWN) -> int:
    """``numerator / denominator`` rounded to a whole number, in integer arithmetic."""
    whole(numerator, "numerator", minimum=None)
    whole(denominator, "denominator", minimum=1)
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if rounding == Rounding.UP and remainder:
        quotient += 1
    elif rounding == Rounding.HALF_UP and 2 * remainder >= denominator:
        quotient += 1
    return sign * quotient
