"""Ids in URLs (R20's 404 for what is not there): the app's ``int`` converter takes
ASCII digits within 1..2^31-1 only, so an id past a column's range is a 404 like any
missing id, on SQLite and on PostgreSQL, for every route at once."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from werkzeug.routing.converters import UnicodeConverter

from pbx_platform.routing import MAX_ID, IdConverter, parse_id
from tests.factories import PASSWORD

NOT_FOUND = "The page you asked for does not exist."
OUT_OF_RANGE = [
    "0",
    "00",
    str(MAX_ID + 1),  # 2147483648: past PostgreSQL's INTEGER
    str(2**63),  # 9223372036854775808: past SQLite's INTEGER
    "99999999999999999999",
    "1" + "0" * 40,
]
NOT_DIGITS = ["-1", "%EF%BC%92", "%D9%A3", "1e3", "0x10", "+1", "1.0", "%201", "1%00"]


def english_login(browser: Any, host: str, form: dict[str, str], page: str) -> Any:
    client = browser(host)
    assert client.post("/locale", {"locale": "en", "next": "/"}).status_code == 302
    assert client.post(page, form).status_code == 302
    return client


def staff(browser: Any, world: Any) -> Any:
    form = {"email": world.a.staff["admin"], "password": PASSWORD}
    return english_login(browser, world.a.host, form, "/staff/login")


def operator(browser: Any, world: Any) -> Any:
    form = {"email": world.operator_email, "password": PASSWORD}
    return english_login(browser, "localhost", form, "/console/login")


def assert_not_found(response: Any, url: str) -> None:
    assert response.status_code == 404, url
    assert NOT_FOUND in html.unescape(response.get_data(as_text=True)), url


@pytest.mark.parametrize("raw", OUT_OF_RANGE + NOT_DIGITS)
def test_ids_out_of_range_or_not_in_ascii_digits_are_404_on_staff_pages(world, browser, raw):
    client = staff(browser, world)
    for url in (
        f"/staff/accounts/{raw}",
        f"/staff/circles/{raw}",
        f"/staff/circles/{raw}/uniques",
        f"/staff/circles/{world.a.circle_id}/uniques/{raw}",
    ):
        assert_not_found(client.get(url), url)
    url = f"/staff/circles/{raw}/password-policy"
    assert_not_found(client.post(url, {"policy": "force"}, token_from="/staff/"), url)


@pytest.mark.parametrize("raw", OUT_OF_RANGE + NOT_DIGITS)
def test_ids_out_of_range_are_404_on_the_console(world, browser, raw):
    client = operator(browser, world)
    url = f"/console/resellers/{raw}"
    assert_not_found(client.get(url), url)


def test_the_largest_id_is_a_plain_missing_row(world, browser):
    client = staff(browser, world)
    assert_not_found(client.get(f"/staff/circles/{MAX_ID}"), "max")
    assert_not_found(client.get(f"/staff/accounts/{MAX_ID}"), "max")
    assert_not_found(operator(browser, world).get(f"/console/resellers/{MAX_ID}"), "max")


def test_an_own_id_still_opens_its_page(world, browser):
    client = staff(browser, world)
    assert client.get(f"/staff/circles/{world.a.circle_id}").status_code == 200


@pytest.mark.parametrize("raw", ["9999999999", str(MAX_ID + 1), "１" * 12, "-3"])
def test_a_pickup_group_id_out_of_range_in_the_query_is_404(world, browser, raw):
    client = staff(browser, world)
    url = f"/staff/circles/{world.a.circle_id}/uniques"
    assert_not_found(client.get(url, query_string={"group": raw}), raw)


@pytest.mark.parametrize("raw", ["99999999999999999999", str(2**63), "-5", "２"])
def test_a_page_number_out_of_range_shows_a_page(world, browser, raw):
    client = staff(browser, world)
    for url in (f"/staff/circles/{world.a.circle_id}/uniques", "/staff/audit"):
        assert client.get(url, query_string={"page": raw}).status_code == 200, url
    assert (
        operator(browser, world).get("/console/audit", query_string={"page": raw}).status_code
        == 200
    )


def test_every_int_rule_of_the_app_uses_the_bounded_converter(app):
    """Every URL argument but a static file's name is an id; the one text argument (the
    PBX's own call id) is bounded in the rule."""
    converters = [
        (rule.rule, name, converter)
        for rule in app.url_map.iter_rules()
        for name, converter in rule._converters.items()
        if name != "filename"
    ]
    assert len(converters) > 20
    for rule, name, converter in converters:
        bounded_text = isinstance(converter, UnicodeConverter) and re.fullmatch(
            r"\[\^/\]\{1,\d+\}", converter.regex
        )
        assert isinstance(converter, IdConverter) or bounded_text, f"{rule}: {name}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        (str(MAX_ID), MAX_ID),
        ("0", None),
        (str(MAX_ID + 1), None),
        ("２", None),
        ("", None),
        (None, None),
        ("-1", None),
        ("1" * 11, None),
        ("٣", None),
    ],
)
def test_parse_id_takes_ascii_digits_within_the_id_range(text, expected):
    assert parse_id(text) == expected
