"""Password hashing (argon2id), the R15 password policy and the R14 login-ID rule."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher, Type
from babel.support import NullTranslations
from flask_babel import Domain, force_locale, get_locale
from sqlalchemy import select

from pbx_platform import passwords
from pbx_platform.db import db
from pbx_platform.models import AuditLog
from pbx_platform.passwords import (
    HASH_PARAMETERS,
    PasswordTooLong,
    common_passwords,
    hash_password,
    login_id_problems,
    needs_rehash,
    normalize_login_id,
    password_problems,
    verify_password,
)
from pbx_platform.tenancy import use_scope
from tenants.models import Circle, Staff
from tenants.services import logins
from tests.factories import PASSWORD, open_session_ids

PRODUCTION_PREFIX = "$argon2id$v=19$m=19456,t=2,p=1$"
GOOD = "Fresh#Start2027"

TOO_SHORT = "Use at least 8 characters."
NO_UPPER = "Include an upper-case letter (A–Z)."
NO_LOWER = "Include a lower-case letter (a–z)."
NO_SYMBOL = "Include a symbol: one of ! @ # $ % ^ & * ? _ -"
SAME = "The new password must differ from the current one."
COMMON = "This password is among the most common ones. Choose another."


@pytest.fixture
def english(app) -> Iterator[None]:
    with app.test_request_context(), force_locale("en"):
        yield


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def english_client(client: Any) -> Any:
    assert client.post("/locale", {"locale": "en", "next": "/"}).status_code == 302
    return client


class SpyHasher(PasswordHasher):
    """The module's hasher, recording every call that would hash a password."""

    def __init__(self, inner: PasswordHasher) -> None:
        super().__init__(
            time_cost=inner.time_cost,
            memory_cost=inner.memory_cost,
            parallelism=inner.parallelism,
            hash_len=inner.hash_len,
            salt_len=inner.salt_len,
            type=inner.type,
        )
        self.calls: list[str] = []

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.calls.append("hash")
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.calls.append("verify")
        return super().verify(hash, password)


@pytest.fixture
def spy(monkeypatch) -> SpyHasher:
    hasher = SpyHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    return hasher


def circle_state(app, tenant, circle_id: int | None = None) -> dict[str, Any]:
    with app.app_context(), use_scope(tenant.scope):
        circle = db.session.get(Circle, circle_id or tenant.circle_id)
        assert circle is not None
        return {
            "password_hash": circle.password_hash,
            "open_sessions": open_session_ids("circle", circle.id),
            "password_policy": circle.password_policy,
            "login_id": circle.login_id,
        }


def set_circle_hash(app, tenant, password_hash: str) -> None:
    with app.app_context(), use_scope(tenant.scope):
        circle = db.session.get(Circle, tenant.circle_id)
        assert circle is not None
        circle.password_hash = password_hash
        db.session.commit()


def audit_actions(app, tenant, action: str) -> list[AuditLog]:
    with app.app_context(), use_scope(tenant.scope):
        return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


# --- hashing -----------------------------------------------------------------------------


def test_production_parameters_are_owasps_argon2id_minimum():
    assert HASH_PARAMETERS == {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}
    hasher = PasswordHasher(**HASH_PARAMETERS)
    assert hasher.type is Type.ID
    assert hasher.hash(GOOD).startswith(PRODUCTION_PREFIX)


def test_hash_password_uses_the_production_parameters_when_configured(monkeypatch):
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(**HASH_PARAMETERS))
    made = hash_password(GOOD)
    assert made.startswith(PRODUCTION_PREFIX)
    assert verify_password(made, GOOD)
    assert not verify_password(made, GOOD + "x")
    assert not needs_rehash(made)
    cheaper = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(GOOD)
    assert needs_rehash(cheaper)


def test_configure_hasher_keeps_argon2id_and_fills_in_the_production_values(monkeypatch):
    monkeypatch.setattr(passwords, "_hasher", passwords._hasher)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", passwords._DUMMY_HASH)
    passwords.configure_hasher(time_cost=3)
    assert hash_password(GOOD).startswith("$argon2id$v=19$m=19456,t=3,p=1$")


def test_verify_refuses_a_missing_or_broken_hash():
    assert not verify_password(None, PASSWORD)
    assert not verify_password("", PASSWORD)
    assert not verify_password("not-a-hash", PASSWORD)
    assert needs_rehash("not-a-hash")


