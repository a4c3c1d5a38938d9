"""R23: consumption tax once per rate on the invoice, from dated rate rows."""

from __future__ import annotations

from datetime import date

import pytest

from invoices.amounts import Rounding, divide, whole
from invoices.tax import (
    JAPANESE_RATES,
    RateKind,
    RateTotal,
    TaxedAmount,
    TaxRate,
    breakdown,
    rate_on,
    tax_on,
)


def test_the_rate_in_force_on_a_day() -> None:
    assert rate_on(date(2019, 9, 30)).percent == 8
    assert rate_on(date(2019, 10, 1)).percent == 10
    assert rate_on(date(2026, 11, 30)).percent == 10
    assert rate_on(date(2019, 10, 1), kind=RateKind.REDUCED).percent == 8
    with pytest.raises(LookupError):
        rate_on(date(2019, 9, 30), kind=RateKind.REDUCED)
    with pytest.raises(LookupError):
        rate_on(date(1990, 1, 1))


def test_a_future_change_is_one_new_row() -> None:
    rates = (*JAPANESE_RATES, TaxRate(date(2029, 4, 1), 12))
    assert rate_on(date(2029, 3, 31), rates).percent == 10
    assert rate_on(date(2029, 4, 1), rates).percent == 12


def test_tax_is_rounded_once_per_rate_not_per_line() -> None:
    # Three lines of ¥105: per line 10.5 → 10 each (¥30); R23: once on ¥315 → ¥31.
    lines = [TaxedAmount(105, 10)] * 3
    result = breakdown(lines)
    assert result.rates == (RateTotal(10, 315, 31),)
    assert (result.subtotal_yen, result.tax_yen, result.total_yen) == (315, 31, 346)


@pytest.mark.parametrize(
    ("rounding", "tax"), [(Rounding.DOWN, 31), (Rounding.HALF_UP, 32), (Rounding.UP, 32)]
)
def test_rounding_is_configurable(rounding: Rounding, tax: int) -> None:
    assert breakdown([TaxedAmount(315, 10)], rounding).tax_yen == tax


def test_half_up_below_the_half_rounds_down() -> None:
    assert tax_on(4313, 10, Rounding.HALF_UP) == 431  # 431.3
    assert tax_on(4313, 10, Rounding.UP) == 432
    assert tax_on(4315, 10, Rounding.HALF_UP) == 432  # 431.5
    assert tax_on(4310, 10, Rounding.UP) == 431  # exact: nothing to round


def test_two_rates_on_one_invoice() -> None:
    lines = [TaxedAmount(1980, 10), TaxedAmount(1299, 8), TaxedAmount(1980, 10)]
    result = breakdown(lines)
    # 10%: ¥3,960 → ¥396; 8%: ¥1,299 → 103.92 → ¥103. Highest rate first.
    assert result.rates == (RateTotal(10, 3960, 396), RateTotal(8, 1299, 103))
    assert result.rates[0].total_yen == 4356
    assert (result.subtotal_yen, result.tax_yen, result.total_yen) == (5259, 499, 5758)


def test_a_discount_line_lowers_its_rates_subtotal() -> None:
    result = breakdown([TaxedAmount(10_000, 10), TaxedAmount(-1_234, 10)])
    assert result.rates == (RateTotal(10, 8766, 876),)


def test_a_credit_rounds_to_the_mirror_of_the_charge() -> None:
    assert tax_on(-315, 10) == -31
    assert tax_on(-315, 10, Rounding.UP) == -32


def test_an_empty_invoice_has_no_rate_lines() -> None:
    result = breakdown([])
    assert result.rates == ()
    assert result.total_yen == 0


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        TaxedAmount(100.0, 10)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        TaxedAmount(100, 0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tax_on(100.5, 10)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        breakdown([(100, 10)])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        TaxRate(date(2030, 1, 1), 101)
    with pytest.raises(ValueError):
        breakdown([TaxedAmount(100, 10)], "sideways")  # type: ignore[arg-type]


def test_whole_and_divide() -> None:
    assert whole(5, "n") == 5
    with pytest.raises(TypeError):
        whole(True, "n")
    with pytest.raises(ValueError):
        whole(-1, "n")
    assert divide(7, 2) == 3
    assert divide(7, 2, Rounding.HALF_UP) == 4
    assert divide(5, 4, Rounding.HALF_UP) == 1
    assert divide(7, 2, Rounding.UP) == 4
    assert divide(-7, 2) == -3
    with pytest.raises(ValueError):
        divide(1, 0)
