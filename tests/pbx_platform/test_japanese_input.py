"""What Japanese keyboards type for numbers: read the same everywhere (postal codes,
phone and account numbers) through ``pbx_platform.validation`` and ``japanese``."""

from __future__ import annotations

import pytest

from pbx_platform.japanese import postal_code
from pbx_platform.validation import typed, typed_number


@pytest.mark.parametrize(
    "raw",
    [
        "100-0001",
        "1000001",
        "１００－０００１",
        "〒100-0001",
        " 100ー0001 ",
        "100‐0001",
        "100−0001",
    ],
)
def test_postal_codes_as_typed_become_nnn_nnnn(raw):
    assert postal_code(raw) == "100-0001"


@pytest.mark.parametrize("raw", ["", None, "100-001", "10000011", "abc-defg", "100--0001"])
def test_what_is_not_seven_digits_is_no_postal_code(raw):
    assert postal_code(raw) is None


def test_the_prolonged_sound_mark_is_a_hyphen_in_numbers_only():
    assert typed_number("０３ー５５５５ー０１１１") == "03-5555-0111"
    assert typed("ソニー") == "ソニー"
    assert typed("ｿﾆｰ") == "ソニー"  # half-width katakana become full-width
    assert typed("sub‐domain") == "sub-domain"