def test_a_129_character_password_is_refused_without_hashing(spy):
    stored = PasswordHasher(time_cost=1, memory_cost=1024).hash("A" * 129)
    with pytest.raises(PasswordTooLong):
        hash_password("Aa!" + "x" * 126)
    assert not verify_password(stored, "A" * 129)
    assert spy.calls == []
    # 128 characters are hashed as usual.
    assert verify_password(hash_password("Aa!" + "x" * 125), "Aa!" + "x" * 125)
    assert spy.calls == ["hash", "verify"]


def test_the_password_too_long_error_does_not_carry_the_password():
    with pytest.raises(PasswordTooLong) as raised:
        hash_password("Secret!" + "s" * 200)
    assert "Secret" not in str(raised.value)
    assert "Secret" not in repr(raised.value)


def test_a_hash_made_with_other_parameters_is_rehashed_at_login(world, browser, app):
    old = PasswordHasher(time_cost=3, memory_cost=2048, parallelism=1).hash(PASSWORD)
    set_circle_hash(app, world.a, old)
    response = browser(world.a.host).login_circle(world.a.circle_login, PASSWORD)
    assert response.status_code == 302
    new = circle_state(app, world.a)["password_hash"]
    assert new != old
    assert not needs_rehash(new)
    assert verify_password(new, PASSWORD)
    records = audit_actions(app, world.a, "circle.password_rehash")
    assert len(records) == 1
    assert records[0].circle_id == world.a.circle_id
    # The hash itself never reaches the audit trail.
    assert "argon2" not in str(records[0].before) + str(records[0].after)


def test_a_current_hash_is_not_rehashed_at_login(world, browser, app):
    before = circle_state(app, world.a)["password_hash"]
    browser(world.a.host).login_circle(world.a.circle_login, PASSWORD)
    assert circle_state(app, world.a)["password_hash"] == before
    assert audit_actions(app, world.a, "circle.password_rehash") == []


def test_a_wrong_password_never_rehashes(world, browser, app):
    old = PasswordHasher(time_cost=3, memory_cost=2048, parallelism=1).hash(PASSWORD)
    set_circle_hash(app, world.a, old)
    browser(world.a.host).login_circle(world.a.circle_login, "Wrong#Pass2026")
    assert circle_state(app, world.a)["password_hash"] == old


def test_a_staff_hash_with_other_parameters_is_rehashed_at_login(world, browser, app):
    old = PasswordHasher(time_cost=3, memory_cost=2048, parallelism=1).hash(PASSWORD)
    email = world.a.staff["admin"]
    with app.app_context(), use_scope(world.a.scope):
        staff = db.session.scalars(select(Staff).where(Staff.email_key == email)).one()
        staff.password_hash = old
        db.session.commit()
    assert browser(world.a.host).login_staff(email, PASSWORD).status_code == 302
    with app.app_context(), use_scope(world.a.scope):
        staff = db.session.scalars(select(Staff).where(Staff.email_key == email)).one()
        assert not needs_rehash(staff.password_hash)
    assert len(audit_actions(app, world.a, "staff.password_rehash")) == 1


def test_login_with_a_129_character_password_hashes_nothing(world, browser, spy):
    client = browser(world.a.host)
    response = client.login_circle(world.a.circle_login, "A" * 129)
    assert response.status_code == 200
    assert spy.calls == []


# --- R15 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Ab!defg", [TOO_SHORT]),
        ("abcdef!gh", [NO_UPPER]),
        ("ABCDEF!GH", [NO_LOWER]),
        ("Abcdefgh12", [NO_SYMBOL]),
        ("ab1", [TOO_SHORT, NO_UPPER, NO_SYMBOL]),
    ],
    ids=["too-short", "no-upper", "no-lower", "no-symbol", "several"],
)
def test_each_broken_rule_has_its_own_message(english, password, expected):
    assert password_problems(password) == expected


def test_a_password_that_follows_every_rule_passes(english):
    assert password_problems(GOOD) == []
    assert password_problems("Aa1!Aa1!") == []  # exactly 8 characters
    assert password_problems("Aa" + "!@#$%^&*?_-" + "09") == []  # every allowed symbol


def test_digits_are_allowed_but_not_required(english):
    assert password_problems("Abcdefg!") == []
    assert password_problems("Abcdefg!123") == []


