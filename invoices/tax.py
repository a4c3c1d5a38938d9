"""Consumption tax on a qualified invoice (R23, 適格請求書).

Prices are tax-exclusive. The tax is computed once per rate on the invoice: the
tax-exclusive amounts of the lines at one rate are added up and the rate is applied to
that subtotal, rounded once (down by default; the issuer may choose half-up or up).
Rounding line by line is what R23 forbids.

Rates are dated rows: a rate applies from its ``starts_on`` until the next row of the
same kind starts, so a future change of the rate is one new row. The reduced rate (8%,
food and newspapers) exists in the data shape; no item of ours uses it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from invoices.amounts import Rounding, divide, whole


class RateKind(enum.StrEnum):
    STANDARD = "standard"  # 標準税率
    REDUCED = "reduced"  # 軽減税率


@dataclass(frozen=True)
class TaxRate:
    """One dated row: ``percent`` (an int, 10 for 10%) of ``kind`` from ``starts_on``."""

    starts_on: date
    percent: int
    kind: RateKind = RateKind.STANDARD

    def __post_init__(self) -> None:
        whole(self.percent, "percent")
        if self.percent > 100:
            raise ValueError(f"percent must be at most 100, not {self.percent}")


# The rates since the consumption tax's 1997 change; 10% (standard) and 8% (reduced)
# since 2019-10-01.
JAPANESE_RATES: tuple[TaxRate, ...] = (
    TaxRate(date(1997, 4, 1), 5),
    TaxRate(date(2014, 4, 1), 8),
    TaxRate(date(2019, 10, 1), 10),
    TaxRate(date(2019, 10, 1), 8, RateKind.REDUCED),
)


def rate_on(
    day: date, rates: Iterable[TaxRate] = JAPANESE_RATES, kind: RateKind = RateKind.STANDARD
) -> TaxRate:
    """The row of ``kind`` in force on ``day``: the latest that starts on or before it.
    ``LookupError`` when none does (a day before the table)."""
    in_force = [r for r in rates if r.kind == kind and r.starts_on <= day]
    if not in_force:
        raise LookupError(f"no {kind} consumption tax rate on {day.isoformat()}")
    return max(in_force, key=lambda r: r.starts_on)


@dataclass(frozen=True)
class TaxedAmount:
    """A line's tax-exclusive amount in yen (negative for a discount or a credit),
    tagged with the rate it is taxed at."""

    amount_yen: int
    percent: int

    def __post_init__(self) -> None:
        whole(self.amount_yen, "amount_yen", minimum=None)
        whole(self.percent, "percent")


@dataclass(frozen=True)
class RateTotal:
    """What R23 prints per rate: the rate, the subtotal, its tax and the two together."""

    percent: int
    subtotal_yen: int
    tax_yen: int

    @property
    def total_yen(self) -> int:
        return self.subtotal_yen + self.tax_yen


@dataclass(frozen=True)
class TaxBreakdown:
    rates: tuple[RateTotal, ...]

    @property
    def subtotal_yen(self) -> int:
        return sum(r.subtotal_yen for r in self.rates)

    @property
    def tax_yen(self) -> int:
        return sum(r.tax_yen for r in self.rates)

    @property
    def total_yen(self) -> int:
        return self.subtotal_yen + self.tax_yen


def tax_on(subtotal_yen: int, percent: int, rounding: Rounding = Rounding.DOWN) -> int:
    """The consumption tax on one rate's subtotal, rounded once (R23)."""
    whole(subtotal_yen, "subtotal_yen", minimum=None)
    whole(percent, "percent")
    return divide(subtotal_yen * percent, 100, Rounding(rounding))


def breakdown(lines: Sequence[TaxedAmount], rounding: Rounding = Rounding.DOWN) -> TaxBreakdown:
    """Per rate (highest first): the subtotal of its lines and the tax on it, once."""
    subtotals: dict[int, int] = {}
    for line in lines:
        if not isinstance(line, TaxedAmount):
            raise TypeError(f"lines must be TaxedAmount, not {type(line).__name__}")
        subtotals[line.percent] = subtotals.get(line.percent, 0) + line.amount_yen
    return TaxBreakdown(
        tuple(
            RateTotal(percent, subtotal, tax_on(subtotal, percent, rounding))
            for percent, subtotal in sorted(subtotals.items(), reverse=True)
        )
    )
