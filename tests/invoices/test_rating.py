"""R24: calls charged per started billing unit of their destination class's rate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from invoices.rating import (
    FREE,
    CallToRate,
    Destination,
    DestinationClass,
    Rate,
    RateTable,
    SummaryLine,
    classify,
    rate_call,
    summarize,
)
from tenants.calls.models import CallRecord, Direction, Disposition

D = DestinationClass


@pytest.mark.parametrize(
    ("called", "kind"),
    [
        ("+81312345678", D.LANDLINE),  # 03-1234-5678, Tokyo
        ("+81612345678", D.LANDLINE),  # 06, Osaka
        ("+81451234567", D.LANDLINE),  # 045, Yokohama
        ("+81996123456", D.LANDLINE),  # 0996, a four-digit area code
        ("0312345678", D.LANDLINE),  # national, read as Japanese
        ("+819012345678", D.MOBILE),
        ("+818012345678", D.MOBILE),
        ("+817012345678", D.MOBILE),
        ("+815012345678", D.IP),
        ("+81120123456", D.FREE_DIAL),  # 0120-123-456
        ("+818001234567", D.FREE_DIAL),  # 0800-123-4567
        ("+81570123456", D.UNCLASSIFIED),  # 0570 navi-dial: not in our classes
        ("+81990123456", D.UNCLASSIFIED),  # 0990 information service
        ("+8131234567", D.UNCLASSIFIED),  # a digit short
        ("+81901234567", D.UNCLASSIFIED),  # a mobile number a digit short
        ("+8150123456789", D.UNCLASSIFIED),  # an IP number too long
        ("+12", D.UNCLASSIFIED),
        ("+1234567890123456", D.UNCLASSIFIED),  # longer than E.164 allows
        ("+81-3-abcd-5678", D.UNCLASSIFIED),
        ("+12125551234", D.INTERNATIONAL),
        ("201", D.NOT_RATED),  # an extension
        ("anonymous", D.NOT_RATED),
        ("", D.NOT_RATED),
    ],
)
def test_destination_classes(called: str, kind: DestinationClass) -> None:
    assert classify(called).kind == kind


def test_an_international_number_keeps_its_digits() -> None:
    assert classify("+442071234567") == Destination(D.INTERNATIONAL, "442071234567")


TABLE = RateTable(
    domestic={D.LANDLINE: Rate(9, 180), D.MOBILE: Rate(16, 60), D.IP: Rate(8, 180)},
    international={"1": Rate(9, 60), "44": Rate(20, 60), "86": Rate(30, 60), "1808": Rate(40, 60)},
)


@pytest.mark.parametrize(
    ("called", "prefix", "price"),
    [
        ("+12125551234", "1", 9),  # New York
        ("+18085551234", "1808", 40),  # Hawaii: the longer prefix wins
        ("+442071234567", "44", 20),
        ("+8613912345678", "86", 30),
    ],
)
def test_the_longest_country_prefix_wins(called: str, prefix: str, price: int) -> None:
    assert TABLE.rate_for(classify(called)) == (prefix, Rate(price, 60))


def test_free_dial_is_free_whatever_the_table_says() -> None:
    table = RateTable(domestic={D.LANDLINE: Rate(9, 180)})
    assert table.rate_for(Destination(D.FREE_DIAL)) == ("", FREE)
    with pytest.raises(ValueError):
        RateTable(domestic={D.INTERNATIONAL: Rate(9, 60)})
    with pytest.raises(ValueError):
        RateTable(international={"81": Rate(9, 60)})
    with pytest.raises(ValueError):
        RateTable(international={"+1": Rate(9, 60)})


@pytest.mark.parametrize(
    ("unit", "talk", "units"),
    [
        (60, 0, 0),
        (60, 1, 1),
        (60, 59, 1),
        (60, 60, 1),
        (60, 61, 2),
        (60, 120, 2),
        (60, 121, 3),
        (180, 180, 1),
        (180, 181, 2),
        (180, 3600, 20),
    ],
)
def test_started_billing_units(unit: int, talk: int, units: int) -> None:
    rate = Rate(10, unit)
    assert rate.units(talk) == units
    assert rate.charge(talk) == units * 10


def test_floats_and_bad_rates_are_refused() -> None:
    with pytest.raises(TypeError):
        Rate(8.5, 180)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Rate(True, 60)
    with pytest.raises(ValueError):
        Rate(-1, 60)
    with pytest.raises(ValueError):
        Rate(10, 0)
    with pytest.raises(TypeError):
        Rate(10, 60).units(60.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Rate(10, 60).units(-1)
    with pytest.raises(TypeError):
        CallToRate("out", "+81312345678", 61.5)  # type: ignore[arg-type]


def test_only_outgoing_calls_are_rated() -> None:
    incoming = rate_call(CallToRate("in", "+81312345678", 600), TABLE)
    internal = rate_call(CallToRate("internal", "201", 600), TABLE)
    assert (incoming.kind, incoming.yen) == (D.NOT_RATED, 0)
    assert (internal.kind, internal.yen) == (D.NOT_RATED, 0)
    out = rate_call(CallToRate("out", "+819012345678", 61), TABLE)
    assert (out.kind, out.rate, out.units, out.yen, out.billable) == (
        D.MOBILE,
        Rate(16, 60),
        2,
        32,
        True,
    )


def test_an_international_number_without_a_rate_is_unclassified() -> None:
    rated = rate_call(CallToRate("out", "+33123456789", 30), TABLE)
    assert (rated.kind, rated.rate, rated.yen, rated.billable) == (D.UNCLASSIFIED, None, 0, False)


def call(n: int, called: str, talk: int, direction: str = "out") -> CallToRate:
    return CallToRate(direction, called, talk, call_id=f"c{n}")


def test_a_month_of_calls_in_lines_per_class() -> None:
    calls = [
        call(1, "+81312345678", 180),  # landline, 1 unit of 180 s: ¥9
        call(2, "+81312345678", 181),  # 2 units: ¥18
        call(3, "+81612345678", 0),  # not answered: nowhere
        call(4, "+819012345678", 61),  # mobile, 2 units: ¥32
        call(5, "+817012345678", 60),  # 1 unit: ¥16
        call(6, "+815012345678", 10),  # IP, 1 unit: ¥8
        call(7, "+81120123456", 300),  # free-dial, 5 units: ¥0
        call(8, "+12125551234", 125),  # +1, 3 units: ¥27
        call(9, "+442071234567", 59),  # +44, 1 unit: ¥20
        call(10, "+33123456789", 30),  # +33: no rate, for review
        call(11, "201", 100, "internal"),
        call(12, "+81312345678", 100, "in"),
        call(13, "+81570123456", 40),  # 0570: for review
        call(14, "+81570123456", 0),  # 0570, not answered: nothing to review
    ]
    summary = summarize(calls, TABLE)
    assert summary.lines == [
        SummaryLine(D.LANDLINE, "", Rate(9, 180), count=2, units=3, yen=27),
        SummaryLine(D.MOBILE, "", Rate(16, 60), count=2, units=3, yen=48),
        SummaryLine(D.IP, "", Rate(8, 180), count=1, units=1, yen=8),
        SummaryLine(D.FREE_DIAL, "", FREE, count=1, units=5, yen=0),
        SummaryLine(D.INTERNATIONAL, "1", Rate(9, 60), count=1, units=3, yen=27),
        SummaryLine(D.INTERNATIONAL, "44", Rate(20, 60), count=1, units=1, yen=20),
    ]
    assert [(line.billed_seconds, line.billed_minutes) for line in summary.lines] == [
        (540, 9),
        (180, 3),
        (180, 3),
        (300, 5),
        (180, 3),
        (60, 1),
    ]
    assert summary.yen == 130
    assert [r.call.call_id for r in summary.unpriced] == ["c10", "c13"]


def test_billed_minutes_are_started_minutes_for_short_units() -> None:
    table = RateTable(domestic={D.MOBILE: Rate(5, 30)})
    summary = summarize([call(1, "+819012345678", 31), call(2, "+819012345678", 1)], table)
    (line,) = summary.lines
    assert (line.units, line.billed_seconds, line.billed_minutes, line.yen) == (3, 90, 2, 15)


def test_a_class_without_a_rate_is_for_review() -> None:
    table = RateTable(domestic={D.LANDLINE: Rate(9, 180)})
    summary = summarize([call(1, "+815012345678", 10)], table)
    assert summary.lines == []
    assert [(r.kind, r.yen) for r in summary.unpriced] == [(D.IP, 0)]


def test_no_calls_no_lines() -> None:
    summary = summarize([], TABLE)
    assert (summary.lines, summary.unpriced, summary.yen) == ([], [], 0)


def test_a_call_record_becomes_a_plain_value(app: Flask) -> None:
    moment = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    record = CallRecord(
        call_id="node1-42",
        direction=Direction.OUT,
        called="+819012345678",
        started_at=moment,
        answered_at=moment,
        ended_at=moment,
        talk_seconds=61,
        disposition=Disposition.ANSWERED,
    )
    value = CallToRate.of(record)
    assert value == CallToRate("out", "+819012345678", 61, "node1-42")
    assert rate_call(value, TABLE).yen == 32