@pytest.mark.parametrize(
    ("password", "shown"),
    [
        ("Abcd efg!", "space"),
        ("Abcdefg!+", "+"),
        ("Abcdｅfg!", "ｅ"),
        ("Abcdefg!😀", "😀"),
        ("Abcdefg!~", "~"),
        ("Abcdefg!=", "="),
        ("Abcdéfg!", "é"),
        ("Abcdefg!\t", "U+0009"),
        ("Abcd\u3000efg!", "U+3000"),
    ],
    ids=["space", "plus", "full-width", "emoji", "tilde", "equals", "accent", "tab", "ideo-space"],
)
def test_characters_outside_r15_are_refused_and_named(english, password, shown):
    problems = password_problems(password)
    assert len(problems) == 1
    assert problems[0].startswith("These characters are not allowed: ")
    assert shown in problems[0]


def test_the_new_password_must_differ_from_the_current_one(english):
    assert password_problems(GOOD, current=GOOD) == [SAME]
    assert password_problems(GOOD, current="Other#Pass2026") == []


def test_the_shipped_list_holds_at_least_ten_thousand_common_passwords():
    listed = common_passwords()
    assert len(listed) >= 10_000
    assert {"123456", "password", "qwerty", "password1!"} <= listed


def test_a_common_password_is_refused_even_when_it_follows_the_rules(english):
    assert "password1!" in common_passwords()
    assert password_problems("Password1!") == [COMMON]
    assert "p@ssw0rd" in common_passwords()
    assert password_problems("P@ssw0rd") == [COMMON]


def test_over_long_passwords_get_one_clear_message(english):
    assert password_problems("Aa!" + "x" * 126) == ["Use at most 128 characters."]
    assert password_problems("Aa!" + "x" * 125) == []


def test_messages_follow_the_language_of_the_request(app, monkeypatch):
    """Messages are looked up when the check runs, in the request's language (a stand-in
    Japanese catalogue here, so the test does not depend on the shipped translations)."""
    japanese = {
        TOO_SHORT.replace("8", "%(n)d"): "%(n)d文字以上にしてください。",
        NO_UPPER: "英大文字(A–Z)を含めてください。",
    }

    class Catalogue(NullTranslations):
        def ugettext(self, message: str) -> str:  # type: ignore[override]
            return japanese.get(message, message)

    def translations(self: Domain) -> NullTranslations:
        return Catalogue() if str(get_locale()) == "ja" else NullTranslations()

    monkeypatch.setattr(Domain, "get_translations", translations)
    with app.test_request_context():
        with force_locale("ja"):
            assert password_problems("ab!")[:2] == [
                "8文字以上にしてください。",
                "英大文字(A–Z)を含めてください。",
            ]
        with force_locale("en"):
            assert password_problems("ab!")[:2] == [TOO_SHORT, NO_UPPER]


# --- the change service and page ---------------------------------------------------------


def test_change_password_service_names_every_problem(world, app, english):
    with use_scope(world.a.scope):
        circle = db.session.get(Circle, world.a.circle_id)
        outcome = logins.change_password(circle, current="Wrong#1x", new="xqz", repeat="xqy")
    assert outcome.errors == {
        "current_password": ["The current password is not correct."],
        "new_password": [TOO_SHORT, NO_UPPER, NO_SYMBOL],
        "new_password_repeat": ["The two new passwords do not match."],
    }


def test_change_password_service_refuses_the_current_password_again(world, app, english):
    with use_scope(world.a.scope):
        circle = db.session.get(Circle, world.a.circle_id)
        outcome = logins.change_password(circle, current=PASSWORD, new=PASSWORD, repeat=PASSWORD)
    assert outcome.errors == {"new_password": [SAME]}


def test_change_password_service_does_not_hash_an_over_long_new_password(world, app, english, spy):
    too_long = "Aa!" + "x" * 126
    with use_scope(world.a.scope):
        circle = db.session.get(Circle, world.a.circle_id)
        before = circle.password_hash
        outcome = logins.change_password(circle, current=PASSWORD, new=too_long, repeat=too_long)
        assert circle.password_hash == before
    assert outcome.errors == {"new_password": ["Use at most 128 characters."]}
    assert "hash" not in spy.calls


def login(browser, world) -> Any:
    client = english_client(browser(world.a.host))
    assert client.login_circle(world.a.circle_login, PASSWORD).status_code == 302
    return client


def change(client: Any, current: str, new: str, repeat: str | None = None) -> Any:
    return client.post(
        "/portal/password",
        {
            "current_password": current,
            "new_password": new,
            "new_password_repeat": new if repeat is None else repeat,
        },
    )


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("Ab!defg", TOO_SHORT),
        ("abcdef!gh", NO_UPPER),
        ("ABCDEF!GH", NO_LOWER),
        ("Abcdefgh12", NO_SYMBOL),
        ("Abcd efg!", "These characters are not allowed: space."),
        ("Abcdｅfg!", "These characters are not allowed: ｅ."),
        (PASSWORD, SAME),
        ("Password1!", COMMON),
    ],
    ids=["short", "upper", "lower", "symbol", "space", "full-width", "same", "common"],
)
def test_the_change_page_shows_the_broken_rule_and_keeps_the_password(
    world, browser, app, new, message
):
    client = login(browser, world)
    before = circle_state(app, world.a)
    response = change(client, PASSWORD, new)
    assert response.status_code == 200
    assert message in text(response)
    assert circle_state(app, world.a) == before


def test_the_change_page_refuses_a_129_character_password_without_hashing(
    world, browser, app, monkeypatch
):
    client = login(browser, world)
    before = circle_state(app, world.a)
    hasher = SpyHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    too_long = "Aa!" + "x" * 126
    response = change(client, PASSWORD, too_long)
    assert response.status_code == 200
    assert "128 characters" in text(response)
    assert "hash" not in hasher.calls
    assert circle_state(app, world.a) == before


def test_the_change_page_changes_the_password(world, browser, app):
    client = login(browser, world)
    response = change(client, PASSWORD, GOOD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/portal/"
    assert "Your password has been changed." in text(client.get("/portal/"))
    state = circle_state(app, world.a)
    assert verify_password(state["password_hash"], GOOD)
    assert not verify_password(state["password_hash"], PASSWORD)
    assert len(audit_actions(app, world.a, "circle.password_change")) == 1
    fresh = browser(world.a.host)
    assert fresh.login_circle(world.a.circle_login, GOOD).status_code == 302


def test_the_change_page_wants_the_current_password(world, browser, app):
    client = login(browser, world)
    before = circle_state(app, world.a)
    response = change(client, "Wrong#Pass2026", GOOD)
    assert response.status_code == 200
    assert "The current password is not correct." in text(response)
    assert circle_state(app, world.a) == before


def test_the_change_page_wants_the_new_password_twice(world, browser, app):
    client = login(browser, world)
    before = circle_state(app, world.a)
    response = change(client, PASSWORD, GOOD, repeat=GOOD + "x")
    assert response.status_code == 200
    assert "The two new passwords do not match." in text(response)
    assert circle_state(app, world.a) == before


# --- R14 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "login_id",
    ["abcd", "ABCD", "a.b-c_d@e", "0123", "x" * 64, "user@example.co.jp"],
)
def test_r14_allows_letters_digits_and_at_dash_underscore_dot(english, login_id):
    assert login_id_problems(login_id) == []


@pytest.mark.parametrize(
    "login_id",
    ["ab cd", "abc+d", "abc/d", "abc#d", "日本語ログイン", "abcd😀", "abc!d", "abc\x00d", "abcé"],
    ids=["space", "plus", "slash", "hash", "kanji", "emoji", "bang", "nul", "accent"],
)
def test_r14_refuses_every_other_character(english, login_id):
    assert login_id_problems(login_id) == [
        "A login ID may contain only a–z, A–Z, 0–9 and the symbols @ - _ ."
    ]


def test_r14_length_limits(english):
    assert login_id_problems("") == ["Enter a login ID."]
    assert login_id_problems("abc") == ["Use at least 4 characters."]
    assert login_id_problems("x" * 65) == ["Use at most 64 characters."]


def test_r14_refuses_a_trailing_newline(english):
    assert login_id_problems("abcd\n") != []


def test_full_width_login_ids_are_normalised_with_nfkc():
    assert normalize_login_id("ＡＢＣ＿１２３＠ｅｘ．ｊｐ") == "ABC_123@ex.jp"
    assert normalize_login_id("ｕｓｅｒ－０１") == "user-01"
    assert normalize_login_id("  user01\u3000") == "user01"
    assert login_id_problems(normalize_login_id("ｕｓｅｒ－０１")) == []
